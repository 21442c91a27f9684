// MeshSender against a real redis-server (tests/support): the XADD argv it
// builds is exactly the mesh message of doc/wire.md, every pending delivery
// goes out with its own message id, each peer's messages stay in order over
// several connections, Room() is what a peer's inbox has room for (flow
// control, per peer), and WRONGTYPE refuses only that message.
#include "services/egress/delivery/mesh_sender.h"

#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "common/mesh/mesh_message.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;

TEST(AssignMeshXAddArgvTest, IsTheXAddOfTheEncodedMeshMessage) {
  for (int64_t maxlen : {int64_t{0}, int64_t{10000}}) {
    std::vector<std::string> argv;
    AssignMeshXAddArgv("beta", maxlen, R"({"event":"a"})", "alpha", "alpha/k1/", "beta",
                       /*same_frame=*/false, &argv);
    EXPECT_EQ(argv, RedisClient::XAddArgv(
                        MeshStreamKey("beta"),
                        EncodeMeshMessage(R"({"event":"a"})", "alpha", "alpha/k1/beta"), maxlen));
    // Reused for another message: only what differs is rewritten.
    AssignMeshXAddArgv("gamma-longer-name", maxlen, R"({"event":"bb"})", "alpha", "alpha/k2/",
                       "gamma-longer-name", /*same_frame=*/true, &argv);
    EXPECT_EQ(argv, RedisClient::XAddArgv(MeshStreamKey("gamma-longer-name"),
                                          EncodeMeshMessage(R"({"event":"bb"})", "alpha",
                                                            "alpha/k2/gamma-longer-name"),
                                          maxlen));
  }
}

class MeshSenderTest : public ::testing::Test {
 protected:
  MeshSenderTest() : client_(redis_.Client()) {}

  std::unique_ptr<MeshSender> Sender(int64_t maxlen, int depth) {
    return std::make_unique<MeshSender>(MeshSender::Options{"alpha", maxlen, depth},
                                        redis_.ClientOptions());
  }

  // "message id <- payload" of each entry of messages:{peer}, oldest first.
  std::vector<std::string> Inbox(const std::string& peer) {
    auto reply = client_->Command({"XRANGE", MeshStreamKey(peer), "-", "+"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> out;
    if (!reply.ok()) return out;
    for (const StreamEntry& e : RedisClient::ParseEntries(*reply)) {
      MeshMessage m = ParseMeshMessage(e.fields);
      if (!m.message_id.has_value()) {  // not a mesh message (set up by the test)
        out.push_back("other");
        continue;
      }
      EXPECT_EQ(m.type, std::string(kMeshEventType));
      EXPECT_EQ(m.source_computer, "alpha");
      out.push_back(Cat(*m.message_id, " <- ", m.payload.value_or("?")));
    }
    return out;
  }

  // The deliveries of each (key, peers) in order: message id
  // alpha/{key}/{peer}, body {"key":"{key}"}. The strings live in the test.
  std::vector<OutboxDelivery> Messages(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& rows) {
    std::vector<OutboxDelivery> out;
    for (const auto& [key, peers] : rows) {
      const std::string& prefix = strings_.emplace_back(Cat("alpha/", key, "/"));
      const std::string& body = strings_.emplace_back(Cat("{\"key\":\"", key, "\"}"));
      for (const std::string& peer : peers) {
        const std::string& name = strings_.emplace_back(peer);
        out.push_back(OutboxDelivery{name, prefix, name, body, static_cast<int64_t>(out.size())});
      }
    }
    return out;
  }

  RedisServer redis_{RedisServer::Options{}};
  std::unique_ptr<RedisClient> client_;
  std::deque<std::string> strings_;
};

TEST_F(MeshSenderTest, SendsEveryPendingDeliveryWithItsOwnMessageId) {
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/2);  // several round trips
  OutboxSendResult result =
      sender->Send(Messages({{"k1", {"gamma"}}, {"k2", {"beta", "gamma"}}, {"k3", {"gamma"}}}));
  ASSERT_TRUE(result.error.ok()) << result.error;
  ASSERT_EQ(result.statuses.size(), 4u);
  for (const absl::Status& s : result.statuses) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Inbox("beta"), (std::vector<std::string>{"alpha/k2/beta <- {\"key\":\"k2\"}"}));
  EXPECT_EQ(Inbox("gamma"), (std::vector<std::string>{"alpha/k1/gamma <- {\"key\":\"k1\"}",
                                                      "alpha/k2/gamma <- {\"key\":\"k2\"}",
                                                      "alpha/k3/gamma <- {\"key\":\"k3\"}"}));
  EXPECT_EQ(sender->Forwarded(), (std::map<std::string, int64_t>{{"beta", 1}, {"gamma", 3}}));
}

