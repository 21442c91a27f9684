#include "common/delivery/consumer_group_reader.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "glog/logging.h"

namespace teleclaude::mesh {

ConsumerGroupReader::ConsumerGroupReader(Options options, BatchHandler* handler)
    : options_(std::move(options)),
      handler_(handler),
      redis_backoff_(options_.backoff_min, options_.backoff_max),
      handler_backoff_(options_.backoff_min, options_.backoff_max) {
  CHECK(handler_ != nullptr);
  CHECK_GT(options_.count, 0);
  CHECK_GT(options_.max_batches_in_flight, 0);
}

ConsumerGroupReader::~ConsumerGroupReader() { Stop(); }

void ConsumerGroupReader::Start() {
  absl::MutexLock lock(&mu_);
  CHECK(!started_) << "ConsumerGroupReader::Start called twice";
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void ConsumerGroupReader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool ConsumerGroupReader::stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

bool ConsumerGroupReader::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
  mu_.AwaitWithTimeout(absl::Condition(&stopped), d);
  return !stop_;
}

bool ConsumerGroupReader::WaitInFlightBelow(int limit, bool even_when_stopping) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, limit, even_when_stopping]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_.size() < static_cast<size_t>(limit) || (stop_ && !even_when_stopping);
  };
  if (!even_when_stopping) {
    mu_.Await(absl::Condition(&ready));
    return in_flight_.size() < static_cast<size_t>(limit);
  }
  // Draining at shutdown: the handler must settle what it holds; say so if
  // it takes long (a handler that never settles is a bug of the owner).
  while (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10))) {
    LOG(WARNING) << options_.stream << ": waiting for " << in_flight_.size()
                 << " batch(es) handed over to be settled before stopping";
  }
  return true;
}

ConsumerGroupReader::Counters ConsumerGroupReader::counters() const {
  Counters c;
  c.entries_read = entries_read_.load();
  c.entries_acked = entries_acked_.load();
  c.vanished = vanished_.load();
  c.claimed = claimed_.load();
  c.nogroup_recoveries = nogroup_recoveries_.load();
  c.read_errors = read_errors_.load();
  c.pending_rereads = pending_rereads_.load();
  return c;
}

void ConsumerGroupReader::Settle(uint64_t batch_id, std::vector<std::string> committed) {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(batch_id);
  CHECK(it != in_flight_.end()) << options_.stream << ": batch " << batch_id
                                << " settled twice or never handed over";
  const bool is_new = it->second.origin == StreamBatch::Origin::kNew;
  if (committed.size() < it->second.entries) {
    reread_ = true;
    if (is_new) new_failing_ = true;
  } else if (is_new) {
    new_failing_ = false;
  }
  in_flight_.erase(it);
  if (acks_.empty()) {
    acks_ = std::move(committed);
  } else {
    acks_.insert(acks_.end(), std::make_move_iterator(committed.begin()),
                 std::make_move_iterator(committed.end()));
  }
}

absl::Status ConsumerGroupReader::CreateGroup(RedisClient& redis, const std::string& start_id) {
  return redis.XGroupCreate(options_.stream, options_.group, start_id, /*mkstream=*/true);
}

void ConsumerGroupReader::Hand(StreamBatch::Origin origin, std::vector<StreamEntry> entries) {
  StreamBatch batch;
  batch.origin = origin;
  std::vector<std::string> vanished;
  batch.entries.reserve(entries.size());
  for (StreamEntry& entry : entries) {
    if (entry.fields.empty()) {
      vanished.push_back(std::move(entry.id));
    } else {
      batch.entries.push_back(std::move(entry));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    if (!vanished.empty()) {
      vanished_.fetch_add(static_cast<int64_t>(vanished.size()));
      acks_.insert(acks_.end(), vanished.begin(), vanished.end());
    }
    if (batch.entries.empty()) return;
    batch.id = ++next_batch_id_;
    in_flight_[batch.id] = InFlight{batch.entries.size(), origin};
  }
  if (!vanished.empty()) {
    LOG(INFO) << options_.stream << ": " << vanished.size()
              << " pending entr(ies) were deleted or trimmed from the stream; acknowledged";
  }
  entries_read_.fetch_add(static_cast<int64_t>(batch.entries.size()));
  if (origin == StreamBatch::Origin::kClaimed) {
    claimed_.fetch_add(static_cast<int64_t>(batch.entries.size()));
  }
  handler_->HandleBatch(std::move(batch));
}

bool ConsumerGroupReader::FlushAcks(RedisClient& redis) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    ids.swap(acks_);
  }
  if (ids.empty()) return true;
  const absl::Status status = redis.XAck(options_.stream, options_.group, ids).status();
  return AfterAck(status, std::move(ids));
}

