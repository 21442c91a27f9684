// mesh_bench (issue 9 §1-§6): the mesh measured against the machine's own
// Redis Streams ceiling. Every sub-command starts its own redis-server on a
// free loopback port and the real service binaries it needs (tests/support),
// prints `name=value` figures on stdout (notes on stderr, prefixed `# `) and
// stops everything it started. A figure that cannot be measured is printed
// as `name=unavailable (reason)` — never a made-up number. Exit status is 0
// unless the command line is wrong: benchmarks never fail on timing.
//
//   mesh_bench redis_hop       ceiling: pipelined XADD → XREADGROUP + XACK
//   mesh_bench local_pipeline  pre-filled local stream → telec-egress
//   mesh_bench mesh_hop        A's local stream → A egress → B ingress → B egress
//   mesh_bench latency         paced events A → B, emit-to-processed time
//   mesh_bench fanout          one egress, N heartbeat-only peers
//
// Peak RSS (VmHWM) of every service a command ran: rss_max_mb_<service>.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/status_macros.h"
#include "common/envelope/envelope.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/envelope/timestamp_codec.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
#include "tests/bench/bench_computer.h"
#include "tests/bench/bench_envelope.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

ABSL_FLAG(int64_t, count, 100000, "events (messages) per measurement");
ABSL_FLAG(int, batch, 128, "commands per pipelined XADD round trip (producers)");
ABSL_FLAG(int, read_count, 128, "redis_hop: XREADGROUP COUNT");
ABSL_FLAG(int, rate, 1000, "latency: events per second");
ABSL_FLAG(int, seconds, 10, "latency: how long to send");
ABSL_FLAG(int, peers, 50, "fanout: heartbeat-only peers");
ABSL_FLAG(int64_t, raw_stream_maxlen, 10000,
          "fanout raw XADD: MAXLEN ~ of each peer stream (the services' --stream_maxlen "
          "default)");
ABSL_FLAG(std::string, build_dir, "",
          "CMake build dir with services/<svc>/telec-<svc> (default: two levels above this "
          "binary)");
ABSL_FLAG(std::vector<std::string>, egress_flags, {},
          "extra flags for telec-egress only, comma-separated (e.g. --wal_checkpoints=writer to "
          "measure checkpoints on the pipeline worker, as before issue 19)");
ABSL_FLAG(int, stall_s, 30, "give up a measurement after this many seconds without progress");
ABSL_FLAG(int, service_peer_refresh_ms, 200, "--peer_refresh_ms given to the services");
ABSL_FLAG(bool, redis_tls, false,
          "serve Redis over TLS only (redis-server --tls-port, a test CA) and give the clients and "
          "services rediss:// with --redis_tls_ca: the cost of TLS (doc/tls.md)");
ABSL_FLAG(int64_t, service_stream_maxlen, 0,
          "--stream_maxlen given to the services (0 = their default); a diagnostic: with the "
          "default, a peer inbox trims entries its ingress has not read yet");

namespace teleclaude::mesh::bench {
namespace {
namespace v1 = ::teleclaude::mesh::v1;
using Clock = std::chrono::steady_clock;

// ---- output ---------------------------------------------------------------

void Figure(const std::string& name, const std::string& value) {
  std::cout << name << "=" << value << std::endl;
}
void Figure(const std::string& name, double value, int decimals = 0) {
  Figure(name, absl::StrFormat("%.*f", decimals, value));
}
void Unavailable(const std::vector<std::string>& names, const absl::Status& why) {
  for (const std::string& n : names) {
    Figure(n, absl::StrCat("unavailable (", why.message(), ")"));
  }
}
void Note(const std::string& text) { std::cerr << "# " << text << std::endl; }

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string BuildDir() {
  std::string dir = absl::GetFlag(FLAGS_build_dir);
  if (!dir.empty()) return dir;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return self.parent_path().parent_path().parent_path().string();  // build/tests/bench/x
}

// Peak RSS of every service of `computers`, max per service.
void PrintRss(const std::vector<BenchComputer*>& computers) {
  std::map<std::string, double> max;
  for (BenchComputer* c : computers) {
    c->SampleRss();
    for (auto& [svc, mb] : c->RssMaxMb()) max[svc] = std::max(max[svc], mb);
  }
  for (auto& [svc, mb] : max) Figure(absl::StrCat("rss_max_mb_", svc), mb, 1);
}

// CPU each process of a measurement used inside its timed window, per event;
// the share of the window its busiest thread was on a CPU; and how busy the
// whole machine was: the profile behind a ratio (which process and thread
// bound it, and whether the machine's cores were the limit). Figures:
//   {prefix}_cpu_us_per_event_{computer}_{service} (also _redis, and _bench:
//     this program's producers and observers), and _total: their sum
//   {prefix}_busiest_thread_pct_{computer}_{service} (100 = one thread never
//     left a CPU: that thread is the bound)
//   {prefix}_machine_busy_pct
class CpuWindow {
 public:
  CpuWindow(std::vector<std::pair<std::string, BenchComputer*>> computers,
            const testing::RedisServer* redis)
      : computers_(std::move(computers)), redis_(redis) {}
  void Start() { start_ = Snapshot(); }
  void Stop() { stop_ = Snapshot(); }
  void Print(const std::string& prefix, int64_t events) const {
    const double wall = Seconds(stop_.at - start_.at);
    if (events <= 0 || wall <= 0) return;
    double sum = 0;
    for (const auto& [name, stop] : stop_.processes) {
      auto it = start_.processes.find(name);
      if (it == start_.processes.end()) continue;
      sum += stop.total - it->second.total;
      Figure(absl::StrCat(prefix, "_cpu_us_per_event_", name),
             1e6 * (stop.total - it->second.total) / events, 1);
      double busiest = 0;
      for (const auto& [tid, sec] : stop.threads) {
        auto t = it->second.threads.find(tid);
        busiest = std::max(busiest, sec - (t == it->second.threads.end() ? 0 : t->second));
      }
      Figure(absl::StrCat(prefix, "_busiest_thread_pct_", name), 100 * busiest / wall, 0);
    }
    Figure(absl::StrCat(prefix, "_cpu_us_per_event_total"), 1e6 * sum / events, 1);
    double total = stop_.machine.total - start_.machine.total;
    if (total > 0) {
      Figure(absl::StrCat(prefix, "_machine_busy_pct"),
             100 * (stop_.machine.busy - start_.machine.busy) / total, 0);
    }
  }