TEST_F(MeshSenderTest, EveryPeerGetsItsMessagesInOrderAcrossLanes) {
  auto sender = std::make_unique<MeshSender>(
      MeshSender::Options{"alpha", /*stream_maxlen=*/1000, /*pipeline_depth=*/3, /*lanes=*/3},
      redis_.ClientOptions());
  const std::vector<std::string> peers = {"p0", "p1", "p2", "p3", "p4"};
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  for (int i = 0; i < 20; ++i) rows.emplace_back(Cat("k", i), peers);
  OutboxSendResult result = sender->Send(Messages(rows));
  ASSERT_TRUE(result.error.ok()) << result.error;
  EXPECT_EQ(result.statuses.size(), 100u);
  for (const std::string& peer : peers) {
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
      expected.push_back(Cat("alpha/k", i, "/", peer, " <- {\"key\":\"k", i, "\"}"));
    }
    EXPECT_EQ(Inbox(peer), expected) << peer;
  }
  std::map<std::string, int64_t> forwarded;
  for (const std::string& peer : peers) forwarded[peer] = 20;
  EXPECT_EQ(sender->Forwarded(), forwarded);
}

TEST_F(MeshSenderTest, RoomIsWhatAPeersInboxHoldsBelowMaxlenPerPeer) {
  // beta runs our ingress: its group has 2 unread messages of maxlen 3.
  ASSERT_TRUE(client_->XGroupCreate(MeshStreamKey("beta"), kMeshIngressGroup, "$", true).ok());
  ASSERT_TRUE(client_->XAdd(MeshStreamKey("beta"), {{"n", "1"}}, 0).ok());
  ASSERT_TRUE(client_->XAdd(MeshStreamKey("beta"), {{"n", "2"}}, 0).ok());
  auto sender = Sender(/*maxlen=*/3, /*depth=*/256);
  // gamma has no stream (no reader to overrun): no limit.
  auto room = sender->Room({"gamma", "beta"});
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(*room, (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), 1}));
  ASSERT_TRUE(sender->Send(Messages({{"k1", {"gamma", "beta"}}})).error.ok());
  EXPECT_EQ(Inbox("beta"),
            (std::vector<std::string>{"other", "other", "alpha/k1/beta <- {\"key\":\"k1\"}"}));
  room = sender->Room({"beta"});
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(*room, std::vector<int64_t>{0});  // full: the sender holds beta back
  // beta's reader reads everything but has not acknowledged it yet.
  ASSERT_TRUE(client_
                  ->Command({"XREADGROUP", "GROUP", std::string(kMeshIngressGroup), "c", "STREAMS",
                             MeshStreamKey("beta"), ">"})
                  .ok());
  room = sender->Room({"beta"});
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(*room, std::vector<int64_t>{0});  // read but still pending: no room yet
}

TEST_F(MeshSenderTest, WrongTypeRefusesOnlyThatMessage) {
  ASSERT_TRUE(client_->Command({"SET", MeshStreamKey("delta"), "not a stream"}).ok());
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/256);
  OutboxSendResult result = sender->Send(Messages({{"k1", {"beta", "delta", "gamma"}}}));
  ASSERT_TRUE(result.error.ok()) << result.error;
  const std::vector<absl::Status>& statuses = result.statuses;
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(statuses[1].message().find("WRONGTYPE"), std::string::npos);
  EXPECT_TRUE(statuses[2].ok());
  EXPECT_EQ(sender->Forwarded(), (std::map<std::string, int64_t>{{"beta", 1}, {"gamma", 1}}));
}

TEST_F(MeshSenderTest, RedisDownFailsTheBatch) {
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/256);
  redis_.Stop();
  OutboxSendResult result = sender->Send(Messages({{"k1", {"beta"}}}));
  EXPECT_EQ(result.error.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(result.statuses.empty());  // nothing counts as sent
  EXPECT_EQ(sender->Room({"beta"}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace teleclaude::mesh
