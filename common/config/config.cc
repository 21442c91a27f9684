#include "common/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/json/options.h"
#include "common/mesh/peer_name.h"
#include "common/redis/redis_tls_context.h"

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "";
  return buf;
}

}  // namespace

ABSL_FLAG(std::string, computer_name, HostName(),
          "This computer's name in the mesh (default: the host name).");
ABSL_FLAG(std::string, cluster, "", "Cluster affiliation; empty = none.");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0",
          "The mesh bus: redis://[user:pass@]host:port/db, rediss://... (TLS) or "
          "unix:///path.");
ABSL_FLAG(std::string, redis_tls_ca, "",
          "rediss:// only: PEM file of the CA certificate(s) that signed the Redis server's "
          "certificate; empty = the system's CAs.");
ABSL_FLAG(std::string, redis_tls_cert, "",
          "rediss:// only: PEM client certificate, for a Redis that requires one (with "
          "--redis_tls_key).");
ABSL_FLAG(std::string, redis_tls_key, "", "rediss:// only: PEM private key of --redis_tls_cert.");
ABSL_FLAG(bool, redis_tls_insecure, false,
          "rediss:// only: do not verify the Redis server's certificate or name (encrypted, but "
          "anyone can pretend to be the server). Logged as a warning at every start.");
ABSL_FLAG(std::string, local_stream, "",
          "This computer's local event stream; empty = "
          "teleclaude:events:{computer_name}. Set teleclaude:events to take "
          "events from a Python TeleClaude producer on a single-computer "
          "Redis.");
ABSL_FLAG(std::string, egress_addr, "127.0.0.1:50051",
          "Where telec-egress listens and the others find it.");
ABSL_FLAG(std::string, ingress_addr, "127.0.0.1:50052",
          "Where telec-ingress listens and the others find it.");
ABSL_FLAG(std::string, installer_addr, "127.0.0.1:50053",
          "Where telec-installer listens and the others find it.");
ABSL_FLAG(std::string, listen_addr, "",
          "Where this service listens when that differs from where the others find it "
          "(e.g. 0.0.0.0:50051 in a container); empty = its own *_addr.");
ABSL_FLAG(std::string, data_dir, "~/.teleclaude",
          "Holds events.db, installer.db, cartridges/ and "
          "cartridges/incoming/ (created 0700).");
ABSL_FLAG(std::string, auth_dir, "",
          "Holds service.token and owner.token, the secrets that authenticate calls to this "
          "computer's services (created 0600 at the first start); empty = --data_dir.");
ABSL_FLAG(std::string, auth_token_file, "",
          "telec: the token file to authenticate with; empty = {auth_dir}/owner.token.");
ABSL_FLAG(std::string, cartridge_install, "L1",
          "Sovereignty level for received cartridges: L1 (a human "
          "activates), L2 (a guardian decides, human informed), L3 "
          "(install immediately).");
ABSL_FLAG(int64_t, promotion_threshold, 10, "Invocations before cartridge.promotion_suggested.");
ABSL_FLAG(int64_t, stream_maxlen, 10000, "Approximate MAXLEN of every XADD.");
ABSL_FLAG(int64_t, heartbeat_interval_s, 30, "Seconds between heartbeat refreshes.");
ABSL_FLAG(int64_t, heartbeat_ttl_s, 60,
          "Seconds until a heartbeat expires; must exceed "
          "--heartbeat_interval_s.");
ABSL_FLAG(int64_t, peer_refresh_ms, 1000,
          "How often, in ms, ingress re-reads heartbeats into membership.db and egress re-reads "
          "membership.db.");
ABSL_FLAG(absl::Duration, peer_retention, absl::Hours(24),
          "How long a computer whose heartbeat lapsed stays a destination for its last "
          "visibility class and is trusted by its record (e.g. 24h, 90m, 0s = not at all; "
          "at most 8760h); `telec peers forget NAME` ends it at once.");
