// Process configuration shared by every service and `telec` (DESIGN §6).
//
// Every option is an absl flag (defined in config.cc, declared below), also
// settable through the environment as TELEC_<FLAG NAME UPPER-CASED> and
// through --flagfile. Precedence: command line / flagfile > environment >
// default. A main() calls InitProcess() once; library code receives a
// `Config` (or the parts it needs) and never reads flags itself.
#ifndef TELECLAUDE_MESH_COMMON_CONFIG_CONFIG_H_
#define TELECLAUDE_MESH_COMMON_CONFIG_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cartridge/sovereignty.h"
#include "common/redis/redis_url.h"

ABSL_DECLARE_FLAG(std::string, computer_name);
ABSL_DECLARE_FLAG(std::string, cluster);
ABSL_DECLARE_FLAG(std::string, redis_url);
ABSL_DECLARE_FLAG(std::string, redis_tls_ca);
ABSL_DECLARE_FLAG(std::string, redis_tls_cert);
ABSL_DECLARE_FLAG(std::string, redis_tls_key);
ABSL_DECLARE_FLAG(bool, redis_tls_insecure);
ABSL_DECLARE_FLAG(std::string, local_stream);
ABSL_DECLARE_FLAG(std::string, egress_addr);
ABSL_DECLARE_FLAG(std::string, ingress_addr);
ABSL_DECLARE_FLAG(std::string, installer_addr);
ABSL_DECLARE_FLAG(std::string, listen_addr);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, auth_dir);
ABSL_DECLARE_FLAG(std::string, auth_token_file);
ABSL_DECLARE_FLAG(std::string, cartridge_install);
ABSL_DECLARE_FLAG(int64_t, promotion_threshold);
ABSL_DECLARE_FLAG(int64_t, stream_maxlen);
ABSL_DECLARE_FLAG(int64_t, heartbeat_interval_s);
ABSL_DECLARE_FLAG(int64_t, heartbeat_ttl_s);
ABSL_DECLARE_FLAG(int64_t, peer_refresh_ms);
ABSL_DECLARE_FLAG(absl::Duration, peer_retention);
ABSL_DECLARE_FLAG(std::string, trust_mode);
ABSL_DECLARE_FLAG(std::string, trusted_peers);
ABSL_DECLARE_FLAG(std::string, accept_unsigned_from);
ABSL_DECLARE_FLAG(std::string, trusted_keys);
ABSL_DECLARE_FLAG(bool, mesh_authentication);
ABSL_DECLARE_FLAG(std::string, trust_strictness);
ABSL_DECLARE_FLAG(std::string, guardian_addr);
ABSL_DECLARE_FLAG(int64_t, max_message_bytes);
ABSL_DECLARE_FLAG(int64_t, max_cartridge_bytes);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(bool, answer_transport_requests);
ABSL_DECLARE_FLAG(std::string, computer_role);
ABSL_DECLARE_FLAG(std::string, metrics_addr);
ABSL_DECLARE_FLAG(int64_t, dependency_grace_s);

namespace teleclaude::mesh {

// Which peers' events the trust gate accepts: same-cluster peers, any mesh
// peer, or only the named peers of --trusted_peers.
enum class TrustMode { kCluster, kMesh, kAllowlist };
// "cluster" / "mesh" / "allowlist".
std::string_view TrustModeName(TrustMode mode);

// Trust evaluation strictness (TeleClaude's trust.py).
enum class TrustStrictness { kPermissive, kStandard, kStrict };
// "permissive" / "standard" / "strict".
std::string_view TrustStrictnessName(TrustStrictness strictness);

// Validated configuration. Value type; thread-compatible. Every field has
// already been checked by ConfigFromFlags().
struct Config {
  std::string computer_name;           // non-empty, a valid name
  std::optional<std::string> cluster;  // nullopt = no cluster
  std::string redis_url;               // as given
  // Parsed redis_url; for rediss:// with the --redis_tls_* options, whose
  // files have been loaded once (RedisTlsContext::Create) to check them.
  RedisEndpoint redis;
  std::string local_stream;  // resolved (never empty)
  std::string egress_addr;   // "host:port"
  std::string ingress_addr;
  std::string installer_addr;
  // Where this service listens, when it differs from its *_addr (the address
  // the others use to find it), e.g. "0.0.0.0:50051" inside a container.
  std::optional<std::string> listen_addr;
  // listen_addr when set, else `own_addr` (the service's egress_addr,
  // ingress_addr or installer_addr).
  const std::string& ListenAddrOr(const std::string& own_addr) const {
    return listen_addr.has_value() ? *listen_addr : own_addr;
  }
  std::filesystem::path data_dir;  // absolute, "~" expanded, exists 0700
  // Where service.token and owner.token live (common/identity/
  // local_tokens.h): --auth_dir, else data_dir. Absolute; exists (services).
  std::filesystem::path auth_dir;
  // telec's --auth_token_file (absolute), nullopt = {auth_dir}/owner.token.
  std::optional<std::filesystem::path> auth_token_file;
  SovereigntyLevel cartridge_install = SovereigntyLevel::kL1;
  int64_t promotion_threshold = 10;  // > 0
  int64_t stream_maxlen = 10000;     // > 0
  absl::Duration heartbeat_interval = absl::Seconds(30);
  absl::Duration heartbeat_ttl = absl::Seconds(60);  // > heartbeat_interval
  absl::Duration peer_refresh = absl::Milliseconds(1000);
  // How long a computer whose heartbeat lapsed stays a destination and is
  // judged by its record (doc/membership.md); 0 = not at all.
  absl::Duration peer_retention = absl::Hours(24);  // 0 .. 365 days
  TrustMode trust_mode = TrustMode::kCluster;
  std::vector<std::string> trusted_peers;  // non-empty iff kAllowlist needs it
  TrustStrictness trust_strictness = TrustStrictness::kStandard;
  // Peers whose unsigned messages ingress admits, flagged "unsigned"
  // (doc/security.md §7); empty = authentication required of everyone.
  std::vector<std::string> accept_unsigned_from;
  // --trusted_keys (absolute): pinned keys (doc/security.md §6.2); nullopt =
  // trust on first use.
  std::optional<std::filesystem::path> trusted_keys;
  // false: no message is signed or checked (measurements only).
  bool mesh_authentication = true;
  std::optional<std::string> guardian_addr;  // nullopt = built-in policy only
  int64_t max_message_bytes = 1048576;       // > 0
  int64_t max_cartridge_bytes = 262144;      // > 0
  std::string log_level = "info";            // "debug" | "info" | "warning" | "error"
  // ingress answers TeleClaude transport requests (doc/transport.md); off when
  // a Python TeleClaude daemon serves this computer's name.
  bool answer_transport_requests = true;
  std::string computer_role = "general";  // reported by get_computer_info; non-empty
  // Where the Prometheus endpoint listens ("host:port", a bare port made
  // 127.0.0.1:PORT); nullopt = no endpoint.
  std::optional<std::string> metrics_addr;
  // How long a peer service this one needs may be unreachable before the
  // service reports NOT_SERVING (common/grpc/health_monitor.h).
  absl::Duration dependency_grace = absl::Seconds(30);

