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
//   mesh_bench computers       N simulated computers on one Redis (scaling)
//
// Peak RSS (VmHWM) of every service a command ran: rss_max_mb_<service>.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
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
#include "services/egress/storage/events_db.h"
#include "tests/bench/bench_computer.h"
#include "tests/bench/bench_envelope.h"
#include "tests/bench/simulated_computer.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

ABSL_FLAG(int64_t, count, 100000, "events (messages) per measurement");
ABSL_FLAG(int, batch, 128, "commands per pipelined XADD round trip (producers)");
ABSL_FLAG(int, read_count, 128, "redis_hop: XREADGROUP COUNT");
ABSL_FLAG(int, rate, 1000, "latency: events per second");
ABSL_FLAG(int, seconds, 10, "latency: how long to send");
ABSL_FLAG(int, peers, 50, "fanout: heartbeat-only peers");
ABSL_FLAG(int, computers, 20, "computers: simulated computers on one Redis");
ABSL_FLAG(int, peers_per_event, 0,
          "computers: destinations of each event (0 = every other computer: public events)");
ABSL_FLAG(int, sim_threads, 2, "computers: threads driving the simulated computers");
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
ABSL_FLAG(std::string, perf_call_graph, "fp",
          "--perf_record's call graphs: fp (frame pointers, cheap; chains stop in code built "
          "without them, e.g. libsqlite3) or dwarf (whole chains, large files)");
ABSL_FLAG(std::string, perf_record, "",
          "mesh_hop: perf record the services and Redis during the timed window into this file "
          "(then: perf script -i FILE -F comm,pid,tid,ip,sym,dso | tests/bench/perf_split.py "
          "NAME=PID,... as the run's note lists them)");