ABSL_FLAG(std::string, trust_mode, "cluster",
          "Which peers' events are accepted: cluster, mesh or allowlist "
          "(with --trusted_peers).");
ABSL_FLAG(std::string, trusted_peers, "",
          "Comma-separated computer names trusted in allowlist mode.");
ABSL_FLAG(std::string, accept_unsigned_from, "",
          "Comma-separated names of peers whose unsigned messages are admitted (Python "
          "TeleClaude computers sign nothing), flagged _trust_flags [\"unsigned\"]; a name "
          "with a pinned key never is (doc/security.md §7). Empty: every message must be "
          "authenticated.");
ABSL_FLAG(bool, mesh_authentication, true,
          "Authenticate mesh messages (egress signs, ingress verifies; doc/security.md). false "
          "is the mesh before issue 14, open to every attack of doc/security.md §1.3: for "
          "measurements only (tests/bench mesh_hop).");
ABSL_FLAG(std::string, trusted_keys, "",
          "A file of `name fingerprint` lines: keys pinned before any heartbeat is seen; "
          "names not in it are shown but never trusted until `telec peers trust NAME` "
          "(doc/security.md §6). Empty: keys are pinned on first use.");
ABSL_FLAG(std::string, trust_strictness, "standard",
          "Trust evaluation strictness: permissive, standard or strict.");
ABSL_FLAG(std::string, guardian_addr, "",
          "host:port of an external L2 guardian; empty = the built-in "
          "policy only.");
ABSL_FLAG(int64_t, max_message_bytes, 1048576, "Largest gRPC message and mesh envelope, bytes.");
ABSL_FLAG(int64_t, max_cartridge_bytes, 262144, "Largest cartridge source accepted, bytes.");
ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warning or error.");
ABSL_FLAG(bool, answer_transport_requests, true,
          "ingress answers TeleClaude transport requests (get_computer_info; the "
          "unknown-command error for the rest) as a Python computer does; turn off when a "
          "Python TeleClaude daemon runs under the same --computer_name.");
ABSL_FLAG(std::string, computer_role, "general",
          "This computer's role as get_computer_info reports it to Python TeleClaude "
          "computers.");
ABSL_FLAG(std::string, metrics_addr, "",
          "Serve Prometheus metrics (GET /metrics) on this host:port; a bare port means "
          "127.0.0.1:PORT; empty = off.");
ABSL_FLAG(int64_t, dependency_grace_s, 30,
          "Seconds a service this one needs (egress for ingress and the installer, the installer "
          "for egress) may be unreachable before health turns NOT_SERVING and a warning is "
          "logged; within it services started in any order wait for each other quietly.");

namespace teleclaude::mesh {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem, absl::string_view fix) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem, "; ", fix));
}

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

absl::Status Positive(absl::string_view field, int64_t value, int64_t max = INT64_MAX) {
  if (value <= 0) {
    return Invalid(field, absl::StrCat(value, " is not positive"),
                   absl::StrCat("use a number from 1 to ", max));
  }
  if (value > max) {
    return Invalid(field, absl::StrCat(value, " is too large"),
                   absl::StrCat("use a number from 1 to ", max));
  }
  return absl::OkStatus();
}

absl::StatusOr<SovereigntyLevel> ParseSovereignty(absl::string_view s) {
  if (std::optional<SovereigntyLevel> level = ParseSovereigntyLevel(ToStd(s))) return *level;
  return Invalid("cartridge_install", absl::StrCat(Quoted(s), " is not a sovereignty level"),
                 "use L1, L2 or L3");
}

absl::StatusOr<TrustMode> ParseTrustMode(absl::string_view s) {
  if (s == "cluster") return TrustMode::kCluster;
  if (s == "mesh") return TrustMode::kMesh;
  if (s == "allowlist") return TrustMode::kAllowlist;
  return Invalid("trust_mode", absl::StrCat(Quoted(s), " is not a trust mode"),
                 "use cluster, mesh or allowlist");
}

