#include "services/egress/lua/lua_cartridge.h"

#include <optional>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/json/json_text.h"
#include "glog/logging.h"
#include "lauxlib.h"
#include "lua.h"
#include "services/egress/lua/lua_envelope.h"
#include "services/egress/lua/lua_json_codec.h"

namespace teleclaude::mesh {

LuaCartridge::LuaCartridge(LuaCartridgeSpec spec) : spec_(std::move(spec)) {}

LuaCartridge::~LuaCartridge() = default;

absl::StatusOr<std::unique_ptr<LuaCartridge>> LuaCartridge::Load(LuaCartridgeSpec spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("lua cartridge: name is empty");
  if (spec.entry_point.empty()) {
    return absl::InvalidArgumentError(
        Cat("lua cartridge ", spec.name, ": entry_point is empty (default: process)"));
  }
  if (spec.limits.max_emits_per_call < 0 || spec.limits.max_emit_depth < 0) {
    return absl::InvalidArgumentError(Cat("lua cartridge ", spec.name,
                                          ": max_emits_per_call and max_emit_depth must not be "
                                          "negative"));
  }
  std::unique_ptr<LuaCartridge> cartridge(new LuaCartridge(std::move(spec)));
  absl::Status status = cartridge->Build();
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        Cat("lua cartridge ", cartridge->spec_.name, ": ", status.message()));
  }
  return cartridge;
}

absl::StatusOr<std::unique_ptr<Cartridge>> LoadLuaCartridge(const LuaCartridgeSpec& spec) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<LuaCartridge> cartridge, LuaCartridge::Load(spec));
  return std::unique_ptr<Cartridge>(std::move(cartridge));
}

size_t LuaCartridge::memory_in_use() const {
  return sandbox_ == nullptr ? 0 : sandbox_->memory_in_use();
}

absl::Status LuaCartridge::Build() {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<LuaSandbox> sandbox,
                      LuaSandbox::Create(spec_.name, spec_.limits));
  TM_RETURN_IF_ERROR(sandbox->Run([this](lua_State* state) -> absl::Status {
    LuaJsonCodec::OpenLibrary(state);
    lua_pushlightuserdata(state, this);
    lua_pushcclosure(state, &LuaCartridge::Emit, 1);
    lua_setglobal(state, "emit");
    return absl::OkStatus();
  }));
  absl::Status status = sandbox->LoadAndRun(spec_.source);
  if (!status.ok()) {
    if (absl::IsInvalidArgument(status)) return status;  // the compiler's message
    return absl::InvalidArgumentError(Cat("running the top-level code failed: ", status.message()));
  }
  int entry_ref = LUA_NOREF;
  TM_RETURN_IF_ERROR(sandbox->Run([&](lua_State* state) -> absl::Status {
    lua_rawgeti(state, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushlstring(state, spec_.entry_point.data(), spec_.entry_point.size());
    lua_rawget(state, -2);
    if (lua_type(state, -1) != LUA_TFUNCTION) {
      return absl::InvalidArgumentError(Cat("entry point '", spec_.entry_point,
                                            "' is not a function (got ",
                                            lua_typename(state, lua_type(state, -1)), ")"));
    }
    entry_ref = luaL_ref(state, LUA_REGISTRYINDEX);
    return absl::OkStatus();
  }));
  sandbox_ = std::move(sandbox);
  entry_ref_ = entry_ref;
  return absl::OkStatus();
}

absl::StatusOr<Cartridge::Verdict> LuaCartridge::Process(EventEnvelope& event,
                                                         CartridgeContext& context) {
  if (sandbox_ == nullptr) {
    absl::Status status = Build();
    if (!status.ok()) {
      return absl::FailedPreconditionError(
          Cat("the Lua state could not be rebuilt: ", status.message()));
    }
  }
  const size_t emitted_before = context.emitted.size();
  context_ = &context;
  emits_ = 0;
  std::optional<EventEnvelope> changed;
  absl::Status status = sandbox_->Run([&](lua_State* state) -> absl::Status {
    LuaJsonCodec codec(state, spec_.limits.memory_bytes, LuaJsonCodec::kDefaultMaxDepth,
                       &sandbox_->meter());
    codec_ = &codec;
    struct Reset {
      LuaJsonCodec*& codec;
      ~Reset() { codec = nullptr; }
    } reset{codec_};
    lua_rawgeti(state, LUA_REGISTRYINDEX, entry_ref_);
    TM_RETURN_IF_ERROR(PushEventTable(state, event, codec));
    lua_call(state, 1, LUA_MULTRET);
    if (lua_gettop(state) == 0) {
      return absl::InvalidArgumentError(
          Cat(spec_.entry_point, " must return the event table or nil, got nothing"));
    }
    if (lua_isnil(state, 1)) return absl::OkStatus();  // drop
    if (lua_type(state, 1) != LUA_TTABLE) {
      return absl::InvalidArgumentError(Cat(spec_.entry_point,
                                            " must return the event table or nil, got ",
                                            lua_typename(state, lua_type(state, 1))));
    }
    TM_ASSIGN_OR_RETURN(changed, EventFromTable(state, 1, event, codec));
    codec.Release();
    return absl::OkStatus();
  });
  context_ = nullptr;
  if (!status.ok()) {
    context.emitted.erase(context.emitted.begin() + static_cast<ptrdiff_t>(emitted_before),
                          context.emitted.end());
    if (sandbox_->needs_rebuild()) {
      sandbox_.reset();
      ++rebuilds_;
      absl::Status rebuilt = Build();
      if (!rebuilt.ok()) {
        LOG(WARNING) << "lua cartridge " << spec_.name
                     << ": could not rebuild the state after a limit error: " << rebuilt;
      }
    }
    return status;
  }
  if (!changed.has_value()) return Verdict::kDrop;
  event = std::move(*changed);
  return Verdict::kContinue;
}

int LuaCartridge::Emit(lua_State* state) {
  auto* self = static_cast<LuaCartridge*>(lua_touserdata(state, lua_upvalueindex(1)));
  absl::Status status = self->EmitFromLua(state);
  if (status.ok()) return 0;
  luaL_where(state, 1);
  lua_pushlstring(state, status.message().data(), status.message().size());
  lua_concat(state, 2);
  return lua_error(state);
}

absl::Status LuaCartridge::EmitFromLua(lua_State* state) {
  if (context_ == nullptr || codec_ == nullptr) {
    return absl::FailedPreconditionError(
        Cat("emit: only available while ", spec_.entry_point, "() runs"));
  }
  if (lua_type(state, 1) != LUA_TTABLE) {
    return absl::InvalidArgumentError(
        Cat("emit: expects a table, e.g. emit{event=\"x.happened\", level=1}, got ",
            lua_typename(state, lua_type(state, 1))));
  }
  if (context_->emit_depth >= spec_.limits.max_emit_depth) {
    return absl::ResourceExhaustedError(Cat("emit: depth limit of ", spec_.limits.max_emit_depth,
                                            " reached (this event comes from a chain of ",
                                            context_->emit_depth, " emits)"));
  }
  if (emits_ >= spec_.limits.max_emits_per_call) {
    return absl::ResourceExhaustedError(
        Cat("emit: at most ", spec_.limits.max_emits_per_call, " emits per call"));
  }
  TM_ASSIGN_OR_RETURN(EventEnvelope emitted, EmittedEventFromTable(state, 1, *codec_));
  TM_ASSIGN_OR_RETURN(emitted.payload_json, json::SetMember(emitted.payload_json, "_emitted_by",
                                                            json::Quote(spec_.name)));
  context_->emitted.push_back(std::move(emitted));
  ++emits_;
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
