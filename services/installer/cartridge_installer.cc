#include "services/installer/cartridge_installer.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/cartridge/install_decision.h"
#include "common/cartridge/runtime.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"
#include "common/json/reader.h"
#include "common/json/writer.h"
#include "common/sqlite/statement.h"
#include "glog/logging.h"
#include "services/installer/notification_json.h"

namespace teleclaude::mesh {
namespace {

// The largest count one RecordInvocations entry may carry: 10^12 (116 days of
// 100,000 invocations a second held back while the installer was down).
constexpr int64_t kMaxInvocationsPerEntry = 1'000'000'000'000;

// The longest failure reason egress may report (its messages are one line).
constexpr size_t kMaxReasonBytes = 4096;

// a + b for non-negative a and b, INT64_MAX when that would overflow.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

// Messages per outbox read and per round to egress.
constexpr int kOutboxBatch = 100;

std::string NowText() { return FormatTimestampMesh(Timestamp::NowUtc()); }

std::string TimeText(absl::Time t) {
  Timestamp ts;
  ts.civil = absl::ToCivilSecond(t, absl::UTCTimeZone());
  ts.micros = static_cast<int32_t>(
      absl::ToInt64Microseconds(t - absl::FromCivil(ts.civil, absl::UTCTimeZone())));
  ts.utc_offset_seconds = 0;
  return FormatTimestampMesh(ts);
}

std::string Short(std::string_view sha256) { return std::string(sha256.substr(0, 12)); }

v1::CartridgeStatus ToProtoStatus(RegistryStatus s) {
  switch (s) {
    case RegistryStatus::kPending:
      return v1::CARTRIDGE_STATUS_PENDING;
    case RegistryStatus::kActive:
      return v1::CARTRIDGE_STATUS_ACTIVE;
    case RegistryStatus::kRejected:
      return v1::CARTRIDGE_STATUS_REJECTED;
    case RegistryStatus::kSuperseded:
      return v1::CARTRIDGE_STATUS_SUPERSEDED;
    case RegistryStatus::kSuspended:
      return v1::CARTRIDGE_STATUS_SUSPENDED;
    case RegistryStatus::kFailed:
      return v1::CARTRIDGE_STATUS_FAILED;
    case RegistryStatus::kInactive:
      return v1::CARTRIDGE_STATUS_INACTIVE;
  }
  return v1::CARTRIDGE_STATUS_UNSPECIFIED;
}

std::string Resolution(std::string_view decision, std::string_view decided_by) {
  std::string text;
  json::Writer(&text)
      .BeginObject()
      .Key("decision")
      .String(decision)
      .Key("decided_by")
      .String(decided_by)
      .EndObject();
  return text;
}

std::string NotFound(std::string_view name) {
  return Cat("no cartridge named \"", name, "\"; see `telec cartridges list`");
}

// Every version of cartridge `name`, or why there is none to act on: a system
// cartridge (FAILED_PRECONDITION, `system_refusal` says what cannot be done
// to it) or NOT_FOUND.
absl::StatusOr<std::vector<CartridgeRecord>> VersionsOf(InstallerDb& db, const std::string& name,
                                                        std::string_view system_refusal) {
  TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db.FindByName(name));
  if (!rows.empty()) return rows;
  if (IsSystemCartridge(name)) {
    return absl::FailedPreconditionError(Cat(name, " is a system cartridge; ", system_refusal));
  }
  return absl::NotFoundError(NotFound(name));
}

// Rank for "the most relevant version" (lower is better).
int Relevance(RegistryStatus s) {
  switch (s) {
    case RegistryStatus::kActive:
      return 0;
    case RegistryStatus::kPending:
      return 1;
    case RegistryStatus::kSuspended:
      return 2;
    case RegistryStatus::kInactive:
      return 3;
    case RegistryStatus::kFailed:
      return 4;
    default:
      return 5;
  }
}

}  // namespace

struct CartridgeInstaller::GateDecision {
  enum class Kind { kGate, kInvalid, kResolution, kLinkPending };
  Kind kind = Kind::kGate;
  std::string push_id;
  int64_t notification_id = 0;
  // kGate
  CartridgeCandidate candidate;
  SignatureCheck signature;                // who wrote it, checked before the gate
  std::optional<GuardianVerdict> verdict;  // L2: the guardian's answer
  std::string guardian_error;              // L2: why it could not decide
  // kInvalid
  std::string raw_name, raw_author, raw_version, source_computer, field, error;
  // kResolution / kLinkPending
  std::string name, sha256, resolution_json;
};

absl::StatusOr<std::unique_ptr<CartridgeInstaller>> CartridgeInstaller::Create(
    InstallerOptions options, std::unique_ptr<Guardian> guardian) {
  if (options.level == SovereigntyLevel::kL2 && guardian == nullptr) {
    return absl::InvalidArgumentError("cartridge_install: L2 needs a guardian");
  }
  if (options.promotion_threshold <= 0) {
    return absl::InvalidArgumentError("promotion_threshold: must be positive");
  }
  TM_ASSIGN_OR_RETURN(
      CartridgeFiles files,
      CartridgeFiles::Open(options.data_dir, options.cartridges_dir, options.incoming_dir));
  TM_ASSIGN_OR_RETURN(std::unique_ptr<InstallerDb> db,
                      InstallerDb::Open(options.db_path, options.seen_ids));
  std::unique_ptr<CartridgeInstaller> installer(new CartridgeInstaller(
      std::move(options), std::move(guardian), std::move(db), std::move(files)));
  TM_RETURN_IF_ERROR(installer->Start());
  return installer;
}

CartridgeInstaller::CartridgeInstaller(InstallerOptions options, std::unique_ptr<Guardian> guardian,
                                       std::unique_ptr<InstallerDb> db, CartridgeFiles files)
    : options_(std::move(options)),
      guardian_(std::move(guardian)),
      events_(options_.computer_name),
      signatures_({.computer_name = options_.computer_name,
                   .membership_db_path = options_.membership_db_path.string(),
                   .max_cartridge_bytes = options_.max_cartridge_bytes},
                  options_.identity_key),
      egress_(options_.egress_addr, options_.egress_timeout,
              ChannelOptions{.auth_token = options_.service_token}),
      db_(std::move(db)),
      files_(std::move(files)),
      // SQLite's own auto-checkpoint stays on for installer.db (a few writes
      // a minute): the writer never checkpoints, but for a TRUNCATE one after
      // a commit failed on a full disk (write_health_ reports it).
      write_health_("installer.db"),
      writer_({.name = "installer.db", .checkpoint_idle_pages = 0, .write_health = &write_health_},
              db_->database()) {}

