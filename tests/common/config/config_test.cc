#include "common/config/config.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_certificates.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string HostName() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

using testing::TempDir;

// Every flag of common/config back to its default. (absl::FlagSaver would do
// too, but logs a line per restored flag.)
void ResetConfigFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "common/config/")) continue;
    std::string error;
    ASSERT_TRUE(flag->ParseFrom(flag->DefaultValue(), &error)) << name << ": " << error;
  }
}

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { SetTestDefaults(); }
  ~ConfigTest() override { ResetConfigFlags(); }

  void SetTestDefaults() {
    ResetConfigFlags();
    absl::SetFlag(&FLAGS_computer_name, "alpha");
    absl::SetFlag(&FLAGS_data_dir, (tmp_.path() / "data").string());
  }

  // The error message of ConfigFromFlags() ("" when it succeeds).
  std::string Error() {
    absl::StatusOr<Config> c = ConfigFromFlags();
    return c.ok() ? "" : std::string(c.status().message());
  }

  TempDir tmp_;
};

TEST_F(ConfigTest, DefaultsMatchDesign) {
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->computer_name, "alpha");
  EXPECT_EQ(c->cluster, std::nullopt);
  EXPECT_EQ(c->redis_url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(c->local_stream, "teleclaude:events:alpha");
  EXPECT_EQ(c->egress_addr, "127.0.0.1:50051");
  EXPECT_EQ(c->ingress_addr, "127.0.0.1:50052");
  EXPECT_EQ(c->installer_addr, "127.0.0.1:50053");
  EXPECT_EQ(c->cartridge_install, SovereigntyLevel::kL1);
  EXPECT_EQ(c->promotion_threshold, 10);
  EXPECT_EQ(c->stream_maxlen, 10000);
  EXPECT_EQ(c->heartbeat_interval, absl::Seconds(30));
  EXPECT_EQ(c->heartbeat_ttl, absl::Seconds(60));
  EXPECT_EQ(c->peer_refresh, absl::Milliseconds(1000));
  EXPECT_EQ(c->trust_mode, TrustMode::kCluster);
  EXPECT_TRUE(c->trusted_peers.empty());
  EXPECT_EQ(c->trust_strictness, TrustStrictness::kStandard);
  EXPECT_EQ(c->guardian_addr, std::nullopt);
  EXPECT_EQ(c->max_message_bytes, 1048576);
  EXPECT_EQ(c->max_cartridge_bytes, 262144);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_TRUE(c->answer_transport_requests);
  EXPECT_EQ(c->computer_role, "general");
}

TEST_F(ConfigTest, ComputerNameDefaultsToHostName) {
  // Back to the flag's registered default.
  std::string error;
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag("computer_name");
  ASSERT_TRUE(flag->ParseFrom(flag->DefaultValue(), &error)) << error;
  EXPECT_EQ(flag->DefaultValue(), HostName());
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->computer_name, HostName());
}

TEST_F(ConfigTest, PathsAndKeys) {
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  std::filesystem::path d = tmp_.path() / "data";
  EXPECT_EQ(c->data_dir, d);
  EXPECT_EQ(c->events_db_path(), d / "events.db");
  EXPECT_EQ(c->installer_db_path(), d / "installer.db");
  EXPECT_EQ(c->cartridges_dir(), d / "cartridges");
  EXPECT_EQ(c->incoming_dir(), d / "cartridges" / "incoming");
  EXPECT_EQ(c->mesh_stream(), "messages:alpha");
  EXPECT_EQ(Config::MeshStreamOf("b"), "messages:b");
  EXPECT_EQ(Config::heartbeat_key("alpha"), "computer:alpha:heartbeat");
}

TEST_F(ConfigTest, CreatesDataDirsPrivate) {
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  for (const auto& dir : {c->data_dir, c->cartridges_dir(), c->incoming_dir()}) {
    struct stat st;
    ASSERT_EQ(stat(dir.c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u) << dir;
  }
  // Idempotent: a second start finds them.
  EXPECT_TRUE(ConfigFromFlags().ok());
}

TEST_F(ConfigTest, ExpandsTildeFromHome) {
  const char* old_home = std::getenv("HOME");
  std::string saved = old_home ? old_home : "";
  setenv("HOME", tmp_.path().c_str(), 1);
  absl::SetFlag(&FLAGS_data_dir, "~/.teleclaude");
  absl::StatusOr<Config> c = ConfigFromFlags();
  if (old_home)
    setenv("HOME", saved.c_str(), 1);
  else
    unsetenv("HOME");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, tmp_.path() / ".teleclaude");
}

