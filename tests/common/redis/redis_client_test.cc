#include "common/redis/redis_client.h"

#include <thread>

#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TempDir;
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
  EXPECT_FALSE(e->use_tls);

  auto f = ParseRedisUrl("rediss://bob:pw@redis.example.com:6380/4");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->use_tls);
  EXPECT_EQ(f->user, "bob");
  EXPECT_EQ(f->password, "pw");
  EXPECT_EQ(f->host, "redis.example.com");
  EXPECT_EQ(f->port, 6380);
  EXPECT_EQ(f->db, 4);
  EXPECT_EQ(f->tls, RedisTlsOptions()) << "TLS files come from flags, not the URL";
  EXPECT_EQ(f->ToString(), "rediss://bob@redis.example.com:6380/4");
}

TEST(RedisUrlTest, RejectsBadUrlsNamingTheProblem) {
  struct Case {
    const char* url;
    const char* expect;
  } cases[] = {
      {"http://x", "does not start with redis://, rediss:// or unix://"},
      {"redis:/x", "does not start with"},
      {"rediss://:6380", "host is empty"},
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
    EXPECT_NE(msg.find("expected redis[s]://"), std::string::npos) << msg;
  }
}

// The behaviour that must not depend on the transport, over plain TCP and
// over TLS (a TLS-only redis-server, rediss://; redis_client_tls_test.cc has
// what only TLS does).
enum class Transport { kPlain, kTls };