absl::Status CartridgeInstaller::Start() {
  message_id_prefix_ = Cat("installer:", db_->instance_id(), ":o");
  Outbox::Options outbox;
  outbox.name = std::string(kEgressOutboxName);
  outbox.max_per_destination = options_.outbox_max;
  TM_ASSIGN_OR_RETURN(outbox_, Outbox::Open(db_->database(), outbox, &writer_, this));
  writer_.AddParticipant(outbox_.get());
  // Forgets handled push ids and applied batch ids after their window (at
  // start, then every SeenIds::Options::prune_every).
  writer_.AddChore(&db_->seen_ids());
  writer_.Start();
  transport_ = std::make_unique<EgressTransport>(&egress_, this);
  OutboxSender::Options sender;
  sender.db_path = options_.db_path.string();
  sender.max_deliveries = kOutboxBatch;
  sender.max_rows = kOutboxBatch;
  sender.backoff_min = options_.retry_initial;
  sender.backoff_max = options_.retry_max;
  sender_ = std::make_unique<OutboxSender>(sender, outbox_.get(), transport_.get());
  // Sends whatever a previous run left behind.
  return sender_->Start();
}

CartridgeInstaller::~CartridgeInstaller() { Stop(); }

void CartridgeInstaller::Stop() {
  if (sender_ != nullptr) sender_->Stop();
  writer_.Stop();
}

// ---------------------------------------------------------------- the gate

absl::Status CartridgeInstaller::OnNotification(const v1::OnNotificationRequest& request) {
  TM_RETURN_IF_ERROR(CheckNotificationJson(request));
  std::vector<GateDecision> decisions;
  for (const v1::NotificationPush& push : request.pushes()) {
    GateDecision d;
    d.push_id = push.push_id();
    d.notification_id = push.notification_id();
    std::string payload =
        push.envelope().payload_json().empty() ? std::string("{}") : push.envelope().payload_json();
    if (push.event_type() == "cartridge.published") {
      if (!push.was_created() || push.resolved()) continue;
      std::string source_computer =
          json::GetMemberString(payload, "_mesh_source").value_or(push.envelope().source());
      absl::StatusOr<CartridgeCandidate> parsed =
          ParseCartridgePayload(payload, options_.max_cartridge_bytes, source_computer);
      if (parsed.ok()) {
        d.kind = GateDecision::Kind::kGate;
        d.candidate = *std::move(parsed);
        // Before any gate decision (doc/security.md §10.5).
        d.signature = signatures_.Check(d.candidate);
      } else {
        d.kind = GateDecision::Kind::kInvalid;
        d.raw_name = json::GetMemberString(payload, "name").value_or("");
        d.raw_author = json::GetMemberString(payload, "author").value_or("");
        d.raw_version = json::GetMemberString(payload, "version").value_or("");
        d.source_computer = source_computer;
        d.field = PayloadErrorField(parsed.status());
        d.error = std::string(parsed.status().message());
      }
    } else if (push.event_type() == "cartridge.install_pending") {
      d.name = json::GetMemberString(payload, "name").value_or("");
      d.sha256 = json::GetMemberString(payload, "sha256").value_or("");
      if (push.resolved()) {
        d.kind = GateDecision::Kind::kResolution;
        d.resolution_json = push.resolution_json();
      } else if (push.was_created()) {
        d.kind = GateDecision::Kind::kLinkPending;
      } else {
        continue;
      }
    } else {
      continue;
    }
    decisions.push_back(std::move(d));
  }
  if (decisions.empty()) return absl::OkStatus();

  if (options_.level == SovereigntyLevel::kL2) {
    // Ask the guardian only about new pushes of cartridges not seen yet; the
    // call may be remote, so it runs here and not on the writer.
    TM_ASSIGN_OR_RETURN(
        std::vector<bool> ask, writer_.Run([&]() -> absl::StatusOr<std::vector<bool>> {
          std::vector<bool> out;
          for (const GateDecision& d : decisions) {
            // An unverified cartridge is the human's: L2 acts as L1.
            if (d.kind != GateDecision::Kind::kGate || !d.signature.verified()) {
              out.push_back(false);
              continue;
            }
            if (!d.push_id.empty()) {
              TM_ASSIGN_OR_RETURN(bool handled, db_->IsPushHandled(d.push_id));
              if (handled) {
                out.push_back(false);
                continue;
              }
            }
            TM_ASSIGN_OR_RETURN(auto existing, db_->Find(d.candidate.name, d.candidate.sha256));
            out.push_back(!existing.has_value());
          }
          return out;
        }));
    for (size_t i = 0; i < decisions.size(); ++i) {
      if (!ask[i]) continue;
      absl::StatusOr<GuardianVerdict> verdict = guardian_->Evaluate(decisions[i].candidate);
      if (verdict.ok()) {
        decisions[i].verdict = *std::move(verdict);
      } else {
        LOG(WARNING) << "guardian " << guardian_->Name() << " could not evaluate cartridge "
                     << decisions[i].candidate.name << ": " << verdict.status()
                     << "; leaving it pending for a human";
        decisions[i].guardian_error = std::string(verdict.status().message());
      }
    }
  }
  return writer_.Run([&] { return ApplyPushes(decisions); });
}

absl::Status CartridgeInstaller::ApplyPushes(const std::vector<GateDecision>& decisions) {
  return Transact([&]() -> absl::Status {
    const std::string now = NowText();
    for (const GateDecision& d : decisions) {
      if (!d.push_id.empty()) {
        // Marked first, in the transaction of its effects: a failure rolls
        // both back.
        TM_ASSIGN_OR_RETURN(bool fresh, db_->MarkPushHandled(d.push_id));
        if (!fresh) {
          VLOG(1) << "push " << d.push_id << " already handled";
          continue;
        }
      }
      switch (d.kind) {
        case GateDecision::Kind::kGate:
          TM_RETURN_IF_ERROR(ApplyGate(d));
          break;
        case GateDecision::Kind::kInvalid:
          LOG(WARNING) << "refused cartridge.published (notification " << d.notification_id
                       << " from " << d.source_computer << "): " << d.error;
          TM_RETURN_IF_ERROR(EnqueueSubmit(
              events_.InstallFailed(d.raw_name, d.raw_author, d.raw_version, d.source_computer,
                                    d.notification_id, d.field, d.error),
              "cartridge.install_failed", nullptr));
          break;
        case GateDecision::Kind::kResolution:
          TM_RETURN_IF_ERROR(ApplyResolution(d));
          break;
        case GateDecision::Kind::kLinkPending: {
          TM_ASSIGN_OR_RETURN(auto rec, db_->Find(d.name, d.sha256));
          if (rec.has_value() && d.notification_id > 0) {
            bool changed = false;
            if (rec->pending_notification_id == 0) {
              rec->pending_notification_id = d.notification_id;
              changed = true;
            }
            auto& ids = rec->notification_ids;
            if (std::find(ids.begin(), ids.end(), d.notification_id) == ids.end()) {
              ids.push_back(d.notification_id);
              changed = true;
            }
            if (changed) {
              rec->updated_at = now;
              TM_RETURN_IF_ERROR(db_->Update(*rec));
            }
          }
          break;
        }
      }
    }
    return absl::OkStatus();
  });
}

