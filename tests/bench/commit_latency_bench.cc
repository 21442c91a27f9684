// commit_latency_bench: what a WAL checkpoint on the commit path costs.
//
//   commit_latency_bench [--seconds=5] [--rate=1000]
//
// One writer commits one small transaction per event at a fixed rate (a row
// shaped like a notification with TeleClaude's indexes, plus a
// processed_inputs row — what egress writes per event at low load) while a
// reader polls every millisecond (like the outbox senders). It runs twice on
// fresh files: with SQLite's own auto-checkpoint (the commit that crosses
// 1000 WAL pages copies the WAL back and fsyncs), then with the project's
// background checkpointer (common/sqlite/wal_checkpointer.h). Prints
// `commit_p50_us_<mode>`, `commit_p99_us_<mode>`, `commit_max_us_<mode>` and
// the reader's p99. Figures, not a test: it never fails on timing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/base/strings.h"
#include "common/sqlite/database.h"
#include "common/sqlite/transaction.h"
#include "tests/support/temp_dir.h"

ABSL_FLAG(int, seconds, 5, "how long each mode runs");
ABSL_FLAG(int, rate, 1000, "commits per second");

namespace teleclaude::mesh::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

int RunMode(const std::string& mode, bool background) {
  testing::TempDir dir;
  const std::string path = dir.File("bench.db");
  DatabaseOptions options;
  options.background_checkpoint = background;
  auto db = Database::Open(path, options);
  if (!db.ok()) {
    std::fprintf(stderr, "commit_latency_bench: %s\n", std::string(db.status().message()).c_str());
    return 1;
  }
  absl::Status schema = (*db)->Exec(R"sql(
CREATE TABLE n (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT, source TEXT, level INTEGER,
  domain TEXT, visibility TEXT, human_status TEXT, agent_status TEXT, payload TEXT,
  idempotency_key TEXT UNIQUE, created_at TEXT);
CREATE INDEX n1 ON n (event_type); CREATE INDEX n2 ON n (level); CREATE INDEX n3 ON n (domain);
CREATE INDEX n4 ON n (human_status); CREATE INDEX n5 ON n (agent_status);
CREATE INDEX n6 ON n (visibility); CREATE INDEX n7 ON n (created_at DESC);
CREATE TABLE p (input_key TEXT PRIMARY KEY, processed_at INTEGER) WITHOUT ROWID;
CREATE INDEX p1 ON p (processed_at);)sql");
  if (!schema.ok()) {
    std::fprintf(stderr, "commit_latency_bench: %s\n", std::string(schema.message()).c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::vector<double> reads;
  std::thread reader([&] {
    auto r = Database::Open(path, options);
    if (!r.ok()) return;
    while (!stop.load()) {
      auto t = Clock::now();
      auto s = (*r)->Cached("SELECT id FROM n ORDER BY id DESC LIMIT 1");
      if (s.ok()) {
        while ((*s)->Step().value_or(false)) {
        }
        (*s)->Reset();
      }
      reads.push_back(Micros(Clock::now() - t));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const std::string payload(500, 'p');
  const int count = absl::GetFlag(FLAGS_seconds) * absl::GetFlag(FLAGS_rate);
  const auto period = std::chrono::nanoseconds(1000000000LL / absl::GetFlag(FLAGS_rate));
  std::vector<double> commits;
  commits.reserve(count);
  const auto start = Clock::now();
  int failures = 0;
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + i * period);
    auto t = Clock::now();
    absl::Status s = [&]() -> absl::Status {
      auto tx = Transaction::Begin(db->get());
      if (!tx.ok()) return tx.status();
      std::string key = Cat("local:events:local:1764230400000-", i);
      auto in = (*db)->Cached("INSERT INTO p VALUES (?, ?)");
      if (!in.ok()) return in.status();
      (*in)->Bind(1, key).Bind(2, int64_t{i});
      if (absl::Status r = (*in)->Run(); !r.ok()) return r;
      auto nn = (*db)->Cached(
          "INSERT INTO n (event_type, source, level, domain, visibility, human_status, "
          "agent_status, payload, idempotency_key, created_at) VALUES "
          "('system.worker.crashed', 'alpha', 2, 'system', 'public', 'unseen', 'none', ?, ?, ?)");
      if (!nn.ok()) return nn.status();
      (*nn)->Bind(1, payload).Bind(2, key).Bind(3, Cat("2026-11-27T08:00:00.", i));
      if (absl::Status r = (*nn)->Run(); !r.ok()) return r;
      return tx->Commit();
    }();
    if (!s.ok()) ++failures;
    commits.push_back(Micros(Clock::now() - t));
  }
  stop.store(true);
  reader.join();
  std::printf("commit_p50_us_%s=%.0f\n", mode.c_str(), Quantile(commits, 0.5));
  std::printf("commit_p99_us_%s=%.0f\n", mode.c_str(), Quantile(commits, 0.99));
  std::printf("commit_max_us_%s=%.0f\n", mode.c_str(), Quantile(commits, 1.0));
  std::printf("reader_p99_us_%s=%.0f\n", mode.c_str(), Quantile(reads, 0.99));
  std::printf("commit_failures_%s=%d\n", mode.c_str(), failures);
  if (const WalCheckpointer* c = (*db)->checkpointer(); c != nullptr) {
    std::printf("background_checkpoints_%s=%lld\n", mode.c_str(),
                static_cast<long long>(c->checkpoints()));
  }
  return 0;
}

}  // namespace
}  // namespace teleclaude::mesh::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::printf("commit_latency: rate=%d/s seconds=%d (one transaction per event)\n",
              absl::GetFlag(FLAGS_rate), absl::GetFlag(FLAGS_seconds));
  int rc = teleclaude::mesh::bench::RunMode("sqlite_autocheckpoint", false);
  rc |= teleclaude::mesh::bench::RunMode("background_checkpoint", true);
  return rc;
}
