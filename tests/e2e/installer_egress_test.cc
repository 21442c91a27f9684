// End to end with real binaries: a redis-server, telec-egress and
// telec-installer, driven only through gRPC as a person (telec) and a peer
// (a cartridge.published event arriving from the mesh) would.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>

#include "common/grpc/channel.h"
#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/services/egress/lua/lua_hostile_cartridges.h"
#include "tests/services/installer/installer_fixtures.h"
#include "tests/services/installer/installer_test_util.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"
#include "tests/support/membership_pins.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::AliceKey;
using ::teleclaude::mesh::testing::ChildOptions;
using ::teleclaude::mesh::testing::ChildProcess;
using ::teleclaude::mesh::testing::FilesUnder;
using ::teleclaude::mesh::testing::FreeLoopbackPort;
using ::teleclaude::mesh::testing::kCleanLua;
using ::teleclaude::mesh::testing::kEvilLua;
using ::teleclaude::mesh::testing::PublishedPayload;
using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::SignedPayload;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class InstallerEgressE2eTest : public ::testing::Test {
 protected:
  std::filesystem::path data() const { return dir_.path() / "data"; }

  void Start(const std::string& level) {
    // alice, the author of the signed test payloads, is a known computer.
    std::filesystem::create_directories(data());
    ASSERT_TRUE(
        testing::PinPeerKey(data() / "membership.db", "alice", AliceKey().public_key()).ok());
    egress_addr_ = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    installer_addr_ = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    std::vector<std::string> common = {"--computer_name=me",
                                       "--redis_url=" + redis_.url(),
                                       "--data_dir=" + data().string(),
                                       "--egress_addr=" + egress_addr_,
                                       "--installer_addr=" + installer_addr_,
                                       "--cartridge_install=" + level};
    ChildOptions e;
    e.args = {TM_EGRESS_BIN};
    e.args.insert(e.args.end(), common.begin(), common.end());
    ChildOptions i;
    i.args = {TM_INSTALLER_BIN};
    i.args.insert(i.args.end(), common.begin(), common.end());
    // The installer first, so egress finds it at once (the installer's own
    // outbox waits for egress).
    auto ic = ChildProcess::Start(i);
    ASSERT_TRUE(ic.ok()) << ic.status();
    installer_ = *std::move(ic);
    stub_ = v1::Installer::NewStub(testing::ServiceChannel(installer_addr_, data()));
    ASSERT_TRUE(WaitFor(
        [&] {
          grpc::ClientContext c;
          c.set_wait_for_ready(true);
          c.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
          v1::GetStatsResponse s;
          return stub_->GetStats(&c, v1::GetStatsRequest(), &s).ok();
        },
        absl::Seconds(15)))
        << installer_->ReadLog();
    auto ec = ChildProcess::Start(e);
    ASSERT_TRUE(ec.ok()) << ec.status();
    egress_ = *std::move(ec);
    pipeline_ = v1::Pipeline::NewStub(testing::ServiceChannel(egress_addr_, data()));
    ASSERT_TRUE(WaitFor(
        [&] {
          grpc::ClientContext c1, c2;
          c2.set_wait_for_ready(true);
          c2.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
          v1::GetStatsResponse s;
          v1::StatsResponse p;
          return stub_->GetStats(&c1, v1::GetStatsRequest(), &s).ok() &&
                 pipeline_->Stats(&c2, v1::StatsRequest(), &p).ok();
        },
        absl::Seconds(15)))
        << egress_->ReadLog() << installer_->ReadLog();
  }

  // A cartridge.published event arriving from peer-b through the mesh.
  v1::EventOutcome Publish(const std::string& payload_json) {
    std::string envelope =
        "{\"event\":\"cartridge.published\",\"source\":\"peer-b\",\"level\":2,"
        "\"domain\":\"cartridge\",\"visibility\":\"public\",\"payload\":" +
        payload_json + "}";
    v1::SubmitRequest req;
    v1::SubmittedEvent* ev = req.add_events();
    ev->set_envelope_json(envelope);
    ev->set_origin(v1::ORIGIN_MESH);
    ev->set_source_computer("peer-b");
    grpc::ClientContext c;
    v1::SubmitResponse resp;
    grpc::Status s = pipeline_->Submit(&c, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.outcomes_size() > 0 ? resp.outcomes(0) : v1::EventOutcome();
  }

  std::vector<v1::Notification> Notifications(const std::string& type) {
    grpc::ClientContext c;
    v1::ListNotificationsRequest req;
    req.set_event_type_prefix(type);
    req.set_limit(100);
    v1::ListNotificationsResponse resp;
    EXPECT_TRUE(pipeline_->ListNotifications(&c, req, &resp).ok());
    std::vector<v1::Notification> out;
    for (const auto& n : resp.notifications()) {
      if (n.event_type() == type) out.push_back(n);
    }
    return out;
  }

  bool WaitNotifications(const std::string& type, size_t n) {
    return WaitFor([&] { return Notifications(type).size() >= n; }, absl::Seconds(10));
  }

  absl::StatusOr<v1::Cartridge> Get(const std::string& name) {
    grpc::ClientContext c;
    v1::GetCartridgeRequest req;
    req.set_name(name);
    v1::Cartridge out;
    grpc::Status s = stub_->GetCartridge(&c, req, &out);
    if (!s.ok()) return absl::NotFoundError(s.error_message());
    return out;
  }

  bool WaitStatus(const std::string& name, v1::CartridgeStatus status) {
    return WaitFor(
        [&] {
          auto c = Get(name);
          return c.ok() && c->status() == status;
        },
        absl::Seconds(10));
  }

  std::string Logs() { return egress_->ReadLog() + "\n----\n" + installer_->ReadLog(); }

  // The cartridges egress runs now (Pipeline.Stats); empty when it does not
  // answer.
  std::set<std::string> EgressCartridges() {
    grpc::ClientContext c;
    v1::StatsResponse s;
    std::set<std::string> names;
    if (!pipeline_->Stats(&c, v1::StatsRequest(), &s).ok()) return names;
    for (const auto& cc : s.cartridges()) names.insert(cc.name());
    return names;
  }

  RedisServer redis_;
  TempDir dir_;
  std::string egress_addr_, installer_addr_;
  std::unique_ptr<ChildProcess> egress_, installer_;
  std::unique_ptr<v1::Pipeline::Stub> pipeline_;
  std::unique_ptr<v1::Installer::Stub> stub_;
};

TEST_F(InstallerEgressE2eTest, L1PendsUntilTheNotificationIsResolvedThenEgressRunsIt) {
  Start("L1");
  Publish(PublishedPayload("ping", kCleanLua));
  ASSERT_TRUE(WaitNotifications("cartridge.install_pending", 1)) << Logs();
  v1::Notification pending = Notifications("cartridge.install_pending")[0];
  EXPECT_TRUE(pending.actionable());
  EXPECT_EQ(json::GetMemberString(pending.payload_json(), "approve_command"),
            "telec cartridges activate ping");
  ASSERT_TRUE(WaitStatus("ping", v1::CARTRIDGE_STATUS_PENDING));
  EXPECT_THAT(FilesUnder(data() / "cartridges"), ElementsAre("incoming/ping.lua"));
  EXPECT_THAT(Notifications("cartridge.installed"), IsEmpty());

  // The person resolves the notification in egress: the installer activates.
  {
    grpc::ClientContext c;
    v1::ResolveNotificationRequest req;
    req.set_id(pending.id());
    req.set_resolution_json("{\"decision\":\"approve\"}");
    v1::Notification out;
    grpc::Status s = pipeline_->ResolveNotification(&c, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(WaitStatus("ping", v1::CARTRIDGE_STATUS_ACTIVE)) << Logs();
  ASSERT_TRUE(WaitNotifications("cartridge.installed", 1)) << Logs();
  EXPECT_THAT(FilesUnder(data() / "cartridges"), ElementsAre("ping.lua"));
  auto ping = Get("ping");
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->decided_by(), "notification:" + std::to_string(pending.id()));
  std::vector<std::string> audit;
  for (const auto& a : ping->audit()) audit.push_back(a.action());
  // Unsigned from peer-b: pending at L1 anyway, and audited as unverified.
  EXPECT_THAT(audit, ElementsAre("received", "unverified", "activated"));
  // Egress reloaded its set and runs the cartridge.
  ASSERT_TRUE(WaitFor([&] { return EgressCartridges().count("ping") == 1; }, absl::Seconds(10)))
      << Logs();
}

TEST_F(InstallerEgressE2eTest, L2ApprovesCleanAndDeniesOsExecute) {
  Start("L2");
  // Signed by alice (pinned): the guardian decides.
  Publish(SignedPayload("clean", kCleanLua));
  Publish(SignedPayload("evil", kEvilLua, "2.0.0"));
  ASSERT_TRUE(WaitNotifications("cartridge.installed", 1)) << Logs();
  ASSERT_TRUE(WaitNotifications("cartridge.install_notified", 1)) << Logs();
  ASSERT_TRUE(WaitNotifications("cartridge.install_pending", 1)) << Logs();
  v1::Notification pending = Notifications("cartridge.install_pending")[0];
  EXPECT_EQ(json::GetMemberString(pending.payload_json(), "name"), "evil");
  EXPECT_THAT(json::GetMemberString(pending.payload_json(), "reason").value_or(""),
              HasSubstr("`os`"));
  EXPECT_EQ(Get("clean")->status(), v1::CARTRIDGE_STATUS_ACTIVE);
  EXPECT_EQ(Get("evil")->status(), v1::CARTRIDGE_STATUS_PENDING);
}

TEST_F(InstallerEgressE2eTest, L3ActivatesAtOnceAndRefusesTraversalAndOversize) {
  Start("L3");
  // Versions differ: egress de-duplicates cartridge.published by author,
  // event_type and version.
  Publish(PublishedPayload("../../x", kCleanLua, "0.0.1"));
  Publish(PublishedPayload("big", std::string(300 * 1024, 'a'), "0.0.2"));
  Publish(SignedPayload("ping", kCleanLua));
  Publish(SignedPayload("ping", kCleanLua));  // the same again: installed once
  ASSERT_TRUE(WaitNotifications("cartridge.install_failed", 2)) << Logs();
  ASSERT_TRUE(WaitNotifications("cartridge.installed", 1)) << Logs();
  EXPECT_EQ(Get("ping")->status(), v1::CARTRIDGE_STATUS_ACTIVE);
  EXPECT_THAT(FilesUnder(data() / "cartridges"), ElementsAre("ping.lua"));
  std::vector<std::string> fields;
  for (const auto& n : Notifications("cartridge.install_failed")) {
    fields.push_back(json::GetMemberString(n.payload_json(), "field").value_or("?"));
  }
  std::sort(fields.begin(), fields.end());
  EXPECT_THAT(fields, ElementsAre("code", "name"));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Notifications("cartridge.installed").size(), 1u);

  // Egress runs it; its invocation batches reach the installer, which
  // suggests promotion once at the threshold (10) and never for system
  // cartridges.
  ASSERT_TRUE(WaitFor([&] { return EgressCartridges().count("ping") == 1; }, absl::Seconds(10)))
      << Logs();
  v1::SubmitRequest req;
  for (int i = 0; i < 25; ++i) {
    v1::SubmittedEvent* ev = req.add_events();
    ev->set_envelope_json(
        "{\"event\":\"demo.ping\",\"source\":\"me\",\"level\":1,"
        "\"payload\":{\"n\":" +
        std::to_string(i) + "}}");
  }
  {
    grpc::ClientContext c;
    v1::SubmitResponse resp;
    ASSERT_TRUE(pipeline_->Submit(&c, req, &resp).ok());
  }
  ASSERT_TRUE(WaitNotifications("cartridge.promotion_suggested", 1)) << Logs();
  ASSERT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext c;
        v1::GetStatsResponse s;
        if (!stub_->GetStats(&c, v1::GetStatsRequest(), &s).ok()) return false;
        for (const auto& st : s.stats()) {
          if (st.cartridge_name() == "ping") return st.invocation_count() >= 25;
        }
        return false;
      },
      absl::Seconds(10)))
      << Logs();
  auto promoted = Notifications("cartridge.promotion_suggested");
  ASSERT_EQ(promoted.size(), 1u);
  EXPECT_EQ(json::GetMemberString(promoted[0].payload_json(), "cartridge_name"), "ping");
}

