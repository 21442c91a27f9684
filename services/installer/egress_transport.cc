#include "services/installer/egress_transport.h"

#include <utility>

#include "common/base/strings.h"
#include "common/json/reader.h"
#include "common/json/writer.h"
#include "glog/logging.h"
#include "rapidjson/document.h"

namespace teleclaude::mesh {
namespace {

absl::StatusOr<std::string> StringMember(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd()) return std::string();
  if (!it->value.IsString()) {
    return absl::DataLossError(Cat("installer outbox message: ", key, ": not a string"));
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::string EncodeEgressMessage(const EgressMessage& m) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  w.Key("kind").String(OutboxKindName(m.kind));
  if (!m.event_type.empty()) w.Key("event_type").String(m.event_type);
  if (!m.envelope_json.empty()) w.Key("envelope_json").String(m.envelope_json);
  if (!m.cartridge_name.empty()) w.Key("cartridge_name").String(m.cartridge_name);
  if (!m.cartridge_sha256.empty()) w.Key("cartridge_sha256").String(m.cartridge_sha256);
  if (m.notification_id != 0) w.Key("notification_id").Int(m.notification_id);
  if (!m.resolution_json.empty()) w.Key("resolution_json").String(m.resolution_json);
  w.EndObject();
  return out;
}

absl::StatusOr<EgressMessage> DecodeEgressMessage(std::string_view body) {
  rapidjson::Document doc;
  absl::Status parsed = json::ParseDocument(body, "installer outbox message", &doc);
  if (!parsed.ok()) return absl::DataLossError(parsed.message());
  if (!doc.IsObject()) return absl::DataLossError("installer outbox message: not an object");
  EgressMessage m;
  absl::StatusOr<std::string> kind = StringMember(doc, "kind");
  if (!kind.ok()) return kind.status();
  absl::StatusOr<OutboxKind> k = ParseOutboxKind(*kind);
  if (!k.ok() || *k == OutboxKind::kPush) {
    return absl::DataLossError(Cat("installer outbox message: kind: ",
                                   k.ok() ? "push is egress's" : k.status().message()));
  }
  m.kind = *k;
  struct Field {
    const char* key;
    std::string* into;
  };
  for (Field f :
       {Field{"event_type", &m.event_type}, Field{"envelope_json", &m.envelope_json},
        Field{"cartridge_name", &m.cartridge_name}, Field{"cartridge_sha256", &m.cartridge_sha256},
        Field{"resolution_json", &m.resolution_json}}) {
    absl::StatusOr<std::string> v = StringMember(doc, f.key);
    if (!v.ok()) return v.status();
    *f.into = *std::move(v);
  }
  // Through a const reference: comparing the non-const member iterators is
  // ambiguous under C++20's reversed operators (clang -Werror).
  const rapidjson::Document& root = doc;
  auto id = root.FindMember("notification_id");
  if (id != root.MemberEnd()) {
    if (!id->value.IsInt64()) {
      return absl::DataLossError("installer outbox message: notification_id: not an integer");
    }
    m.notification_id = id->value.GetInt64();
  }
  return m;
}

EgressTransport::EgressTransport(EgressClient* egress, NotificationLinks* links)
    : egress_(egress), links_(links) {}

OutboxSendResult EgressTransport::Send(const std::vector<OutboxDelivery>& deliveries) {
  OutboxSendResult result;
  // Decoded once; a body that does not decode is refused, never sent.
  std::vector<absl::StatusOr<EgressMessage>> decoded;
  decoded.reserve(deliveries.size());
  for (const OutboxDelivery& d : deliveries) decoded.push_back(DecodeEgressMessage(d.body));
  size_t i = 0;
  while (i < deliveries.size()) {
    if (!decoded[i].ok()) {
      LOG(ERROR) << "installer outbox row " << deliveries[i].seq << ": " << decoded[i].status()
                 << "; dropped";
      result.statuses.push_back(decoded[i].status());
      ++i;
      continue;
    }
    const OutboxKind kind = decoded[i]->kind;
    size_t end = i + 1;
    if (kind != OutboxKind::kResolve) {
      while (end < deliveries.size() && decoded[end].ok() && decoded[end]->kind == kind) ++end;
    }
    switch (kind) {
      case OutboxKind::kSubmit: {
        std::vector<EgressMessage> messages;
        for (size_t k = i; k < end; ++k) messages.push_back(*decoded[k]);
        absl::StatusOr<std::vector<absl::Status>> settled =
            SendSubmits(deliveries, messages, i, end);
        if (!settled.ok()) {
          result.error = settled.status();
          return result;
        }
        for (absl::Status& s : *settled) result.statuses.push_back(std::move(s));
        break;
      }
      case OutboxKind::kResolve: {
        absl::Status s = SendResolve(*decoded[i]);
        if (!s.ok() && !IsPermanentError(s)) {
          result.error = s;
          return result;
        }
        result.statuses.push_back(s);
        break;
      }
      case OutboxKind::kReload: {
        absl::Status s = SendReload();
        if (!s.ok() && !IsPermanentError(s)) {
          result.error = s;
          return result;
        }
        // One call answers every reload of the run.
        for (size_t k = i; k < end; ++k) result.statuses.push_back(s);
        break;
      }
      case OutboxKind::kPush:  // DecodeEgressMessage never returns it
        result.statuses.push_back(absl::DataLossError("kind push"));
        break;
    }
    i = end;
  }
  return result;
}

absl::StatusOr<std::vector<absl::Status>> EgressTransport::SendSubmits(
    const std::vector<OutboxDelivery>& deliveries, const std::vector<EgressMessage>& messages,
    size_t i, size_t end) {
  std::vector<EgressClient::Event> events;
  for (size_t k = i; k < end; ++k) {
    events.push_back(
        {Cat(deliveries[k].message_id, deliveries[k].seq), messages[k - i].envelope_json});
  }
  absl::StatusOr<std::vector<EgressClient::Outcome>> outcomes = egress_->Submit(events);
  if (!outcomes.ok() && !IsPermanentError(outcomes.status())) return outcomes.status();
  if (!outcomes.ok()) {
    LOG(ERROR) << "outbox: egress refused " << events.size()
               << " events permanently, dropping them: " << outcomes.status();
    return std::vector<absl::Status>(events.size(), outcomes.status());
  }
  std::vector<absl::Status> statuses;
  std::vector<NotificationLink> links;
  for (size_t k = 0; k < messages.size(); ++k) {
    const EgressMessage& m = messages[k];
    const EgressClient::Outcome& o = (*outcomes)[k];
    if (o.status == v1::OUTCOME_INVALID) {
      LOG(ERROR) << "outbox: egress refused our " << m.event_type << " event: " << o.error;
      statuses.push_back(absl::InvalidArgumentError(o.error));
      continue;
    }
    statuses.push_back(absl::OkStatus());
    if (!m.cartridge_name.empty() && o.notification_id > 0) {
      links.push_back({m.cartridge_name, m.cartridge_sha256, m.event_type, o.notification_id});
    }
  }
  if (!links.empty()) {
    // Egress has the events now: a failure here loses only the links (the
    // rows' notification lists), as a copy sent again would (egress answers
    // it OUTCOME_DUPLICATE, without an id).
    absl::Status linked = links_->Link(links);
    if (!linked.ok()) LOG(WARNING) << "outbox: recording notification ids: " << linked;
  }
  return statuses;
}

absl::Status EgressTransport::SendResolve(const EgressMessage& m) {
  int64_t id = m.notification_id;
  if (id == 0 && !m.cartridge_name.empty()) {
    absl::StatusOr<int64_t> known =
        links_->PendingNotificationOf(m.cartridge_name, m.cartridge_sha256);
    if (!known.ok()) return absl::UnavailableError(known.status().message());
    id = *known;
  }
  if (id == 0 && !m.cartridge_name.empty()) {
    absl::StatusOr<std::optional<int64_t>> found = egress_->FindCartridgeNotification(
        "cartridge.install_pending", m.cartridge_name, m.cartridge_sha256);
    if (!found.ok() && !IsPermanentError(found.status())) return found.status();
    if (found.ok() && found->has_value()) id = **found;
  }
  if (id == 0) {
    LOG(WARNING) << "outbox: no install_pending notification of cartridge " << m.cartridge_name
                 << " to resolve; skipped";
    return absl::OkStatus();
  }
  absl::Status resolved = egress_->Resolve(id, m.resolution_json);
  if (!resolved.ok() && IsPermanentError(resolved)) {
    LOG(WARNING) << "outbox: resolving notification " << id << ": " << resolved;
  }
  return resolved;
}

absl::Status EgressTransport::SendReload() {
  absl::StatusOr<v1::ReloadCartridgesResponse> reloaded = egress_->Reload();
  if (!reloaded.ok()) {
    if (IsPermanentError(reloaded.status())) {
      LOG(ERROR) << "outbox: egress cannot reload cartridges: " << reloaded.status();
    }
    return reloaded.status();
  }
  for (const auto& [name, why] : reloaded->failed()) {
    LOG(WARNING) << "egress could not load cartridge " << name << ": " << why;
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