bool ConsumerGroupReader::FlushAcksOrWait(RedisClient& redis) {
  if (FlushAcks(redis)) return true;
  Sleep(redis_backoff_.Next());
  return false;
}

bool ConsumerGroupReader::AfterAck(const absl::Status& status, std::vector<std::string> ids) {
  if (status.ok()) {
    entries_acked_.fetch_add(static_cast<int64_t>(ids.size()));
    return true;
  }
  if (IsRedisNoGroupError(status)) {
    // The group is gone (Redis lost it): nothing is pending any more.
    LOG(WARNING) << options_.stream << ": XACK: " << status.message() << "; dropping " << ids.size()
                 << " acknowledgement(s)";
    return true;
  }
  LOG_EVERY_N(WARNING, 20) << options_.stream << ": XACK: " << status.message() << " (retrying)";
  absl::MutexLock lock(&mu_);
  acks_.insert(acks_.begin(), std::make_move_iterator(ids.begin()),
               std::make_move_iterator(ids.end()));
  return false;
}

void ConsumerGroupReader::OnReadError(RedisClient& redis, const absl::Status& status) {
  read_errors_.fetch_add(1);
  if (IsRedisNoGroupError(status)) {
    LOG(WARNING) << options_.stream << ": " << status.message() << "; creating group "
                 << options_.group << " again at " << options_.recreate_start_id;
    absl::Status created = CreateGroup(redis, options_.recreate_start_id);
    if (created.ok()) {
      nogroup_recoveries_.fetch_add(1);
      redis_backoff_.Reset();
      return;
    }
    LOG_EVERY_N(WARNING, 20) << options_.stream << ": " << created.message();
  } else {
    LOG_EVERY_N(WARNING, 20) << options_.stream << ": " << status.message() << " (retrying)";
  }
  Sleep(redis_backoff_.Next());
}

void ConsumerGroupReader::ClaimIdle(RedisClient& redis) {
  std::string start = "0-0";
  for (int page = 0; page < options_.claim_pages && !stopping(); ++page) {
    absl::StatusOr<XAutoClaimResult> claimed =
        redis.XAutoClaim(options_.stream, options_.group, options_.consumer,
                         options_.claim_min_idle, start, options_.count);
    if (!claimed.ok()) {
      // Not worth a retry loop: the next round (claim_every) tries again.
      LOG_EVERY_N(WARNING, 20) << options_.stream << ": XAUTOCLAIM: " << claimed.status().message();
      return;
    }
    if (!claimed->deleted_ids.empty()) {
      vanished_.fetch_add(static_cast<int64_t>(claimed->deleted_ids.size()));
      absl::MutexLock lock(&mu_);
      acks_.insert(acks_.end(), claimed->deleted_ids.begin(), claimed->deleted_ids.end());
    }
    if (!claimed->entries.empty()) {
      LOG(INFO) << options_.stream << ": claimed " << claimed->entries.size()
                << " entr(ies) idle for more than "
                << absl::FormatDuration(options_.claim_min_idle);
      if (!WaitInFlightBelow(options_.max_batches_in_flight)) return;
      Hand(StreamBatch::Origin::kClaimed, std::move(claimed->entries));
    }
    if (claimed->next_id.empty() || claimed->next_id == "0-0") return;
    start = claimed->next_id;
  }
}