TEST_F(ConfigTest, ParsesTypedValues) {
  absl::SetFlag(&FLAGS_cluster, "lab");
  absl::SetFlag(&FLAGS_cartridge_install, "L3");
  absl::SetFlag(&FLAGS_trust_mode, "allowlist");
  absl::SetFlag(&FLAGS_trusted_peers, "beta, gamma,delta");
  absl::SetFlag(&FLAGS_trust_strictness, "strict");
  absl::SetFlag(&FLAGS_guardian_addr, "localhost:6000");
  absl::SetFlag(&FLAGS_heartbeat_interval_s, 1);
  absl::SetFlag(&FLAGS_heartbeat_ttl_s, 3);
  absl::SetFlag(&FLAGS_peer_refresh_ms, 50);
  absl::SetFlag(&FLAGS_local_stream, "teleclaude:events");
  absl::SetFlag(&FLAGS_egress_addr, "[::1]:7001");
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster, "lab");
  EXPECT_EQ(c->cartridge_install, SovereigntyLevel::kL3);
  EXPECT_EQ(c->trust_mode, TrustMode::kAllowlist);
  EXPECT_EQ(c->trusted_peers, (std::vector<std::string>{"beta", "gamma", "delta"}));
  EXPECT_EQ(c->trust_strictness, TrustStrictness::kStrict);
  EXPECT_EQ(c->guardian_addr, "localhost:6000");
  EXPECT_EQ(c->heartbeat_interval, absl::Seconds(1));
  EXPECT_EQ(c->heartbeat_ttl, absl::Seconds(3));
  EXPECT_EQ(c->peer_refresh, absl::Milliseconds(50));
  EXPECT_EQ(c->local_stream, "teleclaude:events");
  EXPECT_EQ(c->egress_addr, "[::1]:7001");
}

struct BadValue {
  std::function<void()> set;
  std::string message;
};

