#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::testing {
namespace {

TEST(RedisServerTest, StartsAnswersAndRestartsOnTheSamePort) {
  RedisServer server;
  auto client = server.Client();
  ASSERT_TRUE(client->Command({"SET", "k", "v"}).ok());
  int port = server.port();
  server.Restart();
  EXPECT_EQ(server.port(), port);
  // The first call after a restart may see the old connection closed; the
  // client reconnects on the next one.
  absl::StatusOr<RedisReply> reply;
  ASSERT_TRUE(WaitFor([&] { return (reply = client->Command({"GET", "k"})).ok(); },
                      absl::Seconds(5)))
      << reply.status();
  EXPECT_TRUE(reply->is_nil()) << "a non-persistent server restarts empty";
}

TEST(RedisServerTest, PersistentServerKeepsDataAcrossRestart) {
  RedisServer::Options options;
  options.persist = true;
  RedisServer server(options);
  auto client = server.Client();
  ASSERT_TRUE(client->Command({"SET", "k", "v"}).ok());
  server.Restart();
  absl::StatusOr<RedisReply> reply;
  ASSERT_TRUE(WaitFor([&] { return (reply = client->Command({"GET", "k"})).ok(); },
                      absl::Seconds(5)))
      << reply.status();
  EXPECT_EQ(reply->str(), "v");
}

TEST(ChildProcessTest, ReportsExitCodesSignalsAndOutput) {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");

  auto child = ChildProcess::Start({{"sleep", "30"}, {}, ""});
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE((*child)->Running());
  (*child)->Kill();
  auto info = (*child)->Wait(absl::Seconds(5));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->signal, SIGKILL);
}

TEST(ChildProcessTest, RunCommandTimesOut) {
  auto r = RunCommand({"sleep", "10"}, {}, absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

TEST(TempDirTest, RemovesItselfRecursively) {
  std::filesystem::path kept;
  {
    TempDir dir;
    kept = dir.path();
    std::filesystem::create_directories(dir.path() / "a" / "b");
    EXPECT_TRUE(std::filesystem::exists(kept / "a" / "b"));
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

}  // namespace
}  // namespace teleclaude::mesh::testing