ABSL_FLAG(bool, service_mesh_authentication, true,
          "false gives the services --nomesh_authentication (egress sends unsigned, ingress "
          "verifies nothing): the mesh hop without authentication, to measure its cost in the "
          "same run (tests/bench/run: mesh_auth_overhead_ratio)");
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
  // CPU seconds all measured processes used inside the window.
  double TotalSeconds() const {
    double sum = 0;
    for (const auto& [name, stop] : stop_.processes) {
      auto it = start_.processes.find(name);
      if (it != start_.processes.end()) sum += stop.total - it->second.total;
    }
    return sum;
  }
  // CPU seconds of one measured process ("redis", "bench", "a_egress", ...)
  // inside the window; -1 when it was not measured.
  double ProcessSeconds(const std::string& name) const {
    auto stop = stop_.processes.find(name);
    auto start = start_.processes.find(name);
    if (stop == stop_.processes.end() || start == start_.processes.end()) return -1;
    return stop->second.total - start->second.total;
  }
  double WallSeconds() const { return Seconds(stop_.at - start_.at); }
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
  if (!absl::GetFlag(FLAGS_service_mesh_authentication)) {
    o.extra_flags.push_back("--nomesh_authentication");
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

// One raw Redis Streams hop measured on `redis`.
struct RawHopResult {
  double seconds = 0;         // first XADD → last XACK
  double xadd_seconds = 0;    // first XADD → last XADD reply
  double cpu_us_per_msg = 0;  // Redis + this program, per message
};

// Producer: pipelined XADD of the mesh message form (600-byte JSON payload) in
// batches of `batch` on `key`. Consumer (second connection, own thread):
// XREADGROUP COUNT `read_count`, the XACK of each batch pipelined with the
// next read. `cpu` (optional) is started and stopped around the hop.
absl::StatusOr<RawHopResult> RawHop(const testing::RedisServer& redis, const std::string& key,
                                    int64_t count, int batch, int read_count, CpuWindow* cpu) {
  auto producer = redis.Client();
  auto consumer = redis.Client();
  const std::string group = "bench-hop";
  TM_RETURN_IF_ERROR(consumer->XGroupCreate(key, group, "$", true));
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
  if (cpu != nullptr) cpu->Start();
  auto start = Clock::now();
  absl::Status produced = PipelineAll(producer.get(), argvs, batch);
  auto produced_at = Clock::now();
  reader.join();
  if (cpu != nullptr) cpu->Stop();
  TM_RETURN_IF_ERROR(produced);
  TM_RETURN_IF_ERROR(consumer_status);
  RawHopResult r;
  r.seconds = Seconds(done - start);
  r.xadd_seconds = Seconds(produced_at - start);
  if (cpu != nullptr) r.cpu_us_per_msg = 1e6 * cpu->TotalSeconds() / count;
  return r;
}

// The Redis Streams ceiling on a fresh redis-server (RawHop), with the CPU
// of Redis and this program per message.
void RedisHop() {
  const std::vector<std::string> figures = {"redis_hop_msgs_per_s"};
  const int64_t count = absl::GetFlag(FLAGS_count);
  testing::RedisServer redis(RedisOptions());
  CpuWindow cpu({}, &redis);
  absl::StatusOr<RawHopResult> hop =
      RawHop(redis, "messages:bench-hop", count, absl::GetFlag(FLAGS_batch),
             absl::GetFlag(FLAGS_read_count), &cpu);
  if (!hop.ok()) return Unavailable(figures, hop.status());
  Figure("redis_hop_msgs_per_s", count / hop->seconds);
  Figure("redis_hop_xadd_msgs_per_s", count / hop->xadd_seconds);
  cpu.Print("redis_hop", count);  // per message
}

// ---- floor: what a mesh hop cannot do without ------------------------------

// What one row written per event costs in a fresh events.db (the services'
// schema and pragmas, EventsDb::Open), in transactions of `batch` rows,
// checkpointing (PASSIVE) whenever the WAL passes 1000 pages as SQLite's own
// default would: CPU µs per row of this thread (user + system, so the
// kernel's share of writes and fsyncs counts; time waiting for the disk
// does not).
enum class FloorRow {
  kNotification,  // the projector's insert (UpsertByIdempotencyKey, key known absent)
  kInputKey,      // the input key every committed input records (seen_ids)
};
absl::StatusOr<double> SqliteInsertCpuUs(const std::string& path, int64_t count, int batch,
                                         FloorRow kind) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<EventsDb> db, EventsDb::Open(path));
  std::vector<EventEnvelope> rows;
  std::vector<std::string> keys;
  for (int64_t seq = 0; seq < count; ++seq) {
    if (kind == FloorRow::kInputKey) {
      keys.push_back(
          absl::StrCat("mesh:bench-a/local:teleclaude:events:bench-a:1712-", seq, "/bench-b"));
      continue;
    }
    EventEnvelope e = TypicalEnvelope(seq, true, Visibility::kPublic, "bench-a");
    e.idempotency_key = absl::StrCat("system.worker.crashed:indexer:run-", seq);
    rows.push_back(std::move(e));
  }
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  for (int64_t i = 0; i < count; i += batch) {
    TM_RETURN_IF_ERROR(db->database()->Exec("BEGIN IMMEDIATE"));
    for (int64_t j = i; j < std::min(count, i + batch); ++j) {
      if (kind == FloorRow::kInputKey) {
        TM_RETURN_IF_ERROR(db->MarkInputProcessed(keys[j]).status());
      } else {
        TM_RETURN_IF_ERROR(db->UpsertByIdempotencyKey(rows[j], /*known_absent=*/true).status());
      }
    }
    TM_RETURN_IF_ERROR(db->database()->Exec("COMMIT"));
    if (db->database()->wal_frames() > 1000) {
      TM_RETURN_IF_ERROR(db->database()->Checkpoint().status());
    }
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  double us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
  return us / count;
}

// Redis's per-command counters (INFO commandstats): calls and µs inside
// Redis by command name ("xadd", "xreadgroup", ...).
struct CommandStat {
  int64_t calls = 0;
  double usec = 0;
};
absl::StatusOr<std::map<std::string, CommandStat>> CommandStats(RedisClient* client) {
  TM_ASSIGN_OR_RETURN(RedisReply reply, client->Command({"INFO", "commandstats"}));
  std::map<std::string, CommandStat> out;
  for (absl::string_view line : absl::StrSplit(reply.str(), '\n', absl::SkipWhitespace())) {
    // cmdstat_xadd:calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0
    if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    CommandStat st;
    for (absl::string_view kv : absl::StrSplit(line.substr(colon + 1), ',')) {
      std::pair<absl::string_view, absl::string_view> f = absl::StrSplit(kv, '=');
      if (f.first == "calls") st.calls = std::strtoll(std::string(f.second).c_str(), nullptr, 10);
      if (f.first == "usec") st.usec = std::strtod(std::string(f.second).c_str(), nullptr);
    }
    out[std::string(line.substr(0, colon))] = st;
  }
  return out;
}

