// LocalStreamReader (on the delivery core's ConsumerGroupReader) with the real
// pipeline worker, a real events.db and a real redis-server with AOF
// (appendfsync always): entries that Redis delivered to egress's consumer but
// whose reply never reached it — pending for egress, unknown to it — and then
// a Redis crash (SIGKILL) and restart. Before the delivery core egress read
// its pending entries only at start, so such entries stayed pending until
// egress was restarted (issue 16: 25-75 entries). Now they are processed by
// the running reader: it re-reads its own pending entries after the failed
// read, and claims idle ones every claim_every.
#include "services/egress/delivery/local_stream_reader.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/delivery/outbox.h"
#include "common/envelope/stream_codec.h"
#include "gtest/gtest.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/pipeline_worker.h"
#include "services/egress/storage/events_db.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

constexpr char kStream[] = "teleclaude:events:alpha";

std::vector<std::string> XAddArgv(int n) {
  EventEnvelope e;
  e.event = "test.stranded";
  e.source = "producer";
  e.level = Level::kOperational;
  e.payload_json = Cat("{\"n\":", n, "}");
  return RedisClient::XAddArgv(kStream, EncodeEnvelopeStream(e), 0);
}

// Entries pending in the group `egress` (-1 when Redis cannot be asked).
int64_t Pending(RedisClient& client) {
  auto reply = client.Command({"XPENDING", kStream, "egress"});
  if (!reply.ok() || reply->elements().empty()) return -1;
  return reply->elements().front().integer();
}

TEST(LocalStreamReaderTest, StrandedPendingEntriesAfterARedisCrashAreProcessedWithoutARestart) {
  RedisServer::Options redis_options;
  redis_options.persist = true;
  redis_options.extra_args = {"--appendfsync", "always"};
  RedisServer redis(redis_options);
  std::unique_ptr<RedisClient> client = redis.Client();

  TempDir dir;
  auto db = EventsDb::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  Outbox::Options outbox_options;
  outbox_options.name = "mesh";
  auto outbox = Outbox::Open((*db)->database(), outbox_options, nullptr, nullptr);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  auto push_outbox = Outbox::Open((*db)->database(), {.name = "push"}, nullptr, nullptr);
  ASSERT_TRUE(push_outbox.ok()) << push_outbox.status();
  PipelineRunner runner(PipelineRunner::Options{}, {});
  PipelineWorker::Options worker_options;
  worker_options.computer_name = "alpha";
  PipelineWorker worker(worker_options, db->get(), &runner, nullptr, outbox->get(),
                        push_outbox->get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());

  LocalStreamReader::Options options;
  options.redis = redis.ClientOptions();
  options.stream = kStream;
  options.consumer = "alpha";
  options.computer_name = "alpha";
  options.claim_idle = absl::Seconds(1);
  options.claim_every = absl::Seconds(2);
  LocalStreamReader reader(options, &worker);
  reader.Start();

  // The reader works: one entry in, processed, acknowledged.
  ASSERT_TRUE(client->Command(XAddArgv(0)).ok());
  ASSERT_TRUE(WaitFor([&] { return reader.entries_acked() == 1; }, absl::Seconds(10)));

  // Three entries delivered to egress's consumer whose reply is lost: in one
  // MULTI, so the running reader's blocked read never sees them.
  std::vector<std::vector<std::string>> commands = {{"MULTI"}};
  for (int i = 1; i <= 3; ++i) commands.push_back(XAddArgv(i));
  commands.push_back(
      {"XREADGROUP", "GROUP", "egress", "alpha", "COUNT", "10", "STREAMS", kStream, ">"});
  commands.push_back({"EXEC"});
  auto replies = client->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(Pending(*client), 3);

  // Redis crashes and comes back with its AOF: the entries are still
  // pending for egress's consumer.
  redis.Kill();
  redis.Restart();
  const absl::Time back = absl::Now();
  ASSERT_TRUE(WaitFor([&] { return worker.stats().inputs_processed == 4 && Pending(*client) == 0; },
                      absl::Seconds(30)))
      << "processed " << worker.stats().inputs_processed << ", acked " << reader.entries_acked();
  std::cout << "stranded entries processed " << absl::FormatDuration(absl::Now() - back)
            << " after Redis came back (claim every " << absl::FormatDuration(options.claim_every)
            << ")\n";
  reader.Stop();
  worker.Stop();
  EXPECT_EQ(worker.stats().inputs_duplicate, 0);
}

}  // namespace
}  // namespace teleclaude::mesh
