#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
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
  ASSERT_TRUE(WaitFor(
      [&] {
        return (reply = client->Command({"GET", "k"})).ok();
      },
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
  ASSERT_TRUE(WaitFor(
      [&] {
        return (reply = client->Command({"GET", "k"})).ok();
      },
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

TEST(RedisServerTest, KilledPersistentServerKeepsDataAndLogs) {
  RedisServer::Options options;
  options.persist = true;
  RedisServer server(options);
  auto client = server.Client();
  ASSERT_TRUE(client->XAdd("s", {{"k", "v"}}, 0).ok());
  server.Kill();
  EXPECT_FALSE(server.Running());
  server.Restart();
  EXPECT_TRUE(server.Running());
  EXPECT_TRUE(WaitFor([&] { return client->XLen("s").value_or(0) == 1; }, absl::Seconds(5)));
  EXPECT_NE(server.ReadLog().find("Ready to accept connections"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(server.dir()));
}

TEST(RedisServerTest, PasswordIsInTheUrlAndTheEndpoint) {
  RedisServer::Options options;
  options.extra_args = {"--requirepass", "pa ss@word"};
  RedisServer server(options);
  EXPECT_EQ(server.url(),
            "redis://:pa%20ss%40word@127.0.0.1:" + std::to_string(server.port()) + "/0");
  auto parsed = ParseRedisUrl(server.url());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, server.endpoint());
  RedisClientOptions options_from_url;
  options_from_url.endpoint = *parsed;
  RedisClient client(options_from_url);
  EXPECT_TRUE(client.Ping().ok());
}

TEST(RedisServerTest, TwoServersGetDifferentPortsAndDirs) {
  RedisServer a;
  RedisServer b;
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  ASSERT_TRUE(a.Client()->SetEx("k", "a", absl::Seconds(60)).ok());
  EXPECT_FALSE(b.Client()->Get("k")->has_value());
}

TEST(ChildProcessTest, TerminateEnvLogAndExecFailure) {
  TempDir dir;
  ChildOptions options;
  options.args = {"sh", "-c", "echo \"hello $TM_GREETING\"; exec sleep 30"};
  options.env = {{"TM_GREETING", "world"}};
  options.log_path = dir.File("child.log");
  auto child = ChildProcess::Start(options);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_GT((*child)->pid(), 0);
  EXPECT_TRUE(WaitFor([&] { return (*child)->ReadLog() == "hello world\n"; }, absl::Seconds(5)))
      << (*child)->ReadLog();
  auto still = (*child)->Wait(absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(still.status())) << still.status();
  (*child)->Terminate();
  auto info = (*child)->Wait(absl::Seconds(5));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->exited());
  EXPECT_EQ(info->signal, SIGTERM);
  EXPECT_FALSE((*child)->Running());

  auto missing = ChildProcess::Start({{"/nonexistent/telec-egress"}, {}, ""});
  ASSERT_TRUE(missing.ok());
  auto gone = (*missing)->Wait(absl::Seconds(5));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->exit_code, 127);
  EXPECT_NE((*missing)->ReadLog().find("exec /nonexistent/telec-egress"), std::string::npos);

  EXPECT_TRUE(absl::IsInvalidArgument(ChildProcess::Start({}).status()));
}

TEST(ChildProcessTest, StdoutReadLineByLineApartFromStderr) {
  ChildOptions options;
  options.args = {"sh", "-c",
                  "echo one; echo oops >&2; read -r _ < /dev/null; printf 'two\\nthr'; "
                  "exec sleep 30"};
  options.separate_stdout = true;
  auto child = ChildProcess::Start(options);
  ASSERT_TRUE(child.ok()) << child.status();
  auto one = (*child)->ReadStdoutLine(absl::Seconds(5));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, "one");
  auto two = (*child)->ReadStdoutLine(absl::Seconds(5));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two, "two");
  // "thr" has no newline yet: no third line while the child runs ...
  EXPECT_TRUE(absl::IsDeadlineExceeded((*child)->ReadStdoutLine(absl::Milliseconds(100)).status()));
  EXPECT_EQ((*child)->ReadStdout(), "one\ntwo\nthr");
  EXPECT_TRUE(WaitFor([&] { return (*child)->ReadLog() == "oops\n"; }, absl::Seconds(5)))
      << (*child)->ReadLog();
  // ... and none once it has ended.
  (*child)->Kill();
  ASSERT_TRUE((*child)->Wait(absl::Seconds(5)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*child)->ReadStdoutLine(absl::Seconds(1)).status()));
}