// Prints, per `unit` (event, delivery), the calls and µs inside Redis of
// every command between two CommandStats snapshots, and their totals:
//   {prefix}_redis_calls_per_{unit}_{cmd}, {prefix}_redis_usec_per_{unit}_{cmd},
//   {prefix}_redis_usec_per_call_{cmd},
//   {prefix}_redis_calls_per_{unit}, {prefix}_redis_usec_per_{unit}
// (usec: Redis's own time in the command; its /proc CPU adds the network
// and event loop around it.)
void PrintCommandStats(const std::string& prefix, const std::string& unit,
                       const std::map<std::string, CommandStat>& before,
                       const std::map<std::string, CommandStat>& after, int64_t units) {
  if (units <= 0) return;
  int64_t calls = 0;
  double usec = 0;
  for (const auto& [cmd, a] : after) {
    if (cmd == "info") continue;  // this measurement's own snapshots
    CommandStat b;
    if (auto it = before.find(cmd); it != before.end()) b = it->second;
    if (a.calls == b.calls) continue;
    calls += a.calls - b.calls;
    usec += a.usec - b.usec;
    std::string name = cmd;  // "xinfo|groups" (subcommands) -> "xinfo_groups"
    std::replace(name.begin(), name.end(), '|', '_');
    Figure(absl::StrCat(prefix, "_redis_calls_per_", unit, "_", name),
           static_cast<double>(a.calls - b.calls) / units, 3);
    Figure(absl::StrCat(prefix, "_redis_usec_per_", unit, "_", name), (a.usec - b.usec) / units, 2);
    Figure(absl::StrCat(prefix, "_redis_usec_per_call_", name),
           (a.usec - b.usec) / static_cast<double>(a.calls - b.calls), 2);
  }
  Figure(absl::StrCat(prefix, "_redis_calls_per_", unit), static_cast<double>(calls) / units, 3);
  Figure(absl::StrCat(prefix, "_redis_usec_per_", unit), usec / units, 2);
}

// perf record (--perf_record=FILE) of the given processes for the length of
// one measurement window; flat profile with call graphs (--perf_call_graph)
// where there are any. Not thread-safe.
class PerfRecorder {
 public:
  // `processes`: name -> pid of every process to record.
  void Start(const std::map<std::string, pid_t>& processes) {
    const std::string out = absl::GetFlag(FLAGS_perf_record);
    if (out.empty()) return;
    std::vector<pid_t> pids;
    std::vector<std::string> named;
    for (const auto& [name, pid] : processes) {
      pids.push_back(pid);
      named.push_back(absl::StrCat(name, "=", pid));
    }
    testing::ChildOptions o;
    o.args = {"perf",         "record",
              "-F",           "999",
              "--call-graph", absl::GetFlag(FLAGS_perf_call_graph),
              "-o",           out,
              "-p",           absl::StrJoin(pids, ",")};
    auto child = testing::ChildProcess::Start(std::move(o));
    if (!child.ok()) {
      Note(absl::StrCat("perf record did not start: ", child.status().message()));
      return;
    }
    child_ = std::move(*child);
    absl::SleepFor(absl::Milliseconds(300));  // perf attaches to every thread
    // The processes by name, as tests/bench/perf_split.py takes them.
    Note(absl::StrCat("perf record -> ", out, "; processes: ", absl::StrJoin(named, ",")));
  }
  void Stop() {
    if (child_ == nullptr) return;
    kill(child_->pid(), SIGINT);
    if (!child_->Wait(absl::Seconds(30)).ok()) child_->Kill();
    Note(absl::StrCat("perf record: ", child_->ReadLog()));
    child_.reset();
  }

 private:
  std::unique_ptr<testing::ChildProcess> child_;
};

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

