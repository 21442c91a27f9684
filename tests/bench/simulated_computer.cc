#include "tests/bench/simulated_computer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/envelope/timestamp_codec.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "tests/bench/bench_envelope.h"

namespace teleclaude::mesh::bench {
namespace {
constexpr int kEgressReadCount = 512;    // ConsumerGroupReader's COUNT for the local stream
constexpr int kIngressReadCount = 256;   // ingress' COUNT (doc/ingress.md)
constexpr int kXAddsPerRoundTrip = 256;  // mesh_sender's pipeline depth
constexpr char kEgressGroup[] = "egress";
constexpr absl::Duration kRefresh = absl::Seconds(1);     // --peer_refresh_ms default
constexpr absl::Duration kHeartbeat = absl::Seconds(30);  // --heartbeat_interval_s default

// The entries of an XREADGROUP reply on one stream.
std::vector<StreamEntry> Entries(const RedisReply& read) {
  if (!read.is_array() || read.elements().empty() || read.elements()[0].elements().size() != 2) {
    return {};
  }
  return RedisClient::ParseEntries(read.elements()[0].elements()[1]);
}

absl::Status CheckReplies(const std::vector<RedisReply>& replies, const char* what) {
  for (const RedisReply& r : replies) {
    if (r.is_error()) return absl::FailedPreconditionError(absl::StrCat(what, ": ", r.str()));
  }
  return absl::OkStatus();
}
}  // namespace

SimulatedComputer::SimulatedComputer(Options options, std::unique_ptr<RedisClient> redis)
    : options_(std::move(options)),
      redis_(std::move(redis)),
      local_stream_(absl::StrCat("teleclaude:events:", options_.name)),
      inbox_(MeshStreamKey(options_.name)) {
  EventEnvelope e = TypicalEnvelope(0, true, Visibility::kPublic, options_.name);
  stream_entry_ = RedisClient::XAddArgv(local_stream_, EncodeEnvelopeStream(e), /*maxlen=*/0);
  json_ = EncodeEnvelopeJson(e);
}

absl::Status SimulatedComputer::Setup() {
  TM_RETURN_IF_ERROR(redis_->XGroupCreate(local_stream_, kEgressGroup, "0", true));
  TM_RETURN_IF_ERROR(redis_->XGroupCreate(inbox_, kMeshIngressGroup, "$", true));
  return Timers();
}

absl::StatusOr<SimulatedComputer::Round> SimulatedComputer::Step() {
  Round round;
  TM_RETURN_IF_ERROR(Produce(&round));
  TM_RETURN_IF_ERROR(Egress(&round));
  TM_RETURN_IF_ERROR(Ingress(&round));
  TM_RETURN_IF_ERROR(Timers());
  return round;
}

absl::Status SimulatedComputer::Produce(Round* round) {
  const int64_t n = std::min<int64_t>(options_.produce_batch, options_.events - produced_);
  if (n <= 0) return absl::OkStatus();
  std::vector<std::vector<std::string>> cmds(n, stream_entry_);
  TM_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Pipeline(cmds));
  TM_RETURN_IF_ERROR(CheckReplies(replies, "producer XADD"));
  produced_ += n;
  round->produced = n;
  return absl::OkStatus();
}

absl::Status SimulatedComputer::Egress(Round* round) {
  TM_ASSIGN_OR_RETURN(
      RedisReply read,
      redis_->Command({"XREADGROUP", "GROUP", kEgressGroup, options_.name, "COUNT",
                       absl::StrCat(kEgressReadCount), "STREAMS", local_stream_, ">"}));
  if (read.is_error()) return absl::FailedPreconditionError(read.str());
  std::vector<StreamEntry> entries = Entries(read);
  if (entries.empty()) return absl::OkStatus();
  // Flow control: one XINFO GROUPS per destination, one round trip.
  std::vector<std::vector<std::string>> cmds;
  for (const std::string& peer : options_.destinations) {
    cmds.push_back({"XINFO", "GROUPS", MeshStreamKey(peer)});
  }
  if (!cmds.empty()) TM_RETURN_IF_ERROR(redis_->Pipeline(cmds).status());
  // The XADDs, event-major as the outbox sends them, 256 per round trip.
  cmds.clear();
  const std::string maxlen = absl::StrCat(options_.stream_maxlen);
  auto flush = [&]() -> absl::Status {
    if (cmds.empty()) return absl::OkStatus();
    TM_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Pipeline(cmds));
    TM_RETURN_IF_ERROR(CheckReplies(replies, "mesh XADD"));
    round->forwarded += static_cast<int64_t>(cmds.size());
    cmds.clear();
    return absl::OkStatus();
  };
  std::vector<std::string> ack = {"XACK", local_stream_, kEgressGroup};
  for (const StreamEntry& e : entries) {
    for (const std::string& peer : options_.destinations) {
      std::vector<std::string> argv = {
          "XADD",
          MeshStreamKey(peer),
          "MAXLEN",
          "~",
          maxlen,
          "*",
          std::string(kFieldType),
          std::string(kMeshEventType),
          std::string(kFieldPayload),
          json_,
          std::string(kFieldSourceComputer),
          options_.name,
          std::string(kFieldMessageId),
          absl::StrCat(options_.name, "/local:", local_stream_, ":", e.id, "/", peer)};
      cmds.push_back(std::move(argv));
      if (cmds.size() >= kXAddsPerRoundTrip) TM_RETURN_IF_ERROR(flush());
    }
    ack.push_back(e.id);
  }
  TM_RETURN_IF_ERROR(flush());
  TM_ASSIGN_OR_RETURN(RedisReply acked, redis_->Command(ack));
  if (acked.is_error()) return absl::FailedPreconditionError(acked.str());
  return absl::OkStatus();
}

absl::Status SimulatedComputer::Ingress(Round* round) {
  for (;;) {
    TM_ASSIGN_OR_RETURN(
        RedisReply read,
        redis_->Command({"XREADGROUP", "GROUP", std::string(kMeshIngressGroup), options_.name,
                         "COUNT", absl::StrCat(kIngressReadCount), "STREAMS", inbox_, ">"}));
    if (read.is_error()) return absl::FailedPreconditionError(read.str());
    std::vector<StreamEntry> entries = Entries(read);
    if (entries.empty()) return absl::OkStatus();
    std::vector<std::string> ack = {"XACK", inbox_, std::string(kMeshIngressGroup)};
    for (const StreamEntry& e : entries) ack.push_back(e.id);
    TM_ASSIGN_OR_RETURN(RedisReply acked, redis_->Command(ack));
    if (acked.is_error()) return absl::FailedPreconditionError(acked.str());
    round->received += static_cast<int64_t>(entries.size());
    if (entries.size() < static_cast<size_t>(kIngressReadCount)) return absl::OkStatus();
  }
}

absl::Status SimulatedComputer::Timers() {
  absl::Time now = absl::Now();
  if (now >= next_heartbeat_) {
    Heartbeat hb{options_.name, FormatTimestampStream(Timestamp::NowUtc()), std::string("sim")};
    TM_RETURN_IF_ERROR(
        redis_->SetEx(HeartbeatKey(options_.name), EncodeHeartbeat(hb), absl::Seconds(60)));
    next_heartbeat_ = now + kHeartbeat;
  }
  if (now >= next_refresh_) {
    TM_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                        redis_->ScanKeys("computer:*:heartbeat", 1000));
    TM_RETURN_IF_ERROR(redis_->MGet(keys).status());
    next_refresh_ = now + kRefresh;
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::bench