absl::Status CartridgeInstaller::ApplyGate(const GateDecision& d) {
  const CartridgeCandidate& c = d.candidate;
  TM_ASSIGN_OR_RETURN(auto existing, db_->Find(c.name, c.sha256));
  if (existing.has_value()) {
    LOG(INFO) << "cartridge " << c.name << " " << c.version << " (sha256 " << Short(c.sha256)
              << ") is already registered as " << RegistryStatusName(existing->status)
              << "; nothing to install";
    return absl::OkStatus();
  }
  const std::string now = NowText();
  CartridgeRecord rec;
  rec.cartridge = c;
  rec.signature = d.signature;
  rec.created_at = now;
  rec.updated_at = now;
  if (d.notification_id > 0) rec.notification_ids.push_back(d.notification_id);

  // Only a cartridge whose author is proven may pass without a person:
  // anything else is L1 at every level.
  const bool verified = d.signature.verified();
  bool install =
      verified &&
      (options_.level == SovereigntyLevel::kL3 ||
       (options_.level == SovereigntyLevel::kL2 && d.verdict.has_value() && d.verdict->approved));
  std::string actor;
  std::string reason;
  if (!verified) {
    reason = Cat(UnverifiedNote(d.signature), "; a human decides");
  } else if (options_.level == SovereigntyLevel::kL3) {
    actor = "L3";
    reason = "sovereignty level L3 installs at once";
  } else if (options_.level == SovereigntyLevel::kL2) {
    if (d.verdict.has_value()) {
      actor = d.verdict->decided_by;
      reason =
          d.verdict->approved ? d.verdict->reason : Cat("guardian denied: ", d.verdict->reason);
    } else {
      actor = "guardian";
      reason = Cat("guardian unavailable (", d.guardian_error, "); a human decides");
    }
  }

  const CartridgeFiles::Place place =
      install ? CartridgeFiles::Place::kActive : CartridgeFiles::Place::kIncoming;
  absl::Status written = files_.Write(place, c.name, c.runtime, c.source);
  // A full disk is not the cartridge's fault: the whole batch rolls back and
  // egress sends the push again (the file is written again then).
  if (IsDiskFull(written)) return written;
  if (!written.ok()) {
    LOG(ERROR) << "cannot store cartridge " << c.name << ": " << written;
    return EnqueueSubmit(
        events_.InstallFailed(c.name, c.author, c.version, c.source_computer, d.notification_id,
                              "files", Cat("cannot store the source: ", written.message())),
        "cartridge.install_failed", nullptr);
  }
  // An older pending version of the same name gives way to this one.
  TM_RETURN_IF_ERROR(SupersedePending(c.name, c));

  if (install) {
    return InstallActive(rec, actor, reason, options_.level == SovereigntyLevel::kL2);
  }
  rec.status = RegistryStatus::kPending;
  rec.reason = reason;
  if (verified && d.verdict.has_value()) {
    rec.decided_by = actor;
    rec.decided_at = now;
  }
  TM_ASSIGN_OR_RETURN(rec.id, db_->Insert(rec));
  std::string actor_received = c.source_computer.empty() ? "mesh" : c.source_computer;
  TM_RETURN_IF_ERROR(Audit(rec, "received", actor_received,
                           Cat("pending at ", SovereigntyLevelName(options_.level))));
  if (!verified) {
    TM_RETURN_IF_ERROR(Audit(rec, "unverified", "installer", UnverifiedNote(d.signature)));
  } else if (options_.level == SovereigntyLevel::kL2) {
    TM_RETURN_IF_ERROR(Audit(
        rec, d.verdict.has_value() ? "guardian_denied" : "guardian_unavailable", actor, reason));
  }
  LOG(INFO) << "cartridge " << c.name << " " << c.version << " by " << c.author
            << " is pending: " << (reason.empty() ? "L1, a human decides" : reason);
  return EnqueueSubmit(events_.InstallPending(c, reason, d.signature), "cartridge.install_pending",
                       &c);
}

absl::Status CartridgeInstaller::SupersedePending(std::string_view name,
                                                  const CartridgeCandidate& newer) {
  TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->FindByName(name));
  for (CartridgeRecord& old : rows) {
    if (old.status != RegistryStatus::kPending || old.cartridge.sha256 == newer.sha256) continue;
    old.status = RegistryStatus::kSuperseded;
    old.reason = Cat("replaced by version ", newer.version, " (sha256 ", Short(newer.sha256),
                     ") before a decision");
    old.updated_at = NowText();
    TM_RETURN_IF_ERROR(db_->Update(old));
    TM_RETURN_IF_ERROR(Audit(old, "superseded", "installer", old.reason));
    TM_RETURN_IF_ERROR(EnqueueResolve(old, Resolution("superseded", "installer")));
  }
  return absl::OkStatus();
}

absl::Status CartridgeInstaller::InstallActive(CartridgeRecord& rec, std::string_view actor,
                                               std::string_view reason, bool notify_informational) {
  const CartridgeCandidate& c = rec.cartridge;
  const std::string now = NowText();
  const bool was_pending = rec.id != 0 && rec.status == RegistryStatus::kPending;
  TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->FindByName(c.name));
  for (CartridgeRecord& other : rows) {
    if (other.id == rec.id || other.status != RegistryStatus::kActive) continue;
    other.status = RegistryStatus::kSuperseded;
    other.activation_order = 0;
    other.reason = Cat("superseded by version ", c.version, " (sha256 ", Short(c.sha256), ")");
    other.updated_at = now;
    TM_RETURN_IF_ERROR(db_->Update(other));
    TM_RETURN_IF_ERROR(Audit(other, "superseded", actor, other.reason));
  }
  TM_ASSIGN_OR_RETURN(rec.activation_order, db_->NextActivationOrder());
  rec.status = RegistryStatus::kActive;
  rec.decided_by = std::string(actor);
  rec.decided_at = now;
  rec.reason = std::string(reason);
  rec.updated_at = now;
  if (rec.id == 0) {
    TM_ASSIGN_OR_RETURN(rec.id, db_->Insert(rec));
    std::string received_by = c.source_computer.empty() ? "mesh" : c.source_computer;
    TM_RETURN_IF_ERROR(
        Audit(rec, "received", received_by, Cat("at ", SovereigntyLevelName(options_.level))));
  } else {
    TM_RETURN_IF_ERROR(db_->Update(rec));
  }
  if (was_pending) {
    RemoveAfterCommit(CartridgeFiles::Place::kIncoming, c);
  }
  TM_RETURN_IF_ERROR(Audit(rec, "activated", actor, reason));
  LOG(INFO) << "cartridge " << c.name << " " << c.version << " is active (" << actor << ")";
  TM_RETURN_IF_ERROR(
      EnqueueSubmit(events_.Installed(c, actor), "cartridge.installed", &rec.cartridge));
  if (notify_informational) {
    TM_RETURN_IF_ERROR(EnqueueSubmit(events_.InstallNotified(c, actor, reason),
                                     "cartridge.install_notified", &rec.cartridge));
  }
  return EnqueueReload();
}

