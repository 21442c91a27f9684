#include "cli/telec/json_out.h"

#include <utility>

#include "cli/telec/format.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh::telec {

void WriteJsonText(std::string_view json_text, json::Writer& out, std::string_view empty_as) {
  if (json_text.empty()) json_text = empty_as;
  // Canonical text is strict JSON (non-finite floats become null).
  absl::StatusOr<std::string> canonical = json::Canonicalize(json_text);
  if (canonical.ok()) {
    out.Canonical(*canonical);
  } else {
    out.String(json_text);
  }
}

void WriteEnvelope(const v1::EventEnvelope& e, json::Writer& out) {
  out.BeginObject();
  out.Key("event").String(e.event());
  out.Key("version").Int(e.version());
  out.Key("source").String(e.source());
  out.Key("timestamp").String(e.timestamp());
  out.Key("idempotency_key")
      .OptionalString(e.has_idempotency_key() ? std::optional(e.idempotency_key()) : std::nullopt);
  out.Key("level").Int(static_cast<int>(e.level()));
  out.Key("domain").String(e.domain());
  out.Key("entity").OptionalString(e.has_entity() ? std::optional(e.entity()) : std::nullopt);
  out.Key("description").String(e.description());
  out.Key("visibility").String(VisibilityName(e.visibility()));
  out.Key("payload");
  WriteJsonText(e.payload_json(), out, "{}");
  out.Key("actions");
  WriteJsonText(e.has_actions_json() ? e.actions_json() : "null", out);
  out.Key("terminal_when")
      .OptionalString(e.has_terminal_when() ? std::optional(e.terminal_when()) : std::nullopt);
  out.Key("resolution_shape");
  WriteJsonText(e.has_resolution_shape_json() ? e.resolution_shape_json() : "null", out);
  if (!e.extra_json().empty()) {
    out.Key("extra");
    WriteJsonText(e.extra_json(), out, "{}");
  }
  out.EndObject();
}

void WriteCartridge(const v1::Cartridge& c, bool with_source, json::Writer& out,
                    std::string_view unavailable) {
  out.BeginObject();
  out.Key("name").String(c.name());
  out.Key("status").String(CartridgeStatusName(c.status()));
  if (!unavailable.empty()) out.Key("unavailable").String(unavailable);
  out.Key("unregistered_file").Bool(c.unregistered_file());
  out.Key("version").String(c.version());
  out.Key("author").String(c.author());
  out.Key("event_type").String(c.event_type());
  out.Key("runtime").String(c.runtime());
  out.Key("entry_point").String(c.entry_point());
  out.Key("dependencies").BeginArray();
  for (const std::string& d : c.dependencies()) out.String(d);
  out.EndArray();
  out.Key("description").String(c.description());
  out.Key("sha256").String(c.sha256());
  out.Key("source_computer").String(c.source_computer());
  out.Key("decided_by").String(c.decided_by());
  out.Key("decided_at").String(c.decided_at());
  out.Key("reason").String(c.reason());
  out.Key("invocation_count").Int(c.invocation_count());
  out.Key("last_invoked_at").String(c.last_invoked_at());
  out.Key("notification_ids").BeginArray();
  for (int64_t id : c.notification_ids()) out.Int(id);
  out.EndArray();
  out.Key("created_at").String(c.created_at());
  out.Key("signature").String(c.signature());
  out.Key("signature_message").String(c.signature_message());
  out.Key("author_fingerprint").String(c.author_fingerprint());
  if (with_source) out.Key("source").String(c.source());
  out.EndObject();
}

