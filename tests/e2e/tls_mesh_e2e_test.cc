// The real services over rediss:// (doc/tls.md): a redis-server that serves
// TLS only and requires client certificates, computers A (verifying with
// --redis_tls_ca) and B (--redis_tls_insecure) in cluster x, an event that
// crosses from A to B before and after Redis restarts, and a computer C with
// the wrong CA whose services say so in one line naming --redis_tls_ca.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_certificates.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::TlsCertificates;
using ::teleclaude::mesh::testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat_interval_s=1", "--heartbeat_ttl_s=5",
                                        "--peer_refresh_ms=100"};

ComputerOptions On(const RedisServer& redis, const std::string& name,
                   std::vector<std::string> tls_flags) {
  ComputerOptions o;
  o.name = name;
  o.cluster = "x";
  o.redis_url = redis.url();
  o.extra_flags = kFast;
  o.extra_flags.insert(o.extra_flags.end(), tls_flags.begin(), tls_flags.end());
  return o;
}

// Whether `to` has a notification of `type` whose payload's worker_name
// starts with `worker` and whose _mesh_source is `from` (false, with the
// reason in `*last`, when telec fails).
bool Received(Computer& to, const std::string& type, const std::string& worker,
              const std::string& from, std::string* last) {
  absl::StatusOr<Json> list = to.TelecJson({"notifications", "list", "--type", type});
  if (!list.ok()) {
    *last = std::string(list.status().message());
    return false;
  }
  *last = ToText(**list);
  if (!(*list)->IsArray()) return false;
  for (const rapidjson::Value& n : (*list)->GetArray()) {
    const rapidjson::Value* payload = Member(n, "payload");
    if (payload != nullptr && absl::StartsWith(Str(*payload, "worker_name"), worker) &&
        Str(*payload, "_mesh_source") == from) {
      return true;
    }
  }
  return false;
}

TEST(TlsMeshE2ETest, EventsCrossOverRedissAndSurviveARedisRestart) {
  RedisServer::Options tls;
  tls.tls = true;
  tls.tls_auth_clients = "yes";
  tls.persist = true;
  RedisServer redis(tls);
  const TlsCertificates& certs = redis.certificates();
  const std::string client_cert = absl::StrCat("--redis_tls_cert=", certs.client_cert());
  const std::string client_key = absl::StrCat("--redis_tls_key=", certs.client_key());

  Computer a(On(redis, "A", redis.TlsFlags()));
  Computer b(On(redis, "B", {"--redis_tls_insecure", client_cert, client_key}));
  TempDir other_dir;
  TlsCertificates other(other_dir.path());
  Computer c(
      On(redis, "C", {absl::StrCat("--redis_tls_ca=", other.ca_cert()), client_cert, client_key}));
  for (Computer* computer : {&a, &b, &c}) ASSERT_TRUE(computer->Launch().ok());
  for (Computer* computer : {&a, &b}) {
    absl::Status ready = computer->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
  }

  // C cannot join: its services say why, naming the flag.
  std::string c_logs;
  EXPECT_TRUE(WaitFor(
      [&] {
        c_logs = c.LogTails(200);
        return absl::StrContains(c_logs, "is not trusted by --redis_tls_ca=" + other.ca_cert());
      },
      absl::Seconds(30), absl::Milliseconds(200)))
      << c_logs;
  // B runs unverified, and says so at start.
  EXPECT_TRUE(absl::StrContains(b.LogTails(200), "--redis_tls_insecure: the certificate of"))
      << b.LogTails(20);

  const std::string type = "system.worker.crashed";
  for (const std::string round : {"before", "after"}) {
    const std::string worker = absl::StrCat("tls-", round, "-restart");
    std::string last;
    int attempt = 0;
    // Emitted until one arrives: right after a Redis restart A's egress may
    // not have seen B's heartbeat again yet (nothing is forwarded to an
    // unknown peer). Each attempt has its own worker_name, the event's
    // idempotency key, or A's dedup would drop the later ones.
    bool arrived = WaitFor(
        [&] {
          const std::string payload = absl::StrCat(R"({"worker_name":")", worker, "-", ++attempt,
                                                   R"(","timestamp":"e2e"})");
          absl::StatusOr<Json> out = a.TelecJson(
              {"events", "emit", type, "--payload", payload, "--visibility", "cluster"});
          if (!out.ok()) {
            last = std::string(out.status().message());
            return false;
          }
          return WaitFor([&] { return Received(b, type, worker, "A", &last); }, absl::Seconds(5),
                         absl::Milliseconds(100));
        },
        absl::Seconds(60), absl::Milliseconds(100));
    ASSERT_TRUE(arrived) << "no event from A reached B over rediss:// (" << round
                         << " the restart): " << last << "\n"
                         << a.LogTails(10) << b.LogTails(10);
    if (round == "before") redis.Restart();  // SIGTERM, same port, same data
  }
  EXPECT_EQ(a.Stop(), "");
  EXPECT_EQ(b.Stop(), "");
  c.Stop();
}

// telec takes the same flags as the services (it does not talk to Redis, so
// they are only checked).
TEST(TlsMeshE2ETest, TelecAcceptsTheTlsFlagsAndRefusesABadOne) {
  absl::StatusOr<std::string> telec = BinaryPath("telec");
  ASSERT_TRUE(telec.ok()) << telec.status();
  TempDir dir;
  TlsCertificates certs(dir.path());
  // Valid flags pass InitProcess: telec goes on to find no services (exit 3).
  absl::StatusOr<testing::CommandResult> ok = testing::RunCommand(
      {*telec, "status", "--egress_addr=127.0.0.1:1", "--redis_url=rediss://127.0.0.1:6380/0",
       "--redis_tls_ca=" + certs.ca_cert(), "--redis_tls_cert=" + certs.client_cert(),
       "--redis_tls_key=" + certs.client_key()});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->exit_code, 3) << ok->err;
  EXPECT_TRUE(absl::StrContains(ok->err, "services are down")) << ok->err;
  absl::StatusOr<testing::CommandResult> bad = testing::RunCommand(
      {*telec, "status", "--redis_url=rediss://127.0.0.1:6380/0", "--redis_tls_ca=/nonexistent"});
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->exit_code, 2);
  EXPECT_EQ(bad->err,
            "telec: redis_tls_ca: cannot read /nonexistent: No such file or directory; check the "
            "path\n");
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
