// An active cartridge written in Lua 5.4 (runtime id `lua`, issue 7): the
// published source defines an entry function (default `process`) that takes
// the event as a table and returns it (possibly changed) or nil to drop it.
//
// The ABI (README "Lua cartridges" has a complete example):
//  * `event` is a table with the envelope's fields: event, version (integer),
//    source, timestamp (mesh-style string, e.g. "2025-03-01T12:34:56.789012Z"),
//    idempotency_key (string or nil), level (integer 0-3), domain, entity
//    (string or nil), description, visibility ("local" / "cluster" /
//    "public"), payload (table), actions (table or nil), terminal_when
//    (string or nil), resolution_shape (table or nil), and every undeclared
//    top-level key of the envelope under its own name. JSON values map to Lua
//    as lua_json_codec.h describes (integers stay integers, integers beyond
//    64 bits are exact digit strings, null is json.null).
//  * The entry function returns the table (the same or a new one) to pass
//    the event on, or nil to drop it (Verdict::kDrop). Returning nothing,
//    or anything other than a table or nil, is a failure.
//  * The returned table is checked like an incoming envelope: event a
//    non-empty string; source a string; level an integer 0-3; visibility
//    local/cluster/public; payload a table usable as a JSON object (empty
//    -> {}); timestamp a timestamp string; version an integer; actions and
//    resolution_shape as the envelope model requires. Optional fields may
//    be nil (or json.null); nil version/domain/description/visibility/
//    payload/timestamp take the model's defaults (1, "", "", local, {},
//    now). Any other string key becomes an undeclared top-level key.
//  * `emit{event=, level=, payload=, visibility=, domain=, entity=,
//    description=, idempotency_key=}` (event and level required; visibility
//    defaults to local, payload to {}) appends a new envelope to
//    CartridgeContext::emitted with payload._emitted_by = this cartridge's
//    name, an empty `source` (the runner fills in this computer) and the
//    current time. The runner runs it through the whole pipeline at
//    emit_depth + 1. A Lua error: more than max_emits_per_call emits in one
//    call, or an emit while context.emit_depth >= max_emit_depth.
//  * Sandbox and limits: lua_sandbox.h. State kept in globals survives
//    between calls, except that a call hitting a limit (instructions, wall
//    time, memory) makes the cartridge rebuild its state from the source.
//
// Process() failures (the event is left unchanged and events emitted by the
// failed call are withdrawn from context.emitted):
//  * ResourceExhausted "instruction budget of N exceeded" / "wall-time
//    budget of 50ms exceeded" (also for a call that got to its end after
//    its deadline; lua_sandbox.h) / "memory limit of N bytes exceeded";
//  * Aborted "<name>:<line>: <Lua error>" for errors in the script;
//  * InvalidArgument "returned event: <field>: <why>" (e.g. "returned event:
//    level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got 9",
//    "returned event: cyclic table at payload.a", "process must return the
//    event table or nil, got number");
//  * FailedPrecondition when the state could not be rebuilt after a limit.
//
// Thread-compatible: the runner calls a LuaCartridge from one thread at a
// time (each cartridge owns its own Lua state; different cartridges may run
// on different threads).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CARTRIDGE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CARTRIDGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/lua/lua_sandbox.h"

struct lua_State;

namespace teleclaude::mesh {

class LuaJsonCodec;

struct LuaCartridgeSpec {
  std::string name;    // the published cartridge's name
  std::string source;  // Lua 5.4 source text
  std::string entry_point = "process";
  LuaLimits limits;
};

class LuaCartridge : public Cartridge {
 public:
  // Use LoadLuaCartridge().
  static absl::StatusOr<std::unique_ptr<LuaCartridge>> Load(LuaCartridgeSpec spec);
  ~LuaCartridge() override;

  std::string_view Name() const override { return spec_.name; }
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

  const LuaCartridgeSpec& spec() const { return spec_; }
  // Bytes held by the Lua state now (0 while it is being rebuilt).
  size_t memory_in_use() const;
  // How many times the state was rebuilt after a call that hit a limit.
  int64_t rebuilds() const { return rebuilds_; }

 private:
  explicit LuaCartridge(LuaCartridgeSpec spec);

  // A fresh state: libraries, `emit`, `json`, the source run once, the entry
  // function looked up.
  absl::Status Build();
  absl::StatusOr<Verdict> CallEntry(lua_State* state, EventEnvelope& event);
  static int Emit(lua_State* state);
  absl::Status EmitFromLua(lua_State* state);

  const LuaCartridgeSpec spec_;
  std::unique_ptr<LuaSandbox> sandbox_;
  int entry_ref_ = 0;  // registry reference of the entry function
  int64_t rebuilds_ = 0;
  // During Process().
  CartridgeContext* context_ = nullptr;
  LuaJsonCodec* codec_ = nullptr;
  int emits_ = 0;
};

// Compiles `spec.source` in a fresh sandbox, runs its top level and checks
// that `spec.entry_point` names a function. InvalidArgument with the Lua
// compiler's message ("lua compile error: <name>:3: '=' expected near
// 'x'"), with the error of the top-level code ("running the top-level code
// failed: ..."), or "entry point 'process' is not a function (got nil)";
// InvalidArgument also for bad limits or an invalid entry point name.
absl::StatusOr<std::unique_ptr<Cartridge>> LoadLuaCartridge(const LuaCartridgeSpec& spec);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CARTRIDGE_H_