absl::Status CartridgeInstaller::RejectRecord(CartridgeRecord& rec, std::string_view actor,
                                              std::string_view reason, bool resolve_notification) {
  const CartridgeCandidate& c = rec.cartridge;
  rec.status = RegistryStatus::kRejected;
  rec.decided_by = std::string(actor);
  rec.decided_at = NowText();
  rec.reason = std::string(reason);
  rec.updated_at = rec.decided_at;
  TM_RETURN_IF_ERROR(db_->Update(rec));
  RemoveAfterCommit(CartridgeFiles::Place::kIncoming, c);
  TM_RETURN_IF_ERROR(Audit(rec, "rejected", actor, reason));
  LOG(INFO) << "cartridge " << c.name << " " << c.version << " rejected (" << actor << ")";
  if (resolve_notification) {
    TM_RETURN_IF_ERROR(EnqueueResolve(rec, Resolution("reject", actor)));
  }
  return EnqueueSubmit(events_.Rejected(c, actor, reason), "cartridge.rejected", &rec.cartridge);
}

absl::Status CartridgeInstaller::ApplyResolution(const GateDecision& d) {
  std::optional<CartridgeRecord> rec;
  if (!d.name.empty() && !d.sha256.empty()) {
    TM_ASSIGN_OR_RETURN(rec, db_->Find(d.name, d.sha256));
  }
  if (!rec.has_value() && d.notification_id > 0) {
    TM_ASSIGN_OR_RETURN(rec, db_->FindByPendingNotification(d.notification_id));
  }
  if (!rec.has_value()) {
    LOG(WARNING) << "install_pending notification " << d.notification_id
                 << " resolved, but no such cartridge is registered; ignored";
    return absl::OkStatus();
  }
  if (rec->status != RegistryStatus::kPending) {
    VLOG(1) << "cartridge " << rec->cartridge.name << " is already "
            << RegistryStatusName(rec->status) << "; resolution ignored";
    return absl::OkStatus();
  }
  if (rec->pending_notification_id == 0) rec->pending_notification_id = d.notification_id;
  const std::string actor = Cat("notification:", d.notification_id);
  absl::StatusOr<InstallDecision> decision = ParseInstallDecision(d.resolution_json);
  if (!decision.ok()) {
    // Egress refuses such resolutions; one can only come from an older egress.
    LOG(WARNING) << "install_pending notification " << d.notification_id
                 << " resolved: " << decision.status().message() << "; cartridge "
                 << rec->cartridge.name << " stays pending";
    return absl::OkStatus();
  }
  if (*decision == InstallDecision::kApprove) {
    absl::Status written = files_.Write(CartridgeFiles::Place::kActive, rec->cartridge.name,
                                        rec->cartridge.runtime, rec->cartridge.source);
    if (IsDiskFull(written)) return written;  // rolled back, pushed again
    if (!written.ok()) {
      LOG(ERROR) << "cannot activate cartridge " << rec->cartridge.name << ": " << written;
      return Audit(*rec, "activation_failed", actor, ToStd(written.message()));
    }
    return InstallActive(*rec, actor, "approved by resolving the install_pending notification",
                         false);
  }
  if (*decision == InstallDecision::kReject) {
    return RejectRecord(*rec, actor, "rejected by resolving the install_pending notification",
                        /*resolve_notification=*/false);
  }
  VLOG(1) << "install_pending notification " << d.notification_id
          << " closed by the installer itself; nothing to do";
  return absl::OkStatus();
}

// ------------------------------------------------------- human decisions

absl::StatusOr<v1::Cartridge> CartridgeInstaller::Activate(std::string_view name,
                                                           std::string_view decided_by) {
  const std::string actor = decided_by.empty() ? "human" : std::string(decided_by);
  const std::string key(name);
  absl::StatusOr<v1::Cartridge> out = writer_.Run([&]() -> absl::StatusOr<v1::Cartridge> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                        VersionsOf(*db_, key, "it is always active"));
    CartridgeRecord* target = nullptr;
    for (RegistryStatus wanted :
         {RegistryStatus::kPending, RegistryStatus::kSuspended, RegistryStatus::kInactive}) {
      for (CartridgeRecord& r : rows) {
        if (r.status == wanted) {
          target = &r;
          break;
        }
      }
      if (target != nullptr) break;
    }
    if (target == nullptr) {
      const CartridgeRecord& best = *std::min_element(
          rows.begin(), rows.end(), [](const CartridgeRecord& a, const CartridgeRecord& b) {
            return Relevance(a.status) < Relevance(b.status);
          });
      return absl::FailedPreconditionError(
          Cat("cartridge ", key, " is ", RegistryStatusName(best.status), " (version ",
              best.cartridge.version,
              "); only a pending, suspended or inactive cartridge can be activated"));
    }
    const RegistryStatus was = target->status;
    TM_RETURN_IF_ERROR(files_.Write(CartridgeFiles::Place::kActive, target->cartridge.name,
                                    target->cartridge.runtime, target->cartridge.source));
    absl::Status done = Transact([&]() -> absl::Status {
      TM_RETURN_IF_ERROR(InstallActive(*target, actor,
                                       was == RegistryStatus::kPending ? "activated by a human"
                                       : was == RegistryStatus::kSuspended
                                           ? "re-activated after suspension"
                                           : "turned on again",
                                       false));
      if (was == RegistryStatus::kPending) {
        TM_RETURN_IF_ERROR(EnqueueResolve(*target, Resolution("approve", actor)));
      }
      return absl::OkStatus();
    });
    if (!done.ok()) {
      // Not active after all (e.g. the disk is full): no active file either
      // (none was there: pending, suspended and inactive versions have none).
      absl::Status removed = files_.Remove(CartridgeFiles::Place::kActive, target->cartridge.name,
                                           target->cartridge.runtime);
      if (!removed.ok()) LOG(WARNING) << "cartridge " << key << ": " << removed;
      return done;
    }
    return ToProto(*target, /*with_audit=*/false);
  });
  if (!out.ok()) return out;
  // Activation is done when egress runs it: ask now, so a cartridge that
  // cannot be loaded is a failed call and not a quiet "failed" in the list.
  absl::StatusOr<v1::ReloadCartridgesResponse> loaded = egress_.Reload();
  if (!loaded.ok()) {
    LOG(INFO) << "cartridge " << out->name() << " activated; egress could not be asked to load it ("
              << loaded.status().message() << "); it loads it when it is back";
    return out;
  }
  if (auto failed = loaded->failed().find(out->name()); failed != loaded->failed().end()) {
    return absl::FailedPreconditionError(Cat("cartridge ", out->name(), " ", out->version(),
                                             " cannot run: ", failed->second,
                                             "; it is now failed (publish a fixed version)"));
  }
  // The reload queued with the activation (the outbox) may have reached
  // egress first: egress then already reported the failure, the version is
  // failed, and this reload no longer lists it. Same answer.
  absl::StatusOr<v1::Cartridge> now = GetCartridge(out->name());
  if (now.ok() && now->version() == out->version() &&
      now->status() == v1::CARTRIDGE_STATUS_FAILED) {
    return absl::FailedPreconditionError(Cat("cartridge ", out->name(), " ", out->version(),
                                             " cannot run: ", now->reason(),
                                             "; it is now failed (publish a fixed version)"));
  }
  return out;
}