TEST_F(ConfigTest, EachInvalidValueGivesOneClearLine) {
  const std::vector<BadValue> cases = {
      {[] { absl::SetFlag(&FLAGS_cartridge_install, "L4"); },
       "cartridge_install: \"L4\" is not a sovereignty level; use L1, L2 or "
       "L3"},
      {[] { absl::SetFlag(&FLAGS_computer_name, ""); },
       "computer_name: is empty and the host name is unavailable; set "
       "--computer_name"},
      {[] { absl::SetFlag(&FLAGS_computer_name, "my box"); },
       "computer_name: \"my box\" contains whitespace or a control character; "
       "use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_computer_name, "a:b"); },
       "computer_name: \"a:b\" contains ':', which Redis keys of the mesh "
       "reserve; use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_computer_name, "a*"); },
       "computer_name: \"a*\" contains '*', which Redis keys of the mesh "
       "reserve; use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_computer_name, "{a}"); },
       "computer_name: \"{a}\" contains '{', which Redis keys of the mesh "
       "reserve; use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_computer_name, std::string(65, 'x')); },
       "computer_name: \"xxxxxxxxxxxxxxxx\"... is 65 characters long; use at "
       "most 64 characters"},
      {[] { absl::SetFlag(&FLAGS_cluster, "lab}"); },
       "cluster: \"lab}\" contains '}', which Redis keys of the mesh reserve; "
       "use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_egress_addr, "127.0.0.1"); },
       "egress_addr: \"127.0.0.1\" has no port; use host:port, e.g. "
       "127.0.0.1:50051"},
      {[] { absl::SetFlag(&FLAGS_ingress_addr, "127.0.0.1:70000"); },
       "ingress_addr: \"127.0.0.1:70000\" has no valid port (1-65535); use "
       "host:port, e.g. 127.0.0.1:50051"},
      {[] { absl::SetFlag(&FLAGS_installer_addr, ":50053"); },
       "installer_addr: \":50053\" has no host; use host:port, e.g. "
       "127.0.0.1:50051"},
      {[] { absl::SetFlag(&FLAGS_installer_addr, "127.0.0.1:50051"); },
       "installer_addr: \"127.0.0.1:50051\" is also --egress_addr; give each "
       "service its own port"},
      {[] { absl::SetFlag(&FLAGS_guardian_addr, "nowhere"); },
       "guardian_addr: \"nowhere\" has no port; use host:port, e.g. "
       "127.0.0.1:50051"},
      {[] { absl::SetFlag(&FLAGS_promotion_threshold, 0); },
       "promotion_threshold: 0 is not positive; use a number from 1 to "
       "9223372036854775807"},
      {[] { absl::SetFlag(&FLAGS_stream_maxlen, -5); },
       "stream_maxlen: -5 is not positive; use a number from 1 to "
       "9223372036854775807"},
      {[] { absl::SetFlag(&FLAGS_heartbeat_interval_s, 0); },
       "heartbeat_interval_s: 0 is not positive; use a number from 1 to 86400"},
      {[] { absl::SetFlag(&FLAGS_heartbeat_ttl_s, 30); },
       "heartbeat_ttl_s: 30 is not longer than --heartbeat_interval_s=30, so "
       "this computer would vanish between refreshes; make it larger than the "
       "interval (e.g. twice)"},
      {[] { absl::SetFlag(&FLAGS_peer_refresh_ms, 0); },
       "peer_refresh_ms: 0 is not positive; use a number from 1 to 3600000"},
      {[] { absl::SetFlag(&FLAGS_trust_mode, "everyone"); },
       "trust_mode: \"everyone\" is not a trust mode; use cluster, mesh or "
       "allowlist"},
      {[] { absl::SetFlag(&FLAGS_trust_mode, "allowlist"); },
       "trusted_peers: is empty but --trust_mode=allowlist; list the trusted "
       "computers, e.g. --trusted_peers=a,b"},
      {[] { absl::SetFlag(&FLAGS_trusted_peers, "ok,bad:name"); },
       "trusted_peers: \"bad:name\" contains ':', which Redis keys of the mesh "
       "reserve; use letters, digits, '.', '_' or '-'"},
      {[] { absl::SetFlag(&FLAGS_trust_strictness, "lax"); },
       "trust_strictness: \"lax\" is not a strictness; use permissive, "
       "standard or strict"},
      {[] { absl::SetFlag(&FLAGS_max_message_bytes, 0); },
       "max_message_bytes: 0 is not positive; use a number from 1 to "
       "67108864"},
      {[] { absl::SetFlag(&FLAGS_max_message_bytes, 100000); },
       "max_cartridge_bytes: 262144 cannot fit base64-encoded in "
       "--max_message_bytes=100000; keep it below 3/4 of --max_message_bytes"},
      {[] { absl::SetFlag(&FLAGS_log_level, "loud"); },
       "log_level: \"loud\" is not a log level; use debug, info, warning or "
       "error"},
      {[] { absl::SetFlag(&FLAGS_computer_role, "two\nlines"); },
       "computer_role: \"two\\nlines\" is not a role; give one line of at most 64 bytes, e.g. "
       "general"},
      {[] { absl::SetFlag(&FLAGS_local_stream, "a b"); },
       "local_stream: \"a b\" contains whitespace; use a stream key without "
       "spaces"},
      {[] { absl::SetFlag(&FLAGS_data_dir, "~bob/x"); },
       "data_dir: \"~bob/x\": ~user paths are not supported; give an absolute "
       "--data_dir"},
      {[] { absl::SetFlag(&FLAGS_redis_tls_ca, "/etc/ssl/redis-ca.pem"); },
       "redis_tls_ca: is set but --redis_url is not rediss://; use a rediss:// URL for TLS, or "
       "drop --redis_tls_ca"},
      {[] { absl::SetFlag(&FLAGS_redis_tls_insecure, true); },
       "redis_tls_insecure: is set but --redis_url is not rediss://; use a rediss:// URL for "
       "TLS, or drop --redis_tls_insecure"},
      {[] {
         absl::SetFlag(&FLAGS_redis_url, "rediss://redis.example.com:6380/0");
         absl::SetFlag(&FLAGS_redis_tls_ca, "/nonexistent/ca.pem");
       },
       "redis_tls_ca: cannot read /nonexistent/ca.pem: No such file or directory; check the "
       "path"},
      {[] {
         absl::SetFlag(&FLAGS_redis_url, "rediss://redis.example.com:6380/0");
         absl::SetFlag(&FLAGS_redis_tls_cert, "/nonexistent/client.crt");
       },
       "redis_tls_key: is empty but --redis_tls_cert is set; give the client certificate and "
       "its key, or neither"},
      {[] {
         absl::SetFlag(&FLAGS_redis_url, "rediss://redis.example.com:6380/0");
         absl::SetFlag(&FLAGS_redis_tls_ca, "/nonexistent/ca.pem");
         absl::SetFlag(&FLAGS_redis_tls_insecure, true);
       },
       "redis_tls_insecure: contradicts --redis_tls_ca (insecure verifies no certificate); drop "
       "one of them"},
  };
  for (const BadValue& bad : cases) {
    SetTestDefaults();
    bad.set();
    std::string error = Error();
    EXPECT_EQ(error, bad.message);
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST_F(ConfigTest, BadRedisUrlNamesTheFlag) {
  absl::SetFlag(&FLAGS_redis_url, "http://example.com");
  std::string error = Error();
  EXPECT_EQ(error,
            "redis_url: \"http://example.com\" does not start with redis://, rediss:// or "
            "unix://; expected redis[s]://[user:password@]host:port/db or unix:///path");
}

TEST_F(ConfigTest, ParsesRedisEndpoint) {
  absl::SetFlag(&FLAGS_redis_url, "redis://10.0.0.5:6380/2");
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->redis.host, "10.0.0.5");
  EXPECT_EQ(c->redis.port, 6380);
  EXPECT_EQ(c->redis.db, 2);
}

TEST_F(ConfigTest, RedissUrlCarriesTheTlsFiles) {
  testing::TlsCertificates certs(tmp_.path() / "tls");
  absl::SetFlag(&FLAGS_redis_url, "rediss://redis.example.com:6380/1");
  absl::SetFlag(&FLAGS_redis_tls_ca, certs.ca_cert());
  absl::SetFlag(&FLAGS_redis_tls_cert, certs.client_cert());
  absl::SetFlag(&FLAGS_redis_tls_key, certs.client_key());
  absl::StatusOr<Config> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->redis.use_tls);
  EXPECT_EQ(c->redis.host, "redis.example.com");
  EXPECT_EQ(c->redis.tls.ca_file, certs.ca_cert());
  EXPECT_EQ(c->redis.tls.cert_file, certs.client_cert());
  EXPECT_EQ(c->redis.tls.key_file, certs.client_key());
  EXPECT_FALSE(c->redis.tls.insecure);

  // A key that is not PEM stops the process naming its flag.
  absl::SetFlag(&FLAGS_redis_tls_key, certs.client_cert());
  EXPECT_THAT(Error(),
              ::testing::StartsWith(absl::StrCat("redis_tls_key: ", certs.client_cert(),
                                                 " holds no usable PEM private key (OpenSSL: ")));

  // The system's CAs by default; insecure alone is accepted.
  ResetConfigFlags();
  SetTestDefaults();
  absl::SetFlag(&FLAGS_redis_url, "rediss://redis.example.com:6380/1");
  absl::SetFlag(&FLAGS_redis_tls_insecure, true);
  c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->redis.tls.insecure);
  EXPECT_EQ(c->redis.tls.ca_file, "");
}