// Hostile cartridges in the real egress binary (issues 7 and 18): each is
// contained by its limits, whatever it calls (the sort bomb and its
// relatives: lua_hostile_cartridges.h), the pipeline keeps processing other
// events with each call ending within the wall-time budget plus the stated
// bound, each is suspended after repeated failures with one notification,
// and the process memory stays bounded.
TEST_F(InstallerEgressE2eTest, HostileCartridgesAreContainedAndSuspendedInTheRealEgress) {
  Start("L3");
  std::vector<std::pair<std::string, std::string>> hostile = {
      {"spin", "function process(e) while true do end end"},
      {"hog", "function process(e) local s = string.rep('x', 1e9) return e end"},
      {"escape", "function process(e) os.execute('true') return e end"},
      {"numeric", "function process(e) return 42 end"},
      // Backtracking inside one string.find call: the metered matcher
      // charges it to the instruction budget.
      {"backtrack",
       "function process(e) local r = ('a'):rep(5000):find(('a*'):rep(3) .. 'b') return e end"},
  };
  for (const HostileCartridge& c : kHostileCartridges) hostile.emplace_back(c.name, c.source);
  int version = 0;
  for (const auto& [name, code] : hostile) {
    Publish(SignedPayload(name, code, "9.0." + std::to_string(version++)));
  }
  // Each became active; one activated early may already be suspended by
  // the cartridge.* events of the later publishes (each fails on every
  // event), so either state counts here.
  for (const auto& [name, code] : hostile) {
    ASSERT_TRUE(WaitFor(
        [&] {
          absl::StatusOr<v1::Cartridge> c = Get(name);
          return c.ok() && (c->status() == v1::CARTRIDGE_STATUS_ACTIVE ||
                            c->status() == v1::CARTRIDGE_STATUS_SUSPENDED);
        },
        absl::Seconds(10)))
        << name << "\n"
        << Logs();
  }
  // Egress has loaded them all.
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::set<std::string> running = EgressCartridges();
        int loaded = 0;
        for (const auto& [name, code] : hostile) loaded += running.count(name);
        return loaded == static_cast<int>(hostile.size());
      },
      absl::Seconds(10)))
      << Logs();
  auto submit = [&](int from, int count) {
    v1::SubmitRequest req;
    for (int i = from; i < from + count; ++i) {
      v1::SubmittedEvent* ev = req.add_events();
      ev->set_envelope_json(R"({"event":"demo.ping","source":"me","level":1,"payload":{"n":)" +
                            std::to_string(i) + "}}");
    }
    grpc::ClientContext c;
    c.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::SubmitResponse resp;
    grpc::Status s = pipeline_->Submit(&c, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    int processed = 0;
    for (const auto& o : resp.outcomes()) processed += o.status() == v1::OUTCOME_PROCESSED;
    return processed;
  };
  // Every event gets through although each hostile cartridge fails on it,
  // and no call holds the pipeline: an event through all of them takes at
  // most their number times (50 ms + the bound), on a machine that lets
  // the pipeline thread run; asserted loosely (2 s each: the 1 s cap on a
  // call kept waiting for a CPU, and as much for the state's rebuild). (Before issue 18 the sort
  // bomb alone held the worker ~15.6 s per event.) Events go in one at a time until every hostile
  // cartridge is suspended (each activation reloads the set, which starts the count of consecutive
  // failures again).
  const auto per_cartridge = std::chrono::seconds(2);
  std::set<std::string> running;
  for (const auto& [name, code] : hostile) running.insert(name);
  std::vector<double> milliseconds;
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  for (int i = 0; !running.empty() && absl::Now() < give_up; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(submit(i, 1), 1) << Logs();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    milliseconds.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
    EXPECT_LT(elapsed, per_cartridge * static_cast<int>(hostile.size()));
    for (auto it = running.begin(); it != running.end();) {
      absl::StatusOr<v1::Cartridge> c = Get(*it);
      it = c.ok() && c->status() == v1::CARTRIDGE_STATUS_SUSPENDED ? running.erase(it)
                                                                   : std::next(it);
    }
  }
  EXPECT_THAT(running, IsEmpty()) << Logs();
  std::sort(milliseconds.begin(), milliseconds.end());
  ASSERT_FALSE(milliseconds.empty());
  std::cout << milliseconds.size() << " events through " << hostile.size()
            << " hostile cartridges until all were suspended; the slowest took "
            << milliseconds.back() << " ms (the fastest " << milliseconds.front() << " ms)\n";
  // One notification per suspension, though egress and the installer both
  // report it.
  ASSERT_TRUE(WaitNotifications("cartridge.suspended", hostile.size())) << Logs();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Notifications("cartridge.suspended").size(), hostile.size());
  // Suspended cartridges no longer run: a larger batch goes straight through.
  EXPECT_EQ(submit(100, 200), 200) << Logs();
  // The memory bomb was capped inside its own Lua state.
  std::ifstream status("/proc/" + std::to_string(egress_->pid()) + "/status");
  std::string line;
  int64_t rss_kb = -1;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) rss_kb = std::stoll(line.substr(6));
  }
  ASSERT_GT(rss_kb, 0);
  std::cout << "peak RSS of telec-egress: " << rss_kb / 1024 << " MiB\n";
  EXPECT_LT(rss_kb, 256 * 1024) << "peak RSS of telec-egress in KiB";
}

}  // namespace
}  // namespace teleclaude::mesh
