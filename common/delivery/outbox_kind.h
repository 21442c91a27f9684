// What a message of the installer's outbox asks egress to do (the `kind`
// member of its body, doc/installer-db.md "outbox_egress"), and "push", the
// name of egress's installer pushes (their own outbox, outbox_push*, with no
// kind column): kept so that a body naming it is refused by name. The names
// are what the bodies store.
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
