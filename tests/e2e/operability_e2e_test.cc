// Issue 17 on one computer's real binaries and a real redis-server: health
// that notices Redis (killed and restarted under the running services, seen
// through `telec health` and `telec status`) and the Prometheus endpoint
// (`--metrics_addr`) scraped with a real HTTP GET while events flow.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// GET http://127.0.0.1:PORT/PATH (HTTP/1.0: the server closes the
// connection after the answer); "" when nothing answers.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

// The value of the first sample line `series` (name and labels as printed),
// -1 when absent.
double Sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  at += 1 + prefix.size();
  double value = -1;
  if (!absl::SimpleAtod(text.substr(at, text.find('\n', at) - at), &value)) return -1;
  return value;
}

TEST(OperabilityE2eTest, HealthFollowsRedisAndMetricsMoveWithEvents) {
  testing::RedisServer redis;
  const int metrics_port = testing::FreeLoopbackPort();
  ComputerOptions options;
  options.name = "solo";
  options.redis_url = redis.url();
  options.service_flags["egress"] = {absl::StrCat("--metrics_addr=127.0.0.1:", metrics_port)};
  Computer computer(options);
  ASSERT_TRUE(computer.Launch().ok());
  absl::Status ready = computer.AwaitReady(absl::Seconds(60));
  ASSERT_TRUE(ready.ok()) << ready;

  // Metrics: the endpoint answers, and the counters move with the events.
  std::string before = HttpGet(metrics_port, "/metrics");
  ASSERT_THAT(before, HasSubstr("200 OK")) << before;
  EXPECT_EQ(Sample(before, "teleclaude_serving"), 1) << before;
  EXPECT_EQ(Sample(before, "teleclaude_dependency_up{dependency=\"redis\"}"), 1) << before;
  const double processed = Sample(before, "teleclaude_egress_inputs_processed_total");
  ASSERT_GE(processed, 0) << before;
  for (int i = 0; i < 3; ++i) {
    auto r = computer.Telec(
        {"events", "emit", "ops.metrics.test", "--payload", absl::StrCat("{\"n\":", i, "}")});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->err;
  }
  std::string after = HttpGet(metrics_port, "/metrics");
  EXPECT_GE(Sample(after, "teleclaude_egress_inputs_processed_total"), processed + 3) << after;
  EXPECT_GE(Sample(after,
                   "teleclaude_grpc_server_handled_total{code=\"OK\",method=\"/"
                   "teleclaude.mesh.v1.Pipeline/Emit\"}"),
            3)
      << after;
  EXPECT_THAT(after, HasSubstr("teleclaude_grpc_server_handling_seconds_bucket{"));
  EXPECT_THAT(after, HasSubstr("teleclaude_egress_outbox_depth{outbox=\"mesh\"}"));

  auto status = computer.Telec({"status"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->out << status->err;
  EXPECT_THAT(status->out, ContainsRegex(absl::StrCat("\nredis +redis://127\\.0\\.0\\.1:",
                                                      redis.port(), "[^,]*, connected \\(PING ")));

  // Redis goes away: egress and ingress stop serving and say why; the
  // installer (no Redis) serves on.
  redis.Kill();
  absl::StatusOr<testing::CommandResult> health;
  // Waits for exactly the state asserted below (under load ingress may see
  // Redis go later than egress): egress and ingress DOWN, the installer
  // SERVING ("\n" ends telec's list of those not serving).
  const auto egress_down =
      ContainsRegex("egress [0-9.:]+ DOWN: egress at [0-9.:]+ reports NOT_SERVING: redis: ");
  const auto installer_serving = ContainsRegex("\ninstaller [0-9.:]+ SERVING\n");
  const auto not_serving = HasSubstr("not serving: egress, ingress\n");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        health = computer.Telec({"health"});
        return health.ok() && health->exit_code == 3 &&
               ::testing::Matches(not_serving)(health->err) &&
               ::testing::Matches(egress_down)(health->out) &&
               ::testing::Matches(installer_serving)(health->out);
      },
      absl::Seconds(20)))
      << (health.ok() ? health->out + health->err : std::string(health.status().message()));
  EXPECT_EQ(health->exit_code, 3);
  EXPECT_THAT(health->out, egress_down);
  EXPECT_THAT(health->out, installer_serving);
  EXPECT_THAT(health->err, not_serving);
  status = computer.Telec({"status"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 3) << status->out;
  EXPECT_THAT(status->out, ContainsRegex("services +egress +[0-9.:]+ +NOT_SERVING"));
  EXPECT_THAT(status->out, ContainsRegex("\nredis +redis://[^,]+, NOT CONNECTED since "));
  EXPECT_THAT(status->err, HasSubstr("egress, ingress are not serving"));
  std::string down = HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(Sample(down, "teleclaude_serving"), 0) << down;
  EXPECT_EQ(Sample(down, "teleclaude_dependency_up{dependency=\"redis\"}"), 0) << down;

  // And back.
  redis.Restart();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        health = computer.Telec({"health"});
        return health.ok() && health->exit_code == 0;
      },
      absl::Seconds(20)))
      << (health.ok() ? health->out + health->err : std::string(health.status().message()));
  EXPECT_EQ(computer.Stop(), "");
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