absl::StatusOr<v1::Cartridge> CartridgeInstaller::Deactivate(std::string_view name,
                                                             std::string_view decided_by,
                                                             std::string_view reason) {
  const std::string actor = decided_by.empty() ? "human" : std::string(decided_by);
  const std::string why = reason.empty() ? "turned off by a human" : std::string(reason);
  const std::string key(name);
  absl::StatusOr<v1::Cartridge> out = writer_.Run([&]() -> absl::StatusOr<v1::Cartridge> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                        VersionsOf(*db_, key, "the pipeline always runs it"));
    CartridgeRecord* target = nullptr;
    for (RegistryStatus wanted : {RegistryStatus::kActive, RegistryStatus::kSuspended}) {
      for (CartridgeRecord& r : rows) {
        if (target == nullptr && r.status == wanted) target = &r;
      }
    }
    if (target == nullptr) {
      const CartridgeRecord& best = *std::min_element(
          rows.begin(), rows.end(), [](const CartridgeRecord& a, const CartridgeRecord& b) {
            return Relevance(a.status) < Relevance(b.status);
          });
      return absl::FailedPreconditionError(Cat(
          "cartridge ", key, " is ", RegistryStatusName(best.status), " (version ",
          best.cartridge.version, "); only an active or suspended cartridge can be turned off"));
    }
    TM_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
      const RegistryStatus was = target->status;
      target->status = RegistryStatus::kInactive;
      target->activation_order = 0;
      target->decided_by = actor;
      target->decided_at = NowText();
      target->reason = why;
      target->updated_at = target->decided_at;
      TM_RETURN_IF_ERROR(db_->Update(*target));
      TM_RETURN_IF_ERROR(
          Audit(*target, "deactivated", actor, Cat(why, " (was ", RegistryStatusName(was), ")")));
      TM_RETURN_IF_ERROR(EnqueueSubmit(events_.Deactivated(target->cartridge, actor, why),
                                       "cartridge.deactivated", &target->cartridge));
      return EnqueueReload();
    }));
    absl::Status removed = files_.Remove(CartridgeFiles::Place::kActive, target->cartridge.name,
                                         target->cartridge.runtime);
    if (!removed.ok()) LOG(WARNING) << "cartridge " << key << ": " << removed;
    LOG(INFO) << "cartridge " << key << " " << target->cartridge.version << " turned off (" << actor
              << ")";
    return ToProto(*target, /*with_audit=*/false);
  });
  if (out.ok()) ReloadEgressNow();
  return out;
}

absl::StatusOr<v1::RemoveResponse> CartridgeInstaller::Remove(std::string_view name,
                                                              std::string_view decided_by,
                                                              std::string_view reason) {
  const std::string actor = decided_by.empty() ? "human" : std::string(decided_by);
  const std::string why = reason.empty() ? "removed by a human" : std::string(reason);
  const std::string key(name);
  bool was_active = false;
  absl::StatusOr<v1::RemoveResponse> out = writer_.Run([&]() -> absl::StatusOr<v1::RemoveResponse> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                        VersionsOf(*db_, key, "it cannot be removed"));
    v1::RemoveResponse response;
    for (const CartridgeRecord& r : rows) {
      TM_ASSIGN_OR_RETURN(*response.add_removed(), ToProto(r, /*with_audit=*/false));
    }
    TM_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
      for (const CartridgeRecord& r : rows) {
        TM_RETURN_IF_ERROR(
            Audit(r, "removed", actor, Cat(why, " (was ", RegistryStatusName(r.status), ")")));
        if (r.status == RegistryStatus::kActive) was_active = true;
        if (r.status == RegistryStatus::kPending) {
          TM_RETURN_IF_ERROR(EnqueueResolve(r, Resolution("removed", "installer")));
        }
      }
      TM_ASSIGN_OR_RETURN(int64_t deleted, db_->DeleteByName(key));
      TM_RETURN_IF_ERROR(EnqueueSubmit(events_.Removed(rows.front().cartridge, actor, why, deleted),
                                       "cartridge.removed", nullptr));
      return was_active ? EnqueueReload() : absl::OkStatus();
    }));
    for (CartridgeFiles::Place place :
         {CartridgeFiles::Place::kActive, CartridgeFiles::Place::kIncoming}) {
      absl::Status removed = files_.Remove(place, key, rows.front().cartridge.runtime);
      if (!removed.ok()) LOG(WARNING) << "cartridge " << key << ": " << removed;
    }
    LOG(INFO) << "cartridge " << key << " removed (" << rows.size() << " version(s), " << actor
              << ")";
    return response;
  });
  if (out.ok() && was_active) ReloadEgressNow();
  return out;
}

void CartridgeInstaller::ReloadEgressNow() {
  absl::StatusOr<v1::ReloadCartridgesResponse> reloaded = egress_.Reload();
  if (!reloaded.ok()) {
    LOG(INFO) << "egress could not be asked to reload its cartridges now ("
              << reloaded.status().message() << "); the queued reload follows when it is back";
  }
}