 private:
  struct Process {
    double total = 0;
    std::map<pid_t, double> threads;
  };
  struct Sample {
    Clock::time_point at;
    std::map<std::string, Process> processes;
    MachineCpu machine;
  };
  static void Add(Sample* s, const std::string& name, pid_t pid) {
    double total = CpuSeconds(pid);
    if (pid <= 0 || total < 0) return;
    s->processes[name] = Process{total, ThreadCpuSeconds(pid)};
  }
  Sample Snapshot() const {
    Sample s;
    s.at = Clock::now();
    for (const auto& [label, computer] : computers_) {
      for (const auto& [svc, pid] : computer->Pids()) {
        Add(&s, absl::StrCat(label, label.empty() ? "" : "_", svc), pid);
      }
    }
    Add(&s, "redis", redis_->pid());
    Add(&s, "bench", getpid());
    s.machine = ReadMachineCpu();
    return s;
  }
  std::vector<std::pair<std::string, BenchComputer*>> computers_;
  const testing::RedisServer* redis_;
  Sample start_, stop_;
};

// ---- Redis helpers --------------------------------------------------------

// Pipelined XADDs of `argvs`, `batch` commands per round trip.
absl::Status PipelineAll(RedisClient* client, const std::vector<std::vector<std::string>>& argvs,
                         int batch) {
  std::vector<std::vector<std::string>> chunk;
  for (size_t i = 0; i < argvs.size(); i += batch) {
    size_t end = std::min(argvs.size(), i + static_cast<size_t>(batch));
    chunk.assign(argvs.begin() + i, argvs.begin() + end);
    auto replies = client->Pipeline(chunk);
    if (!replies.ok()) return replies.status();
    for (const RedisReply& r : *replies) {
      if (r.is_error()) return absl::FailedPreconditionError(absl::StrCat("XADD: ", r.str()));
    }
  }
  return absl::OkStatus();
}

// The stream-entry form (§3.2) of events seq in [first, first+count): even
// seq = kNotifyingType (unique idempotency value), odd = kUnknownType.
std::vector<std::vector<std::string>> LocalStreamXAdds(const std::string& key, int64_t first,
                                                       int64_t count, Visibility visibility,
                                                       const std::string& source) {
  std::vector<std::vector<std::string>> argvs;
  argvs.reserve(count);
  for (int64_t seq = first; seq < first + count; ++seq) {
    argvs.push_back(RedisClient::XAddArgv(
        key, EncodeEnvelopeStream(TypicalEnvelope(seq, seq % 2 == 0, visibility, source)),
        /*maxlen=*/0));
  }
  return argvs;
}

struct GroupState {
  std::string name;
  int64_t pending = 0;
  std::optional<int64_t> lag;
  std::optional<int64_t> entries_read;
};

// XINFO GROUPS key, every group.
absl::StatusOr<std::vector<GroupState>> Groups(RedisClient* client, const std::string& key) {
  auto reply = client->Command({"XINFO", "GROUPS", key});
  if (!reply.ok()) return reply.status();
  std::vector<GroupState> groups;
  for (const RedisReply& g : reply->elements()) {
    GroupState state;
    const auto& kv = g.elements();
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      const std::string& k = kv[i].str();
      const RedisReply& v = kv[i + 1];
      if (k == "name") state.name = v.str();
      if (k == "pending") state.pending = v.integer();
      if (k == "lag" && v.is_integer()) state.lag = v.integer();
      if (k == "entries-read" && v.is_integer()) state.entries_read = v.integer();
    }
    groups.push_back(std::move(state));
  }
  return groups;
}

// ---- progress -------------------------------------------------------------

struct Progress {
  bool reached = false;
  int64_t last = 0;
  Clock::time_point at;  // when `target` was reached (or when we gave up)
  std::string error;     // the last error of `probe`, if any
};

// Polls `probe` every `poll` until it returns >= target; gives up after
// --stall_s seconds without an increase. `on_poll` runs every poll (RSS).
Progress WaitForCount(const std::function<absl::StatusOr<int64_t>()>& probe, int64_t target,
                      const std::function<void()>& on_poll,
                      absl::Duration poll = absl::Milliseconds(5)) {
  Progress p;
  const auto stall = std::chrono::seconds(absl::GetFlag(FLAGS_stall_s));
  auto last_change = Clock::now();
  for (;;) {
    auto value = probe();
    auto now = Clock::now();
    if (value.ok()) {
      if (*value > p.last) last_change = now;
      p.last = *value;
      if (*value >= target) {
        p.reached = true;
        p.at = now;
        return p;
      }
    } else {
      p.error = std::string(value.status().message());
    }
    if (now - last_change > stall) {
      p.at = now;
      return p;
    }
    if (on_poll) on_poll();
    absl::SleepFor(poll);
  }
}

std::string StallReason(const Progress& p, int64_t target, const std::string& what) {
  return absl::StrCat("stalled: ", what, " ", p.last, " of ", target, ", no progress for ",
                      absl::GetFlag(FLAGS_stall_s), " s",
                      p.error.empty() ? "" : absl::StrCat("; last error: ", p.error));
}

// The measurement's redis-server: plain, or TLS only with --redis_tls.
testing::RedisServer::Options RedisOptions() {
  testing::RedisServer::Options o;
  o.tls = absl::GetFlag(FLAGS_redis_tls);
  return o;
}

ComputerOptions Computer(const std::string& name, const std::string& cluster,
                         const testing::RedisServer& redis, int services) {
  ComputerOptions o;
  o.name = name;
  o.cluster = cluster;
  o.redis_url = redis.url();
  o.build_dir = BuildDir();
  o.services = services;
  o.extra_flags = {
      "--log_level=warning",
      absl::StrCat("--peer_refresh_ms=", absl::GetFlag(FLAGS_service_peer_refresh_ms))};
  if (int64_t maxlen = absl::GetFlag(FLAGS_service_stream_maxlen); maxlen > 0) {
    o.extra_flags.push_back(absl::StrCat("--stream_maxlen=", maxlen));
  }
  for (const std::string& flag : redis.TlsFlags()) o.extra_flags.push_back(flag);
  o.egress_flags = absl::GetFlag(FLAGS_egress_flags);
  return o;
}

// Waits until `computer`'s egress lists every name of `want` as a peer.
absl::Status AwaitPeers(BenchComputer* computer, const std::vector<std::string>& want,
                        absl::Duration timeout = absl::Seconds(30)) {
  absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    auto peers = computer->Peers();
    if (peers.ok()) {
      size_t found = 0;
      for (const std::string& w : want) {
        if (std::find(peers->begin(), peers->end(), w) != peers->end()) ++found;
      }
      if (found == want.size()) return absl::OkStatus();
      last = absl::StrCat(found, " of ", want.size(), " peers visible");
    } else {
      last = std::string(peers.status().message());
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(computer->name(),
                                                  " did not discover its peers within ",
                                                  absl::FormatDuration(timeout), ": ", last));
}

// ---- §1 redis_hop -----------------------------------------------------------

// Producer: pipelined XADD of the mesh message form (600-byte JSON payload) in
// batches of --batch. Consumer (second connection, own thread): XREADGROUP
// COUNT --read_count, the XACK of each batch pipelined with the next read.
// Time: first XADD → last XACK.
void RedisHop() {
  const std::vector<std::string> figures = {"redis_hop_msgs_per_s"};
  const int64_t count = absl::GetFlag(FLAGS_count);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int read_count = absl::GetFlag(FLAGS_read_count);
  testing::RedisServer redis(RedisOptions());
  auto producer = redis.Client();
  auto consumer = redis.Client();
  const std::string key = "messages:bench-hop";
  const std::string group = "bench-hop";
  if (absl::Status st = consumer->XGroupCreate(key, group, "$", true); !st.ok()) {
    return Unavailable(figures, st);
  }
  const std::string json = EncodeEnvelopeJson(TypicalEnvelope(0, true, Visibility::kPublic));
  std::vector<std::vector<std::string>> argvs;
  argvs.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    argvs.push_back(RedisClient::XAddArgv(
        key, EncodeMeshMessage(json, "alpha", absl::StrCat("alpha-", i)), /*maxlen=*/0));
  }

