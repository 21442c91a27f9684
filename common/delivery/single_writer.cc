#include "common/delivery/single_writer.h"

#include "absl/strings/cord.h"
#include "common/base/strings.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/transaction.h"

namespace teleclaude::mesh {

SingleWriter::SingleWriter(Options options, Database* db) : options_(std::move(options)), db_(db) {
  CHECK(db_ != nullptr);
}

SingleWriter::~SingleWriter() { Stop(); }

void SingleWriter::AddParticipant(RoundParticipant* participant) {
  participants_.push_back(participant);
}
void SingleWriter::AddChore(WriterChore* chore) { chores_.push_back(chore); }
void SingleWriter::SetInputGate(InputGate* gate) { gate_ = gate; }

void SingleWriter::Start() {
  absl::MutexLock lock(&mu_);
  CHECK(!started_) << options_.name << ": SingleWriter::Start called twice";
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void SingleWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Never started: what was queued cannot run.
  std::deque<std::unique_ptr<WriterJob>> jobs;
  std::deque<std::function<void(bool)>> tasks;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    jobs.swap(jobs_);
    tasks.swap(tasks_);
    queued_weight_ = 0;
  }
  for (auto& task : tasks) task(true);
  for (auto& job : jobs) job->Finish(absl::UnavailableError(options_.name + " is shutting down"));
}

void SingleWriter::Submit(std::unique_ptr<WriterJob> job) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      queued_weight_ += job->weight();
      jobs_.push_back(std::move(job));
      return;
    }
  }
  job->Finish(absl::UnavailableError(options_.name + " is shutting down"));
}

void SingleWriter::Post(std::function<void(bool stopped)> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      tasks_.push_back(std::move(task));
      return;
    }
  }
  task(true);
}

void SingleWriter::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

SingleWriter::Stats SingleWriter::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

size_t SingleWriter::queued_weight() const {
  absl::MutexLock lock(&mu_);
  return queued_weight_;
}

bool SingleWriter::AnyParticipantWork() const {
  for (RoundParticipant* p : participants_) {
    if (p->HasWork()) return true;
  }
  return false;
}

absl::Status SingleWriter::InTransaction(absl::FunctionRef<absl::Status()> body) {
  absl::StatusOr<Transaction> txn = Transaction::Begin(db_);
  if (!txn.ok()) return txn.status();
  for (RoundParticipant* p : participants_) {
    absl::Status s = p->BeforeJobs();
    if (!s.ok()) return s;
  }
  absl::Status s = body();
  if (!s.ok()) return s;
  for (RoundParticipant* p : participants_) {
    s = p->AfterJobs();
    if (!s.ok()) return s;
  }
  return txn->Commit();
}

absl::Status SingleWriter::Transact(absl::FunctionRef<absl::Status()> body) {
  CHECK(OnWriterThread()) << options_.name << ": Transact() off the writer thread";
  wrote_this_turn_ = true;
  if (options_.clock->Now() < transact_paused_until_) {
    // The disk was full a moment ago: do not spin on it (the caller retries).
    absl::Status paused(
        disk_full_error_.code(),
        ToAbsl(Cat(options_.name, ": the disk is full; writes are paused until ",
                   absl::FormatTime("%H:%M:%E3S", transact_paused_until_, absl::UTCTimeZone()),
                   " UTC: ", disk_full_error_.message())));
    disk_full_error_.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) { paused.SetPayload(url, payload); });
    return paused;
  }
  absl::Status status = InTransaction(body);
  if (status.ok()) {
    if (options_.write_health != nullptr) options_.write_health->Committed();
    failure_backoff_.Reset();
    transact_paused_until_ = absl::InfinitePast();
    for (RoundParticipant* p : participants_) p->Committed();
  } else {
    for (RoundParticipant* p : participants_) p->RolledBack();
    if (AfterFailure(status)) {
      disk_full_error_ = status;
      transact_paused_until_ = options_.clock->Now() + failure_backoff_.Next();
    }
  }
  return status;
}

bool SingleWriter::AfterFailure(const absl::Status& status) {
  const bool full =
      options_.write_health != nullptr ? options_.write_health->Failed(status) : IsDiskFull(status);
  if (!full) return false;
  // Give the WAL's space back before the retry: nothing of the failed
  // transaction is left, TRUNCATE copies what was committed and cuts the WAL
  // file.
  absl::StatusOr<int> copied = db_->Checkpoint(CheckpointMode::kTruncate);
  if (!copied.ok()) {
    LOG_EVERY_N(WARNING, 20) << options_.name
                             << ": disk full; TRUNCATE checkpoint: " << copied.status().message();
  }
  return true;
}