  // The token telec authenticates with: auth_token_file, else
  // {auth_dir}/owner.token.
  std::filesystem::path owner_token_path() const;
  // {data_dir}/events.db — egress's notification projection.
  std::filesystem::path events_db_path() const;
  // {data_dir}/membership.db — the other computers (doc/membership.md);
  // written by ingress, read by egress.
  std::filesystem::path membership_db_path() const;
  // {data_dir}/installer.db — installer's registry and stats.
  std::filesystem::path installer_db_path() const;
  // {data_dir}/cartridges — active cartridge sources.
  std::filesystem::path cartridges_dir() const;
  // {data_dir}/cartridges/incoming — pending cartridge sources.
  std::filesystem::path incoming_dir() const;
  // "messages:{computer_name}" — this computer's mesh inbox (DESIGN §3.3).
  std::string mesh_stream() const;
  // "messages:{name}" — a peer's mesh inbox.
  static std::string MeshStreamOf(std::string_view computer_name);
  // "computer:{name}:heartbeat" (DESIGN §3.4).
  static std::string heartbeat_key(std::string_view computer_name);
};

// What the configuration is for. A service needs its data dir; a client
// (telec) only talks gRPC to the services, so it must not fail on, or create,
// a data dir it never uses.
enum class ConfigFor {
  kService,  // every check, data dir created and probed for writability
  kClient,   // every check except the data dir's existence / writability
             // (data_dir is still expanded to an absolute path)
};

// Reads and validates every flag. On success (kService) the data dir and its
// cartridges/ and cartridges/incoming/ subdirectories exist (created 0700 when
// missing) and are writable. On failure returns INVALID_ARGUMENT (or
// FAILED_PRECONDITION for an unusable data dir) whose message is one line
//   "<flag>: <problem>; <fix>"
// e.g. `cartridge_install: "L4" is not a sovereignty level; use L1, L2 or L3`
// or   `data_dir: /x is not writable: Permission denied`.
// Reads flags only; safe to call again after absl::SetFlag (tests do).
absl::StatusOr<Config> ConfigFromFlags(ConfigFor purpose = ConfigFor::kService);

// Validates a computer or cluster name: non-empty, at most 64 characters, no
// whitespace or control characters, none of `*`, `:`, `{`, `}`. `field` names
// the flag in the error message.
absl::Status ValidateName(std::string_view field, std::string_view name);

// Validates "host:port" (port 1..65535, host non-empty; "[v6]:port" allowed).
absl::Status ValidateHostPort(std::string_view field, std::string_view addr);

// The one start-up call of every main():
//   1. sets the usage message (`usage`) and the --version string;
//   2. turns TELEC_<FLAG> environment variables of every flag above into
//      arguments placed before the command line, so the command line and
//      --flagfile win over the environment;
//   3. parses with absl::ParseCommandLine (--flagfile, --help, --version);
//   4. initialises glog (to stderr, `program` as its name, --log_level as
//      the minimum level);
//   5. validates with ConfigFromFlags(purpose);
//   6. for a service, logs a warning when --redis_tls_insecure is on.
// On any error prints exactly one line "<program>: <message>" to stderr and
// exits with status 2 — nothing has been started yet. Returns the validated
// config; `positional` (if non-null) receives the remaining positional
// arguments (argv[0] excluded). glog's own gflags are not accepted on the
// command line. Call once, from main(), before creating threads.
Config InitProcess(int argc, char** argv, std::string_view program, std::string_view usage,
                   std::vector<std::string>* positional = nullptr,
                   ConfigFor purpose = ConfigFor::kService);

// The project's version string ("teleclaude-mesh 0.1.0").
std::string_view VersionString();

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CONFIG_CONFIG_H_