TEST_F(ConfigTest, ClientNeitherCreatesNorProbesDataDir) {
  std::filesystem::path dir = tmp_.path() / "never-created";
  absl::SetFlag(&FLAGS_data_dir, dir.string());
  absl::StatusOr<Config> c = ConfigFromFlags(ConfigFor::kClient);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, dir);
  EXPECT_FALSE(std::filesystem::exists(dir));
  // Every other check still applies.
  absl::SetFlag(&FLAGS_cartridge_install, "L4");
  EXPECT_FALSE(ConfigFromFlags(ConfigFor::kClient).ok());
}

TEST_F(ConfigTest, DataDirUnderAFileIsNotWritable) {
  std::ofstream(tmp_.path() / "file") << "x";
  std::string dir = (tmp_.path() / "file" / "sub").string();
  absl::SetFlag(&FLAGS_data_dir, dir);
  EXPECT_EQ(Error(), absl::StrCat("data_dir: ", dir,
                                  " is not writable: Not a directory; set "
                                  "--data_dir to a directory this user can "
                                  "write"));
}

// Runs ConfigFromFlags() as user `nobody` in a forked child (so the check
// is real even when the tests run as root) and returns its error message.
std::string ErrorAsNobody() {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0) {
      struct passwd* nobody = getpwnam("nobody");
      uid_t uid = nobody ? nobody->pw_uid : 65534;
      gid_t gid = nobody ? nobody->pw_gid : 65534;
      if (setgid(gid) != 0 || setuid(uid) != 0) _exit(3);
    }
    absl::StatusOr<Config> c = ConfigFromFlags();
    std::string msg = c.ok() ? "" : std::string(c.status().message());
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) msg.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed";
  return msg;
}