absl::StatusOr<TrustStrictness> ParseStrictness(absl::string_view s) {
  if (s == "permissive") return TrustStrictness::kPermissive;
  if (s == "standard") return TrustStrictness::kStandard;
  if (s == "strict") return TrustStrictness::kStrict;
  return Invalid("trust_strictness", absl::StrCat(Quoted(s), " is not a strictness"),
                 "use permissive, standard or strict");
}

absl::Status CheckLogLevel(absl::string_view s) {
  if (s == "debug" || s == "info" || s == "warning" || s == "error") {
    return absl::OkStatus();
  }
  return Invalid("log_level", absl::StrCat(Quoted(s), " is not a log level"),
                 "use debug, info, warning or error");
}

absl::Status CheckStreamKey(absl::string_view field, absl::string_view key) {
  if (key.empty()) {
    return Invalid(field, "is empty", "give a Redis stream key");
  }
  for (char c : key) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return Invalid(field, absl::StrCat(Quoted(key), " contains whitespace"),
                     "use a stream key without spaces");
    }
  }
  return absl::OkStatus();
}

// "~" and "~/x" -> $HOME, then absolute.
absl::StatusOr<std::filesystem::path> ExpandPath(absl::string_view field, absl::string_view raw) {
  if (raw.empty()) {
    return Invalid(field, "is empty", "give a directory path");
  }
  std::string path(raw);
  if (raw == "~" || absl::StartsWith(raw, "~/")) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] == '\0') {
      return Invalid(field, absl::StrCat(Quoted(raw), " needs $HOME, which is not set"),
                     absl::StrCat("set HOME or give an absolute --", field));
    }
    path = absl::StrCat(home, raw.substr(1));
  } else if (raw[0] == '~') {
    return Invalid(field, absl::StrCat(Quoted(raw), ": ~user paths are not supported"),
                   absl::StrCat("give an absolute --", field));
  }
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) {
    return Invalid(field, absl::StrCat(path, ": ", ec.message()),
                   absl::StrCat("give an absolute --", field));
  }
  return abs.lexically_normal();
}

absl::StatusOr<std::filesystem::path> ExpandDataDir(absl::string_view raw) {
  return ExpandPath("data_dir", raw);
}

absl::Status NotWritable(const std::filesystem::path& dir, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat("data_dir: ", dir.string(), " is not writable: ", std::strerror(err),
                   "; set --data_dir to a directory this user can write"));
}

// mkdir -p with mode 0700 for every directory it creates.
absl::Status MakeDirs(const std::filesystem::path& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return NotWritable(dir, ENOTDIR);
    return absl::OkStatus();
  }
  if (errno != ENOENT) return NotWritable(dir, errno);
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    TM_RETURN_IF_ERROR(MakeDirs(dir.parent_path()));
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return NotWritable(dir, errno);
  }
  return absl::OkStatus();
}

// Proves the directory is writable by creating and removing a file (access()
// would say yes to root on a read-only file system).
absl::Status ProbeWritable(const std::filesystem::path& dir) {
  std::string probe = (dir / ".telec-write-probe-XXXXXX").string();
  int fd = mkstemp(probe.data());
  if (fd < 0) return NotWritable(dir, errno);
  close(fd);
  unlink(probe.c_str());
  return absl::OkStatus();
}

