#include "services/egress/delivery/mesh_sender.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/mesh/mesh_message.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

namespace {

// The argv layout of RedisClient::XAddArgv with EncodeMeshMessage's fields in
// wire order (mesh_sender_test compares the two).
size_t FrameSize(int64_t maxlen) { return maxlen > 0 ? 14 : 11; }
size_t PayloadIndex(int64_t maxlen) { return maxlen > 0 ? 9 : 6; }

}  // namespace

void AssignMeshXAddArgv(std::string_view peer, int64_t maxlen, std::string_view envelope_json,
                        std::string_view source_computer, std::string_view message_id_prefix,
                        std::string_view message_id_suffix, bool same_frame,
                        std::vector<std::string>* argv) {
  std::vector<std::string>& a = *argv;
  const size_t size = FrameSize(maxlen);
  if (!same_frame || (a.size() != size && a.size() != size + 4)) {
    // Built fresh (strings constructed, not assigned over): GCC 12 at -O3
    // reports a false -Werror=restrict for assign() of a literal here.
    std::vector<std::string> frame;
    frame.reserve(size);
    frame.emplace_back("XADD");
    frame.emplace_back();  // key
    if (maxlen > 0) {
      frame.emplace_back("MAXLEN");
      frame.emplace_back("~");
      frame.emplace_back(std::to_string(maxlen));
    }
    frame.emplace_back("*");
    frame.emplace_back(kFieldType);
    frame.emplace_back(kMeshEventType);
    frame.emplace_back(kFieldPayload);
    frame.emplace_back();  // payload
    frame.emplace_back(kFieldSourceComputer);
    frame.emplace_back(source_computer);
    frame.emplace_back(kFieldMessageId);
    frame.emplace_back();  // message id
    a = std::move(frame);
  }
  std::string& key = a[1];
  key.assign("messages:");
  key.append(peer.data(), peer.size());
  a[PayloadIndex(maxlen)].assign(envelope_json.data(), envelope_json.size());
  std::string& id = a[size - 1];
  id.assign(message_id_prefix.data(), message_id_prefix.size());
  id.append(message_id_suffix.data(), message_id_suffix.size());
}

void AssignMeshAuthArgv(const MacKey* send_key, std::string_view source_computer, int64_t maxlen,
                        int64_t sent_at_ms, std::vector<std::string>* argv) {
  std::vector<std::string>& a = *argv;
  const size_t size = FrameSize(maxlen);
  if (send_key == nullptr) {
    a.resize(size);
    return;
  }
  if (a.size() != size + 4) {
    a.resize(size);
    a.emplace_back(kFieldSentAt);
    a.emplace_back();
    a.emplace_back(kFieldAuth);
    a.emplace_back();
  }
  std::string& sent_at = a[size + 1];
  sent_at.clear();
  AppendSentAt(sent_at_ms, &sent_at);
  std::string& auth = a[size + 3];
  auth.clear();
  // a[1] is "messages:{peer}", the recipient stream the MAC covers.
  AppendMeshMessageAuth(*send_key, source_computer, a[1], a[size - 1], sent_at,
                        a[PayloadIndex(maxlen)], &auth);
}

// One Redis connection and the XADD argvs of its last round trip, kept so
// that their strings are reused: building one allocates nothing once warm,
// and the fields that are the same in every message are written once. Lanes
// past the first own a thread that runs what Post() hands it.
class MeshSender::Lane {
 public:
  Lane(const Options& options, const RedisClientOptions& redis, bool threaded)
      : options_(options), redis_(redis) {
    if (threaded) thread_ = std::thread([this] { Loop(); });
  }
  ~Lane() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  RedisClient& redis() { return redis_; }

