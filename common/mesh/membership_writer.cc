#include "common/mesh/membership_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/delivery/backoff.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/time_window.h"
#include "common/sqlite/statement.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

std::string ClusterText(const std::optional<std::string>& cluster) {
  return cluster.has_value() ? Cat("cluster ", *cluster) : std::string("no cluster");
}

void LogChange(const MembershipChange& c, absl::Duration retention) {
  const std::string name = EscapeForMessage(c.name);
  if (c.removed) {
    LOG(INFO) << "membership: " << name << " pruned (forgotten for " << retention << ")";
    return;
  }
  if (!c.from.has_value()) {
    LOG(INFO) << "membership: new peer " << name << " (" << ClusterText(c.cluster) << ")"
              << (c.to == MemberState::kAway ? ", stopping" : "");
    return;
  }
  switch (c.to) {
    case MemberState::kLive:
      LOG(INFO) << "membership: " << name << " is live"
                << (*c.from == MemberState::kForgotten ? " again (it was forgotten)" : " again");
      break;
    case MemberState::kAway:
      LOG(INFO) << "membership: " << name
                << " is away (heartbeat gone or stopping); still a destination for " << retention;
      break;
    case MemberState::kForgotten:
      LOG(INFO) << "membership: " << name
                << " forgotten: away for longer than --peer_retention=" << retention;
      break;
    case MemberState::kKeyChanged:
      break;
  }
}

void LogKeyEvent(const KeyEvent& e) {
  const std::string name = EscapeForMessage(e.name);
  switch (e.kind) {
    case KeyEvent::Kind::kPinnedFirstUse:
      LOG(INFO) << "membership: pinned " << name << "'s key " << e.fingerprint.ToString()
                << " (first use)";
      break;
    case KeyEvent::Kind::kPinnedProvisioned:
      LOG(INFO) << "membership: " << name << " heartbeats with the key --trusted_keys pins ("
                << e.fingerprint.ToString() << ")";
      break;
    case KeyEvent::Kind::kHeld:
      LOG(WARNING) << "membership: " << name << " (key " << e.fingerprint.ToString()
                   << ") is not in --trusted_keys: shown, not trusted; `telec peers trust " << name
                   << "` trusts it";
      break;
    case KeyEvent::Kind::kChanged:
      LOG(WARNING) << "membership: " << name << " heartbeats with key " << e.fingerprint.ToString()
                   << ", not its pinned " << (e.pinned ? e.pinned->ToString() : "?")
                   << "; refused until a person runs `telec peers trust " << name
                   << "` (or forget)";
      break;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MembershipWriter>> MembershipWriter::Open(Options options) {
  auto write_health = std::make_unique<WriteHealth>("membership.db");
  TM_ASSIGN_OR_RETURN(std::unique_ptr<MembershipStore> store,
                      MembershipStore::Open(options.db_path, write_health.get()));
  TM_ASSIGN_OR_RETURN(std::vector<MemberRecord> records, store->LoadAll());
  std::unique_ptr<MembershipWriter> writer(
      new MembershipWriter(std::move(options), std::move(write_health), std::move(store)));
  writer->Publish(std::move(records), absl::Now());
  return writer;
}

MembershipWriter::MembershipWriter(Options options, std::unique_ptr<WriteHealth> write_health,
                                   std::unique_ptr<MembershipStore> store)
    : options_(std::move(options)),
      write_health_(std::move(write_health)),
      redis_(std::make_unique<RedisClient>(options_.redis)),
      store_(std::move(store)),
      snapshot_(std::make_shared<const MembershipSnapshot>()) {}

MembershipWriter::~MembershipWriter() { Stop(); }

void MembershipWriter::Start() {
  if (started_.exchange(true)) return;
  thread_ = std::thread([this] { Run(); });
}

void MembershipWriter::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

MembershipSnapshot::Self MembershipWriter::SelfView() const {
  return {options_.self_name, options_.self_cluster, options_.policy.retention};
}

void MembershipWriter::Publish(std::vector<MemberRecord> records, absl::Time now) {
  auto snapshot = std::make_shared<const MembershipSnapshot>(std::move(records), SelfView(), now);
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
}

std::shared_ptr<const MembershipSnapshot> MembershipWriter::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

MembershipWriter::Counters MembershipWriter::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

std::shared_ptr<const MembershipSnapshot> MembershipWriter::Refresh() {
  if (!RefreshNow().ok()) return nullptr;
  return Snapshot();
}

absl::Status MembershipWriter::RefreshNow() {
  absl::MutexLock work_lock(&work_mu_);
  TM_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                      redis_->ScanKeys("computer:*:heartbeat", 1000));
  std::vector<std::string> candidates;
  candidates.reserve(keys.size());
  for (std::string& key : keys) {
    std::optional<std::string> name = ComputerNameFromHeartbeatKey(key);
    if (name.has_value() && *name == options_.self_name) continue;
    candidates.push_back(std::move(key));
  }
  std::vector<HeartbeatSighting> seen;
  int64_t ignored = 0;
  const int64_t decoded_before = decode_cache_.counters().decoded;
  if (!candidates.empty()) {
    TM_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values, redis_->MGet(candidates));
    for (size_t i = 0; i < candidates.size() && i < values.size(); ++i) {
      if (!values[i].has_value()) continue;  // expired between SCAN and MGET
      absl::StatusOr<CheckedHeartbeat> checked = decode_cache_.Decode(candidates[i], *values[i]);
      if (!checked.ok()) {
        ++ignored;
        LOG_EVERY_T(WARNING, 60) << "membership: ignoring " << ShowBytes(candidates[i], 100) << ": "
                                 << checked.status().message();
        continue;
      }
      Heartbeat& hb = checked->heartbeat;
      if (hb.computer_name == options_.self_name) continue;
      HeartbeatSighting sighting{
          std::move(hb.computer_name),           std::move(hb.cluster), std::move(hb.last_seen),
          hb.state == HeartbeatState::kStopping, std::nullopt,          absl::InfinitePast()};
      if (checked->signer.has_value()) {
        absl::Status fresh =
            CheckTimeWindow("heartbeat: last_seen", checked->signer->last_seen, absl::Now(),
                            TimeWindow{options_.heartbeat_ttl, absl::Minutes(10)});
        if (!fresh.ok()) {
          ++ignored;
          LOG_EVERY_T(WARNING, 60)
              << "membership: ignoring " << ShowBytes(candidates[i], 100)
              << " (a replayed or stale signed heartbeat): " << fresh.message();
          continue;
        }
        sighting.key = checked->signer->public_key;
        sighting.signed_last_seen = checked->signer->last_seen;
      }
      seen.push_back(std::move(sighting));
    }
  }
  decode_cache_.EndRead();
  const int64_t decoded = decode_cache_.counters().decoded - decoded_before;
  const absl::Time now = absl::Now();
  TM_ASSIGN_OR_RETURN(MembershipStore::RecordResult result,
                      store_->RecordHeartbeats(seen, now, options_.policy));
  for (const MembershipChange& change : result.changes) {
    LogChange(change, options_.policy.retention);
  }
  if (result.refused > 0) {
    LOG_EVERY_T(WARNING, 60) << "membership: " << result.refused
                             << " new computer name(s) not recorded: membership.db already holds "
                             << options_.policy.max_members << " records";
  }
  int64_t keys_changed = 0;
  for (const KeyEvent& e : result.key_events) {
    LogKeyEvent(e);
    if (e.kind == KeyEvent::Kind::kChanged) ++keys_changed;
  }
  Publish(std::move(result.records), now);
  {
    absl::MutexLock lock(&mu_);
    ++counters_.refreshes;
    counters_.heartbeats_ignored += ignored + result.ignored;
    counters_.keys_changed += keys_changed;
    counters_.members_refused += result.refused;
    counters_.heartbeats_decoded += decoded;
  }
  read_once_.store(true);
  return absl::OkStatus();
}