TEST(ChildProcessTest, UnsetVariablesAreNotInherited) {
  setenv("TM_SUPPORT_TEST_GONE", "x", 1);
  setenv("TM_SUPPORT_TEST_KEPT", "y", 1);
  ChildOptions options;
  options.args = {"sh", "-c", "echo \"${TM_SUPPORT_TEST_GONE-unset} $TM_SUPPORT_TEST_KEPT\""};
  options.unset_env = {"TM_SUPPORT_TEST_GONE"};
  auto r = RunCommand(options, absl::Seconds(10));
  unsetenv("TM_SUPPORT_TEST_GONE");
  unsetenv("TM_SUPPORT_TEST_KEPT");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "unset y\n");
}

TEST(TempDirTest, IsRemovedWhateverPermissionsTheTestLeft) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    std::filesystem::create_directories(path / "locked" / "inner");
    std::ofstream(path / "locked" / "inner" / "file") << "x";
    std::filesystem::permissions(path / "locked", std::filesystem::perms::none);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ChildProcessTest, DestructorKillsARunningChild) {
  pid_t pid = 0;
  std::string log;
  {
    auto child = ChildProcess::Start({{"sleep", "30"}, {}, ""});
    ASSERT_TRUE(child.ok());
    pid = (*child)->pid();
    log = (*child)->log_path();
    EXPECT_TRUE(std::filesystem::exists(log));
  }
  // Reaped by the destructor: the PID no longer names our child.
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_FALSE(std::filesystem::exists(log)) << "a log the fixture made is removed with it";
}

TEST(ChildProcessTest, ChildrenInheritNoFileDescriptors) {
  // A listening socket without CLOEXEC, like one a server under test holds.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  auto r = RunCommand({"sh", "-c", "ls /proc/$$/fd"});
  close(fd);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "0\n1\n2\n");
}

TEST(ChildProcessTest, RunCommandFeedsStdinAndReportsSignals) {
  auto cat = RunCommand({"cat"}, {}, absl::Seconds(5), "line one\nline two\n");
  ASSERT_TRUE(cat.ok()) << cat.status();
  EXPECT_EQ(cat->exit_code, 0);
  EXPECT_EQ(cat->out, "line one\nline two\n");

  auto killed = RunCommand({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(killed->exit_code, -1);
  EXPECT_EQ(killed->signal, SIGTERM);
}

TEST(FreeLoopbackPortTest, HandsOutDistinctBindablePorts) {
  std::set<int> ports;
  for (int i = 0; i < 20; ++i) ports.insert(FreeLoopbackPort());
  EXPECT_EQ(ports.size(), 20u);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*ports.begin()));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
}

TEST(WaitForTest, ReturnsAsSoonAsTheConditionHoldsOrFalseAtTheDeadline) {
  int calls = 0;
  absl::Time start = absl::Now();
  EXPECT_TRUE(WaitFor([&] { return ++calls == 3; }, absl::Seconds(5), absl::Milliseconds(1)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  start = absl::Now();
  EXPECT_FALSE(WaitFor([] { return false; }, absl::Milliseconds(100)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST(TempDirTest, FileNamesAPathInside) {
  TempDir dir;
  std::ofstream(dir.File("x.txt")) << "data";
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "x.txt"));
  EXPECT_EQ(dir.File("x.txt"), (dir.path() / "x.txt").string());
}

}  // namespace
}  // namespace teleclaude::mesh::testing