  // XADDs deliveries[i] for each i of `mine`, in order, pipeline_depth per
  // round trip; a refused message's status goes to (*out)[i], messages
  // added are counted in (*sent)[peer]. An error fails the whole lane.
  absl::Status Send(const std::vector<Delivery>& deliveries, const std::vector<uint32_t>& mine,
                    std::vector<absl::Status>* out, std::vector<int64_t>* sent) {
    const size_t depth = static_cast<size_t>(std::max(options_.pipeline_depth, 1));
    const size_t frame = FrameSize(options_.stream_maxlen);
    for (size_t first = 0; first < mine.size(); first += depth) {
      const size_t n = std::min(depth, mine.size() - first);
      // Slots past n wait in spare_ so that commands_ holds exactly n.
      while (commands_.size() > n) {
        spare_.push_back(std::move(commands_.back()));
        commands_.pop_back();
      }
      while (commands_.size() < n) {
        if (spare_.empty()) {
          commands_.emplace_back();
        } else {
          commands_.push_back(std::move(spare_.back()));
          spare_.pop_back();
        }
      }
      // Stamped as the round trip is built, not at enqueue: outbox delay
      // does not age messages (doc/security.md §10.4).
      const int64_t now_ms = absl::ToUnixMillis(absl::Now());
      for (size_t k = 0; k < n; ++k) {
        const Delivery& d = deliveries[mine[first + k]];
        const OutboxDelivery& m = *d.message;
        AssignMeshXAddArgv(m.destination, options_.stream_maxlen, m.body, options_.self_name,
                           m.message_id, m.message_id_suffix,
                           commands_[k].size() == frame || commands_[k].size() == frame + 4,
                           &commands_[k]);
        AssignMeshAuthArgv(d.send_key, options_.self_name, options_.stream_maxlen, now_ms,
                           &commands_[k]);
      }
      TM_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_.Pipeline(commands_));
      for (size_t k = 0; k < n && k < replies.size(); ++k) {
        const uint32_t i = mine[first + k];
        const Delivery& d = deliveries[i];
        if (!replies[k].is_error()) {
          ++(*sent)[d.peer];
          continue;
        }
        const std::string what =
            Cat("XADD ", MeshStreamKey(d.message->destination), ": ", replies[k].str());
        if (replies[k].str().rfind("WRONGTYPE", 0) != 0) return absl::UnavailableError(what);
        (*out)[i] = absl::FailedPreconditionError(what);
      }
    }
    return absl::OkStatus();
  }

  // Runs `job` on the lane's thread (REQUIRES: threaded, no job pending).
  void Post(std::function<void()> job) {
    absl::MutexLock lock(&mu_);
    job_ = std::move(job);
  }
  // Returns once the posted job has run.
  void Wait() {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !job_; };
    mu_.Await(absl::Condition(&idle));
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> job;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || job_; };
        mu_.Await(absl::Condition(&ready));
        if (!job_) return;  // stop
        job = job_;
      }
      job();
      absl::MutexLock lock(&mu_);
      job_ = nullptr;
    }
  }

  const Options& options_;
  RedisClient redis_;
  std::vector<std::vector<std::string>> commands_;
  std::vector<std::vector<std::string>> spare_;  // slots commands_ does not need now
  absl::Mutex mu_;
  std::function<void()> job_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

MeshSender::MeshSender(Options options, const RedisClientOptions& redis)
    : options_(std::move(options)) {
  const int lanes = std::max(options_.lanes, 1);
  for (int i = 0; i < lanes; ++i) {
    lanes_.push_back(std::make_unique<Lane>(options_, redis, /*threaded=*/i > 0));
  }
}

MeshSender::~MeshSender() = default;

std::map<std::string, int64_t> MeshSender::Forwarded() const {
  absl::MutexLock lock(&mu_);
  return forwarded_;
}

absl::StatusOr<std::vector<int64_t>> MeshSender::Room(
    const std::vector<std::string_view>& destinations) {
  // A peer's inbox is trimmed at about `stream_maxlen` entries (DESIGN
  // §3.3), so sending more than the receiver has room for would let Redis
  // trim messages it has not read yet. Where the peer runs our ingress (its
  // `mesh-ingress` group reports lag), at most maxlen - (unread + pending);
  // peers without that group (Python readers) get no flow control, as with
  // Python senders.
  std::vector<int64_t> room(destinations.size(), std::numeric_limits<int64_t>::max());
  if (destinations.empty() || options_.stream_maxlen <= 0) return room;
  std::vector<std::vector<std::string>> info_cmds;
  info_cmds.reserve(destinations.size());
  for (std::string_view peer : destinations) {
    info_cmds.push_back({"XINFO", "GROUPS", MeshStreamKey(peer)});
  }
  TM_ASSIGN_OR_RETURN(std::vector<RedisReply> infos, lanes_[0]->redis().Pipeline(info_cmds));
  for (size_t i = 0; i < destinations.size() && i < infos.size(); ++i) {
    if (infos[i].is_error()) continue;  // no stream yet: nothing to trim
    std::optional<GroupInfo> group = RedisClient::FindGroupInfo(infos[i], kMeshIngressGroup);
    if (!group.has_value() || !group->lag.has_value()) continue;
    room[i] = options_.stream_maxlen - (*group->lag + group->pending);
    if (room[i] <= 0) {
      LOG_EVERY_N(INFO, 100) << "mesh outbox: " << MeshStreamKey(destinations[i])
                             << " is full of unread messages; holding its messages until it "
                                "drains (other peers go on)";
    }
  }
  return room;
}