absl::StatusOr<MemberRecord> MembershipWriter::TrustKey(
    std::string_view name, const std::optional<Fingerprint>& expected) {
  absl::MutexLock work_lock(&work_mu_);
  const absl::Time now = absl::Now();
  TM_ASSIGN_OR_RETURN(MemberRecord after, store_->TrustKey(name, expected, options_.policy, now));
  TM_ASSIGN_OR_RETURN(std::vector<MemberRecord> records, store_->LoadAll());
  Publish(std::move(records), now);
  LOG(INFO) << "membership: a person trusted " << EscapeForMessage(name) << "'s key "
            << after.fingerprint->ToString();
  return after;
}

absl::StatusOr<MemberRecord> MembershipWriter::Forget(std::string_view name) {
  absl::MutexLock work_lock(&work_mu_);
  const absl::Time now = absl::Now();
  TM_ASSIGN_OR_RETURN(MemberRecord before, store_->Forget(name, now));
  TM_ASSIGN_OR_RETURN(std::vector<MemberRecord> records, store_->LoadAll());
  Publish(std::move(records), now);
  LOG(INFO) << "membership: " << EscapeForMessage(name) << " forgotten by a person (was "
            << MemberStateName(before.state) << ")";
  return before;
}

void MembershipWriter::Run() {
  // A full disk: the store has truncated the WAL; wait longer each time so
  // the disk is not spun on (the peers stay as recorded meanwhile).
  Backoff disk_full(options_.refresh, std::max(options_.refresh, absl::Seconds(5)));
  absl::Duration wait = options_.refresh;
  do {
    absl::Status s = RefreshNow();
    wait = options_.refresh;
    if (IsDiskFull(s)) {
      wait = disk_full.Next();
      LOG_EVERY_T(WARNING, 60) << "membership: cannot record the heartbeats: " << s.message()
                               << " (keeping the peers as recorded; next try in " << wait
                               << ", backing off to 5s while the disk stays full)";
    } else if (!s.ok()) {
      disk_full.Reset();
      LOG_EVERY_T(WARNING, 60) << "membership: cannot read heartbeats: " << s.message()
                               << " (keeping what is recorded)";
    } else {
      disk_full.Reset();
      if (options_.listener != nullptr) options_.listener->OnSnapshot(*Snapshot());
    }
  } while (!stop_.WaitForNotificationWithTimeout(wait));
}

}  // namespace teleclaude::mesh
