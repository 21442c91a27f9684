// InstallerTransport (the push outbox's transport) against a real gRPC
// Installer service on loopback: a round's pushes go in one
// OnNotification call; the installer away is a retryable error (nothing
// settled); a batch the installer refuses for good is sent again push by
// push, so only the push it refuses is dropped; a stored body that does not
// decode is refused without a call.
#include "services/egress/delivery/installer_transport.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/base/strings.h"
#include "common/grpc/grpc_server.h"
#include "gtest/gtest.h"
#include "services/egress/delivery/installer_push.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "tests/support/free_port.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::FreeLoopbackPort;
using testing::WaitFor;

// Records every call; refuses (INVALID_ARGUMENT, the whole call, applying
// nothing) any request holding a push whose id contains "bad" — as the real
// installer refuses a request with one unreadable push.
class ScriptedInstaller final : public v1::Installer::Service {
 public:
  grpc::Status OnNotification(grpc::ServerContext*, const v1::OnNotificationRequest* request,
                              v1::OnNotificationResponse*) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& p : request->pushes()) ids.push_back(p.push_id());
    calls_.push_back(ids);
    for (const std::string& id : ids) {
      if (absl::StrContains(id, "bad")) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            Cat("pushes[0].envelope.payload_json: not valid JSON (", id, ")"));
      }
    }
    applied_.insert(applied_.end(), ids.begin(), ids.end());
    return grpc::Status::OK;
  }
  std::vector<std::vector<std::string>> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> applied_ ABSL_GUARDED_BY(mu_);
};

std::string Body(const std::string& push_id) {
  v1::NotificationPush push;
  push.set_push_id(push_id);
  push.set_event_type("cartridge.published");
  std::string bytes;
  push.SerializeToString(&bytes);
  return absl::Base64Escape(bytes);
}

class InstallerTransportTest : public ::testing::Test {
 protected:
  InstallerTransportTest()
      : addr_(Cat("127.0.0.1:", FreeLoopbackPort())),
        client_(addr_, absl::Seconds(2), ChannelOptions{}),
        transport_(&client_) {}

  void StartInstaller() {
    auto server = GrpcServer::Start(addr_, {&installer_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Sends pushes with these ids (an id "undecodable" gets a body that is
  // not a push); returns "OK"/the code per settled push, then "error: ..."
  // when the rest failed.
  std::vector<std::string> Send(const std::vector<std::string>& ids) {
    std::vector<std::string> bodies;
    for (const std::string& id : ids) bodies.push_back(id == "undecodable" ? "%%%" : Body(id));
    std::vector<OutboxDelivery> deliveries;
    for (size_t i = 0; i < ids.size(); ++i) {
      deliveries.push_back({.destination = kInstallerDestination,
                            .message_id = ids[i],
                            .message_id_suffix = {},
                            .body = bodies[i],
                            .seq = static_cast<int64_t>(i + 1)});
    }
    OutboxSendResult r = transport_.Send(deliveries);
    std::vector<std::string> out;
    for (const absl::Status& s : r.statuses) {
      out.push_back(s.ok() ? "OK" : std::string(absl::StatusCodeToString(s.code())));
    }
    if (!r.error.ok()) out.push_back(Cat("error: ", absl::StatusCodeToString(r.error.code())));
    return out;
  }

  std::string addr_;
  InstallerClient client_;
  InstallerTransport transport_;
  ScriptedInstaller installer_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(InstallerTransportTest, ARoundGoesInOneCall) {
  StartInstaller();
  EXPECT_EQ(Send({"p1", "p2", "p3"}), (std::vector<std::string>{"OK", "OK", "OK"}));
  EXPECT_EQ(installer_.calls(), (std::vector<std::vector<std::string>>{{"p1", "p2", "p3"}}));
  EXPECT_EQ(installer_.applied(), (std::vector<std::string>{"p1", "p2", "p3"}));
}

TEST_F(InstallerTransportTest, TheInstallerAwaySettlesNothing) {
  // Nothing listens on the address: UNAVAILABLE, every push offered again.
  EXPECT_EQ(Send({"p1", "p2"}), (std::vector<std::string>{"error: UNAVAILABLE"}));
  StartInstaller();
  // The channel finds the installer after its reconnect backoff (the
  // sender retries the same way).
  std::vector<std::string> last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = Send({"p1", "p2"});
        return last != std::vector<std::string>{"error: UNAVAILABLE"};
      },
      absl::Seconds(10)));
  EXPECT_EQ(last, (std::vector<std::string>{"OK", "OK"}));
  EXPECT_EQ(installer_.applied(), (std::vector<std::string>{"p1", "p2"}));
}

TEST_F(InstallerTransportTest, ABatchRefusedForGoodIsSentPushByPushDroppingOnlyTheBadOne) {
  StartInstaller();
  EXPECT_EQ(Send({"p1", "bad2", "p3"}), (std::vector<std::string>{"OK", "INVALID_ARGUMENT", "OK"}));
  EXPECT_EQ(installer_.calls(), (std::vector<std::vector<std::string>>{
                                    {"p1", "bad2", "p3"}, {"p1"}, {"bad2"}, {"p3"}}));
  EXPECT_EQ(installer_.applied(), (std::vector<std::string>{"p1", "p3"}));
}

TEST_F(InstallerTransportTest, AnUndecodableBodyIsRefusedWithoutACall) {
  StartInstaller();
  EXPECT_EQ(Send({"undecodable", "p2"}), (std::vector<std::string>{"DATA_LOSS", "OK"}));
  EXPECT_EQ(installer_.calls(), (std::vector<std::vector<std::string>>{{"p2"}}));
  EXPECT_EQ(Send({"undecodable"}), (std::vector<std::string>{"DATA_LOSS"}));
  EXPECT_EQ(installer_.calls().size(), 1u);
  // Away: the undecodable ones before the first push are settled, the rest
  // offered again.
  server_->Shutdown(absl::ZeroDuration());
  server_->Wait();
  server_.reset();
  EXPECT_EQ(Send({"undecodable", "p3", "undecodable"}),
            (std::vector<std::string>{"DATA_LOSS", "error: UNAVAILABLE"}));
}

}  // namespace
}  // namespace teleclaude::mesh