class RedisClientTransportTest : public ::testing::TestWithParam<Transport> {
 protected:
  RedisServer::Options ServerOptions(bool persist = false) const {
    RedisServer::Options o;
    o.persist = persist;
    o.tls = GetParam() == Transport::kTls;
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(PlainAndTls, RedisClientTransportTest,
                         ::testing::Values(Transport::kPlain, Transport::kTls),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return info.param == Transport::kTls ? "Tls" : "Plain";
                         });

TEST_P(RedisClientTransportTest, CommandsAndBinarySafeValues) {
  RedisServer server(ServerOptions());
  auto client = server.Client();
  std::string value("a\0b\xC3\xA9\n", 6);
  ASSERT_TRUE(client->Command({"SET", "bin", value}).ok());
  auto got = client->Get("bin");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(**got, value);
  // Larger than a socket read and a TLS record (16 KiB) many times over.
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  ASSERT_TRUE(client->Command({"SET", "big", big}).ok());
  auto got_big = client->Get("big");
  ASSERT_TRUE(got_big.ok()) << got_big.status();
  EXPECT_TRUE(**got_big == big) << "the 1 MiB value came back changed";
  auto missing = client->Get("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto err = client->Command({"INCR", "bin"});
  EXPECT_TRUE(absl::IsFailedPrecondition(err.status())) << err.status();
  EXPECT_NE(std::string(err.status().message()).find("INCR bin"), std::string::npos);
}

TEST_P(RedisClientTransportTest, PipelinesTenThousandCommandsInOneCall) {
  RedisServer server(ServerOptions());
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

TEST_P(RedisClientTransportTest, StreamGroupReadAckAndAutoClaim) {
  RedisServer server(ServerOptions());
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

TEST_P(RedisClientTransportTest, BlockingReadReturnsEarlyWhenDataArrives) {
  RedisServer server(ServerOptions());
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
  // Many entries in one reply (several reads, several TLS records), read
  // straight into entries.
  std::vector<std::vector<std::string>> adds;
  for (int i = 0; i < 500; ++i) {
    adds.push_back(
        RedisClient::XAddArgv("s", {{"n", std::to_string(i)}, {"pad", std::string(300, 'p')}}, 0));
  }
  ASSERT_TRUE(writer->Pipeline(adds).ok());
  auto many = reader->XReadGroup("g", "c", "s", ">", 1000, absl::Seconds(1));
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 500u);
  EXPECT_EQ(many->back().fields[0].second, "499");
  // A block longer than the command timeout is not cut by it.
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient short_timeout(opts);
  auto empty = short_timeout.XReadGroup("g", "c", "s", ">", 10, absl::Milliseconds(500));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
}

TEST_P(RedisClientTransportTest, ReconnectsAfterServerRestartAndBacksOffWhileDown) {
  RedisServer server(ServerOptions());
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

// A command that gets no answer within command_timeout fails (a connection
// keeps a blocking read's longer timeout for its commands — no setsockopt
// between a reader's reads and acks —, at most 1 s more; a longer block is
// not kept).
TEST_P(RedisClientTransportTest, CommandTimeoutIsAnErrorNotAHang) {
  RedisServer server(ServerOptions());
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient client(opts);
  auto other = server.Client();
  ASSERT_TRUE(client.XGroupCreate("s", "g", "$", true).ok());
  // CLIENT PAUSE holds every other client's commands for 1.5 s.
  auto paused_ping_takes = [&]() -> absl::Duration {
    EXPECT_TRUE(other->Command({"CLIENT", "PAUSE", "1500", "ALL"}).ok());
    absl::Time start = absl::Now();
    auto r = client.Ping();
    absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(absl::IsUnavailable(r)) << r;
    EXPECT_NE(std::string(r.message()).find("timed out"), std::string::npos) << r;
    EXPECT_TRUE(WaitFor([&] { return client.Ping().ok(); }, absl::Seconds(5)));
    return took;
  };
  EXPECT_LT(paused_ping_takes(), absl::Milliseconds(900));
  // After an 8 s block (an entry waits, so it returns at once): not kept.
  ASSERT_TRUE(other->XAdd("s", {{"k", "v"}}, 0).ok());
  auto read = client.XReadGroup("g", "c", "s", ">", 10, absl::Seconds(8));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_LT(paused_ping_takes(), absl::Milliseconds(900));
  // After a 300 ms block: kept, a command may wait 200 + 300 ms, not more.
  ASSERT_TRUE(other->XAdd("s", {{"k", "v"}}, 0).ok());
  read = client.XReadGroup("g", "c", "s", ">", 10, absl::Milliseconds(300));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_LT(paused_ping_takes(), absl::Milliseconds(1200));
}

TEST_P(RedisClientTransportTest, AuthenticatesAndReportsAWrongPassword) {
  RedisServer::Options o = ServerOptions();
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

// A reader acknowledges what it committed and reads on in one round trip:
// the XACK's outcome and the read's come back apart, in order, over plain
// and TLS connections; without acknowledgements it is a plain XREADGROUP.
TEST_P(RedisClientTransportTest, AcknowledgesAndReadsInOneRoundTrip) {
  RedisServer server(ServerOptions());
  auto client = server.Client();
  ASSERT_TRUE(client->XGroupCreate("s", "g", "0", /*mkstream=*/true).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(*client->XAdd("s", {{"k", std::to_string(i)}}, 0));
  absl::Status acked = absl::UnknownError("unset");
  auto first = client->XAckThenReadGroup("g", "c", "s", {}, ">", 2, std::nullopt, &acked);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(acked.ok()) << acked;
  ASSERT_EQ(first->size(), 2u);
  auto pending = [&] { return client->XInfoGroup("s", "g")->pending; };
  EXPECT_EQ(pending(), 2);
  // Acknowledge both, read the third (and block for nothing after it).
  auto second = client->XAckThenReadGroup("g", "c", "s", {ids[0], ids[1]}, ">", 10,
                                          absl::Milliseconds(20), &acked);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(acked.ok()) << acked;
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].id, ids[2]);
  EXPECT_EQ((*second)[0].fields, (std::vector<std::pair<std::string, std::string>>{{"k", "2"}}));
  EXPECT_EQ(pending(), 1);
  auto third =
      client->XAckThenReadGroup("g", "c", "s", {ids[2]}, ">", 10, absl::Milliseconds(20), &acked);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(acked.ok()) << acked;
  EXPECT_TRUE(third->empty());
  EXPECT_EQ(pending(), 0);
  // The group gone: the read says NOGROUP (XACK answers 0 for a missing
  // group), and the connection goes on.
  ASSERT_TRUE(client->Command({"XGROUP", "DESTROY", "s", "g"}).ok());
  auto gone = client->XAckThenReadGroup("g", "c", "s", {ids[0]}, ">", 10, std::nullopt, &acked);
  EXPECT_TRUE(IsRedisNoGroupError(gone.status())) << gone.status();
  EXPECT_TRUE(acked.ok()) << acked;
  // An error reply to the XACK is its own: a key that is not a stream.
  ASSERT_TRUE(client->Command({"SET", "str", "x"}).ok());
  auto wrong = client->XAckThenReadGroup("g", "c", "str", {ids[0]}, ">", 10, std::nullopt, &acked);
  EXPECT_FALSE(wrong.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(acked)) << acked;
  EXPECT_NE(std::string(acked.message()).find("XACK str"), std::string::npos) << acked;
  EXPECT_TRUE(client->Ping().ok());
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

TEST(RedisClientTest, PendingEntriesDeletedFromTheStream) {
  RedisServer server;
  auto client = server.Client();
  ASSERT_TRUE(client->XGroupCreate("s", "g", "0", /*mkstream=*/true).ok());
  auto a = client->XAdd("s", {{"k", "a"}}, 0);
  auto b = client->XAdd("s", {{"k", "b"}}, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(client->XReadGroup("g", "crashed", "s", ">", 10, std::nullopt)->size(), 2u);
  ASSERT_EQ(client->Command({"XDEL", "s", *a})->integer(), 1);

  // The owner re-reading its pending entries sees the deleted one without fields.
  auto pending = client->XReadGroup("g", "crashed", "s", "0", 10, std::nullopt);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, *a);
  EXPECT_TRUE((*pending)[0].fields.empty());
  EXPECT_EQ((*pending)[1].fields, (std::vector<std::pair<std::string, std::string>>{{"k", "b"}}));

  // XAUTOCLAIM reports it as deleted (Redis 7) and hands over the live one.
  auto claimed = client->XAutoClaim("s", "g", "rescuer", absl::ZeroDuration(), "0-0", 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->entries.size(), 1u);
  EXPECT_EQ(claimed->entries[0].id, *b);
  EXPECT_EQ(claimed->deleted_ids, std::vector<std::string>{*a});
  EXPECT_EQ(claimed->next_id, "0-0");
}

TEST(RedisClientTest, MissingGroupIsRecognisableAndNamesTheStream) {
  RedisServer server;
  auto client = server.Client();
  ASSERT_TRUE(client->XAdd("messages:b", {{"k", "v"}}, 0).ok());
  auto read = client->XReadGroup("nogroup", "c", "messages:b", ">", 10, std::nullopt);
  EXPECT_TRUE(IsRedisNoGroupError(read.status())) << read.status();
  EXPECT_NE(std::string(read.status().message()).find("XREADGROUP messages:b: NOGROUP"),
            std::string::npos)
      << read.status();
  // After re-creating the group the same read works.
  ASSERT_TRUE(client->XGroupCreate("messages:b", "nogroup", "0", false).ok());
  auto again = client->XReadGroup("nogroup", "c", "messages:b", ">", 10, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->size(), 1u);
  EXPECT_FALSE(IsRedisNoGroupError(client->Command({"INCR", "messages:b"}).status()));
}

TEST(RedisClientTest, EmptyCommandIsRejectedBeforeSending) {
  RedisServer server;
  auto client = server.Client();
  auto r = client->Pipeline({{"PING"}, {}});
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_TRUE(client->Ping().ok());
}

TEST(RedisClientTest, UnixSocketDatabaseAndClientName) {
  TempDir dir;
  std::string sock = dir.File("redis.sock");
  RedisServer::Options o;
  o.extra_args = {"--unixsocket", sock, "--unixsocketperm", "700"};
  RedisServer server(o);
  auto ep = ParseRedisUrl("unix://" + sock + "?db=3");
  ASSERT_TRUE(ep.ok()) << ep.status();
  RedisClientOptions opts;
  opts.endpoint = *ep;
  opts.client_name = "egress-test";
  RedisClient client(opts);
  ASSERT_TRUE(client.SetEx("k", "in db 3", absl::Seconds(60)).ok());
  EXPECT_EQ(client.Command({"CLIENT", "GETNAME"})->str(), "egress-test");
  // Over TCP in db 0 the key is absent; in db 3 it is there.
  auto tcp = server.Client();
  EXPECT_FALSE(tcp->Get("k")->has_value());
  ASSERT_TRUE(tcp->Command({"SELECT", "3"}).ok());
  EXPECT_EQ(tcp->Get("k")->value_or(""), "in db 3");
}

TEST(RedisClientTest, FailsFastDuringBackoffNamingTheEndpoint) {
  RedisServer server;
  RedisClientOptions opts;
  opts.endpoint = server.endpoint();
  opts.reconnect_backoff_min = absl::Seconds(30);
  opts.reconnect_backoff_max = absl::Seconds(30);
  RedisClient client(opts);
  server.Stop();
  absl::Status first = client.Ping();  // a real (refused) attempt
  EXPECT_TRUE(absl::IsUnavailable(first)) << first;
  absl::Time start = absl::Now();
  absl::Status second = client.Ping();  // inside the backoff: no attempt
  // Loose: the message below is what tells "no attempt" from a refused one.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_TRUE(absl::IsUnavailable(second)) << second;
  EXPECT_NE(std::string(second.message()).find("retrying in"), std::string::npos) << second;
  EXPECT_NE(std::string(second.message()).find(server.endpoint().ToString()), std::string::npos)
      << second;
  // The backoff still runs after the server is back; a fresh client connects at once.
  server.Restart();
  EXPECT_TRUE(absl::IsUnavailable(client.Ping()));
  EXPECT_TRUE(server.Client()->Ping().ok());
}

TEST_P(RedisClientTransportTest, ServerKilledMidPipelineIsUnavailableThenRecovers) {
  RedisServer server(ServerOptions(/*persist=*/true));
  auto client = server.Client();
  ASSERT_TRUE(client->XAdd("s", {{"k", "v"}}, 0).ok());
  server.Kill();
  std::vector<std::vector<std::string>> cmds(100, RedisClient::XAddArgv("s", {{"k", "v"}}, 0));
  auto r = client->Pipeline(cmds);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("XADD s"), std::string::npos) << r.status();
  server.Restart();
  EXPECT_TRUE(WaitFor([&] { return client->Ping().ok(); }, absl::Seconds(5)));
  EXPECT_EQ(*client->XLen("s"), 1) << "the appendonly file kept the entry";
}

}  // namespace
}  // namespace teleclaude::mesh