absl::StatusOr<v1::Cartridge> CartridgeInstaller::Reject(std::string_view name,
                                                         std::string_view decided_by,
                                                         std::string_view reason) {
  const std::string actor = decided_by.empty() ? "human" : std::string(decided_by);
  const std::string why = reason.empty() ? "rejected by a human" : std::string(reason);
  const std::string key(name);
  absl::StatusOr<v1::Cartridge> out = writer_.Run([&]() -> absl::StatusOr<v1::Cartridge> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                        VersionsOf(*db_, key, "it cannot be rejected"));
    auto pending = std::find_if(rows.begin(), rows.end(), [](const CartridgeRecord& r) {
      return r.status == RegistryStatus::kPending;
    });
    if (pending == rows.end()) {
      const CartridgeRecord& best = *std::min_element(
          rows.begin(), rows.end(), [](const CartridgeRecord& a, const CartridgeRecord& b) {
            return Relevance(a.status) < Relevance(b.status);
          });
      return absl::FailedPreconditionError(
          Cat("cartridge ", key, " is ", RegistryStatusName(best.status), " (version ",
              best.cartridge.version, "); only a pending cartridge can be rejected"));
    }
    TM_RETURN_IF_ERROR(Transact(
        [&] { return RejectRecord(*pending, actor, why, /*resolve_notification=*/true); }));
    return ToProto(*pending, /*with_audit=*/false);
  });
  return out;
}

absl::StatusOr<v1::Cartridge> CartridgeInstaller::ReportCartridgeFailure(
    const v1::ReportCartridgeFailureRequest& request) {
  if (request.name().empty()) {
    return absl::InvalidArgumentError("name: required; name the cartridge that failed");
  }
  if (request.reason().size() > kMaxReasonBytes) {
    return absl::InvalidArgumentError(
        Cat("reason: ", request.reason().size(), " bytes; at most ", kMaxReasonBytes));
  }
  absl::StatusOr<v1::Cartridge> out = writer_.Run([&]() -> absl::StatusOr<v1::Cartridge> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->FindByName(request.name()));
    if (rows.empty()) return absl::NotFoundError(NotFound(request.name()));
    const RegistryStatus new_status =
        request.suspended() ? RegistryStatus::kSuspended : RegistryStatus::kFailed;
    CartridgeRecord* target = nullptr;
    for (CartridgeRecord& r : rows) {
      if (!request.sha256().empty() ? r.cartridge.sha256 == request.sha256()
                                    : r.status == RegistryStatus::kActive) {
        target = &r;
        break;
      }
    }
    if (target == nullptr && request.sha256().empty()) {
      for (CartridgeRecord& r : rows) {  // a repeated report after the change
        if (r.status == new_status) {
          target = &r;
          break;
        }
      }
    }
    if (target == nullptr) {
      return absl::NotFoundError(request.sha256().empty()
                                     ? Cat("cartridge ", request.name(), " has no active version")
                                     : Cat("cartridge ", request.name(),
                                           " has no version with sha256 ", request.sha256()));
    }
    if (target->status == new_status) return ToProto(*target, false);
    if (target->status != RegistryStatus::kActive) {
      return absl::FailedPreconditionError(
          Cat("cartridge ", request.name(), " is ", RegistryStatusName(target->status),
              "; only an active cartridge can fail or be suspended"));
    }
    const std::string reason =
        request.reason().empty() ? std::string("reported by egress") : request.reason();
    TM_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
      target->status = new_status;
      target->activation_order = 0;
      target->reason = reason;
      target->decided_by = "egress";
      target->decided_at = NowText();
      target->updated_at = target->decided_at;
      TM_RETURN_IF_ERROR(db_->Update(*target));
      TM_RETURN_IF_ERROR(Audit(*target, RegistryStatusName(new_status), "egress", reason));
      if (request.suspended()) {
        TM_RETURN_IF_ERROR(EnqueueSubmit(events_.Suspended(target->cartridge, reason),
                                         "cartridge.suspended", &target->cartridge));
      }
      return absl::OkStatus();
    }));
    const CartridgeRuntime* runtime = FindCartridgeRuntime(target->cartridge.runtime);
    if (request.suspended() || runtime == nullptr || !runtime->file_read_by_runner) {
      absl::Status removed = files_.Remove(CartridgeFiles::Place::kActive, target->cartridge.name,
                                           target->cartridge.runtime);
      if (!removed.ok()) LOG(WARNING) << "cartridge " << request.name() << ": " << removed;
    }
    LOG(WARNING) << "cartridge " << request.name() << " " << RegistryStatusName(new_status) << ": "
                 << reason;
    return ToProto(*target, false);
  });
  return out;
}

// ------------------------------------------------------------- signing

absl::StatusOr<v1::SignCartridgeResponse> CartridgeInstaller::SignCartridge(
    std::string_view payload_json) {
  TM_ASSIGN_OR_RETURN(std::string signed_payload, signatures_.Sign(payload_json));
  v1::SignCartridgeResponse out;
  out.set_payload_json(std::move(signed_payload));
  out.set_author_fingerprint(options_.identity_key->fingerprint().ToString());
  return out;
}

// ------------------------------------------------------------- queries

absl::StatusOr<v1::Cartridge> CartridgeInstaller::ToProto(const CartridgeRecord& rec,
                                                          bool with_audit) {
  const CartridgeCandidate& c = rec.cartridge;
  v1::Cartridge p;
  p.set_name(c.name);
  p.set_status(ToProtoStatus(rec.status));
  p.set_version(c.version);
  p.set_author(c.author);
  p.set_event_type(c.event_type);
  p.set_runtime(c.runtime);
  p.set_entry_point(c.entry_point);
  for (const std::string& dep : c.dependencies) p.add_dependencies(dep);
  p.set_description(c.description);
  p.set_sha256(c.sha256);
  p.set_source_computer(c.source_computer);
  p.set_decided_by(rec.decided_by);
  p.set_decided_at(rec.decided_at);
  p.set_reason(rec.reason);
  for (int64_t id : rec.notification_ids) p.add_notification_ids(id);
  p.set_created_at(rec.created_at);
  p.set_source(c.source);
  p.set_signature(std::string(SignatureStatusName(rec.signature.status)));
  p.set_signature_message(rec.signature.message);
  p.set_author_fingerprint(rec.signature.author_fingerprint);
  TM_ASSIGN_OR_RETURN(auto stat, db_->GetStat(c.name));
  if (stat.has_value()) {
    p.set_invocation_count(stat->invocation_count);
    p.set_last_invoked_at(stat->last_invoked_at);
  }
  if (with_audit) {
    TM_ASSIGN_OR_RETURN(std::vector<AuditEntry> audit, db_->ListAudit(c.name));
    for (const AuditEntry& a : audit) {
      v1::CartridgeAuditEntry* e = p.add_audit();
      e->set_at(a.at);
      e->set_sha256(a.sha256);
      e->set_action(a.action);
      e->set_actor(a.actor);
      e->set_reason(a.reason);
    }
  }
  return p;
}

