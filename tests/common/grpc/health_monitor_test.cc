#include "common/grpc/health_monitor.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "common/grpc/database_probe.h"
#include "common/grpc/peer_service_probe.h"
#include "common/grpc/redis_probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/grpc/grpc_probe.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::HealthCheck;
using ::teleclaude::mesh::testing::HealthStatus;
using ::testing::HasSubstr;

HealthMonitorOptions Fast() {
  return HealthMonitorOptions{.program = "health_monitor_test",
                              .interval = absl::Milliseconds(100)};
}

// A real redis-server killed and restarted under a real gRPC server: health
// follows it both ways, and the Readiness report says why.
TEST(HealthMonitorTest, NotServingWhileRedisIsDownAndBackAfter) {
  testing::RedisServer redis;
  HealthMonitor monitor(Fast());
  monitor.Add(std::make_unique<RedisProbe>(redis.ClientOptions()), absl::ZeroDuration());
  monitor.CheckNow();
  ASSERT_TRUE(monitor.serving());
  auto server = GrpcServer::Start("127.0.0.1:0", {monitor.service()}, {});
  ASSERT_TRUE(server.ok()) << server.status();
  monitor.Start(server->get());
  auto channel = MakeChannel((*server)->target());
  EXPECT_EQ(*HealthCheck(channel, ""), HealthStatus::kServing);
  v1::GetReadinessResponse report = monitor.Report();
  ASSERT_EQ(report.probes_size(), 1);
  EXPECT_EQ(report.probes(0).name(), "redis");
  EXPECT_TRUE(report.probes(0).ok());
  EXPECT_GT(report.probes(0).round_trip_us(), 0);

  redis.Kill();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return HealthCheck(channel, "").value_or(HealthStatus::kUnknown) ==
               HealthStatus::kNotServing;
      },
      absl::Seconds(15)));
  report = monitor.Report();
  EXPECT_FALSE(report.serving());
  EXPECT_FALSE(report.probes(0).ok());
  EXPECT_TRUE(report.probes(0).failing());
  EXPECT_NE(report.probes(0).error(), "");
  EXPECT_NE(report.probes(0).failing_since(), "");

  redis.Restart();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return HealthCheck(channel, "").value_or(HealthStatus::kUnknown) == HealthStatus::kServing;
      },
      absl::Seconds(15)));
  EXPECT_TRUE(monitor.Report().probes(0).ok());
  monitor.Stop();
  (*server)->Shutdown(absl::Seconds(1));
}

// A peer service that does not answer is tolerated for its grace period
// (start order), and not after it.
TEST(HealthMonitorTest, PeerServiceDownCountsOnlyAfterItsGrace) {
  const std::string nowhere = absl::StrCat("127.0.0.1:", testing::FreeLoopbackPort());
  HealthMonitor patient(Fast());
  patient.Add(std::make_unique<PeerServiceProbe>("installer", nowhere, absl::Milliseconds(300)),
              absl::Hours(1));
  patient.CheckNow();
  EXPECT_TRUE(patient.serving());
  v1::GetReadinessResponse report = patient.Report();
  EXPECT_FALSE(report.probes(0).ok());
  EXPECT_FALSE(report.probes(0).failing());
  EXPECT_THAT(report.probes(0).error(), HasSubstr(absl::StrCat("installer at ", nowhere)));

  HealthMonitor strict(Fast());
  strict.Add(std::make_unique<PeerServiceProbe>("installer", nowhere, absl::Milliseconds(300)),
             absl::ZeroDuration());
  strict.CheckNow();
  EXPECT_FALSE(strict.serving());

  // A peer that answers (even NOT_SERVING) is up.
  GrpcServerOptions not_serving;
  not_serving.serving_at_start = false;
  HealthMonitor idle(Fast());
  auto peer = GrpcServer::Start("127.0.0.1:0", {idle.service()}, not_serving);
  ASSERT_TRUE(peer.ok()) << peer.status();
  HealthMonitor needs_peer(Fast());
  needs_peer.Add(std::make_unique<PeerServiceProbe>("egress", (*peer)->target()),
                 absl::ZeroDuration());
  needs_peer.CheckNow();
  EXPECT_TRUE(needs_peer.serving()) << needs_peer.Report().probes(0).error();
  (*peer)->Shutdown(absl::Seconds(1));
}

TEST(HealthMonitorTest, DatabaseProbeNeedsAWritableExistingFile) {
  testing::TempDir dir;
  const std::string path = dir.File("events.db");
  DatabaseProbe probe({.name = "events.db", .path = path});
  absl::Status missing = probe.Check();
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr(absl::StrCat(path, " cannot be opened")));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_TRUE(probe.Check().ok());
  // Another writer holding the lock past the probe's timeout.
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  DatabaseProbe quick({.name = "events.db", .path = path, .timeout = absl::Milliseconds(50)});
  absl::Status locked = quick.Check();
  EXPECT_THAT(locked.message(), HasSubstr("is locked by another writer"));
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(std::filesystem::file_size(path) > 0, true);
}

}  // namespace
}  // namespace teleclaude::mesh