// The --redis_tls_* flags into a rediss:// endpoint; for any other endpoint
// they must be unset (TLS flags on a plain URL are a mistake that would send
// the mesh in clear text).
absl::Status ApplyRedisTls(RedisEndpoint& endpoint) {
  RedisTlsOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_redis_tls_ca);
  tls.cert_file = absl::GetFlag(FLAGS_redis_tls_cert);
  tls.key_file = absl::GetFlag(FLAGS_redis_tls_key);
  tls.insecure = absl::GetFlag(FLAGS_redis_tls_insecure);
  if (!endpoint.use_tls) {
    for (const auto& [flag, set] : {std::pair{"redis_tls_ca", !tls.ca_file.empty()},
                                    std::pair{"redis_tls_cert", !tls.cert_file.empty()},
                                    std::pair{"redis_tls_key", !tls.key_file.empty()},
                                    std::pair{"redis_tls_insecure", tls.insecure}}) {
      if (set) {
        return Invalid(flag, "is set but --redis_url is not rediss://",
                       absl::StrCat("use a rediss:// URL for TLS, or drop --", flag));
      }
    }
    return absl::OkStatus();
  }
  if (tls.insecure && !tls.ca_file.empty()) {
    return Invalid("redis_tls_insecure",
                   "contradicts --redis_tls_ca (insecure verifies no certificate)",
                   "drop one of them");
  }
  // Loads the files once, so that a bad one stops the process at start.
  TM_RETURN_IF_ERROR(RedisTlsContext::Create(tls).status());
  endpoint.tls = std::move(tls);
  return absl::OkStatus();
}