absl::StatusOr<v1::ListCartridgesResponse> CartridgeInstaller::ListCartridges() {
  return writer_.Run([&]() -> absl::StatusOr<v1::ListCartridgesResponse> {
    v1::ListCartridgesResponse out;
    for (std::string_view name : kSystemCartridges) {
      v1::Cartridge* p = out.add_cartridges();
      p->set_name(std::string(name));
      p->set_status(v1::CARTRIDGE_STATUS_SYSTEM);
      TM_ASSIGN_OR_RETURN(auto stat, db_->GetStat(name));
      if (stat.has_value()) {
        p->set_invocation_count(stat->invocation_count);
        p->set_last_invoked_at(stat->last_invoked_at);
      }
    }
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->List(/*with_source=*/false));
    std::map<std::string, bool> has_pending;
    for (const CartridgeRecord& r : rows) {
      TM_ASSIGN_OR_RETURN(*out.add_cartridges(), ToProto(r, false));
      if (r.status == RegistryStatus::kPending) has_pending[r.cartridge.name] = true;
    }
    TM_ASSIGN_OR_RETURN(std::vector<std::string> files,
                        files_.List(CartridgeFiles::Place::kIncoming));
    for (const std::string& name : files) {
      if (has_pending.count(name) > 0) continue;
      v1::Cartridge* p = out.add_cartridges();
      p->set_name(name);
      p->set_unregistered_file(true);
      p->set_reason("a file in cartridges/incoming/ that the registry does not know");
    }
    return out;
  });
}

absl::StatusOr<v1::Cartridge> CartridgeInstaller::GetCartridge(std::string_view name) {
  const std::string key(name);
  return writer_.Run([&]() -> absl::StatusOr<v1::Cartridge> {
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->FindByName(key));
    if (rows.empty()) {
      if (IsSystemCartridge(key)) {
        v1::Cartridge p;
        p.set_name(key);
        p.set_status(v1::CARTRIDGE_STATUS_SYSTEM);
        TM_ASSIGN_OR_RETURN(auto stat, db_->GetStat(key));
        if (stat.has_value()) {
          p.set_invocation_count(stat->invocation_count);
          p.set_last_invoked_at(stat->last_invoked_at);
        }
        return p;
      }
      return absl::NotFoundError(NotFound(key));
    }
    // rows are newest first; stable_sort keeps that within a rank.
    std::stable_sort(rows.begin(), rows.end(),
                     [](const CartridgeRecord& a, const CartridgeRecord& b) {
                       return Relevance(a.status) < Relevance(b.status);
                     });
    return ToProto(rows.front(), /*with_audit=*/true);
  });
}

absl::StatusOr<v1::ListActiveResponse> CartridgeInstaller::ListActive() {
  return writer_.Run([&]() -> absl::StatusOr<v1::ListActiveResponse> {
    v1::ListActiveResponse out;
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows, db_->ListActive());
    for (const CartridgeRecord& r : rows) {
      TM_ASSIGN_OR_RETURN(*out.add_cartridges(), ToProto(r, false));
    }
    return out;
  });
}

absl::StatusOr<v1::GetStatsResponse> CartridgeInstaller::GetStats() {
  return writer_.Run([&]() -> absl::StatusOr<v1::GetStatsResponse> {
    v1::GetStatsResponse out;
    TM_ASSIGN_OR_RETURN(std::vector<CartridgeStatRow> stats, db_->ListStats());
    for (const CartridgeStatRow& s : stats) {
      v1::CartridgeStat* p = out.add_stats();
      p->set_cartridge_name(s.cartridge_name);
      p->set_invocation_count(s.invocation_count);
      p->set_last_invoked_at(s.last_invoked_at);
      p->set_promotion_suggested_at(s.promotion_suggested_at);
    }
    out.set_promotion_threshold(options_.promotion_threshold);
    out.set_sovereignty_level(std::string(SovereigntyLevelName(options_.level)));
    TM_ASSIGN_OR_RETURN(int64_t pending, db_->CountWithStatus(RegistryStatus::kPending));
    out.set_pending_count(pending);
    TM_ASSIGN_OR_RETURN(int64_t active, db_->CountWithStatus(RegistryStatus::kActive));
    out.set_active_count(active);
    TM_ASSIGN_OR_RETURN(int64_t failed, db_->CountWithStatus(RegistryStatus::kFailed));
    out.set_failed_count(failed);
    TM_ASSIGN_OR_RETURN(int64_t suspended, db_->CountWithStatus(RegistryStatus::kSuspended));
    out.set_suspended_count(suspended);
    TM_ASSIGN_OR_RETURN(int64_t inactive, db_->CountWithStatus(RegistryStatus::kInactive));
    out.set_inactive_count(inactive);
    out.set_events_unsent(outbox_->Totals().depth);
    return out;
  });
}

// ------------------------------------------------------ stats, promotion

