// Status propagation macros. abseil 20220623 (Debian 12) has none; these
// have the semantics of newer abseil's status macros, so an upgrade is a
// rename.
#ifndef TELECLAUDE_MESH_COMMON_BASE_STATUS_MACROS_H_
#define TELECLAUDE_MESH_COMMON_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TM_STATUS_CONCAT_INNER_(a, b) a##b
#define TM_STATUS_CONCAT_(a, b) TM_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// when it is not OK.
#define TM_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status tm_status_ = (expr);      \
    if (!tm_status_.ok()) return tm_status_; \
  } while (false)

// `TM_ASSIGN_OR_RETURN(auto x, Foo());` evaluates an absl::StatusOr<T>;
// returns its status when not OK, otherwise moves the value into `lhs`.
#define TM_ASSIGN_OR_RETURN(lhs, rexpr) \
  TM_ASSIGN_OR_RETURN_IMPL_(TM_STATUS_CONCAT_(tm_statusor_, __LINE__), lhs, rexpr)

#define TM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)    \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // TELECLAUDE_MESH_COMMON_BASE_STATUS_MACROS_H_
