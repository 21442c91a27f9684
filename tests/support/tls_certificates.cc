#include "tests/support/tls_certificates.h"

#include "glog/logging.h"
#include "tests/support/child_process.h"

namespace teleclaude::mesh::testing {

TlsCertificates::TlsCertificates(const std::filesystem::path& dir, const std::string& names)
    : dir_(dir) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"bash", TM_REDIS_TLS_CERTS_SCRIPT, dir.string(), "--names", names, "--days", "2"},
                 {}, absl::Seconds(60));
  CHECK(r.ok()) << TM_REDIS_TLS_CERTS_SCRIPT << ": " << r.status();
  CHECK_EQ(r->exit_code, 0) << TM_REDIS_TLS_CERTS_SCRIPT << " failed:\n" << r->out << r->err;
}

}  // namespace teleclaude::mesh::testing
