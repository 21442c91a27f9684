// MeshSender against a real redis-server (tests/support): the XADD argv it
// builds is exactly the mesh message of doc/wire.md, every pending delivery
// goes out with its own message id, each peer's messages stay in order over
// several connections, flow control holds back what a peer's inbox has no
// room for, and WRONGTYPE refuses only that message.
#include "services/egress/delivery/mesh_sender.h"

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

OutboxRow Row(int64_t id, std::string key, std::vector<std::string> peers, int64_t done = 0) {
  OutboxRow r;
  r.id = id;
  r.kind = OutboxKind::kMesh;
  r.destinations = std::move(peers);
  r.done = done;
  r.message_id = Cat("alpha/", key, "/");
  r.body = Cat("{\"key\":\"", key, "\"}");
  return r;
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

  RedisServer redis_{RedisServer::Options{}};
  std::unique_ptr<RedisClient> client_;
};

TEST_F(MeshSenderTest, SendsEveryPendingDeliveryWithItsOwnMessageId) {
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/2);  // several round trips
  std::vector<OutboxRow> rows = {Row(1, "k1", {"beta", "gamma"}, /*done=*/1),
                                 Row(2, "k2", {"beta", "gamma"}), Row(3, "k3", {"gamma"})};
  auto statuses = sender->Send(rows);
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  ASSERT_EQ(statuses->size(), 4u);
  for (const absl::Status& s : *statuses) EXPECT_TRUE(s.ok()) << s;
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
  std::vector<OutboxRow> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(Row(i + 1, Cat("k", i), peers));
  auto statuses = sender->Send(rows);
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  EXPECT_EQ(statuses->size(), 100u);
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

TEST_F(MeshSenderTest, FlowControlSendsOnlyWhatAPeersInboxHasRoomFor) {
  // beta runs our ingress: its group has 2 unread messages of maxlen 3.
  ASSERT_TRUE(client_->XGroupCreate(MeshStreamKey("beta"), kMeshIngressGroup, "$", true).ok());
  ASSERT_TRUE(client_->XAdd(MeshStreamKey("beta"), {{"n", "1"}}, 0).ok());
  ASSERT_TRUE(client_->XAdd(MeshStreamKey("beta"), {{"n", "2"}}, 0).ok());
  auto sender = Sender(/*maxlen=*/3, /*depth=*/256);
  std::vector<OutboxRow> rows = {Row(1, "k1", {"gamma", "beta"}), Row(2, "k2", {"gamma", "beta"}),
                                 Row(3, "k3", {"gamma", "beta"})};
  auto statuses = sender->Send(rows);
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  // k1 to both, then k2 to gamma; k2 to beta would overrun beta's inbox.
  EXPECT_EQ(statuses->size(), 3u);
  EXPECT_EQ(Inbox("gamma"), (std::vector<std::string>{"alpha/k1/gamma <- {\"key\":\"k1\"}",
                                                      "alpha/k2/gamma <- {\"key\":\"k2\"}"}));
  EXPECT_EQ(Inbox("beta"),
            (std::vector<std::string>{"other", "other", "alpha/k1/beta <- {\"key\":\"k1\"}"}));
  // No room at all: nothing is attempted.
  auto none = sender->Send({Row(2, "k2", {"gamma", "beta"}, /*done=*/1)});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(MeshSenderTest, WrongTypeRefusesOnlyThatMessage) {
  ASSERT_TRUE(client_->Command({"SET", MeshStreamKey("delta"), "not a stream"}).ok());
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/256);
  auto statuses = sender->Send({Row(1, "k1", {"beta", "delta", "gamma"})});
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  ASSERT_EQ(statuses->size(), 3u);
  EXPECT_TRUE((*statuses)[0].ok());
  EXPECT_EQ((*statuses)[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE((*statuses)[1].message().find("WRONGTYPE"), std::string::npos);
  EXPECT_TRUE((*statuses)[2].ok());
  EXPECT_EQ(sender->Forwarded(), (std::map<std::string, int64_t>{{"beta", 1}, {"gamma", 1}}));
}

TEST_F(MeshSenderTest, RedisDownFailsTheBatch) {
  auto sender = Sender(/*maxlen=*/1000, /*depth=*/256);
  redis_.Stop();
  auto statuses = sender->Send({Row(1, "k1", {"beta"})});
  EXPECT_EQ(statuses.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace teleclaude::mesh
