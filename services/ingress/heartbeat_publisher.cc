#include "services/ingress/heartbeat_publisher.h"

#include <utility>

#include "common/base/strings.h"
#include "common/envelope/timestamp_codec.h"
#include "common/mesh/heartbeat.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

HeartbeatPublisher::HeartbeatPublisher(Options options)
    : options_(std::move(options)),
      key_(HeartbeatKey(options_.computer_name)),
      redis_(std::make_unique<RedisClient>(options_.redis)) {}

HeartbeatPublisher::~HeartbeatPublisher() { Stop(); }

void HeartbeatPublisher::Start() {
  if (started_.exchange(true)) return;
  thread_ = std::thread([this] { Run(); });
}

absl::Status HeartbeatPublisher::PublishOnce(HeartbeatState state) {
  Heartbeat heartbeat;
  heartbeat.computer_name = options_.computer_name;
  // Python's datetime.now(timezone.utc).isoformat(): "+00:00", as TeleClaude writes it.
  heartbeat.last_seen = FormatTimestampStream(Timestamp::NowUtc());
  if (options_.cluster.has_value() && !options_.cluster->empty()) {
    heartbeat.cluster = options_.cluster;
  }
  heartbeat.state = state;
  return redis_->SetEx(key_,
                       options_.identity != nullptr
                           ? EncodeSignedHeartbeat(heartbeat, *options_.identity)
                           : EncodeHeartbeat(heartbeat),
                       options_.ttl);
}

void HeartbeatPublisher::Run() {
  if (options_.ready) {
    while (!options_.ready()) {
      if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) return;
    }
  }
  bool failing = false;
  do {
    absl::Status status = PublishOnce(HeartbeatState::kRunning);
    if (status.ok()) {
      published_.fetch_add(1);
      if (failing) LOG(INFO) << "heartbeat " << key_ << ": published again";
      failing = false;
      last_failed_.store(false);
    } else {
      failing = true;
      last_failed_.store(true);
      LOG_EVERY_T(WARNING, 60) << "heartbeat " << key_ << ": " << status << " (retrying every "
                               << options_.interval << ")";
    }
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

void HeartbeatPublisher::Stop() { StopAnd(/*withdraw=*/false); }

void HeartbeatPublisher::Withdraw() { StopAnd(/*withdraw=*/true); }

void HeartbeatPublisher::StopAnd(bool withdraw) {
  if (stopped_.exchange(true)) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  // Never announced (the consumer never became ready): nothing to say.
  if (published_.load() == 0) return;
  // After a failure the client would refuse calls for its backoff; this is
  // the last chance to tell peers, so it reconnects right away.
  if (last_failed_.load()) redis_->Disconnect();
  if (withdraw) {
    absl::StatusOr<int64_t> deleted = redis_->Del({key_});
    if (!deleted.ok()) {
      LOG(WARNING) << "heartbeat " << key_ << ": DEL failed (" << deleted.status()
                   << "); it expires within " << options_.ttl;
    }
    return;
  }
  absl::Status status = PublishOnce(HeartbeatState::kStopping);
  if (!status.ok()) {
    LOG(WARNING) << "heartbeat " << key_ << ": the stopping heartbeat failed (" << status
                 << "); the running one expires within " << options_.ttl;
  } else {
    LOG(INFO) << "heartbeat " << key_ << ": stopping (expires in " << options_.ttl << ")";
  }
}

}  // namespace teleclaude::mesh
