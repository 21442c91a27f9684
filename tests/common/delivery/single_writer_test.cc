// SingleWriter on a real SQLite file: queued jobs share one transaction; a
// failing job rolls its whole round back and every job of it hears the
// error; the gate holds input jobs while tasks go on; Transact includes the
// participants; the WAL is checkpointed once past the threshold; after
// Stop, work fails fast; a Transact on a full disk (a real tmpfs) is
// reported, pauses further writes with backoff, and the writer's own test
// write ends the condition once space is back.
#include "common/delivery/single_writer.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "common/base/status_macros.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/write_health.h"
#include "gtest/gtest.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs_mount.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::TempDir;
using testing::WaitFor;

// Inserts `value` into t; fails when value is "fail". Records its outcome.
class InsertJob : public WriterJob {
 public:
  InsertJob(Database* db, std::string value, std::vector<std::string>* outcomes, absl::Mutex* mu)
      : db_(db), value_(std::move(value)), outcomes_(outcomes), mu_(mu) {}
  absl::Status Apply() override {
    if (value_ == "fail") return absl::InternalError("refused");
    TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached("INSERT INTO t (value, txn) VALUES (?, (SELECT "
                                                   "COALESCE(MAX(round), 0) FROM rounds))"));
    return s->Bind(1, value_).Run();
  }
  void Finish(const absl::Status& status) override {
    absl::MutexLock lock(mu_);
    outcomes_->push_back(value_ + ":" + (status.ok() ? "ok" : std::string(status.message())));
  }

 private:
  Database* db_;
  std::string value_;
  std::vector<std::string>* outcomes_;
  absl::Mutex* mu_;
};

// Numbers every transaction (a row in `rounds`) and counts commits.
class CountingParticipant : public RoundParticipant {
 public:
  explicit CountingParticipant(Database* db) : db_(db) {}
  absl::Status BeforeJobs() override {
    return db_->Exec("INSERT INTO rounds (round) SELECT COALESCE(MAX(round), 0) + 1 FROM rounds");
  }
  void Committed() override { committed.fetch_add(1); }
  void RolledBack() override { rolled_back.fetch_add(1); }
  std::atomic<int> committed{0};
  std::atomic<int> rolled_back{0};

 private:
  Database* db_;
};

class ClosedGate : public InputGate {
 public:
  std::atomic<bool> open{false};
  bool Admit(size_t) override { return open.load(); }
};

class SingleWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.auto_checkpoint = false;
    auto db = Database::Open(dir_.File("w.db"), options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (value TEXT, txn INTEGER); "
                          "CREATE TABLE rounds (round INTEGER)")
                    .ok());
  }

  std::unique_ptr<WriterJob> Job(std::string value) {
    return std::make_unique<InsertJob>(db_.get(), std::move(value), &outcomes_, &mu_);
  }
  std::vector<std::string> outcomes() {
    absl::MutexLock lock(&mu_);
    return outcomes_;
  }
  // value -> the transaction it was written in.
  std::map<std::string, int64_t> Rows(SingleWriter& writer) {
    return *writer.Run([&]() -> absl::StatusOr<std::map<std::string, int64_t>> {
      std::map<std::string, int64_t> out;
      TM_ASSIGN_OR_RETURN(Statement s, db_->Prepare("SELECT value, txn FROM t"));
      while (*s.Step()) out[s.ColumnText(0)] = s.ColumnInt64(1);
      return out;
    });
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  absl::Mutex mu_;
  std::vector<std::string> outcomes_;
};