OutboxSendResult MeshSender::Send(const std::vector<OutboxDelivery>& messages) {
  OutboxSendResult result;
  // The peers of the batch, in first-seen order, and its deliveries.
  std::vector<std::string_view> peers;
  std::vector<Delivery> deliveries;
  deliveries.reserve(messages.size());
  {
    std::unordered_map<std::string_view, uint32_t> index;
    for (const OutboxDelivery& m : messages) {
      auto [it, added] = index.try_emplace(m.destination, static_cast<uint32_t>(peers.size()));
      if (added) peers.push_back(m.destination);
      deliveries.push_back({&m, it->second, nullptr});
    }
  }
  if (deliveries.empty()) return result;
  // The send key of each peer whose key is pinned (kept alive for the batch).
  std::vector<std::shared_ptr<const PairKeys>> keys(peers.size());
  if (options_.membership != nullptr && options_.pair_keys != nullptr) {
    std::shared_ptr<const MembershipSnapshot> snapshot = options_.membership->Snapshot();
    for (size_t p = 0; p < peers.size(); ++p) {
      const MemberRecord* record = snapshot->Find(peers[p]);
      if (record == nullptr || !record->public_key.has_value()) continue;
      absl::StatusOr<std::shared_ptr<const PairKeys>> k =
          options_.pair_keys->Get(record->name, *record->public_key);
      if (!k.ok()) {
        LOG_EVERY_T(WARNING, 60) << "mesh outbox: no pair key for " << record->name << ": "
                                 << k.status() << " (its messages go unsigned)";
        continue;
      }
      keys[p] = *std::move(k);
    }
    for (Delivery& d : deliveries) {
      if (keys[d.peer] != nullptr) d.send_key = &keys[d.peer]->send;
    }
  }

  // Each peer's messages on one lane, in order; the lanes at once. Only
  // WRONGTYPE (the peer's key is not a stream) refuses a message for good;
  // any other error reply (LOADING after a restart, BUSY, OOM, READONLY,
  // ...) or an I/O error fails the whole batch, which is offered again:
  // messages that did go out are sent again with the same message id (the
  // receiver drops copies).
  const size_t lanes = std::min(lanes_.size(), peers.size());
  std::vector<std::vector<uint32_t>> mine(lanes);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    mine[deliveries[i].peer % lanes].push_back(static_cast<uint32_t>(i));
  }
  std::vector<absl::Status> out(deliveries.size());
  std::vector<std::vector<int64_t>> sent(lanes, std::vector<int64_t>(peers.size(), 0));
  std::vector<absl::Status> lane_status(lanes);
  for (size_t l = 1; l < lanes; ++l) {
    lanes_[l]->Post(
        [&, l] { lane_status[l] = lanes_[l]->Send(deliveries, mine[l], &out, &sent[l]); });
  }
  lane_status[0] = lanes_[0]->Send(deliveries, mine[0], &out, &sent[0]);
  for (size_t l = 1; l < lanes; ++l) lanes_[l]->Wait();
  for (const absl::Status& s : lane_status) {
    if (!s.ok()) {
      result.error = s;
      return result;
    }
  }

  absl::MutexLock lock(&mu_);
  for (size_t p = 0; p < peers.size(); ++p) {
    int64_t n = 0;
    for (size_t l = 0; l < lanes; ++l) n += sent[l][p];
    if (n > 0) forwarded_[std::string(peers[p])] += n;
  }
  result.statuses = std::move(out);
  return result;
}

}  // namespace teleclaude::mesh
