// EventEnvelope <-> the Lua event table of the cartridge ABI
// (lua_cartridge.h describes the fields and the checks). Every function
// REQUIRES: called inside LuaSandbox::Run (they may raise Lua memory errors)
// with a codec for the current run. Failures are InvalidArgument naming the
// field.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_ENVELOPE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_ENVELOPE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"
#include "services/egress/lua/lua_json_codec.h"

struct lua_State;

namespace teleclaude::mesh {

// Pushes the event table for `event`.
absl::Status PushEventTable(lua_State* state, const EventEnvelope& event, LuaJsonCodec& codec);

// Reads the table at `index` (what the entry function returned) back into
// an envelope. Values the script left as they were come back exactly as in
// `original` (timestamp, actions, resolution_shape, big integers).
// Errors: "returned event: level: must be an integer 0-3 ...".
absl::StatusOr<EventEnvelope> EventFromTable(lua_State* state, int index,
                                             const EventEnvelope& original, LuaJsonCodec& codec);

// Reads the argument table of emit{...} into a new envelope (version 1,
// empty source, the current time). Errors: "emit: unknown field 'x' ...",
// "emit: event: field required", ...
absl::StatusOr<EventEnvelope> EmittedEventFromTable(lua_State* state, int index,
                                                    LuaJsonCodec& codec);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_ENVELOPE_H_