TEST_F(ConfigTest, UnwritableDataDirIsAClearError) {
  chmod(tmp_.path().c_str(), 0755);
  std::filesystem::path locked = tmp_.path() / "locked";
  ASSERT_EQ(mkdir(locked.c_str(), 0555), 0);
  chmod(locked.c_str(), 0555);
  absl::SetFlag(&FLAGS_data_dir, locked.string());
  EXPECT_EQ(ErrorAsNobody(), absl::StrCat("data_dir: ", locked.string(),
                                          " is not writable: Permission denied; set --data_dir "
                                          "to a directory this user can write"));
  // A missing data dir under an unwritable parent names the one it could not
  // create.
  absl::SetFlag(&FLAGS_data_dir, (locked / "sub").string());
  EXPECT_EQ(ErrorAsNobody(), absl::StrCat("data_dir: ", (locked / "sub").string(),
                                          " is not writable: Permission denied; set --data_dir "
                                          "to a directory this user can write"));
}

// --- The whole start-up path, in a child process -------------------------

class InitProcessTest : public ::testing::Test {
 protected:
  struct Run {
    int exit_code;
    std::string out, err;
  };

  // Runs config_probe with `args`; TELEC_* variables of the parent are
  // removed, `env` added; --computer_name and --data_dir default to test
  // values unless `args`/`env` set them.
  Run Probe(std::vector<std::string> args,
            std::map<std::string, std::optional<std::string>> env = {}) {
    testing::ChildOptions options;
    options.args = {TM_CONFIG_PROBE};
    options.args.insert(options.args.end(), args.begin(), args.end());
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      if (absl::StartsWith(kv, "TELEC_")) options.unset_env.push_back(kv.substr(0, kv.find('=')));
    }
    options.env.emplace_back("HOME", tmp_.path().string());
    for (auto& [k, v] : env) {
      if (v.has_value()) {
        options.env.emplace_back(k, *v);
      } else {
        options.unset_env.push_back(k);
      }
    }
    absl::StatusOr<testing::CommandResult> run = testing::RunCommand(options, absl::Seconds(20));
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return {-1, "", ""};
    return {run->exit_code, run->out, run->err};
  }

  TempDir tmp_;
};

TEST_F(InitProcessTest, PrintsDefaultsWithHomeDataDir) {
  Run r = Probe({"--computer_name=alpha"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("computer_name=alpha\n"));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("data_dir=", (tmp_.path() / ".teleclaude").string(), "\n")));
  EXPECT_THAT(r.out, HasSubstr("local_stream=teleclaude:events:alpha\n"));
  EXPECT_THAT(r.out, HasSubstr("heartbeat_interval=30s\nheartbeat_ttl=1m\n"));
  EXPECT_TRUE(
      std::filesystem::is_directory(tmp_.path() / ".teleclaude" / "cartridges" / "incoming"));
}

