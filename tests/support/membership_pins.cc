#include "tests/support/membership_pins.h"

#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/identity/fingerprint.h"
#include "common/mesh/membership_store.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh::testing {

absl::Status PinPeerKey(const std::filesystem::path& membership_db, std::string_view name,
                        const PublicKey& key, bool fingerprint_only) {
  // The schema, by the store's own migrations.
  TM_RETURN_IF_ERROR(MembershipStore::Open(membership_db.string()).status());
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(membership_db.string()));
  TM_ASSIGN_OR_RETURN(
      Statement st,
      db->Prepare("INSERT INTO members (name, cluster, state, state_since_ms, first_seen_ms, "
                  "last_seen_ms, heartbeat_last_seen, public_key, fingerprint, key_source) "
                  "VALUES (?1, NULL, 'away', ?2, ?2, ?2, '', ?3, ?4, 'provisioned') "
                  "ON CONFLICT (name) DO UPDATE SET public_key = excluded.public_key, "
                  "fingerprint = excluded.fingerprint, key_source = excluded.key_source"));
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::optional<std::string> key_text;
  if (!fingerprint_only) key_text = key.Base64();
  return st.Bind(1, name)
      .Bind(2, now_ms)
      .Bind(3, key_text)
      .Bind(4, Fingerprint::Of(key).ToString())
      .Run();
}

}  // namespace teleclaude::mesh::testing