  std::atomic<int64_t> acked{0};
  absl::Status consumer_status;
  Clock::time_point done;
  std::thread reader([&] {
    std::vector<std::string> ack_ids;
    auto last_change = Clock::now();
    while (acked.load() < count) {
      std::vector<std::vector<std::string>> cmds;
      if (!ack_ids.empty()) {
        std::vector<std::string> ack = {"XACK", key, group};
        ack.insert(ack.end(), ack_ids.begin(), ack_ids.end());
        cmds.push_back(std::move(ack));
      }
      // The last XACK goes alone: a read after it would block for nothing.
      const bool last = acked.load() + static_cast<int64_t>(ack_ids.size()) >= count;
      if (!last) {
        cmds.push_back({"XREADGROUP", "GROUP", group, "c1", "COUNT", absl::StrCat(read_count),
                        "BLOCK", "1000", "STREAMS", key, ">"});
      }
      auto replies = consumer->Pipeline(cmds);
      if (!replies.ok()) {
        consumer_status = replies.status();
        return;
      }
      if (!ack_ids.empty()) {
        acked += (*replies)[0].integer();
        ack_ids.clear();
        last_change = Clock::now();
      }
      if (last) break;
      const RedisReply& read = replies->back();
      if (read.is_error()) {
        consumer_status = absl::FailedPreconditionError(read.str());
        return;
      }
      if (read.is_array() && !read.elements().empty() &&
          read.elements()[0].elements().size() == 2) {
        for (const StreamEntry& e : RedisClient::ParseEntries(read.elements()[0].elements()[1])) {
          ack_ids.push_back(e.id);
        }
      }
      if (Clock::now() - last_change > std::chrono::seconds(absl::GetFlag(FLAGS_stall_s))) {
        consumer_status = absl::DeadlineExceededError("consumer stalled");
        return;
      }
    }
    done = Clock::now();
  });
  CpuWindow cpu({}, &redis);
  cpu.Start();
  auto start = Clock::now();
  absl::Status produced = PipelineAll(producer.get(), argvs, batch);
  auto produced_at = Clock::now();
  reader.join();
  cpu.Stop();
  if (!produced.ok()) return Unavailable(figures, produced);
  if (!consumer_status.ok()) return Unavailable(figures, consumer_status);
  Figure("redis_hop_msgs_per_s", count / Seconds(done - start));
  Figure("redis_hop_xadd_msgs_per_s", count / Seconds(produced_at - start));
  cpu.Print("redis_hop", count);  // per message
}