TEST_F(InitProcessTest, EnvironmentSetsFlags) {
  Run r = Probe({}, {{"TELEC_COMPUTER_NAME", "envbox"},
                     {"TELEC_CLUSTER", "lab"},
                     {"TELEC_PROMOTION_THRESHOLD", "3"},
                     {"TELEC_TRUST_MODE", "mesh"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("computer_name=envbox\ncluster=lab\n"));
  EXPECT_THAT(r.out, HasSubstr("promotion_threshold=3\n"));
  EXPECT_THAT(r.out, HasSubstr("trust_mode=mesh\n"));
}

TEST_F(InitProcessTest, FlagBeatsEnvironment) {
  Run r = Probe({"--cluster=fromflag", "--promotion_threshold", "7"},
                {{"TELEC_COMPUTER_NAME", "envbox"},
                 {"TELEC_CLUSTER", "fromenv"},
                 {"TELEC_PROMOTION_THRESHOLD", "3"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("computer_name=envbox\ncluster=fromflag\n"));
  EXPECT_THAT(r.out, HasSubstr("promotion_threshold=7\n"));
}

TEST_F(InitProcessTest, FlagfileBeatsEnvironmentAndLaterFlagsBeatFlagfile) {
  std::filesystem::path file = tmp_.path() / "flags";
  std::ofstream(file) << "# comment\n"
                      << "--computer_name=filebox\n"
                      << "  --cluster=filecluster  \n\n"
                      << "--cartridge_install=L2\n";
  Run r = Probe({"--flagfile=" + file.string(), "--cartridge_install=L3"},
                {{"TELEC_COMPUTER_NAME", "envbox"}, {"TELEC_CLUSTER", "envcl"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("computer_name=filebox\ncluster=filecluster\n"));
  EXPECT_THAT(r.out, HasSubstr("cartridge_install=L3\n"));
}

TEST_F(InitProcessTest, InsecureTlsIsAWarningAtEveryStart) {
  const std::string warning =
      "--redis_tls_insecure: the certificate of rediss://127.0.0.1:6380/0 is NOT verified";
  Run r = Probe({"--redis_url=rediss://127.0.0.1:6380/0", "--redis_tls_insecure"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr(warning));
  EXPECT_THAT(r.out, HasSubstr("redis_tls=on ca= cert= insecure=1\n"));
  Run env = Probe(
      {}, {{"TELEC_REDIS_URL", "rediss://127.0.0.1:6380/0"}, {"TELEC_REDIS_TLS_INSECURE", "true"}});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_THAT(env.err, HasSubstr(warning));
  Run verified = Probe({"--redis_url=rediss://127.0.0.1:6380/0"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.err, Not(HasSubstr("redis_tls_insecure")));
  EXPECT_THAT(verified.out, HasSubstr("redis_tls=on ca= cert= insecure=0\n"));
}

TEST_F(InitProcessTest, PositionalArgumentsWhenAllowed) {
  Run r = Probe({"positional", "--computer_name=a", "cartridges", "--", "--x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("arg=positional\narg=cartridges\narg=--x\n"));
}

TEST_F(InitProcessTest, VersionAndHelpExitZero) {
  Run v = Probe({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "telec-egress (teleclaude-mesh 0.1.0)\n");
  Run h = Probe({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_THAT(h.out, HasSubstr("telec-egress: config probe for tests\n"));
  EXPECT_THAT(h.out, HasSubstr("  --cartridge_install  "));
  EXPECT_THAT(h.out, HasSubstr("(default: \"L1\")"));
}

// Every start-up error: exit status 2, exactly one line on stderr, nothing
// on stdout.
TEST_F(InitProcessTest, EveryErrorIsOneLineAndExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::optional<std::string>> env;
    std::string line;
  };
  std::string missing = (tmp_.path() / "missing-flags").string();
  const std::vector<Case> cases = {
      {{"--cartridge_install=L4"},
       {},
       "telec-egress: cartridge_install: \"L4\" is not a sovereignty level; "
       "use L1, L2 or L3"},
      {{},
       {{"TELEC_CARTRIDGE_INSTALL", "L9"}},
       "telec-egress: cartridge_install: \"L9\" is not a sovereignty level; "
       "use L1, L2 or L3"},
      {{"--stream_maxlen=lots"},
       {},
       "telec-egress: stream_maxlen: \"lots\" is not valid (Illegal value "
       "'lots' specified for flag 'stream_maxlen'); see --help for the "
       "expected form"},
      {{},
       {{"TELEC_STREAM_MAXLEN", "lots"}},
       "telec-egress: stream_maxlen: TELEC_STREAM_MAXLEN=\"lots\" is not valid "
       "(Illegal value 'lots' specified for flag 'stream_maxlen'); see --help "
       "for the expected form"},
      {{"--no_such_flag=1"},
       {},
       "telec-egress: no_such_flag: unknown flag; see --help for the flags "
       "this program takes"},
      {{"--egress_addr"},
       {},
       "telec-egress: egress_addr: missing value; write --egress_addr=VALUE"},
      {{"stray"},
       {},
       "telec-egress: \"stray\": unexpected argument; this program takes only "
       "--flags (see --help)"},
      {{"--flagfile=" + missing},
       {},
       absl::StrCat("telec-egress: flagfile: cannot read ", missing,
                    ": No such file or directory; check the path")},
      {{"--redis_url=rediss://127.0.0.1:6380/0", "--redis_tls_ca=" + missing},
       {},
       absl::StrCat("telec-egress: redis_tls_ca: cannot read ", missing,
                    ": No such file or directory; check the path")},
      {{"--heartbeat_interval_s=60"},
       {},
       "telec-egress: heartbeat_ttl_s: 60 is not longer than "
       "--heartbeat_interval_s=60, so this computer would vanish between "
       "refreshes; make it larger than the interval (e.g. twice)"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--computer_name=alpha"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Run r = Probe(args, c.env);
    EXPECT_EQ(r.exit_code, 2) << c.line;
    EXPECT_EQ(r.err, c.line + "\n");
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace teleclaude::mesh
