#include "common/redis/redis_client.h"

#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::WaitFor;

TEST(RedisUrlTest, ParsesEveryForm) {
  auto a = ParseRedisUrl("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6379);
  EXPECT_EQ(a->db, 0);

  auto b = ParseRedisUrl("redis://alice:p%40ss@redis.local:7000/3");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->user, "alice");
  EXPECT_EQ(b->password, "p@ss");
  EXPECT_EQ(b->host, "redis.local");
  EXPECT_EQ(b->port, 7000);
  EXPECT_EQ(b->db, 3);
  EXPECT_EQ(b->ToString(), "redis://alice@redis.local:7000/3") << "never prints the password";

  auto c = ParseRedisUrl("redis://:secret@host");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->password, "secret");
  EXPECT_EQ(c->port, 6379);

  auto d = ParseRedisUrl("unix:///run/redis.sock?db=2");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->unix_path, "/run/redis.sock");
  EXPECT_EQ(d->db, 2);

  auto e = ParseRedisUrl("redis://[::1]:6380/1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6380);
}

TEST(RedisUrlTest, RejectsBadUrlsNamingTheProblem) {
  struct Case {
    const char* url;
    const char* expect;
  } cases[] = {
      {"http://x", "does not start with redis:// or unix://"},
      {"redis://host:abc/0", "port \"abc\""},
      {"redis://host:0", "port \"0\""},
      {"redis://host:6379/x", "database \"x\""},
      {"redis://:6379", "host is empty"},
      {"unix://relative.sock", "absolute"},
      {"redis://a:%zz@h", "percent escape"},
  };
  for (const Case& c : cases) {
    auto r = ParseRedisUrl(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    std::string msg(r.status().message());
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.url << " -> " << msg;
    EXPECT_NE(msg.find("expected redis://"), std::string::npos) << msg;
  }
}

TEST(RedisClientTest, CommandsAndBinarySafeValues) {
  RedisServer server;
  auto client = server.Client();
  std::string value("a\0b\xC3\xA9\n", 6);
  ASSERT_TRUE(client->Command({"SET", "bin", value}).ok());
  auto got = client->Get("bin");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(**got, value);
  auto missing = client->Get("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto err = client->Command({"INCR", "bin"});
  EXPECT_TRUE(absl::IsFailedPrecondition(err.status())) << err.status();
  EXPECT_NE(std::string(err.status().message()).find("INCR bin"), std::string::npos);
}

TEST(RedisClientTest, PipelinesTenThousandCommandsInOneCall) {
  RedisServer server;
  auto client = server.Client();
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 10000; ++i) cmds.push_back({"RPUSH", "list", std::to_string(i)});
  cmds.push_back({"INCR", "list"});  // an error reply stays in the vector
  auto replies = client->Pipeline(cmds);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 10001u);
  EXPECT_EQ((*replies)[9999].integer(), 10000);
  EXPECT_TRUE(replies->back().is_error());
  auto len = client->Command({"LLEN", "list"});
  EXPECT_EQ(len->integer(), 10000);
}

TEST(RedisClientTest, StreamGroupReadAckAndAutoClaim) {
  RedisServer server;
  auto client = server.Client();
  ASSERT_TRUE(client->XGroupCreate("s", "g", "$", /*mkstream=*/true).ok());
  ASSERT_TRUE(client->XGroupCreate("s", "g", "$", true).ok()) << "BUSYGROUP is fine";
  std::vector<std::vector<std::string>> adds;
  for (int i = 0; i < 5; ++i) {
    adds.push_back(RedisClient::XAddArgv("s", {{"n", std::to_string(i)}, {"n", "dup"}}, 1000));
  }
  ASSERT_TRUE(client->Pipeline(adds).ok());
  auto read = client->XReadGroup("g", "crashed", "s", ">", 3, std::nullopt);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0].fields.size(), 2u) << "duplicate field names are kept in order";
  EXPECT_EQ((*read)[0].fields[0].second, "0");

  // The crashed consumer's pending entries: its own re-read sees them...
  auto pending = client->XReadGroup("g", "crashed", "s", "0", 10, std::nullopt);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 3u);
  // ...and another consumer claims them.
  auto claimed = client->XAutoClaim("s", "g", "rescuer", absl::ZeroDuration(), "0", 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->entries.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& e : claimed->entries) ids.push_back(e.id);
  auto acked = client->XAck("s", "g", ids);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 3);

  auto info = client->XInfoGroup("s", "g");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->pending, 0);
  EXPECT_EQ(info->last_delivered_id, read->back().id);
  ASSERT_TRUE(info->lag.has_value());
  EXPECT_EQ(*info->lag, 2);
  EXPECT_TRUE(absl::IsNotFound(client->XInfoGroup("s", "nope").status()));
  EXPECT_TRUE(absl::IsNotFound(client->XInfoGroup("nostream", "g").status()));
  EXPECT_EQ(*client->XLen("s"), 5);
}