absl::Status PrepareDataDir(const std::filesystem::path& data_dir) {
  for (const std::filesystem::path& dir :
       {data_dir, data_dir / "cartridges", data_dir / "cartridges" / "incoming"}) {
    TM_RETURN_IF_ERROR(MakeDirs(dir));
    TM_RETURN_IF_ERROR(ProbeWritable(dir));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TrustModeName(TrustMode mode) {
  switch (mode) {
    case TrustMode::kCluster:
      return "cluster";
    case TrustMode::kMesh:
      return "mesh";
    case TrustMode::kAllowlist:
      return "allowlist";
  }
  return "?";
}

std::string_view TrustStrictnessName(TrustStrictness strictness) {
  switch (strictness) {
    case TrustStrictness::kPermissive:
      return "permissive";
    case TrustStrictness::kStandard:
      return "standard";
    case TrustStrictness::kStrict:
      return "strict";
  }
  return "?";
}

std::filesystem::path Config::owner_token_path() const {
  return auth_token_file.has_value() ? *auth_token_file : auth_dir / "owner.token";
}

std::filesystem::path Config::events_db_path() const { return data_dir / "events.db"; }
std::filesystem::path Config::membership_db_path() const { return data_dir / "membership.db"; }
std::filesystem::path Config::installer_db_path() const { return data_dir / "installer.db"; }
std::filesystem::path Config::cartridges_dir() const { return data_dir / "cartridges"; }
std::filesystem::path Config::incoming_dir() const { return data_dir / "cartridges" / "incoming"; }
std::string Config::mesh_stream() const { return MeshStreamOf(computer_name); }
std::string Config::MeshStreamOf(std::string_view name) {
  return absl::StrCat("messages:", ToAbsl(name));
}
std::string Config::heartbeat_key(std::string_view std_name) {
  absl::string_view name = ToAbsl(std_name);
  return absl::StrCat("computer:", name, ":heartbeat");
}

absl::Status ValidateName(std::string_view std_field, std::string_view std_name) {
  absl::string_view field = ToAbsl(std_field);
  absl::string_view name = ToAbsl(std_name);
  constexpr size_t kMaxLen = 64;
  if (name.empty()) {
    return Invalid(field, "is empty", "give a name such as \"laptop\"");
  }
  if (name.size() > kMaxLen) {
    return Invalid(
        field, absl::StrCat(Quoted(name.substr(0, 16)), "... is ", name.size(), " characters long"),
        absl::StrCat("use at most ", kMaxLen, " characters"));
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isspace(u) || absl::ascii_iscntrl(u)) {
      return Invalid(field,
                     absl::StrCat(Quoted(name), " contains whitespace or a control character"),
                     "use letters, digits, '.', '_' or '-'");
    }
    if (c == '*' || c == ':' || c == '{' || c == '}') {
      return Invalid(field,
                     absl::StrCat(Quoted(name), " contains '", std::string(1, c),
                                  "', which Redis keys of the mesh reserve"),
                     "use letters, digits, '.', '_' or '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHostPort(std::string_view std_field, std::string_view std_addr) {
  absl::string_view field = ToAbsl(std_field);
  absl::string_view addr = ToAbsl(std_addr);
  auto bad = [&](absl::string_view problem) {
    return Invalid(field, absl::StrCat(Quoted(addr), " ", problem),
                   "use host:port, e.g. 127.0.0.1:50051");
  };
  absl::string_view host, port;
  if (absl::StartsWith(addr, "[")) {
    size_t close = addr.find(']');
    if (close == absl::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return bad("is not host:port");
    }
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == absl::string_view::npos) return bad("has no port");
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return bad("is ambiguous (IPv6 hosts need [brackets])");
    }
  }
  if (host.empty()) return bad("has no host");
  for (char c : host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return bad("contains whitespace");
    }
  }
  int port_number = 0;
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return absl::ascii_isdigit(c); }) ||
      !absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
    return bad("has no valid port (1-65535)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ConfigFromFlags(ConfigFor purpose) {
  Config c;
  c.computer_name = absl::GetFlag(FLAGS_computer_name);
  if (c.computer_name.empty()) {
    return Invalid("computer_name", "is empty and the host name is unavailable",
                   "set --computer_name");
  }
  TM_RETURN_IF_ERROR(ValidateName("computer_name", c.computer_name));

  std::string cluster = absl::GetFlag(FLAGS_cluster);
  if (!cluster.empty()) {
    TM_RETURN_IF_ERROR(ValidateName("cluster", cluster));
    c.cluster = std::move(cluster);
  }

  c.redis_url = absl::GetFlag(FLAGS_redis_url);
  absl::StatusOr<RedisEndpoint> redis = ParseRedisUrl(c.redis_url);
  if (!redis.ok()) {
    // ParseRedisUrl's message already has the "redis_url: problem; fix" form.
    if (absl::StartsWith(redis.status().message(), "redis_url: ")) {
      return absl::InvalidArgumentError(redis.status().message());
    }
    return Invalid("redis_url", redis.status().message(),
                   "use redis[s]://[user:pass@]host:port/db or unix:///path");
  }
  c.redis = *std::move(redis);
  TM_RETURN_IF_ERROR(ApplyRedisTls(c.redis));

  c.local_stream = absl::GetFlag(FLAGS_local_stream);
  if (c.local_stream.empty()) {
    c.local_stream = absl::StrCat("teleclaude:events:", c.computer_name);
  }
  TM_RETURN_IF_ERROR(CheckStreamKey("local_stream", c.local_stream));

  c.egress_addr = absl::GetFlag(FLAGS_egress_addr);
  TM_RETURN_IF_ERROR(ValidateHostPort("egress_addr", c.egress_addr));
  c.ingress_addr = absl::GetFlag(FLAGS_ingress_addr);
  TM_RETURN_IF_ERROR(ValidateHostPort("ingress_addr", c.ingress_addr));
  c.installer_addr = absl::GetFlag(FLAGS_installer_addr);
  TM_RETURN_IF_ERROR(ValidateHostPort("installer_addr", c.installer_addr));
  for (const auto& [field, addr, other_field, other] :
       {std::tuple{"ingress_addr", &c.ingress_addr, "egress_addr", &c.egress_addr},
        std::tuple{"installer_addr", &c.installer_addr, "egress_addr", &c.egress_addr},
        std::tuple{"installer_addr", &c.installer_addr, "ingress_addr", &c.ingress_addr}}) {
    if (*addr == *other) {
      return Invalid(field, absl::StrCat(Quoted(*addr), " is also --", other_field),
                     "give each service its own port");
    }
  }

  std::string listen = absl::GetFlag(FLAGS_listen_addr);
  if (!listen.empty()) {
    TM_RETURN_IF_ERROR(ValidateHostPort("listen_addr", listen));
    c.listen_addr = std::move(listen);
  }

  TM_ASSIGN_OR_RETURN(c.cartridge_install,
                      ParseSovereignty(absl::GetFlag(FLAGS_cartridge_install)));

  c.promotion_threshold = absl::GetFlag(FLAGS_promotion_threshold);
  TM_RETURN_IF_ERROR(Positive("promotion_threshold", c.promotion_threshold));
  c.stream_maxlen = absl::GetFlag(FLAGS_stream_maxlen);
  TM_RETURN_IF_ERROR(Positive("stream_maxlen", c.stream_maxlen));

  int64_t interval_s = absl::GetFlag(FLAGS_heartbeat_interval_s);
  TM_RETURN_IF_ERROR(Positive("heartbeat_interval_s", interval_s, 86400));
  int64_t ttl_s = absl::GetFlag(FLAGS_heartbeat_ttl_s);
  TM_RETURN_IF_ERROR(Positive("heartbeat_ttl_s", ttl_s, 86400));
  if (ttl_s <= interval_s) {
    return Invalid("heartbeat_ttl_s",
                   absl::StrCat(ttl_s, " is not longer than --heartbeat_interval_s=", interval_s,
                                ", so this computer would vanish "
                                "between refreshes"),
                   "make it larger than the interval (e.g. twice)");
  }
  c.heartbeat_interval = absl::Seconds(interval_s);
  c.heartbeat_ttl = absl::Seconds(ttl_s);
  int64_t refresh_ms = absl::GetFlag(FLAGS_peer_refresh_ms);
  TM_RETURN_IF_ERROR(Positive("peer_refresh_ms", refresh_ms, 3600 * 1000));
  c.peer_refresh = absl::Milliseconds(refresh_ms);
  c.peer_retention = absl::GetFlag(FLAGS_peer_retention);
  if (c.peer_retention < absl::ZeroDuration() || c.peer_retention > absl::Hours(24 * 365)) {
    return Invalid("peer_retention",
                   absl::StrCat(absl::FormatDuration(c.peer_retention), " is out of range"),
                   "use a duration from 0s to 8760h, e.g. 24h");
  }

  TM_ASSIGN_OR_RETURN(c.trust_mode, ParseTrustMode(absl::GetFlag(FLAGS_trust_mode)));
  for (absl::string_view peer :
       absl::StrSplit(absl::GetFlag(FLAGS_trusted_peers), ',', absl::SkipWhitespace())) {
    peer = absl::StripAsciiWhitespace(peer);
    TM_RETURN_IF_ERROR(ValidateName("trusted_peers", std::string_view(peer.data(), peer.size())));
    c.trusted_peers.emplace_back(peer);
  }
  if (c.trust_mode == TrustMode::kAllowlist && c.trusted_peers.empty()) {
    return Invalid("trusted_peers", "is empty but --trust_mode=allowlist",
                   "list the trusted computers, e.g. --trusted_peers=a,b");
  }
  TM_ASSIGN_OR_RETURN(c.trust_strictness, ParseStrictness(absl::GetFlag(FLAGS_trust_strictness)));
  // Names as a Python computer may have them (spaces included): split at
  // commas only, blanks around a name dropped.
  for (absl::string_view peer :
       absl::StrSplit(absl::GetFlag(FLAGS_accept_unsigned_from), ',', absl::SkipWhitespace())) {
    peer = absl::StripAsciiWhitespace(peer);
    TM_RETURN_IF_ERROR(
        ValidatePeerName("accept_unsigned_from", std::string_view(peer.data(), peer.size())));
    c.accept_unsigned_from.emplace_back(peer);
  }
  c.mesh_authentication = absl::GetFlag(FLAGS_mesh_authentication);
  if (std::string keys = absl::GetFlag(FLAGS_trusted_keys); !keys.empty()) {
    c.trusted_keys = std::filesystem::absolute(keys);
  }

  std::string guardian = absl::GetFlag(FLAGS_guardian_addr);
  if (!guardian.empty()) {
    TM_RETURN_IF_ERROR(ValidateHostPort("guardian_addr", guardian));
    c.guardian_addr = std::move(guardian);
  }

  c.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  // No JSON text above json::kMaxTextBytes is ever read (common/json/options.h).
  TM_RETURN_IF_ERROR(Positive("max_message_bytes", c.max_message_bytes,
                              static_cast<int64_t>(json::kMaxTextBytes)));
  c.max_cartridge_bytes = absl::GetFlag(FLAGS_max_cartridge_bytes);
  TM_RETURN_IF_ERROR(Positive("max_cartridge_bytes", c.max_cartridge_bytes, INT_MAX));
  // The source travels base64-encoded (4/3 larger) inside an envelope.
  if (c.max_cartridge_bytes / 3 * 4 >= c.max_message_bytes) {
    return Invalid(
        "max_cartridge_bytes",
        absl::StrCat(c.max_cartridge_bytes,
                     " cannot fit base64-encoded in --max_message_bytes=", c.max_message_bytes),
        "keep it below 3/4 of --max_message_bytes");
  }

  c.log_level = absl::GetFlag(FLAGS_log_level);
  TM_RETURN_IF_ERROR(CheckLogLevel(c.log_level));

  c.answer_transport_requests = absl::GetFlag(FLAGS_answer_transport_requests);
  c.computer_role = absl::GetFlag(FLAGS_computer_role);
  if (c.computer_role.empty() || c.computer_role.size() > 64 || !IsValidUtf8(c.computer_role) ||
      c.computer_role.find_first_of("\r\n") != std::string::npos) {
    return Invalid("computer_role",
                   absl::StrCat(Quoted(absl::CEscape(c.computer_role)), " is not a role"),
                   "give one line of at most 64 bytes, e.g. general");
  }
  std::string metrics = absl::GetFlag(FLAGS_metrics_addr);
  if (!metrics.empty()) {
    if (metrics.find(':') == std::string::npos) metrics = absl::StrCat("127.0.0.1:", metrics);
    if (metrics.front() == ':') metrics = absl::StrCat("127.0.0.1", metrics);
    TM_RETURN_IF_ERROR(ValidateHostPort("metrics_addr", metrics));
    c.metrics_addr = std::move(metrics);
  }
  const int64_t grace = absl::GetFlag(FLAGS_dependency_grace_s);
  if (grace < 0 || grace > 86400) {
    return Invalid("dependency_grace_s", absl::StrCat(grace, " is out of range"),
                   "use 0 to 86400 seconds");
  }
  c.dependency_grace = absl::Seconds(grace);

  TM_ASSIGN_OR_RETURN(c.data_dir, ExpandDataDir(absl::GetFlag(FLAGS_data_dir)));
  const std::string auth_dir = absl::GetFlag(FLAGS_auth_dir);
  c.auth_dir = c.data_dir;
  if (!auth_dir.empty()) {
    TM_ASSIGN_OR_RETURN(c.auth_dir, ExpandPath("auth_dir", auth_dir));
  }
  const std::string token_file = absl::GetFlag(FLAGS_auth_token_file);
  if (!token_file.empty()) {
    TM_ASSIGN_OR_RETURN(c.auth_token_file, ExpandPath("auth_token_file", token_file));
  }
  if (purpose == ConfigFor::kService) {
    TM_RETURN_IF_ERROR(PrepareDataDir(c.data_dir));
    TM_RETURN_IF_ERROR(MakeDirs(c.auth_dir));
  }
  return c;
}

std::string_view VersionString() { return "teleclaude-mesh 0.1.0"; }

}  // namespace teleclaude::mesh
