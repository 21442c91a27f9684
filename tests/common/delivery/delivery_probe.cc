// A small program built on the delivery core, for tests that SIGKILL it: it
// reads the stream `probe:stream` (group `probe`, consumer `probe`, from the
// beginning) with a ConsumerGroupReader and records each entry's effect —
// a row in `effects` — through a SingleWriter, with the entry id in SeenIds
// in the same transaction; only then is the entry acknowledged.
//
//   delivery_probe REDIS_URL DB_PATH [SETTLE_DELAY_MS]
//
// SETTLE_DELAY_MS holds each batch's acknowledgement back that long after
// its commit (on a thread of its own), so a kill lands between commit and
// acknowledgement. Prints "ready" once reading. Runs until killed.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/delivery/consumer_group_reader.h"
#include "common/delivery/seen_ids.h"
#include "common/delivery/single_writer.h"
#include "common/redis/redis_url.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {
namespace {

// Settles batches `delay` after their commit, in order, on its own thread.
class DelayedSettler {
 public:
  DelayedSettler(ConsumerGroupReader* reader, absl::Duration delay)
      : reader_(reader), delay_(delay), thread_([this] { Loop(); }) {}
  void Add(uint64_t batch, std::vector<std::string> ids) {
    absl::MutexLock lock(&mu_);
    queue_.push_back({absl::Now() + delay_, batch, std::move(ids)});
  }

 private:
  struct Item {
    absl::Time at;
    uint64_t batch;
    std::vector<std::string> ids;
  };
  void Loop() {
    while (true) {
      Item item;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Item>* q) { return !q->empty(); }, &queue_));
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      absl::SleepFor(item.at - absl::Now());
      reader_->Settle(item.batch, std::move(item.ids));
    }
  }
  ConsumerGroupReader* const reader_;
  const absl::Duration delay_;
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class Probe : public BatchHandler {
 public:
  Probe(Database* db, absl::Duration settle_delay, ConsumerGroupReader::Options options)
      : db_(db),
        writer_(SingleWriter::Options{"probe.db"}, db),
        seen_(db, SeenIds::Options{}),
        reader_(std::move(options), this),
        settler_(&reader_, settle_delay) {
    writer_.AddChore(&seen_);
  }
  void Start() {
    writer_.Start();
    reader_.Start();
  }
  bool ready() const { return reader_.ready(); }

  void HandleBatch(StreamBatch batch) override {
    writer_.Submit(std::make_unique<Job>(this, std::move(batch)));
  }

 private:
  class Job : public WriterJob {
   public:
    Job(Probe* probe, StreamBatch batch) : probe_(probe), batch_(std::move(batch)) {}
    absl::Status Apply() override {
      TM_ASSIGN_OR_RETURN(
          Statement * insert,
          probe_->db_->Cached("INSERT INTO effects (entry_id, value) VALUES (?, ?)"));
      for (const StreamEntry& e : batch_.entries) {
        TM_ASSIGN_OR_RETURN(bool fresh, probe_->seen_.MarkSeen("entry:" + e.id));
        if (!fresh) continue;
        insert->Bind(1, e.id).Bind(2, e.fields.empty() ? "" : e.fields[0].second);
        TM_RETURN_IF_ERROR(insert->Run());
      }
      return absl::OkStatus();
    }
    void Finish(const absl::Status& status) override {
      std::vector<std::string> ids;
      if (status.ok()) {
        for (const StreamEntry& e : batch_.entries) ids.push_back(e.id);
      }
      probe_->settler_.Add(batch_.id, std::move(ids));
    }
    size_t weight() const override { return batch_.entries.size(); }

   private:
    Probe* const probe_;
    StreamBatch batch_;
  };

  Database* const db_;
  SingleWriter writer_;
  SeenIds seen_;
  ConsumerGroupReader reader_;
  DelayedSettler settler_;
};

int Main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: delivery_probe REDIS_URL DB_PATH [SETTLE_DELAY_MS]\n");
    return 2;
  }
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(argv[1]);
  if (!endpoint.ok()) return 2;
  DatabaseOptions db_options;
  db_options.auto_checkpoint = false;
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(argv[2], db_options);
  if (!db.ok()) return 1;
  absl::Status migrated = (*db)->Migrate(
      {{1, SeenIds::Schema() + "CREATE TABLE effects (entry_id TEXT NOT NULL, value TEXT);"}});
  if (!migrated.ok()) return 1;
  ConsumerGroupReader::Options options;
  options.redis.endpoint = *endpoint;
  options.stream = "probe:stream";
  options.group = "probe";
  options.consumer = "probe";
  options.start_id = "0";
  options.count = 50;
  Probe probe(db->get(), absl::Milliseconds(argc > 3 ? std::atoi(argv[3]) : 0), options);
  probe.Start();
  while (!probe.ready()) absl::SleepFor(absl::Milliseconds(10));
  std::printf("ready\n");
  std::fflush(stdout);
  while (true) absl::SleepFor(absl::Hours(1));
}

}  // namespace
}  // namespace teleclaude::mesh

int main(int argc, char** argv) { return teleclaude::mesh::Main(argc, argv); }
