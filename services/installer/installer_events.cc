#include "services/installer/installer_events.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/strings.h"
#include "common/envelope/envelope.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/json_text.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// Appends members to a JSON object text in canonical form.
class ObjectWriter {
 public:
  ObjectWriter& Str(std::string_view key, std::string_view value) {
    Key(key);
    json::AppendQuoted(value, &out_);
    return *this;
  }
  ObjectWriter& Int(std::string_view key, int64_t value) {
    Key(key);
    absl::StrAppend(&out_, value);
    return *this;
  }
  ObjectWriter& Raw(std::string_view key, std::string_view json_text) {
    Key(key);
    out_.append(json_text);
    return *this;
  }
  ObjectWriter& StrList(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out_ += ',';
      json::AppendQuoted(values[i], &out_);
    }
    out_ += ']';
    return *this;
  }
  std::string Done() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void Key(std::string_view key) {
    out_ += out_.size() == 1 ? "" : ",";
    json::AppendQuoted(key, &out_);
    out_ += ':';
  }
  std::string out_ = "{";
};

ObjectWriter Common(const CartridgeCandidate& c) {
  ObjectWriter w;
  w.Str("name", c.name)
      .Str("version", c.version)
      .Str("author", c.author)
      .Str("sha256", c.sha256)
      .Str("event_type", c.event_type)
      .Str("runtime", c.runtime)
      .Str("description", c.description)
      .Str("source_computer", c.source_computer);
  return w;
}

std::string Action(std::string_view description, std::string_view produces) {
  return ObjectWriter()
      .Str("description", description)
      .Str("produces", produces)
      .Raw("outcome_shape", "null")
      .Done();
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

std::string InstallerEvents::InstallPending(const CartridgeCandidate& c,
                                            std::string_view reason) const {
  std::string approve = absl::StrCat("telec cartridges activate ", c.name);
  std::string reject = absl::StrCat("telec cartridges reject ", c.name);
  ObjectWriter w = Common(c);
  w.Str("approve_command", approve).Str("reject_command", reject);
  if (!reason.empty()) w.Str("reason", reason);
  std::string actions =
      ObjectWriter()
          .Raw("approve", Action(absl::StrCat("Activate the cartridge (", approve, ")"),
                                 "cartridge.installed"))
          .Raw("reject",
               Action(absl::StrCat("Reject the cartridge (", reject, ")"), "cartridge.rejected"))
          .Done();
  std::string shape = ObjectWriter().Str("decision", "approve | reject").Done();
  std::string description = absl::StrCat(
      "Cartridge ", Who(c), " waits for approval", reason.empty() ? "" : " (", ToAbsl(reason),
      reason.empty() ? "" : ")", "; run `", approve, "` or `", reject, "`");
  return Build("cartridge.install_pending", std::move(description), "cartridge:" + c.name,
               std::move(w).Done(), std::move(actions), std::move(shape));
}

std::string InstallerEvents::Installed(const CartridgeCandidate& c,
                                       std::string_view decided_by) const {
  ObjectWriter w = Common(c);
  w.Str("decided_by", decided_by);
  return Build("cartridge.installed",
               absl::StrCat("Cartridge ", Who(c), " is active (", ToAbsl(decided_by), ")"),
               "cartridge:" + c.name, std::move(w).Done());
}

std::string InstallerEvents::InstallNotified(const CartridgeCandidate& c,
                                             std::string_view decided_by,
                                             std::string_view reason) const {
  ObjectWriter w = Common(c);
  w.Str("decided_by", decided_by).Str("reason", reason);
  return Build("cartridge.install_notified",
               absl::StrCat("The guardian approved cartridge ", Who(c),
                            " and it was installed: ", ToAbsl(reason)),
               "cartridge:" + c.name, std::move(w).Done());
}

std::string InstallerEvents::Rejected(const CartridgeCandidate& c, std::string_view decided_by,
                                      std::string_view reason) const {
  ObjectWriter w = Common(c);
  w.Str("decided_by", decided_by).Str("reason", reason);
  return Build("cartridge.rejected",
               absl::StrCat("Cartridge ", Who(c), " was rejected (", ToAbsl(decided_by), ")"),
               "cartridge:" + c.name, std::move(w).Done());
}

std::string InstallerEvents::Suspended(const CartridgeCandidate& c, std::string_view reason) const {
  std::string activate = absl::StrCat("telec cartridges activate ", c.name);
  ObjectWriter w = Common(c);
  w.Str("reason", reason).Str("activate_command", activate);
  return Build("cartridge.suspended",
               absl::StrCat("Cartridge ", Who(c), " was suspended after failing: ", ToAbsl(reason),
                            "; `", activate, "` re-activates it"),
               "cartridge:" + c.name, std::move(w).Done());
}

std::string InstallerEvents::InstallFailed(std::string_view name, std::string_view author,
                                           std::string_view version,
                                           std::string_view source_computer,
                                           int64_t published_notification_id,
                                           std::string_view field, std::string_view error) const {
  std::string payload = ObjectWriter()
                            .Str("name", name)
                            .Str("author", author)
                            .Str("version", version)
                            .Str("source_computer", source_computer)
                            .Int("published_notification_id", published_notification_id)
                            .Str("field", field)
                            .Str("error", error)
                            .Done();
  return Build("cartridge.install_failed",
               absl::StrCat("A published cartridge was refused: ", ToAbsl(error)), "",
               std::move(payload));
}

std::string InstallerEvents::PromotionSuggested(std::string_view cartridge_name,
                                                int64_t invocation_count, int64_t threshold) const {
  std::string payload = ObjectWriter()
                            .Str("cartridge_name", cartridge_name)
                            .Int("invocation_count", invocation_count)
                            .Int("threshold", threshold)
                            .Done();
  return Build("cartridge.promotion_suggested",
               absl::StrCat("Cartridge ", ToAbsl(cartridge_name), " ran ", invocation_count,
                            " times (threshold ", threshold, "); consider promoting it"),
               absl::StrCat("cartridge:", ToAbsl(cartridge_name)), std::move(payload));
}

}  // namespace teleclaude::mesh