// ---- §2 local_pipeline ------------------------------------------------------

// Pre-fills A's local stream with --count events (half kNotifyingType with
// unique keys, half unknown; all local), then starts telec-egress and times
// until its consumer group has read and acknowledged everything (lag 0,
// pending 0). The egress is started once before the fill so that it creates
// its consumer group (whatever its name) on the empty stream, then stopped:
// the fill is a backlog that accumulated while it was down.
void LocalPipeline() {
  const std::vector<std::string> figures = {"local_pipeline_events_per_s"};
  const int64_t count = absl::GetFlag(FLAGS_count);
  testing::RedisServer redis(RedisOptions());
  auto client = redis.Client();
  BenchComputer a(Computer("bench-a", "bench", redis, kInstaller | kEgress));
  if (absl::Status st = a.Start(); !st.ok()) return Unavailable(figures, st);
  const std::string key = a.local_stream();
  std::vector<GroupState> groups;
  for (int i = 0; i < 500 && groups.empty(); ++i) {
    auto g = Groups(client.get(), key);
    if (g.ok()) groups = *g;
    if (groups.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  if (groups.empty()) {
    return Unavailable(figures, absl::FailedPreconditionError(absl::StrCat(
                                    "telec-egress created no consumer group on ", key)));
  }
  a.StopService(kEgress);
  // Filled in chunks so that a backlog of millions does not sit in memory here.
  for (int64_t first = 0; first < count; first += 10000) {
    absl::Status filled =
        PipelineAll(client.get(),
                    LocalStreamXAdds(key, first, std::min<int64_t>(10000, count - first),
                                     Visibility::kLocal, a.name()),
                    1000);
    if (!filled.ok()) return Unavailable(figures, filled);
  }

  // Acknowledged entries = read - pending, from every group (the slowest).
  auto acknowledged = [&]() -> absl::StatusOr<int64_t> {
    auto gs = Groups(client.get(), key);
    if (!gs.ok()) return gs.status();
    int64_t min = count;
    for (const GroupState& g : *gs) {
      if (!g.lag.has_value()) return absl::UnavailableError("XINFO GROUPS: lag unknown");
      min = std::min(min, count - *g.lag - g.pending);
    }
    return min;
  };

  // Timed from the first acknowledgement seen (so neither the process
  // start-up nor the first batch's read counts against the rate); polled on
  // Redis, not through gRPC, so the service's own start-up does not matter.
  auto spawn = Clock::now();
  if (absl::Status st = a.StartService(kEgress, /*await_ready=*/false); !st.ok()) {
    return Unavailable(figures, st);
  }
  Progress first = WaitForCount(
      acknowledged, 1, [&] { a.SampleRss(); }, absl::Milliseconds(1));
  if (!first.reached) {
    return Unavailable(figures, absl::DeadlineExceededError(StallReason(
                                    first, count, "entries acknowledged by telec-egress")));
  }
  CpuWindow cpu({{"", &a}}, &redis);
  cpu.Start();
  Progress p = WaitForCount(acknowledged, count, [&] { a.SampleRss(); });
  cpu.Stop();
  if (!p.reached) {
    Unavailable(figures, absl::DeadlineExceededError(
                             StallReason(p, count, "entries acknowledged by telec-egress")));
  } else if (p.at <= first.at) {
    Unavailable(figures, absl::OutOfRangeError(
                             absl::StrCat("all ", count,
                                          " entries were acknowledged before the first poll; "
                                          "use a larger --count")));
  } else {
    Figure("local_pipeline_events_per_s", (count - first.last) / Seconds(p.at - first.at));
    Figure("local_pipeline_events_per_s_incl_startup", count / Seconds(p.at - spawn));
    Figure("local_pipeline_first_ack_ms", 1000 * Seconds(first.at - spawn), 1);
    cpu.Print("local_pipeline", count - first.last);
  }
  if (absl::Status st = a.AwaitReady(kEgress); !st.ok()) {
    Note(absl::StrCat("after the run: ", st.message()));
  }
  // Checks outside the timing: what egress says it did, and the notifications.
  if (auto stats = a.Stats(); stats.ok()) {
    Figure("local_pipeline_inputs_processed", stats->inputs_processed());
    Figure("local_pipeline_inputs_invalid", stats->inputs_invalid());
  }
  if (auto n = a.CountNotifications(kNotifyingType); n.ok()) {
    Figure("local_pipeline_notifications", n->rows);
    Figure("local_pipeline_notifications_expected", (count + 1) / 2);
  } else {
    Note(absl::StrCat("counting notifications: ", n.status().message()));
  }
  PrintRss({&a});
}

// ---- §3 mesh_hop / §4 latency: two computers --------------------------------

// A and B in one cluster (B trusts A by the default --trust_mode=cluster),
// every service running, each seeing the other as a peer.
struct TwoComputers {
  explicit TwoComputers(const testing::RedisServer& redis)
      : a(Computer("bench-a", "bench", redis, kInstaller | kEgress | kIngress)),
        b(Computer("bench-b", "bench", redis, kInstaller | kEgress | kIngress)) {}
  absl::Status Start() {
    auto t = Clock::now();
    TM_RETURN_IF_ERROR(b.Start());
    TM_RETURN_IF_ERROR(a.Start());
    auto started = Clock::now();
    TM_RETURN_IF_ERROR(AwaitPeers(&a, {b.name()}));
    TM_RETURN_IF_ERROR(AwaitPeers(&b, {a.name()}));
    Note(absl::StrFormat("services of A and B started in %.1f s, peers visible %.1f s later",
                         Seconds(started - t), Seconds(Clock::now() - started)));
    return absl::OkStatus();
  }
  BenchComputer a;
  BenchComputer b;
};

// payload.bench_sent_ns of an envelope's payload text (0 when absent).
int64_t SentNs(const std::string& payload_json) {
  static const std::string kKey = "\"bench_sent_ns\":";
  size_t at = payload_json.find(kKey);
  if (at == std::string::npos) return 0;
  return std::strtoll(payload_json.c_str() + at + kKey.size(), nullptr, 10);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Follows a computer's WatchEvents and counts the events that arrived from
// the mesh and ran through its pipeline; records emit-to-processed latency
// for events carrying payload.bench_sent_ns.
// Thread-safe.
class Watcher {
 public:
  explicit Watcher(BenchComputer* computer) {
    reader_ = computer->pipeline()->WatchEvents(&ctx_, v1::WatchEventsRequest());
    thread_ = std::thread([this] { Run(); });
  }
  ~Watcher() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    ctx_.TryCancel();
    thread_.join();
  }
  int64_t mesh_events() const { return mesh_events_.load(); }
  int64_t dropped() const { return dropped_.load(); }
  std::vector<int64_t> latencies_ns() const {
    absl::MutexLock lock(&mu_);
    return latencies_ns_;
  }
  int64_t timed_events() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(latencies_ns_.size());
  }

 private:
  void Run() {
    v1::WatchedEvent ev;
    while (reader_->Read(&ev)) {
      int64_t now = NowNs();
      dropped_ += ev.dropped_before();
      if (ev.origin() != v1::ORIGIN_MESH) continue;
      if (ev.status() != v1::OUTCOME_PROCESSED && ev.status() != v1::OUTCOME_DROPPED) continue;
      ++mesh_events_;
      int64_t sent = SentNs(ev.envelope().payload_json());
      if (sent == 0) continue;
      absl::MutexLock lock(&mu_);
      latencies_ns_.push_back(now - sent);
    }
  }

  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::WatchedEvent>> reader_;
  std::atomic<int64_t> mesh_events_{0}, dropped_{0};
  mutable absl::Mutex mu_;
  std::vector<int64_t> latencies_ns_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// --count public events XADDed (pipelined) to A's local stream → A's
// egress forwards them to messages:bench-b → B's ingress → B's egress.
// Timed from the first XADD until B's WatchEvents has shown every one of
// them processed (origin mesh); lost and duplicated are counted there too
// (per sequence number), and against B's notifications (one per notifying
// event, each with its own idempotency key).
void MeshHop() {
  const std::vector<std::string> figures = {"mesh_events_per_s", "mesh_lost", "mesh_duplicated"};
  const int64_t count = absl::GetFlag(FLAGS_count);
  testing::RedisServer redis(RedisOptions());
  auto client = redis.Client();
  TwoComputers m(redis);
  if (absl::Status st = m.Start(); !st.ok()) return Unavailable(figures, st);
  auto argvs = LocalStreamXAdds(m.a.local_stream(), 0, count, Visibility::kPublic, m.a.name());
  // Progress is B's own counter of committed inputs (Pipeline.Stats, polled):
  // a WatchEvents follower would make B build and stream one message per
  // event, measuring the observer as much as the mesh (the latency run uses
  // one, at 1,000 events/s).
  auto processed_on_b = [&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(v1::StatsResponse stats, m.b.Stats());
    return stats.inputs_processed();
  };
  absl::StatusOr<int64_t> base = processed_on_b();
  if (!base.ok()) return Unavailable(figures, base.status());
  CpuWindow cpu({{"a", &m.a}, {"b", &m.b}}, &redis);
  cpu.Start();
  auto start = Clock::now();
  absl::Status produced = PipelineAll(client.get(), argvs, absl::GetFlag(FLAGS_batch));
  if (!produced.ok()) return Unavailable(figures, produced);
  Progress p = WaitForCount(
      [&]() -> absl::StatusOr<int64_t> {
        TM_ASSIGN_OR_RETURN(int64_t n, processed_on_b());
        return n - *base;
      },
      count,
      [&] {
        m.a.SampleRss();
        m.b.SampleRss();
      });
  cpu.Stop();
  if (p.reached) {
    Figure("mesh_events_per_s", count / Seconds(p.at - start));
    cpu.Print("mesh", count);
  } else {
    Figure("mesh_events_per_s",
           absl::StrCat("unavailable (", StallReason(p, count, "events processed on B"), ")"));
  }
  absl::SleepFor(absl::Milliseconds(500));  // let late duplicates show
  // Counted on B: every mesh message B committed has one processed_inputs
  // row (keyed by its message id: a copy is suppressed, never run twice);
  // every notifying event one notification with its own idempotency key.
  auto notes = m.b.CountNotifications(kNotifyingType);
  const int64_t expected_notes = (count + 1) / 2;
  absl::StatusOr<int64_t> mesh_inputs = [&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                        Database::Open(absl::StrCat(m.b.data_dir(), "/events.db")));
    TM_ASSIGN_OR_RETURN(Statement * s,
                        db->Cached("SELECT COUNT(*) FROM processed_inputs WHERE input_key LIKE "
                                   "'mesh:%'"));
    TM_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->ColumnInt64(0) : 0;
  }();
  if (!notes.ok() || !mesh_inputs.ok()) {
    Unavailable({"mesh_lost", "mesh_duplicated"},
                !notes.ok() ? notes.status() : mesh_inputs.status());
  } else {
    Figure("mesh_lost", std::max<int64_t>(std::max<int64_t>(0, count - *mesh_inputs),
                                          expected_notes - notes->distinct_keys));
    Figure("mesh_duplicated", notes->rows - notes->distinct_keys);
    Figure("mesh_b_mesh_inputs_committed", *mesh_inputs);
  }
  if (notes.ok()) {
    Figure("mesh_b_notifications", notes->rows);
    Figure("mesh_b_notifications_expected", expected_notes);
  }
  if (auto stats = m.b.Stats(); stats.ok()) {
    Figure("mesh_b_inputs_duplicate_suppressed", stats->inputs_duplicate());
  }
  if (auto in = m.b.IngressStatus(); in.ok()) {
    Figure("mesh_b_ingress_received", in->received());
    Figure("mesh_b_ingress_accepted", in->accepted());
  }
  if (auto sa = m.a.Stats(); sa.ok()) {
    Figure("mesh_a_outbox_dropped", sa->outbox_dropped());
    auto it = sa->forwarded_per_peer().find(m.b.name());
    Figure("mesh_a_forwarded_to_b", it == sa->forwarded_per_peer().end() ? 0 : it->second);
  }
  // B's inbox: how many messages were ever added and how many are left. More
  // added than B's ingress received = entries trimmed (MAXLEN ~) unread.
  const std::string inbox = MeshStreamKey(m.b.name());
  if (auto info = client->Command({"XINFO", "STREAM", inbox}); info.ok()) {
    const auto& kv = info->elements();
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      if (kv[i].str() == "entries-added") Figure("mesh_b_inbox_entries_added", kv[i + 1].integer());
      if (kv[i].str() == "length") Figure("mesh_b_inbox_length", kv[i + 1].integer());
    }
  }
  PrintRss({&m.a, &m.b});
}