absl::StatusOr<v1::RecordInvocationsResponse> CartridgeInstaller::RecordInvocations(
    const v1::RecordInvocationsRequest& request) {
  if (request.batch_id().empty()) {
    return absl::InvalidArgumentError(
        "batch_id: required; give every batch a unique id so a re-sent batch applies once");
  }
  // Sum per cartridge first (a batch may name a cartridge more than once).
  struct Sum {
    int64_t count = 0;
    std::optional<absl::Time> last;
  };
  std::map<std::string, Sum> sums;
  const absl::Time now = absl::Now();
  for (int i = 0; i < request.counts_size(); ++i) {
    const v1::InvocationCount& c = request.counts(i);
    if (c.cartridge_name().empty()) {
      return absl::InvalidArgumentError(Cat("counts[", i, "].cartridge_name: required"));
    }
    // Egress sends what it counted since the last batch (at least 1); a
    // bound far above any real batch keeps every sum below overflow.
    if (c.count() <= 0 || c.count() > kMaxInvocationsPerEntry) {
      return absl::InvalidArgumentError(Cat("counts[", i, "].count: ", c.count(),
                                            " is out of range; counts are 1..",
                                            kMaxInvocationsPerEntry));
    }
    absl::Time at = now;
    if (!c.last_invoked_at().empty()) {
      absl::StatusOr<Timestamp> ts = ParseTimestamp(c.last_invoked_at());
      if (!ts.ok()) {
        return absl::InvalidArgumentError(
            Cat("counts[", i, "].last_invoked_at: ", ts.status().message(), "; use ISO 8601"));
      }
      at = ts->ToTime();
    }
    Sum& s = sums[c.cartridge_name()];
    s.count = SaturatingAdd(s.count, c.count());
    if (!s.last || at > *s.last) s.last = at;
  }
  absl::StatusOr<v1::RecordInvocationsResponse> out =
      writer_.Run([&]() -> absl::StatusOr<v1::RecordInvocationsResponse> {
        v1::RecordInvocationsResponse response;
        TM_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
          TM_ASSIGN_OR_RETURN(bool fresh, db_->MarkBatchApplied(request.batch_id()));
          if (!fresh) {
            response.set_already_applied(true);
            return absl::OkStatus();
          }
          const std::string now_text = NowText();
          for (const auto& [name, sum] : sums) {
            TM_ASSIGN_OR_RETURN(auto existing, db_->GetStat(name));
            CartridgeStatRow row = existing.value_or(CartridgeStatRow{name, 0, "", ""});
            // Saturates at INT64_MAX rather than wrap (unreachable in
            // practice: 10^12 per entry).
            row.invocation_count = SaturatingAdd(row.invocation_count, sum.count);
            if (sum.last.has_value()) {
              absl::StatusOr<Timestamp> old = ParseTimestamp(row.last_invoked_at);
              if (row.last_invoked_at.empty() || !old.ok() || *sum.last > old->ToTime()) {
                row.last_invoked_at = TimeText(*sum.last);
              }
            }
            // System cartridges are counted (ListCartridges shows them) but
            // are part of the pipeline already: nothing to promote.
            if (row.promotion_suggested_at.empty() && sum.count > 0 && !IsSystemCartridge(name) &&
                row.invocation_count >= options_.promotion_threshold) {
              row.promotion_suggested_at = now_text;
              LOG(INFO) << "cartridge " << name << " reached " << row.invocation_count
                        << " invocations (threshold " << options_.promotion_threshold
                        << "): suggesting promotion";
              TM_RETURN_IF_ERROR(
                  EnqueueSubmit(events_.PromotionSuggested(name, row.invocation_count,
                                                           options_.promotion_threshold),
                                "cartridge.promotion_suggested", nullptr));
            }
            TM_RETURN_IF_ERROR(db_->PutStat(row));
          }
          return absl::OkStatus();
        }));
        return response;
      });
  return out;
}

// -------------------------------------------------------- transactions

absl::Status CartridgeInstaller::Transact(absl::FunctionRef<absl::Status()> body) {
  removals_after_commit_.clear();
  absl::Status status = writer_.Transact(body);
  std::vector<std::pair<CartridgeFiles::Place, CartridgeCandidate>> removals;
  removals.swap(removals_after_commit_);
  if (!status.ok()) return status;  // the files stay, as the rows do
  for (const auto& [place, c] : removals) {
    absl::Status removed = files_.Remove(place, c.name, c.runtime);
    if (!removed.ok()) LOG(WARNING) << "cartridge " << c.name << ": " << removed;
  }
  return status;
}

void CartridgeInstaller::RemoveAfterCommit(CartridgeFiles::Place place,
                                           const CartridgeCandidate& c) {
  removals_after_commit_.emplace_back(place, c);
}

// ------------------------------------------------------------- outbox

absl::Status CartridgeInstaller::Audit(const CartridgeRecord& rec, std::string_view action,
                                       std::string_view actor, std::string_view reason) {
  AuditEntry e;
  e.at = NowText();
  e.name = rec.cartridge.name;
  e.sha256 = rec.cartridge.sha256;
  e.action = std::string(action);
  e.actor = std::string(actor);
  e.reason = std::string(reason);
  return db_->AddAudit(e);
}

absl::Status CartridgeInstaller::EnqueueSubmit(std::string envelope_json,
                                               std::string_view event_type,
                                               const CartridgeCandidate* about) {
  EgressMessage m;
  m.kind = OutboxKind::kSubmit;
  m.event_type = std::string(event_type);
  m.envelope_json = std::move(envelope_json);
  if (about != nullptr) {
    m.cartridge_name = about->name;
    m.cartridge_sha256 = about->sha256;
  }
  return outbox_->Append({kEgressDestination}, message_id_prefix_, EncodeEgressMessage(m)).status();
}

absl::Status CartridgeInstaller::EnqueueResolve(const CartridgeRecord& rec,
                                                std::string_view resolution_json) {
  EgressMessage m;
  m.kind = OutboxKind::kResolve;
  m.cartridge_name = rec.cartridge.name;
  m.cartridge_sha256 = rec.cartridge.sha256;
  m.notification_id = rec.pending_notification_id;
  m.resolution_json = std::string(resolution_json);
  return outbox_->Append({kEgressDestination}, message_id_prefix_, EncodeEgressMessage(m)).status();
}

absl::Status CartridgeInstaller::EnqueueReload() {
  EgressMessage m;
  m.kind = OutboxKind::kReload;
  return outbox_->Append({kEgressDestination}, message_id_prefix_, EncodeEgressMessage(m)).status();
}

bool CartridgeInstaller::WaitForOutboxEmpty(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (outbox_->Totals().depth == 0) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

OutboxTotals CartridgeInstaller::OutboxFigures() const { return outbox_->Totals(); }

absl::StatusOr<int64_t> CartridgeInstaller::PendingNotificationOf(std::string_view name,
                                                                  std::string_view sha256) {
  return writer_.Run([&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(auto rec, db_->Find(name, sha256));
    return rec.has_value() ? rec->pending_notification_id : 0;
  });
}

absl::Status CartridgeInstaller::Link(const std::vector<NotificationLink>& links) {
  return writer_.Run([&]() -> absl::Status {
    return Transact([&]() -> absl::Status {
      for (const NotificationLink& link : links) {
        TM_ASSIGN_OR_RETURN(auto rec, db_->Find(link.cartridge_name, link.cartridge_sha256));
        if (!rec.has_value()) continue;
        auto& ids = rec->notification_ids;
        if (std::find(ids.begin(), ids.end(), link.notification_id) == ids.end()) {
          ids.push_back(link.notification_id);
        }
        if (link.event_type == "cartridge.install_pending" && rec->pending_notification_id == 0) {
          rec->pending_notification_id = link.notification_id;
        }
        TM_RETURN_IF_ERROR(db_->Update(*rec));
      }
      return absl::OkStatus();
    });
  });
}

void CartridgeInstaller::OnDropEpisode(const DropEpisode& episode) {
  LOG(ERROR) << "outbox: more than " << episode.bound << " messages wait for egress; dropped "
             << episode.dropped << " (oldest first; further drops are counted, not logged)";
}

}  // namespace teleclaude::mesh
