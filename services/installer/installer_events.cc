#include "services/installer/installer_events.h"

#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/strings.h"
#include "common/envelope/envelope.h"
#include "common/envelope/json_codec.h"
#include "common/json/writer.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// The members every cartridge event's payload starts with.
void WriteCommon(const CartridgeCandidate& c, json::Writer& w) {
  w.Key("name").String(c.name);
  w.Key("version").String(c.version);
  w.Key("author").String(c.author);
  w.Key("sha256").String(c.sha256);
  w.Key("event_type").String(c.event_type);
  w.Key("runtime").String(c.runtime);
  w.Key("description").String(c.description);
  w.Key("source_computer").String(c.source_computer);
}

// A cartridge event's payload: the common members, then `more` (name, string
// value) in order.
std::string CartridgePayload(
    const CartridgeCandidate& c,
    std::initializer_list<std::pair<std::string_view, std::string_view>> more) {
  std::string payload;
  json::Writer w(&payload);
  w.BeginObject();
  WriteCommon(c, w);
  for (const auto& [key, value] : more) w.Key(key).String(value);
  w.EndObject();
  return payload;
}

void WriteAction(std::string_view description, std::string_view produces, json::Writer& w) {
  w.BeginObject();
  w.Key("description").String(description);
  w.Key("produces").String(produces);
  w.Key("outcome_shape").Null();
  w.EndObject();
}

std::string Who(const CartridgeCandidate& c) {
  return absl::StrCat(c.name, " ", c.version, " by ", c.author,
                      c.source_computer.empty() ? "" : " from ", c.source_computer);
}

}  // namespace

InstallerEvents::InstallerEvents(std::string computer_name)
    : computer_name_(std::move(computer_name)), catalog_(BuildDefaultCatalog()) {}

std::string InstallerEvents::Build(std::string_view type, std::string description,
                                   std::string_view entity, std::string payload_json,
                                   std::string actions_json,
                                   std::string resolution_shape_json) const {
  const EventSchema* schema = catalog_.Find(type);
  CHECK(schema != nullptr) << "event type not in the catalog: " << type;
  EventEnvelope e;
  e.event = std::string(type);
  e.source = computer_name_;
  e.level = schema->default_level;
  e.domain = schema->domain;
  e.visibility = schema->default_visibility;
  if (!entity.empty()) e.entity = std::string(entity);
  e.description = std::move(description);
  e.payload_json = std::move(payload_json);
  if (!actions_json.empty()) e.actions_json = std::move(actions_json);
  if (!resolution_shape_json.empty()) e.resolution_shape_json = std::move(resolution_shape_json);
  return EncodeEnvelopeJson(e);
}

std::string InstallerEvents::InstallPending(const CartridgeCandidate& c, std::string_view reason,
                                            const SignatureCheck& signature) const {
  std::string approve = absl::StrCat("telec cartridges activate ", c.name);
  std::string reject = absl::StrCat("telec cartridges reject ", c.name);
  const std::string_view status = SignatureStatusName(signature.status);
  std::string payload =
      reason.empty() ? CartridgePayload(c, {{"approve_command", approve},
                                            {"reject_command", reject},
                                            {"signature", status},
                                            {"signature_message", signature.message},
                                            {"author_fingerprint", signature.author_fingerprint}})
                     : CartridgePayload(c, {{"approve_command", approve},
                                            {"reject_command", reject},
                                            {"reason", reason},
                                            {"signature", status},
                                            {"signature_message", signature.message},
                                            {"author_fingerprint", signature.author_fingerprint}});
  std::string actions;
  json::Writer a(&actions);
  a.BeginObject();
  a.Key("approve");
  WriteAction(absl::StrCat("Activate the cartridge (", approve, ")"), "cartridge.installed", a);
  a.Key("reject");
  WriteAction(absl::StrCat("Reject the cartridge (", reject, ")"), "cartridge.rejected", a);
  a.EndObject();
  std::string shape;
  json::Writer(&shape).BeginObject().Key("decision").String("approve | reject").EndObject();
  std::string description =
      absl::StrCat(signature.verified() ? "" : "UNVERIFIED: ", "Cartridge ", Who(c),
                   " waits for approval", reason.empty() ? "" : " (", ToAbsl(reason),
                   reason.empty() ? "" : ")", "; run `", approve, "` or `", reject, "`");
  return Build("cartridge.install_pending", std::move(description), "cartridge:" + c.name,
               std::move(payload), std::move(actions), std::move(shape));
}