// The floor of a mesh hop, measured on `redis` after the services stopped:
// two raw Redis Streams hops (RawHop's CPU of Redis and this program per
// message, once measured, counted twice: A's local stream and B's inbox) plus
// two batched SQLite inserts of a notification row (one into A's events.db,
// one into B's). Figures: mesh_floor_cpu_us (per event) and its parts, and
// mesh_floor_ratio = floor / `actual_us` (the mesh hop's CPU per event).
void MeshFloor(const testing::RedisServer& redis, int64_t count, std::optional<double> actual_us) {
  const std::vector<std::string> figures = {"mesh_floor_cpu_us", "mesh_floor_ratio"};
  CpuWindow cpu({}, &redis);
  absl::StatusOr<RawHopResult> hop =
      RawHop(redis, "messages:bench-floor", count, absl::GetFlag(FLAGS_batch),
             absl::GetFlag(FLAGS_read_count), &cpu);
  if (!hop.ok()) return Unavailable(figures, hop.status());
  testing::TempDir dir;
  absl::StatusOr<double> insert = SqliteInsertCpuUs(
      dir.File("floor-events.db"), count, absl::GetFlag(FLAGS_batch), FloorRow::kNotification);
  if (!insert.ok()) return Unavailable(figures, insert.status());
  // Beside the floor: the smallest row an input writes (its input key).
  absl::StatusOr<double> input_key = SqliteInsertCpuUs(
      dir.File("floor-keys.db"), count, absl::GetFlag(FLAGS_batch), FloorRow::kInputKey);
  if (input_key.ok()) Figure("mesh_floor_sqlite_input_key_cpu_us", *input_key, 1);
  const double floor = 2 * hop->cpu_us_per_msg + 2 * *insert;
  Figure("mesh_floor_redis_hop_cpu_us", hop->cpu_us_per_msg, 1);
  Figure("mesh_floor_redis_hop_cpu_us_redis", 1e6 * cpu.ProcessSeconds("redis") / count, 1);
  Figure("mesh_floor_sqlite_insert_cpu_us", *insert, 1);
  Figure("mesh_floor_cpu_us", floor, 1);
  if (actual_us.has_value() && *actual_us > 0) {
    Figure("mesh_floor_ratio", floor / *actual_us, 3);
  } else {
    Unavailable({"mesh_floor_ratio"}, absl::UnavailableError("the mesh hop was not measured"));
  }
}

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
  PerfRecorder perf;
  {
    std::map<std::string, pid_t> processes = {{"redis", redis.pid()}};
    for (BenchComputer* c : {&m.a, &m.b}) {
      for (const auto& [svc, pid] : c->Pids()) {
        processes[absl::StrCat(c == &m.a ? "a_" : "b_", svc)] = pid;
      }
    }
    perf.Start(processes);
  }
  auto stats_before = CommandStats(client.get());
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
  perf.Stop();
  auto stats_after = CommandStats(client.get());
  std::optional<double> cpu_us_per_event;
  if (p.reached) {
    Figure("mesh_events_per_s", count / Seconds(p.at - start));
    cpu.Print("mesh", count);
    cpu_us_per_event = 1e6 * cpu.TotalSeconds() / count;
    Figure("mesh_cpu_us_per_event", *cpu_us_per_event, 1);
    if (stats_before.ok() && stats_after.ok()) {
      PrintCommandStats("mesh", "event", *stats_before, *stats_after, count);
    }
  } else {
    Figure("mesh_events_per_s",
           absl::StrCat("unavailable (", StallReason(p, count, "events processed on B"), ")"));
  }
  absl::SleepFor(absl::Milliseconds(500));  // let late duplicates show
  // Counted on B: every mesh message B committed has one seen_ids
  // row (keyed by its message id: a copy is suppressed, never run twice);
  // every notifying event one notification with its own idempotency key.
  auto notes = m.b.CountNotifications(kNotifyingType);
  const int64_t expected_notes = (count + 1) / 2;
  absl::StatusOr<int64_t> mesh_inputs = [&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                        Database::Open(absl::StrCat(m.b.data_dir(), "/events.db")));
    TM_ASSIGN_OR_RETURN(Statement * s,
                        db->Cached("SELECT COUNT(*) FROM seen_ids WHERE id LIKE 'mesh:%'"));
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
  m.a.StopAll();
  m.b.StopAll();
  // The floor is the same with or without authentication: measured once, on
  // the hop as the services run by default.
  if (absl::GetFlag(FLAGS_service_mesh_authentication)) MeshFloor(redis, count, cpu_us_per_event);
}

// Writes 512 bytes at the start of `path` and fsyncs it, every `every`, on
// its own thread until Stop(): the fsync latency of the disk the services'
// databases live on, measured while they run. Thread-safe.
class FsyncProbe {
 public:
  FsyncProbe(std::string path, absl::Duration every) : path_(std::move(path)) {
    thread_ = std::thread([this, every] { Run(every); });
  }
  ~FsyncProbe() { Stop(); }
  void Stop() {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    if (thread_.joinable()) thread_.join();
  }
  // {prefix}_p50_us, _p99_us, _max_us, _samples; unavailable when none.
  void Print(const std::string& prefix) const {
    std::vector<int64_t> l;
    std::string error;
    {
      absl::MutexLock lock(&mu_);
      l = latencies_ns_;
      error = error_;
    }
    if (l.empty()) {
      return Unavailable({prefix + "_p50_us", prefix + "_p99_us", prefix + "_max_us"},
                         absl::UnavailableError(error.empty() ? "no sample" : error));
    }
    std::sort(l.begin(), l.end());
    auto pct = [&](double q) {
      return l[std::min(l.size() - 1, static_cast<size_t>(q * (l.size() - 1) + 0.5))] / 1000.0;
    };
    Figure(prefix + "_p50_us", pct(0.5));
    Figure(prefix + "_p99_us", pct(0.99));
    Figure(prefix + "_max_us", l.back() / 1000.0);
    Figure(prefix + "_samples", static_cast<double>(l.size()));
  }