// --rate events/s for --seconds from A (single XADDs to A's local stream, on
// a fixed schedule) to B; each event carries its send time (steady clock
// ns) in payload.bench_sent_ns; B's WatchEvents stream gives the time it was
// processed there.
void Latency() {
  const std::vector<std::string> figures = {"mesh_latency_p50_us", "mesh_latency_p99_us",
                                            "mesh_latency_p999_us"};
  const int rate = absl::GetFlag(FLAGS_rate);
  const int64_t total = static_cast<int64_t>(rate) * absl::GetFlag(FLAGS_seconds);
  // The commits' checkpoints fsync: let the disk finish writing what earlier
  // measurements left (hundreds of MB of databases) first, so that their
  // write-back is not measured as this path's latency.
  sync();
  testing::RedisServer redis(RedisOptions());
  auto client = redis.Client();
  TwoComputers m(redis);
  if (absl::Status st = m.Start(); !st.ok()) return Unavailable(figures, st);
  constexpr int64_t kWarmups = 100;
  Watcher watch(&m.b);
  // Warm up until B sees A's events through the watch (the stream is open
  // and the whole path works). Warm-up events carry no send time.
  int64_t seq = 0;
  while (seq < kWarmups && watch.mesh_events() == 0) {
    EventEnvelope e = TypicalEnvelope(seq, seq % 2 == 0, Visibility::kPublic, m.a.name());
    ++seq;
    auto st = client->XAdd(m.a.local_stream(), EncodeEnvelopeStream(e), 0);
    if (!st.ok()) return Unavailable(figures, st.status());
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (watch.mesh_events() == 0) {
    return Unavailable(figures, absl::DeadlineExceededError(
                                    "no event from A reached B's WatchEvents within 10 s"));
  }
  const auto interval = std::chrono::nanoseconds(1'000'000'000LL / rate);
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(t0 + i * interval);
    EventEnvelope e = TypicalEnvelope(seq, seq % 2 == 0, Visibility::kPublic, m.a.name(), NowNs());
    ++seq;
    auto st = client->XAdd(m.a.local_stream(), EncodeEnvelopeStream(e), 0);
    if (!st.ok()) return Unavailable(figures, st.status());
    if (i % 1000 == 0) {
      m.a.SampleRss();
      m.b.SampleRss();
    }
  }
  auto sent_for = Seconds(Clock::now() - t0);
  testing::WaitFor([&] { return watch.timed_events() >= total; }, absl::Seconds(10));
  watch.Stop();
  std::vector<int64_t> l = watch.latencies_ns();
  if (l.empty()) {
    return Unavailable(figures, absl::DeadlineExceededError("no timed event reached B"));
  }
  std::sort(l.begin(), l.end());
  auto pct = [&](double q) {
    size_t i = std::min(l.size() - 1, static_cast<size_t>(q * (l.size() - 1) + 0.5));
    return l[i] / 1000.0;
  };
  Figure("mesh_latency_p50_us", pct(0.50));
  Figure("mesh_latency_p99_us", pct(0.99));
  Figure("mesh_latency_p999_us", pct(0.999));
  Figure("mesh_latency_max_us", l.back() / 1000.0);
  Figure("mesh_latency_events", static_cast<double>(l.size()));
  Figure("mesh_latency_events_sent", static_cast<double>(total));
  Figure("mesh_latency_send_rate_per_s", total / sent_for);
  Figure("mesh_latency_watch_dropped", static_cast<double>(watch.dropped()));
  PrintRss({&m.a, &m.b});
}

// ---- §5 fanout ----------------------------------------------------------------

// One computer (installer + egress) with --peers live peers that exist only
// as heartbeat keys (SETEX'd here, no cluster: public peers); --count public
// events through its local stream; deliveries = events × peers forwarded
// (Stats.forwarded_per_peer). Then the raw pipelined XADD of the same mesh
// messages to the same peer streams (MAXLEN ~ --raw_stream_maxlen), for the ratio.
void Fanout() {
  const std::vector<std::string> figures = {"fanout_deliveries_per_s", "fanout_raw_xadd_per_s",
                                            "fanout_ratio"};
  const int64_t count = absl::GetFlag(FLAGS_count);
  const int peers = absl::GetFlag(FLAGS_peers);
  const int batch = absl::GetFlag(FLAGS_batch);
  testing::RedisServer redis(RedisOptions());
  auto client = redis.Client();
  std::vector<std::string> names;
  for (int i = 0; i < peers; ++i) names.push_back(absl::StrFormat("fake-%02d", i));
  for (const std::string& n : names) {
    Heartbeat hb{n, FormatTimestampStream(Timestamp::NowUtc()), std::nullopt};
    if (absl::Status st = client->SetEx(HeartbeatKey(n), EncodeHeartbeat(hb), absl::Minutes(30));
        !st.ok()) {
      return Unavailable(figures, st);
    }
  }
  BenchComputer a(Computer("bench-a", "", redis, kInstaller | kEgress));
  absl::Status started = a.Start();
  if (started.ok()) started = AwaitPeers(&a, names);
  std::optional<double> deliveries_per_s;
  if (!started.ok()) {
    Unavailable({"fanout_deliveries_per_s"}, started);
  } else {
    const int64_t target = count * peers;
    auto argvs = LocalStreamXAdds(a.local_stream(), 0, count, Visibility::kPublic, a.name());
    auto start = Clock::now();
    absl::Status produced = PipelineAll(client.get(), argvs, batch);
    auto delivered = [&]() -> absl::StatusOr<int64_t> {
      auto s = a.Stats();
      if (!s.ok()) return s.status();
      int64_t sum = 0;
      for (const auto& [peer, n] : s->forwarded_per_peer()) {
        if (std::find(names.begin(), names.end(), peer) != names.end()) sum += n;
      }
      return sum;
    };
    Progress p;
    if (produced.ok()) p = WaitForCount(delivered, target, [&] { a.SampleRss(); });
    if (!produced.ok()) {
      Unavailable({"fanout_deliveries_per_s"}, produced);
    } else if (!p.reached) {
      Unavailable({"fanout_deliveries_per_s"},
                  absl::DeadlineExceededError(StallReason(p, target, "deliveries")));
    } else {
      deliveries_per_s = target / Seconds(p.at - start);
      Figure("fanout_deliveries_per_s", *deliveries_per_s);
    }
    if (auto s = a.Stats(); s.ok()) {
      Figure("fanout_outbox_dropped", s->outbox_dropped());
      Figure("fanout_inputs_processed", s->inputs_processed());
    }
    PrintRss({&a});
    a.StopAll();
  }

  // The raw ceiling: the same messages, pipelined XADD, fresh streams.
  std::vector<std::string> keys;
  for (const std::string& n : names) keys.push_back(MeshStreamKey(n));
  if (auto del = client->Del(keys); !del.ok())
    return Unavailable({"fanout_raw_xadd_per_s"}, del.status());
  std::vector<std::vector<std::string>> argvs;
  argvs.reserve(count * peers);
  const int64_t maxlen = absl::GetFlag(FLAGS_raw_stream_maxlen);
  for (int64_t seq = 0; seq < count; ++seq) {
    std::string json =
        EncodeEnvelopeJson(TypicalEnvelope(seq, seq % 2 == 0, Visibility::kPublic, "bench-a"));
    std::string id = absl::StrCat("bench-a-", seq);
    for (const std::string& k : keys) {
      argvs.push_back(RedisClient::XAddArgv(k, EncodeMeshMessage(json, "bench-a", id), maxlen));
    }
  }
  auto start = Clock::now();
  absl::Status raw = PipelineAll(client.get(), argvs, batch);
  auto end = Clock::now();
  if (!raw.ok()) return Unavailable({"fanout_raw_xadd_per_s", "fanout_ratio"}, raw);
  double raw_per_s = argvs.size() / Seconds(end - start);
  Figure("fanout_raw_xadd_per_s", raw_per_s);
  if (deliveries_per_s.has_value()) {
    Figure("fanout_ratio", *deliveries_per_s / raw_per_s, 3);
  } else {
    Unavailable({"fanout_ratio"}, absl::UnavailableError("no fan-out figure"));
  }
}

}  // namespace
}  // namespace teleclaude::mesh::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mesh_bench <redis_hop|local_pipeline|mesh_hop|latency|fanout> [--flags]: prints "
      "name=value figures (issue 9)");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: mesh_bench <redis_hop|local_pipeline|mesh_hop|latency|fanout>\n");
    return 2;
  }
  using namespace teleclaude::mesh::bench;
  const std::string cmd = args[1];
  if (cmd == "redis_hop") {
    RedisHop();
  } else if (cmd == "local_pipeline") {
    LocalPipeline();
  } else if (cmd == "mesh_hop") {
    MeshHop();
  } else if (cmd == "latency") {
    Latency();
  } else if (cmd == "fanout") {
    Fanout();
  } else {
    std::fprintf(stderr, "mesh_bench: unknown command \"%s\"\n", cmd.c_str());
    return 2;
  }
  return 0;
}