void ConsumerGroupReader::Run() {
  RedisClient redis(options_.redis);
  // 1. The group.
  while (!stopping()) {
    absl::Status created = CreateGroup(redis, options_.start_id);
    if (created.ok()) break;
    LOG_EVERY_N(WARNING, 20) << options_.stream << ": cannot create consumer group "
                             << options_.group << ": " << created.message() << " (retrying)";
    Sleep(redis_backoff_.Next());
  }
  redis_backoff_.Reset();
  while (!stopping() && !handler_->ReadyToRead()) Sleep(absl::Milliseconds(50));
  if (!stopping()) {
    ready_.store(true);
    LOG(INFO) << "consuming " << options_.stream << " as " << options_.group << "/"
              << options_.consumer;
  }

  bool read_pending = true;  // 2. own pending entries first
  std::string pending_from = "0";
  absl::Time next_claim = options_.clock->Now();  // 3. claim at start, then periodically
  absl::Time next_lag = absl::InfinitePast();
  // When the next pass over the pending entries is due (a batch settled
  // incomplete; real time, as every backoff); InfiniteFuture when none is.
  absl::Time reread_at = absl::InfiniteFuture();
  while (!stopping()) {
    // Acknowledgements go out with the next read of new entries (one round
    // trip), or on their own before any other command.
    {
      absl::MutexLock lock(&mu_);
      if (reread_) {
        reread_ = false;
        if (reread_at == absl::InfiniteFuture()) {
          reread_at = absl::Now() + handler_backoff_.Next();
        }
      }
    }
    if (!read_pending && absl::Now() >= reread_at) {
      // A batch did not commit: after a pause (new entries are read
      // meanwhile), a pass over the pending entries hands its entries over
      // again. An entry that fails again is retried by the next pass, so one
      // entry that never commits does not hold back the stream.
      reread_at = absl::InfiniteFuture();
      read_pending = true;
      pending_from = "0";
      pending_rereads_.fetch_add(1);
      continue;
    }
    if (read_pending) {
      // Only with nothing in flight: XREADGROUP 0 returns those entries too.
      if (!WaitInFlightBelow(1)) break;
      if (!FlushAcksOrWait(redis)) continue;
      absl::StatusOr<std::vector<StreamEntry>> entries =
          redis.XReadGroup(options_.group, options_.consumer, options_.stream, pending_from,
                           options_.count, std::nullopt);
      if (!entries.ok()) {
        OnReadError(redis, entries.status());
        pending_from = "0";
        continue;
      }
      redis_backoff_.Reset();
      if (entries->empty()) {
        read_pending = false;
        // The pass is over and every batch of it settled: if all committed,
        // the next failure waits the shortest pause again.
        absl::MutexLock lock(&mu_);
        if (!reread_ && reread_at == absl::InfiniteFuture()) handler_backoff_.Reset();
        new_failing_ = false;  // one batch of new entries may be tried again
        continue;
      }
      pending_from = entries->back().id;
      LOG(INFO) << options_.stream << ": handing over " << entries->size()
                << " pending entr(ies) of consumer " << options_.consumer;
      Hand(StreamBatch::Origin::kPending, std::move(*entries));
      continue;
    }
    const absl::Time now = options_.clock->Now();
    if (now >= next_claim) {
      next_claim = now + options_.claim_every;
      // With nothing in flight, an own pending entry that is claimed is one
      // that no batch holds: stranded.
      if (!WaitInFlightBelow(1)) break;
      if (!FlushAcksOrWait(redis)) continue;
      ClaimIdle(redis);
      continue;
    }
    bool hold;
    {
      absl::MutexLock lock(&mu_);
      hold = new_failing_ && (reread_ || reread_at != absl::InfiniteFuture());
    }
    if (hold) {
      // New entries fail to commit: read nothing new until the pass.
      if (!FlushAcksOrWait(redis)) continue;
      const absl::Duration until_pass =
          reread_at == absl::InfiniteFuture() ? options_.busy_block : reread_at - absl::Now();
      if (!Sleep(std::clamp(until_pass, absl::Milliseconds(1), options_.block))) break;
      continue;
    }
    if (!WaitInFlightBelow(options_.max_batches_in_flight)) break;
    // Batches in flight settle while the read blocks: it blocks at most
    // busy_block so their acknowledgements go out promptly.
    bool busy;
    std::vector<std::string> acks;
    {
      absl::MutexLock lock(&mu_);
      busy = !in_flight_.empty();
      acks.swap(acks_);
    }
    absl::Status acked;
    absl::StatusOr<std::vector<StreamEntry>> entries = redis.XAckThenReadGroup(
        options_.group, options_.consumer, options_.stream, acks, ">", options_.count,
        busy ? options_.busy_block : options_.block, &acked);
    if (!acks.empty()) AfterAck(acked, std::move(acks));
    if (!entries.ok()) {
      OnReadError(redis, entries.status());
      // Redis may have delivered entries whose reply never arrived: they are
      // pending for this consumer now.
      read_pending = true;
      pending_from = "0";
      continue;
    }
    redis_backoff_.Reset();
    if (!entries->empty()) Hand(StreamBatch::Origin::kNew, std::move(*entries));
    if (now >= next_lag) {
      next_lag = now + options_.lag_every;
      absl::StatusOr<GroupInfo> info = redis.XInfoGroup(options_.stream, options_.group);
      if (info.ok() && info->lag.has_value()) lag_.store(*info->lag);
    }
  }
  // Stopping: let the batches in flight settle, then acknowledge them.
  WaitInFlightBelow(1, /*even_when_stopping=*/true);
  for (int attempt = 0; attempt < 3 && !FlushAcks(redis); ++attempt) {
    absl::SleepFor(options_.backoff_min);
  }
}

}  // namespace teleclaude::mesh
