#include "common/delivery/outbox_kind.h"

#include "absl/status/status.h"
#include "common/base/show_bytes.h"
#include "common/base/strings.h"

namespace teleclaude::mesh {

std::string_view OutboxKindName(OutboxKind kind) {
  switch (kind) {
    case OutboxKind::kPush:
      return "push";
    case OutboxKind::kSubmit:
      return "submit";
    case OutboxKind::kResolve:
      return "resolve";
    case OutboxKind::kReload:
      return "reload";
  }
  return "push";  // not reached: every enumerator is named above
}

absl::StatusOr<OutboxKind> ParseOutboxKind(std::string_view name) {
  for (OutboxKind kind :
       {OutboxKind::kPush, OutboxKind::kSubmit, OutboxKind::kResolve, OutboxKind::kReload}) {
    if (name == OutboxKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(Cat("kind: unknown outbox kind ", ShowBytes(name)));
}

}  // namespace teleclaude::mesh