 private:
  void Run(absl::Duration every) {
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      absl::MutexLock lock(&mu_);
      error_ = absl::StrCat("open ", path_, ": ", strerror(errno));
      return;
    }
    const std::string block(512, 'x');
    while (!stop_.WaitForNotificationWithTimeout(every)) {
      auto t = Clock::now();
      if (pwrite(fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()) ||
          fsync(fd) != 0) {
        absl::MutexLock lock(&mu_);
        error_ = absl::StrCat("write/fsync ", path_, ": ", strerror(errno));
        break;
      }
      int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
      absl::MutexLock lock(&mu_);
      latencies_ns_.push_back(ns);
    }
    close(fd);
  }

  const std::string path_;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> latencies_ns_ ABSL_GUARDED_BY(mu_);
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

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
  // The disk beside it: a small write + fsync in B's data dir every 50 ms
  // for the whole window, so that a slow disk shows as such.
  FsyncProbe fsyncs(absl::StrCat(m.b.data_dir(), "/bench-fsync-probe"), absl::Milliseconds(50));
  // What the paced events cost: at 1,000 events/s most rounds carry one
  // event, so this is the per-round cost (mesh_hop's batches share it).
  CpuWindow cpu({{"a", &m.a}, {"b", &m.b}}, &redis);
  cpu.Start();
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
  cpu.Stop();
  watch.Stop();
  fsyncs.Stop();
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
  fsyncs.Print("disk_fsync");
  Figure("mesh_latency_events", static_cast<double>(l.size()));
  Figure("mesh_latency_events_sent", static_cast<double>(total));
  Figure("mesh_latency_send_rate_per_s", total / sent_for);
  Figure("mesh_latency_watch_dropped", static_cast<double>(watch.dropped()));
  cpu.Print("mesh_latency", total);
  PrintRss({&m.a, &m.b});
}

// ---- §5 fanout ----------------------------------------------------------------

// One computer (installer, egress, ingress) with --peers live peers that exist only
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
  // Ingress runs too: it is the one writer of membership.db, egress's list of
  // destinations (doc/membership.md); it reads no mesh message here.
  BenchComputer a(Computer("bench-a", "", redis, kInstaller | kEgress | kIngress));
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

// ---- scaling: N simulated computers on one Redis ---------------------------