std::string InstallerEvents::Installed(const CartridgeCandidate& c,
                                       std::string_view decided_by) const {
  std::string payload = CartridgePayload(c, {{"decided_by", decided_by}});
  return Build("cartridge.installed",
               absl::StrCat("Cartridge ", Who(c), " is active (", ToAbsl(decided_by), ")"),
               "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::InstallNotified(const CartridgeCandidate& c,
                                             std::string_view decided_by,
                                             std::string_view reason) const {
  std::string payload = CartridgePayload(c, {{"decided_by", decided_by}, {"reason", reason}});
  return Build("cartridge.install_notified",
               absl::StrCat("The guardian approved cartridge ", Who(c),
                            " and it was installed: ", ToAbsl(reason)),
               "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::Rejected(const CartridgeCandidate& c, std::string_view decided_by,
                                      std::string_view reason) const {
  std::string payload = CartridgePayload(c, {{"decided_by", decided_by}, {"reason", reason}});
  return Build("cartridge.rejected",
               absl::StrCat("Cartridge ", Who(c), " was rejected (", ToAbsl(decided_by), ")"),
               "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::Deactivated(const CartridgeCandidate& c, std::string_view decided_by,
                                         std::string_view reason) const {
  std::string activate = absl::StrCat("telec cartridges activate ", c.name);
  std::string payload = CartridgePayload(
      c, {{"decided_by", decided_by}, {"reason", reason}, {"activate_command", activate}});
  return Build("cartridge.deactivated",
               absl::StrCat("Cartridge ", Who(c), " was turned off (", ToAbsl(decided_by), "); `",
                            activate, "` turns it on again"),
               "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::Removed(const CartridgeCandidate& c, std::string_view decided_by,
                                     std::string_view reason, int64_t versions) const {
  std::string payload = CartridgePayload(c, {{"decided_by", decided_by}, {"reason", reason}});
  return Build(
      "cartridge.removed",
      absl::StrCat("Cartridge ", ToAbsl(c.name), " was removed (", versions,
                   versions == 1 ? " version" : " versions", ", ", ToAbsl(decided_by), ")"),
      "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::Suspended(const CartridgeCandidate& c, std::string_view reason) const {
  std::string activate = absl::StrCat("telec cartridges activate ", c.name);
  std::string payload = CartridgePayload(c, {{"reason", reason}, {"activate_command", activate}});
  return Build("cartridge.suspended",
               absl::StrCat("Cartridge ", Who(c), " was suspended after failing: ", ToAbsl(reason),
                            "; `", activate, "` re-activates it"),
               "cartridge:" + c.name, std::move(payload));
}

std::string InstallerEvents::InstallFailed(std::string_view name, std::string_view author,
                                           std::string_view version,
                                           std::string_view source_computer,
                                           int64_t published_notification_id,
                                           std::string_view field, std::string_view error) const {
  std::string payload;
  json::Writer w(&payload);
  w.BeginObject();
  w.Key("name").String(name);
  w.Key("author").String(author);
  w.Key("version").String(version);
  w.Key("source_computer").String(source_computer);
  w.Key("published_notification_id").Int(published_notification_id);
  w.Key("field").String(field);
  w.Key("error").String(error);
  w.EndObject();
  return Build("cartridge.install_failed",
               absl::StrCat("A published cartridge was refused: ", ToAbsl(error)), "",
               std::move(payload));
}

std::string InstallerEvents::PromotionSuggested(std::string_view cartridge_name,
                                                int64_t invocation_count, int64_t threshold) const {
  std::string payload;
  json::Writer w(&payload);
  w.BeginObject();
  w.Key("cartridge_name").String(cartridge_name);
  w.Key("invocation_count").Int(invocation_count);
  w.Key("threshold").Int(threshold);
  w.EndObject();
  return Build("cartridge.promotion_suggested",
               absl::StrCat("Cartridge ", ToAbsl(cartridge_name), " ran ", invocation_count,
                            " times (threshold ", threshold, "); consider promoting it"),
               absl::StrCat("cartridge:", ToAbsl(cartridge_name)), std::move(payload));
}

}  // namespace teleclaude::mesh
