// telec-installer: the sovereignty gate, the cartridge registry and files,
// invocation stats and promotion (DESIGN §1, §2, §5).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/base/strings.h"
#include "common/config/config.h"
#include "common/grpc/database_probe.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/peer_service_probe.h"
#include "common/grpc/service_telemetry.h"
#include "common/grpc/shutdown_signal.h"
#include "common/grpc/write_health_probe.h"
#include "common/identity/identity_key.h"
#include "common/identity/local_tokens.h"
#include "glog/logging.h"
#include "services/installer/cartridge_installer.h"
#include "services/installer/grpc_guardian.h"
#include "services/installer/guardian_chain.h"
#include "services/installer/installer_metrics.h"
#include "services/installer/installer_service.h"
#include "services/installer/policy_guardian.h"

ABSL_FLAG(std::string, guardian_allowed_authors, "",
          "L2 built-in guardian: comma-separated authors whose cartridges it may approve; "
          "empty = any author");
ABSL_FLAG(int64_t, guardian_timeout_ms, 10000,
          "L2: how long to wait for the external guardian (--guardian_addr) before leaving "
          "the cartridge pending for a human");

namespace teleclaude::mesh {
namespace {

constexpr char kProgram[] = "telec-installer";

[[noreturn]] void Fail(int code, std::string_view message) {
  std::fprintf(stderr, "%s: %.*s\n", kProgram, static_cast<int>(message.size()), message.data());
  std::exit(code);
}

int Run(int argc, char** argv) {
  Config config =
      InitProcess(argc, argv, kProgram,
                  "telec-installer [flags]: the sovereignty gate, cartridge registry and "
                  "invocation stats of this computer");
  if (absl::GetFlag(FLAGS_guardian_timeout_ms) <= 0) {
    Fail(2, "guardian_timeout_ms: must be positive; use e.g. 10000");
  }
  ShutdownSignal signal;  // before any thread exists

  InstallerOptions options;
  options.computer_name = config.computer_name;
  options.level = config.cartridge_install;
  options.promotion_threshold = config.promotion_threshold;
  options.max_cartridge_bytes = config.max_cartridge_bytes;
  options.data_dir = config.data_dir;
  options.cartridges_dir = config.cartridges_dir();
  options.incoming_dir = config.incoming_dir();
  options.db_path = config.installer_db_path();
  options.membership_db_path = config.membership_db_path();
  options.egress_addr = config.egress_addr;
  // This computer's identity: signs the cartridges it authors, and its own
  // cartridges verify against it (doc/security.md §10.5). Created by the
  // first service to start; a refused key file stops the installer.
  absl::StatusOr<std::unique_ptr<IdentityKey>> identity =
      IdentityKey::LoadOrCreate(IdentityKey::PathIn(config.data_dir));
  if (!identity.ok()) Fail(1, ToStd(identity.status().message()));
  options.identity_key = std::shared_ptr<const IdentityKey>(*std::move(identity));
  // The secrets of calls between this computer's services and from its owner
  // (doc/security.md "Local RPC authentication").
  absl::StatusOr<LocalTokens> tokens = LocalTokens::LoadOrCreate(config.auth_dir);
  if (!tokens.ok()) Fail(1, ToStd(tokens.status().message()));
  options.service_token = std::string(tokens->service());

  std::unique_ptr<Guardian> guardian;
  if (options.level == SovereigntyLevel::kL2) {
    PolicyGuardianOptions policy;
    policy.max_cartridge_bytes = config.max_cartridge_bytes;
    std::string authors = absl::GetFlag(FLAGS_guardian_allowed_authors);
    if (!authors.empty()) {
      policy.allowed_authors =
          std::vector<std::string>(absl::StrSplit(authors, ',', absl::SkipWhitespace()));
    }
    std::vector<std::unique_ptr<Guardian>> chain;
    chain.push_back(std::make_unique<PolicyGuardian>(std::move(policy)));
    if (config.guardian_addr.has_value()) {
      chain.push_back(std::make_unique<GrpcGuardian>(
          *config.guardian_addr, absl::Milliseconds(absl::GetFlag(FLAGS_guardian_timeout_ms))));
    }
    guardian = std::make_unique<GuardianChain>(std::move(chain));
  }

  absl::StatusOr<std::unique_ptr<CartridgeInstaller>> installer =
      CartridgeInstaller::Create(options, std::move(guardian));
  if (!installer.ok()) Fail(1, ToStd(installer.status().message()));

  InstallerService service(installer->get());
  GrpcServerOptions server_options;
  server_options.flag_name = "installer_addr";
  server_options.program = kProgram;
  server_options.max_message_bytes = static_cast<int>(config.max_message_bytes);
  server_options.authenticator = tokens->Authenticator();
  // Health: installer.db, and egress (its events and decisions go there)
  // after --dependency_grace_s. The installer does not use Redis.
  absl::StatusOr<std::unique_ptr<ServiceTelemetry>> telemetry =
      ServiceTelemetry::Create({kProgram, config.metrics_addr});
  if (!telemetry.ok()) Fail(1, ToStd(telemetry.status().message()));
  (*telemetry)
      ->health()
      .Add(std::make_unique<DatabaseProbe>(DatabaseProbe::Options{
               .name = "installer.db", .path = config.installer_db_path().string()}),
           absl::ZeroDuration());
  // The writer's own view: its commits fail because the disk is full.
  (*telemetry)
      ->health()
      .Add(std::make_unique<WriteHealthProbe>("installer.db writes",
                                              config.installer_db_path().string(),
                                              (*installer)->write_health()),
           absl::ZeroDuration());
  (*telemetry)
      ->health()
      .Add(std::make_unique<PeerServiceProbe>("egress", config.egress_addr),
           config.dependency_grace);
  (*telemetry)->AddMetrics(std::make_shared<InstallerMetrics>(installer->get()));
  std::vector<grpc::Service*> services = {&service};
  (*telemetry)->Prepare(&services, &server_options);
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(config.ListenAddrOr(config.installer_addr), services, server_options);
  if (!server.ok()) Fail(1, ToStd(server.status().message()));
  (*telemetry)->Start(server->get());
  LOG(INFO) << kProgram << " listening on " << (*server)->listen_address() << " (sovereignty "
            << SovereigntyLevelName(options.level) << ", promotion threshold "
            << options.promotion_threshold << ", data dir " << config.data_dir.string()
            << ", egress " << config.egress_addr << ")";

  signal.Wait();
  LOG(INFO) << kProgram << ": shutting down (signal " << signal.signal_number() << ")";
  (*telemetry)->Stop();
  (*server)->Shutdown(absl::Seconds(5));
  (*server)->Wait();
  (*installer)->Stop();
  LOG(INFO) << kProgram << ": stopped";
  return 0;
}

}  // namespace
}  // namespace teleclaude::mesh

int main(int argc, char** argv) { return teleclaude::mesh::Run(argc, argv); }