// --computers SimulatedComputers (tests/bench/simulated_computer.h: the Redis
// commands real computers issue per event, without their services) on one
// redis-server, each producing --count events that go to --peers_per_event
// of the others (0 = all: public events). --sim_threads threads drive them
// round-robin. Timed until every delivery was read by its receiver's
// ingress (or no progress for --stall_s). Figures: deliveries/s, Redis's CPU
// (/proc) per delivery and in % of one core, its ops/s and per-command
// calls and µs per delivery (INFO commandstats).
void Computers() {
  const std::vector<std::string> figures = {"sim_deliveries_per_s", "sim_redis_cpu_pct"};
  const int n = absl::GetFlag(FLAGS_computers);
  const int64_t count = absl::GetFlag(FLAGS_count);
  const int per_event = absl::GetFlag(FLAGS_peers_per_event) <= 0
                            ? n - 1
                            : std::min(n - 1, absl::GetFlag(FLAGS_peers_per_event));
  const int threads = std::max(1, absl::GetFlag(FLAGS_sim_threads));
  if (n < 2) return Unavailable(figures, absl::InvalidArgumentError("--computers must be >= 2"));
  testing::RedisServer redis(RedisOptions());
  auto client = redis.Client();
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(absl::StrFormat("sim-%03d", i));
  std::vector<std::unique_ptr<SimulatedComputer>> computers;
  for (int i = 0; i < n; ++i) {
    SimulatedComputer::Options o;
    o.name = names[i];
    for (int k = 1; k <= per_event; ++k) o.destinations.push_back(names[(i + k) % n]);
    o.events = count;
    o.produce_batch = absl::GetFlag(FLAGS_batch);
    computers.push_back(std::make_unique<SimulatedComputer>(std::move(o), redis.Client()));
    if (absl::Status st = computers.back()->Setup(); !st.ok()) return Unavailable(figures, st);
  }
  const int64_t expected = count * n * per_event;
  std::atomic<int64_t> delivered{0}, forwarded{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  absl::Status error;
  auto stats_before = CommandStats(client.get());
  CpuWindow cpu({}, &redis);
  cpu.Start();
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!stop.load()) {
        for (size_t i = t; i < computers.size(); i += threads) {
          absl::StatusOr<SimulatedComputer::Round> r = computers[i]->Step();
          if (!r.ok()) {
            absl::MutexLock lock(&mu);
            error = r.status();
            stop = true;
            return;
          }
          delivered += r->received;
          forwarded += r->forwarded;
        }
      }
    });
  }
  Progress p = WaitForCount([&]() -> absl::StatusOr<int64_t> { return delivered.load(); }, expected,
                            nullptr, absl::Milliseconds(2));
  stop = true;
  for (std::thread& w : workers) w.join();
  cpu.Stop();
  auto stats_after = CommandStats(client.get());
  {
    absl::MutexLock lock(&mu);
    if (!error.ok()) return Unavailable(figures, error);
  }
  Figure("sim_computers", n);
  Figure("sim_peers_per_event", per_event);
  Figure("sim_events", static_cast<double>(count * n));
  Figure("sim_deliveries_expected", static_cast<double>(expected));
  Figure("sim_deliveries_forwarded", static_cast<double>(forwarded.load()));
  Figure("sim_deliveries_read", static_cast<double>(delivered.load()));
  if (!p.reached) {
    return Unavailable(figures, absl::DeadlineExceededError(
                                    StallReason(p, expected, "deliveries read by the receivers")));
  }
  const double wall = Seconds(p.at - start);
  const double redis_s = cpu.ProcessSeconds("redis");
  const double bench_s = cpu.ProcessSeconds("bench");
  Figure("sim_seconds", wall, 2);
  Figure("sim_deliveries_per_s", expected / wall);
  Figure("sim_events_per_s", count * n / wall);
  Figure("sim_redis_cpu_pct", 100 * redis_s / cpu.WallSeconds(), 0);
  Figure("sim_redis_cpu_us_per_delivery", 1e6 * redis_s / expected, 2);
  Figure("sim_redis_cpu_us_per_event", 1e6 * redis_s / (count * n), 2);
  Figure("sim_bench_cpu_us_per_delivery", 1e6 * bench_s / expected, 2);
  // One Redis core fully busy at this cost: the deliveries/s one Redis
  // could carry (an extrapolation; the measured rate is above).
  if (redis_s > 0) Figure("sim_redis_bound_deliveries_per_s", expected / redis_s);
  if (stats_before.ok() && stats_after.ok()) {
    int64_t calls = 0;
    for (const auto& [cmd, a] : *stats_after) {
      if (cmd == "info") continue;
      auto b = stats_before->find(cmd);
      calls += a.calls - (b == stats_before->end() ? 0 : b->second.calls);
    }
    Figure("sim_redis_ops_per_s", calls / wall);
    PrintCommandStats("sim", "delivery", *stats_before, *stats_after, expected);
  }
  if (auto mem = client->Command({"INFO", "memory"}); mem.ok()) {
    for (absl::string_view line : absl::StrSplit(mem->str(), '\n', absl::SkipWhitespace())) {
      if (absl::ConsumePrefix(&line, "used_memory:")) {
        Figure("sim_redis_used_memory_mb",
               std::strtod(std::string(absl::StripAsciiWhitespace(line)).c_str(), nullptr) / 1e6,
               1);
      }
    }
  }
  Figure(
      "machine_load_average_1m",
      [] {
        double l[1] = {0};
        return getloadavg(l, 1) == 1 ? l[0] : -1.0;
      }(),
      2);
}

}  // namespace
}  // namespace teleclaude::mesh::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mesh_bench <redis_hop|local_pipeline|mesh_hop|latency|fanout|computers> [--flags]: prints "
      "name=value figures (issue 9)");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(
        stderr, "usage: mesh_bench <redis_hop|local_pipeline|mesh_hop|latency|fanout|computers>\n");
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
  } else if (cmd == "computers") {
    Computers();
  } else {
    std::fprintf(stderr, "mesh_bench: unknown command \"%s\"\n", cmd.c_str());
    return 2;
  }
  return 0;
}