TEST_F(SingleWriterTest, QueuedJobsShareOneTransactionAndAFailureRollsBackItsRound) {
  SingleWriter writer({"w.db"}, db_.get());
  CountingParticipant participant(db_.get());
  writer.AddParticipant(&participant);
  // Queued before the thread starts: one round.
  writer.Submit(Job("a"));
  writer.Submit(Job("b"));
  writer.Start();
  ASSERT_TRUE(WaitFor([&] { return outcomes().size() == 2; }, absl::Seconds(5)));
  // A round with a failing job: nothing of it stays.
  absl::Notification busy, queued;
  writer.Post([&](bool) {  // keeps the writer busy while both are queued
    busy.Notify();
    queued.WaitForNotification();
  });
  busy.WaitForNotification();
  writer.Submit(Job("c"));
  writer.Submit(Job("fail"));
  queued.Notify();
  ASSERT_TRUE(WaitFor([&] { return outcomes().size() == 4; }, absl::Seconds(5)));
  writer.Submit(Job("d"));
  ASSERT_TRUE(WaitFor([&] { return outcomes().size() == 5; }, absl::Seconds(5)));
  EXPECT_EQ(outcomes(),
            (std::vector<std::string>{"a:ok", "b:ok", "c:refused", "fail:refused", "d:ok"}));
  std::map<std::string, int64_t> rows = Rows(writer);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows["a"], rows["b"]);
  EXPECT_NE(rows["a"], rows["d"]);
  EXPECT_EQ(participant.rolled_back.load(), 1);
  EXPECT_EQ(writer.stats().round_failures, 1);
  writer.Stop();
}

TEST_F(SingleWriterTest, TheGateHoldsInputJobsWhileTasksGoOn) {
  SingleWriter::Options options{"w.db"};
  options.gate_recheck = absl::Hours(1);  // only Wake() opens it
  SingleWriter writer(options, db_.get());
  ClosedGate gate;
  writer.SetInputGate(&gate);
  writer.Start();
  writer.Submit(Job("held"));
  absl::StatusOr<int> task = writer.Run([]() -> absl::StatusOr<int> { return 7; });
  EXPECT_EQ(*task, 7);
  EXPECT_TRUE(outcomes().empty());
  EXPECT_EQ(writer.queued_weight(), 1u);
  gate.open = true;
  writer.Wake();
  ASSERT_TRUE(WaitFor([&] { return outcomes().size() == 1; }, absl::Seconds(5)));
  EXPECT_GT(writer.stats().input_holds, 0);
  writer.Stop();
}