TEST(RedisClientTest, BlockingReadReturnsEarlyWhenDataArrives) {
  RedisServer server;
  auto reader = server.Client();
  auto writer = server.Client();
  ASSERT_TRUE(reader->XGroupCreate("s", "g", "$", true).ok());
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(writer->XAdd("s", {{"k", "v"}}, 0).ok());
  });
  absl::Time start = absl::Now();
  auto read = reader->XReadGroup("g", "c", "s", ">", 10, absl::Seconds(8));
  absl::Duration took = absl::Now() - start;
  t.join();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 1u);
  EXPECT_LT(took, absl::Seconds(5)) << "the read waited for its whole block time";
  // A block longer than the command timeout is not cut by it.
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient short_timeout(opts);
  auto empty = short_timeout.XReadGroup("g", "c", "s", ">", 10, absl::Milliseconds(500));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
}

TEST(RedisClientTest, ReconnectsAfterServerRestartAndBacksOffWhileDown) {
  RedisServer server;
  auto client = server.Client();
  ASSERT_TRUE(client->Ping().ok());
  server.Stop();
  auto down = client->Ping();
  EXPECT_TRUE(absl::IsUnavailable(down)) << down;
  auto still_down = client->Ping();
  EXPECT_TRUE(absl::IsUnavailable(still_down)) << still_down;
  server.Restart();
  EXPECT_TRUE(WaitFor([&] { return client->Ping().ok(); }, absl::Seconds(5)));
}

TEST(RedisClientTest, CommandTimeoutIsAnErrorNotAHang) {
  RedisServer server;
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient client(opts);
  auto other = server.Client();
  ASSERT_TRUE(client.Ping().ok());
  // CLIENT PAUSE holds every other client's commands for a second.
  ASSERT_TRUE(other->Command({"CLIENT", "PAUSE", "1000", "ALL"}).ok());
  absl::Time start = absl::Now();
  auto r = client.Ping();
  absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(absl::IsUnavailable(r)) << r;
  EXPECT_NE(std::string(r.message()).find("timed out"), std::string::npos) << r;
  EXPECT_LT(took, absl::Milliseconds(900));
  EXPECT_TRUE(WaitFor([&] { return client.Ping().ok(); }, absl::Seconds(5)));
}

TEST(RedisClientTest, AuthenticatesAndReportsAWrongPassword) {
  RedisServer::Options o;
  o.extra_args = {"--requirepass", "s3cret"};
  RedisServer server(o);
  auto good = server.Client();  // carries the password
  EXPECT_TRUE(good->Ping().ok());
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.endpoint.password = "wrong";
  RedisClient bad(opts);
  absl::Status s = bad.Ping();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(std::string(s.message()).find("AUTH"), std::string::npos) << s;
  EXPECT_EQ(std::string(s.message()).find("wrong"), std::string::npos) << "no password in errors";
}

TEST(RedisClientTest, KeysScanMGetSetExDel) {
  RedisServer server;
  auto client = server.Client();
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(
        client->SetEx("computer:c" + std::to_string(i) + ":heartbeat", "v", absl::Seconds(60))
            .ok());
  }
  ASSERT_TRUE(client->SetEx("other", "v", absl::Seconds(60)).ok());
  auto keys = client->ScanKeys("computer:*:heartbeat", 100);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2500u);
  auto values = client->MGet({"computer:c1:heartbeat", "missing"});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[0], "v");
  EXPECT_EQ((*values)[1], std::nullopt);
  auto ttl = client->Command({"TTL", "other"});
  EXPECT_GT(ttl->integer(), 50);
  EXPECT_EQ(*client->Del({"other", "missing"}), 1);
}

}  // namespace
}  // namespace teleclaude::mesh