void WriteNotification(const v1::Notification& n, json::Writer& out) {
  auto opt = [](bool has, const std::string& v) {
    return has ? std::optional<std::string>(v) : std::nullopt;
  };
  out.BeginObject();
  out.Key("id").Int(n.id());
  out.Key("event_type").String(n.event_type());
  out.Key("version").Int(n.version());
  out.Key("source").String(n.source());
  out.Key("level").Int(static_cast<int>(n.level()));
  out.Key("domain").String(n.domain());
  out.Key("visibility").String(VisibilityName(n.visibility()));
  out.Key("entity").OptionalString(opt(n.has_entity(), n.entity()));
  out.Key("description").String(n.description());
  out.Key("payload");
  WriteJsonText(n.payload_json(), out, "{}");
  out.Key("idempotency_key").OptionalString(opt(n.has_idempotency_key(), n.idempotency_key()));
  out.Key("human_status").String(HumanStatusName(n.human_status()));
  out.Key("agent_status").String(AgentStatusName(n.agent_status()));
  out.Key("agent_id").OptionalString(opt(n.has_agent_id(), n.agent_id()));
  out.Key("resolution");
  WriteJsonText(n.has_resolution_json() ? n.resolution_json() : "null", out);
  out.Key("created_at").String(n.created_at());
  out.Key("updated_at").String(n.updated_at());
  out.Key("seen_at").OptionalString(opt(n.has_seen_at(), n.seen_at()));
  out.Key("claimed_at").OptionalString(opt(n.has_claimed_at(), n.claimed_at()));
  out.Key("resolved_at").OptionalString(opt(n.has_resolved_at(), n.resolved_at()));
  out.Key("actionable").Bool(n.actionable());
  out.EndObject();
}

void WriteOutcome(const v1::EventOutcome& o, json::Writer& out) {
  out.BeginObject();
  out.Key("status").String(OutcomeName(o.status()));
  out.Key("dropped_by").String(o.dropped_by());
  out.Key("error").String(o.error());
  out.Key("notification_id").Int(o.notification_id());
  out.Key("envelope");
  if (o.has_envelope()) {
    WriteEnvelope(o.envelope(), out);
  } else {
    out.Null();
  }
  out.EndObject();
}

void WriteWatchedEvent(const v1::WatchedEvent& w, json::Writer& out) {
  out.BeginObject();
  out.Key("processed_at").String(w.processed_at());
  out.Key("status").String(OutcomeName(w.status()));
  out.Key("dropped_by").String(w.dropped_by());
  out.Key("origin").String(OriginName(w.origin()));
  out.Key("source_computer").String(w.source_computer());
  out.Key("envelope");
  WriteEnvelope(w.envelope(), out);
  out.EndObject();
}

void WritePeers(const v1::ListPeersResponse& p, const v1::StatsResponse* stats, json::Writer& out) {
  // An empty string of the proto is null here (not known / not yet).
  auto string_or_null = [&out](std::string_view key, const std::string& value) {
    out.Key(key);
    if (value.empty()) {
      out.Null();
    } else {
      out.String(value);
    }
  };
  out.BeginObject();
  out.Key("computer_name").String(p.computer_name());
  string_or_null("cluster", p.cluster());
  out.Key("peer_retention_s").Int(p.peer_retention_s());
  out.Key("peers").BeginArray();
  for (const v1::Peer& peer : p.peers()) {
    out.BeginObject();
    out.Key("name").String(peer.name());
    string_or_null("cluster", peer.cluster());
    out.Key("state").String(peer.state());
    out.Key("state_since").String(peer.state_since());
    out.Key("last_seen").String(peer.last_seen());
    out.Key("first_seen").String(peer.first_seen());
    out.Key("stopping").Bool(peer.stopping());
    string_or_null("forgotten_by", peer.forgotten_by());
    out.Key("destination").Bool(peer.destination());
    out.Key("cluster_peer").Bool(peer.cluster_peer());
    string_or_null("fingerprint", peer.fingerprint());
    string_or_null("key_source", peer.key_source());
    out.Key("verified").Bool(peer.verified());
    string_or_null("pending_fingerprint", peer.pending_fingerprint());
    out.Key("forwarded");
    if (stats == nullptr) {
      out.Null();
    } else {
      auto it = stats->forwarded_per_peer().find(peer.name());
      out.Int(it == stats->forwarded_per_peer().end() ? 0 : it->second);
    }
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
}

void WriteQuarantinedEvent(const v1::QuarantinedEvent& e, json::Writer& out) {
  out.BeginObject();
  out.Key("id").Int(e.id());
  out.Key("event_type").String(e.event_type());
  out.Key("source").String(e.source());
  out.Key("received_at").String(e.received_at());
  out.Key("trust_flags").BeginArray();
  for (const std::string& flag : e.trust_flags()) out.String(flag);
  out.EndArray();
  out.Key("reviewed").Bool(e.reviewed());
  out.Key("envelope");
  WriteJsonText(e.envelope_json(), out);
  out.EndObject();
}

}  // namespace teleclaude::mesh::telec
