// Internal to common/envelope: the project's string helpers under the names
// this library's code uses (see common/base/strings.h for why they exist).
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_

#include "common/base/strings.h"

namespace teleclaude::mesh::json::internal {

using ::teleclaude::mesh::Cat;
using ::teleclaude::mesh::ToStd;

}  // namespace teleclaude::mesh::json::internal

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_
