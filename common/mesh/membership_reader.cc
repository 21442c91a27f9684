#include "common/mesh/membership_reader.h"

#include <utility>
#include <vector>

#include "common/base/status_macros.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

MembershipReader::MembershipReader(Options options)
    : options_(std::move(options)), snapshot_(std::make_shared<const MembershipSnapshot>()) {}

MembershipReader::~MembershipReader() { Stop(); }

void MembershipReader::Start(MembershipListener* listener) {
  if (started_.exchange(true)) return;
  listener_ = listener;
  thread_ = std::thread([this] { Run(); });
}

void MembershipReader::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const MembershipSnapshot> MembershipReader::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::shared_ptr<const MembershipSnapshot> MembershipReader::Refresh() {
  if (!ReloadNow().ok()) return nullptr;
  return Snapshot();
}

absl::Status MembershipReader::ReloadNow() {
  absl::MutexLock store_lock(&store_mu_);
  if (store_ == nullptr) {
    TM_ASSIGN_OR_RETURN(store_, MembershipStore::OpenReadOnly(options_.db_path));
  }
  absl::StatusOr<std::vector<MemberRecord>> records = store_->LoadAll();
  if (!records.ok()) {
    store_.reset();  // reopen next time (the file may have been replaced)
    return records.status();
  }
  auto snapshot = std::make_shared<const MembershipSnapshot>(
      *std::move(records),
      MembershipSnapshot::Self{options_.self_name, options_.self_cluster, options_.retention},
      absl::Now());
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  return absl::OkStatus();
}

void MembershipReader::Run() {
  do {
    absl::Status s = ReloadNow();
    if (!s.ok()) {
      LOG_EVERY_T(WARNING, 60) << "membership: cannot read " << options_.db_path << ": "
                               << s.message() << " (keeping the previous peers)";
    } else if (listener_ != nullptr) {
      listener_->OnSnapshot(*Snapshot());
    }
  } while (!stop_.WaitForNotificationWithTimeout(options_.refresh));
}

}  // namespace teleclaude::mesh