void SingleWriter::ProbeWhileDiskFull() {
  if (options_.write_health == nullptr || !options_.write_health->disk_full()) return;
  if (options_.clock->Now() < transact_paused_until_) return;
  absl::Status probe = Transact([this]() -> absl::Status {
    absl::StatusOr<int> version = db_->UserVersion();
    if (!version.ok()) return version.status();
    return db_->Exec(Cat("PRAGMA user_version = ", *version));
  });
  if (probe.ok())
    LOG(INFO) << options_.name << ": a test write committed; the disk has space again";
}

bool SingleWriter::RunRound(std::vector<std::unique_ptr<WriterJob>> jobs) {
  wrote_this_turn_ = true;
  // Participants are told after the jobs when the round commits (their
  // bookkeeping may wake other threads; the jobs' callers wait), before them
  // when it fails (their state is back to what was committed).
  absl::Status status = InTransaction([&]() -> absl::Status {
    for (std::unique_ptr<WriterJob>& job : jobs) {
      absl::Status s = job->Apply();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    LOG(ERROR) << options_.name << ": a round of " << jobs.size()
               << " job(s) failed and was rolled back: " << status.message();
    for (RoundParticipant* p : participants_) p->RolledBack();
    for (std::unique_ptr<WriterJob>& job : jobs) job->Finish(status);
    AfterFailure(status);
    absl::MutexLock lock(&mu_);
    ++stats_.round_failures;
    return false;
  }
  if (options_.write_health != nullptr) options_.write_health->Committed();
  transact_paused_until_ = absl::InfinitePast();
  if (options_.checkpointer != nullptr) options_.checkpointer->Committed(db_);
  for (std::unique_ptr<WriterJob>& job : jobs) job->Finish(status);
  for (RoundParticipant* p : participants_) p->Committed();
  absl::MutexLock lock(&mu_);
  ++stats_.rounds;
  stats_.jobs += static_cast<int64_t>(jobs.size());
  return true;
}

void SingleWriter::MaybeCheckpoint() {
  if (options_.checkpoint_idle_pages <= 0 || options_.checkpointer != nullptr) return;
  const int threshold = queued_weight() >= options_.checkpoint_backlog_weight
                            ? options_.checkpoint_busy_pages
                            : options_.checkpoint_idle_pages;
  if (db_->wal_frames() < threshold) return;
  absl::StatusOr<int> copied = db_->Checkpoint();
  if (!copied.ok()) {
    // Harmless for the data (the WAL keeps it); tried again after the next round.
    LOG_EVERY_N(WARNING, 100) << options_.name << ": " << copied.status().message();
    return;
  }
  absl::MutexLock lock(&mu_);
  ++stats_.checkpoints;
}

bool SingleWriter::RunChores() {
  bool again = false;
  const absl::Time now = options_.clock->Now();
  for (WriterChore* chore : chores_) again = chore->RunIfDue(now) || again;
  return again;
}

void SingleWriter::Loop() {
  thread_id_.store(std::this_thread::get_id());
  bool held = false;        // the last look held inputs back
  bool chores_busy = true;  // a chore wants to go on at once (and: look at start)
  while (true) {
    std::vector<std::unique_ptr<WriterJob>> jobs;
    std::vector<std::function<void(bool)>> tasks;
    bool exit = false;
    {
      absl::MutexLock lock(&mu_);
      auto admit = [this](size_t taken) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || gate_ == nullptr || gate_->Admit(taken);
      };
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || woken_ || !tasks_.empty() || (!jobs_.empty() && admit(0)) ||
               AnyParticipantWork();
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), held          ? options_.gate_recheck
                                                    : chores_busy ? absl::ZeroDuration()
                                                                  : options_.idle_wake);
      woken_ = false;
      while (!tasks_.empty()) {
        tasks.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
      size_t taken = 0;
      held = false;
      while (!jobs_.empty() && (jobs.empty() || taken < options_.max_round_weight)) {
        if (!admit(taken)) {
          held = true;
          ++stats_.input_holds;
          break;
        }
        taken += jobs_.front()->weight();
        queued_weight_ -= jobs_.front()->weight();
        jobs.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      if (stop_ && jobs_.empty() && tasks_.empty()) {
        // Nothing more can be queued after this: late callers fail fast.
        stopped_ = true;
        exit = true;
      }
    }
    wrote_this_turn_ = false;
    for (auto& task : tasks) task(false);
    if (!jobs.empty() || AnyParticipantWork()) {
      if (RunRound(std::move(jobs))) {
        failure_backoff_.Reset();
      } else {
        // The database refuses (disk full, I/O error): do not spin on it.
        absl::MutexLock lock(&mu_);
        auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
        mu_.AwaitWithTimeout(absl::Condition(&stopping), failure_backoff_.Next());
      }
    }
    if (exit) return;
    chores_busy = RunChores();
    MaybeCheckpoint();
    // A turn that wrote (or asked to, within a pause) has tried the disk
    // already; the probe is for a writer nothing else writes through.
    if (!wrote_this_turn_) ProbeWhileDiskFull();
  }
}

}  // namespace teleclaude::mesh