TEST_F(SingleWriterTest, TransactIncludesTheParticipants) {
  SingleWriter writer({"w.db"}, db_.get());
  CountingParticipant participant(db_.get());
  writer.AddParticipant(&participant);
  writer.Start();
  absl::Status ok = writer.Run([&] {
    return writer.Transact([&] { return db_->Exec("INSERT INTO t (value) VALUES ('x')"); });
  });
  EXPECT_TRUE(ok.ok()) << ok;
  absl::Status failed = writer.Run([&] {
    return writer.Transact([&]() -> absl::Status {
      TM_RETURN_IF_ERROR(db_->Exec("INSERT INTO t (value) VALUES ('y')"));
      return absl::AbortedError("changed my mind");
    });
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(participant.committed.load(), 1);
  EXPECT_EQ(participant.rolled_back.load(), 1);
  EXPECT_EQ(Rows(writer).size(), 1u);
  writer.Stop();
}

TEST_F(SingleWriterTest, CheckpointsTheWalPastItsThreshold) {
  SingleWriter::Options options{"w.db"};
  options.checkpoint_idle_pages = 10;
  SingleWriter writer(options, db_.get());
  writer.Start();
  for (int i = 0; i < 200; ++i) {
    writer.Submit(Job(std::string(2000, static_cast<char>('a' + i % 26)) + std::to_string(i)));
  }
  ASSERT_TRUE(WaitFor([&] { return outcomes().size() == 200; }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return writer.stats().checkpoints > 0; }, absl::Seconds(5)));
  writer.Stop();
}

TEST_F(SingleWriterTest, AfterStopWorkFailsFast) {
  SingleWriter writer({"w.db"}, db_.get());
  writer.Start();
  writer.Submit(Job("before"));
  writer.Stop();  // runs what is queued first
  writer.Submit(Job("after"));
  bool stopped = false;
  writer.Post([&](bool s) { stopped = s; });
  absl::Status run = writer.Run([] { return absl::OkStatus(); });
  EXPECT_EQ(outcomes(), (std::vector<std::string>{"before:ok", "after:w.db is shutting down"}));
  EXPECT_TRUE(stopped);
  EXPECT_EQ(run.code(), absl::StatusCode::kUnavailable);
}

TEST(SingleWriterDiskFullTest, TransactOnAFullDiskIsReportedPausedAndRecovers) {
  TempDir dir;
  auto tmpfs = testing::TmpfsMount::Mount(dir.File("small"), 4 << 20);
  if (!tmpfs.ok()) GTEST_SKIP() << "NOT RUN: " << tmpfs.status().message();
  auto db = Database::Open(dir.File("small/f.db"), DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v TEXT)").ok());
  ASSERT_TRUE((*db)->Checkpoint(CheckpointMode::kTruncate).ok());
  testing::ManualClock clock;
  WriteHealth health("f.db", &clock);
  SingleWriter::Options options{"f.db"};
  options.checkpoint_idle_pages = 0;
  options.write_health = &health;
  options.clock = &clock;
  options.idle_wake = absl::Hours(1);  // the loop turns only for the test's tasks
  SingleWriter writer(options, db->get());
  writer.Start();
  int bodies = 0;  // times a Transact ran its body
  auto insert = [&]() -> absl::Status {
    return writer.Run([&]() -> absl::Status {
      return writer.Transact([&]() -> absl::Status {
        ++bodies;
        TM_ASSIGN_OR_RETURN(Statement * s, (*db)->Cached("INSERT INTO t (v) VALUES (?)"));
        return s->Bind(1, std::string(4000, 'v')).Run();
      });
    });
  };
  ASSERT_TRUE((*tmpfs)->Fill().ok());
  int64_t committed = 0;
  absl::Status failure;
  for (int i = 0; i < 10000 && failure.ok(); ++i) {
    failure = insert();
    if (failure.ok()) ++committed;
  }
  ASSERT_FALSE(failure.ok()) << "the full file system took 40 MB";
  EXPECT_TRUE(IsDiskFull(failure)) << failure;
  EXPECT_TRUE(health.disk_full());
  EXPECT_TRUE(absl::StrContains(health.Check().message(), "f.db: disk full since"))
      << health.Check();

  // Within the pause nothing is tried: the same condition, at once.
  const int tried = bodies;
  absl::Status paused = insert();
  EXPECT_EQ(bodies, tried);
  EXPECT_TRUE(IsDiskFull(paused)) << paused;
  EXPECT_TRUE(absl::StrContains(paused.message(), "f.db: the disk is full; writes are paused"))
      << paused;
  clock.Advance(absl::Milliseconds(60));  // past the first pause (50 ms)
  EXPECT_FALSE(insert().ok());            // tried again: still full
  EXPECT_EQ(bodies, tried + 1);
  clock.Advance(absl::Milliseconds(60));  // the second pause is 100 ms
  EXPECT_FALSE(insert().ok());
  EXPECT_EQ(bodies, tried + 1);

  // After the pause the writer tries a test write of its own: still full.
  EXPECT_TRUE(absl::StrContains(health.Check().message(), "(2 failed transactions"))
      << health.Check();
  clock.Advance(absl::Seconds(10));
  ASSERT_TRUE(writer.Run([] { return absl::OkStatus(); }).ok());  // a turn of the loop
  ASSERT_TRUE(
      WaitFor([&] { return absl::StrContains(health.Check().message(), "(3 failed transactions"); },
              absl::Seconds(5)))
      << health.Check();
  EXPECT_EQ(bodies, tried + 1);

  // Space back: after the pause the writer's own test write (no task of
  // the test writes) commits and ends the condition.
  EXPECT_GE((*tmpfs)->Free(1 << 20), 1 << 20);
  EXPECT_TRUE(health.disk_full());
  clock.Advance(absl::Seconds(10));
  ASSERT_TRUE(writer.Run([] { return absl::OkStatus(); }).ok());  // a turn of the loop
  ASSERT_TRUE(WaitFor([&] { return !health.disk_full(); }, absl::Seconds(5))) << health.Check();
  absl::Status recovered = insert();
  ASSERT_TRUE(recovered.ok()) << recovered;
  ++committed;
  EXPECT_TRUE(insert().ok());  // no pause after a commit
  ++committed;
  auto count = writer.Run([&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(Statement s, (*db)->Prepare("SELECT COUNT(*) FROM t"));
    TM_RETURN_IF_ERROR(s.Step().status());
    return s.ColumnInt64(0);
  });
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, committed);  // every committed row, nothing of a failed one
  writer.Stop();
}

}  // namespace
}  // namespace teleclaude::mesh
