// What a row of a service's own outbox table asks the receiver to do: the
// one definition for egress's `outbox` (pushes to the installer,
// doc/events-db.md "outbox") and the installer's `outbox` (messages to
// egress, doc/installer.md "Outbox"). The names are what the `kind` column
// stores. (The delivery core's Outbox (outbox.h) has no kinds: each outbox
// is its own set of tables.)
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_KIND_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_KIND_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

enum class OutboxKind {
  kPush,     // egress -> installer: an event for the installer ("push")
  kSubmit,   // installer -> egress: an event to submit ("submit")
  kResolve,  // installer -> egress: resolve a notification ("resolve")
  kReload,   // installer -> egress: reload the cartridges ("reload")
};

// The `kind` column's value.
std::string_view OutboxKindName(OutboxKind kind);
// The inverse; InvalidArgument naming the value for anything else (a row
// read back from a database file is checked like any input).
absl::StatusOr<OutboxKind> ParseOutboxKind(std::string_view name);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_KIND_H_
