// The installer's core (DESIGN §1, §5; issue 5): the sovereignty gate, the
// registry and files, human decisions, failure reports, invocation stats and
// promotion, and the outbox through which everything it has to say reaches
// egress.
//
// Threads: one writer (SingleWriter, common/delivery/single_writer.h) owns
// installer.db and the cartridge files; every public method hands its work
// to it and waits. Between tasks it prunes expired seen ids (SeenIds). A
// full disk (installer.db or a cartridge file) fails the whole transaction:
// nothing is acknowledged, the WAL is truncated, writes pause with backoff
// and write_health() reports it until a commit (doc/installer-db.md).
// What egress must be told is appended to an Outbox (common/delivery/
// outbox.h, destination "egress") in the transaction of the change it
// reports; an OutboxSender thread delivers it through EgressTransport
// (Submit / ResolveNotification / ReloadCartridges), retrying with backoff
// while egress is down; a message counts as done only once its progress is
// committed (a copy sent again after a crash carries the same message id).
// Guardian evaluation (which may be a remote call) runs on the calling
// thread, never on the writer.
//
// Thread-safe: every public method may be called from any thread.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_INSTALLER_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_INSTALLER_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cartridge/sovereignty.h"
#include "common/cartridge/system_cartridges.h"
#include "common/delivery/outbox.h"
#include "common/delivery/outbox_observer.h"
#include "common/delivery/outbox_sender.h"
#include "common/delivery/seen_ids.h"
#include "common/delivery/single_writer.h"
#include "common/identity/identity_key.h"
#include "common/sqlite/write_health.h"
#include "services/installer/cartridge_files.h"
#include "services/installer/cartridge_signatures.h"
#include "services/installer/egress_client.h"
#include "services/installer/egress_transport.h"
#include "services/installer/guardian.h"
#include "services/installer/installer_db.h"
#include "services/installer/installer_events.h"
#include "services/installer/notification_links.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh {

struct InstallerOptions {
  std::string computer_name;
  SovereigntyLevel level = SovereigntyLevel::kL1;
  int64_t promotion_threshold = 10;
  int64_t max_cartridge_bytes = 262144;
  std::filesystem::path data_dir;
  std::filesystem::path cartridges_dir;
  std::filesystem::path incoming_dir;
  std::filesystem::path db_path;
  // {data_dir}/membership.db (ingress writes it): the keys pinned for the
  // authors of received cartridges, read-only.
  std::filesystem::path membership_db_path;
  // This computer's identity (signs its own cartridges; its own cartridges
  // verify against it). Null: nothing is signed and nothing this computer
  // authored verifies.
  std::shared_ptr<const IdentityKey> identity_key;
  std::string egress_addr;
  // This computer's service token, sent with every call to egress.
  std::string service_token;
  // Deadline of each call to egress.
  absl::Duration egress_timeout = absl::Seconds(5);
  // Outbox retry backoff while egress is unreachable.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(2);
  // Messages waiting for egress at most; beyond it the oldest are dropped,
  // counted and logged once per episode (0 = no bound).
  int64_t outbox_max = 100000;
  // How long handled push ids and applied RecordInvocations batch ids are
  // remembered (a copy arriving later is acted on again), and how they are
  // pruned.
  SeenIds::Options seen_ids;
};

class CartridgeInstaller : public NotificationLinks, public OutboxObserver {
 public:
  // Opens installer.db and the cartridge directories, starts the writer and
  // the outbox sender (which sends whatever a previous run left behind).
  // `guardian` is required for L2 (INVALID_ARGUMENT otherwise) and ignored
  // for L1 / L3. Errors from InstallerDb::Open / CartridgeFiles::Open.
  static absl::StatusOr<std::unique_ptr<CartridgeInstaller>> Create(
      InstallerOptions options, std::unique_ptr<Guardian> guardian);
  // Stop().
  ~CartridgeInstaller() override;
  CartridgeInstaller(const CartridgeInstaller&) = delete;
  CartridgeInstaller& operator=(const CartridgeInstaller&) = delete;

  // Stops the sender (an in-flight egress call finishes; unsent messages stay
  // in the outbox for the next run) and then the writer (queued work and the
  // sender's reported progress are committed).
  // Later calls return UNAVAILABLE. Idempotent.
  void Stop();

  // Installer.OnNotification: acts on each push once (by push_id):
  //   cartridge.published, was_created → the author's signature is checked
  //     (CartridgeSignatures::Check, recorded on the row), then the gate:
  //     anything but verified is pending at every level (a person decides,
  //     the guardian is not asked);
  //   cartridge.install_pending, resolved → the decision in resolution_json
  //     ({"decision":"approve"} / {"decision":"reject"}) for that version,
  //     ignored when it was already decided;
  //   cartridge.install_pending, created → remembers the notification id.
  // Others are ignored. One transaction for the batch. An invalid payload
  // writes nothing but a cartridge.install_failed event. Errors only when
  // the database fails (egress then re-sends the batch).
  absl::Status OnNotification(const v1::OnNotificationRequest& request);

  // Installer.RecordInvocations: one transaction; a batch_id seen before is
  // not applied again (already_applied). A cartridge (other than the system
  // ones) whose count reaches the threshold gets cartridge.promotion_suggested
  // once, ever. INVALID_ARGUMENT for an empty
  // batch_id, an empty cartridge_name or a negative count.
  absl::StatusOr<v1::RecordInvocationsResponse> RecordInvocations(
      const v1::RecordInvocationsRequest& request);

  // System cartridges, then every registry row (no source), then files in
  // incoming/ without a pending row (unregistered_file).
  absl::StatusOr<v1::ListCartridgesResponse> ListCartridges();

  // The most relevant version of `name` (active, else pending, suspended,
  // failed, else the newest) with source and audit. NOT_FOUND
  // "no cartridge named X; see `telec cartridges list`".
  absl::StatusOr<v1::Cartridge> GetCartridge(std::string_view name);

  // Pending (else suspended, else inactive) → active. NOT_FOUND as
  // GetCartridge; FAILED_PRECONDITION "cartridge X is <status> ...; only a
  // pending, suspended or inactive cartridge can be activated". Audited;
  // emits cartridge.installed, resolves the install_pending notification.
  // Then asks egress to load the active set (calling it on this thread):
  // when egress cannot load this cartridge, FAILED_PRECONDITION "cartridge X
  // 1.0 cannot run: <egress's reason, e.g. the compile error>; it is now
  // failed" (egress has reported it failed). An unreachable egress is not an
  // error: the queued reload loads it when egress is back.
  absl::StatusOr<v1::Cartridge> Activate(std::string_view name, std::string_view decided_by);

  // Active (else suspended) → inactive; its active file is deleted, the
  // source stays in installer.db for Activate. Audited ("deactivated"),
  // emits cartridge.deactivated, then asks egress to reload (egress stops
  // running it; unreachable: the queued reload does it later). NOT_FOUND as
  // GetCartridge; FAILED_PRECONDITION for another status or a system
  // cartridge.
  absl::StatusOr<v1::Cartridge> Deactivate(std::string_view name, std::string_view decided_by,
                                           std::string_view reason);

  // Every version of `name` leaves the registry (audited "removed" per
  // version; the audit log keeps them), its files are deleted, a pending
  // version's install_pending notification is resolved
  // {"decision":"removed","decided_by":"installer"}, cartridge.removed is
  // emitted, and egress reloads when one was active. Returns the versions
  // as they were. NOT_FOUND as GetCartridge; FAILED_PRECONDITION for a
  // system cartridge.
  absl::StatusOr<v1::RemoveResponse> Remove(std::string_view name, std::string_view decided_by,
                                            std::string_view reason);

  // Pending → rejected, its incoming file deleted. Errors as Activate.
  absl::StatusOr<v1::Cartridge> Reject(std::string_view name, std::string_view decided_by,
                                       std::string_view reason);

  absl::StatusOr<v1::GetStatsResponse> GetStats();
  absl::StatusOr<v1::ListActiveResponse> ListActive();

  // Active → failed (suspended=false) or suspended (true), with reason;
  // suspended emits cartridge.suspended. The version is `sha256`, or the
  // active one when empty. NOT_FOUND when there is no such cartridge;
  // repeating a report is a no-op.
  absl::StatusOr<v1::Cartridge> ReportCartridgeFailure(
      const v1::ReportCartridgeFailureRequest& request);

  // Installer.SignCartridge (CartridgeSignatures::Sign).
  absl::StatusOr<v1::SignCartridgeResponse> SignCartridge(std::string_view payload_json);

  // Blocks until the outbox is empty (everything delivered and committed) or
  // `timeout` passed; true when empty.
  bool WaitForOutboxEmpty(absl::Duration timeout);

  // The outbox's figures since start (depth waiting, sent, refused, dropped
  // by the bound); any thread.
  OutboxTotals OutboxFigures() const;

  // What the writer last saw of installer.db's commits (disk full since ...)
  // for a WriteHealthProbe; lives as long as the installer.
  const WriteHealth* write_health() const { return &write_health_; }

  // NotificationLinks (the sender's thread; each a task on the writer).
  absl::StatusOr<int64_t> PendingNotificationOf(std::string_view name,
                                                std::string_view sha256) override;
  absl::Status Link(const std::vector<NotificationLink>& links) override;
  // OutboxObserver (the writer's thread): one log line per drop episode.
  void OnDropEpisode(const DropEpisode& episode) override;

 private:
  struct GateDecision;

  CartridgeInstaller(InstallerOptions options, std::unique_ptr<Guardian> guardian,
                     std::unique_ptr<InstallerDb> db, CartridgeFiles files);
  // Opens the outbox, starts the writer and the sender.
  absl::Status Start();

  // --- writer-only (run inside writer_ tasks) ---
  // writer_.Transact, then (only when it committed) deletes the files
  // RemoveAfterCommit named during `body`: a transaction that fails (a full
  // disk) leaves the files as it leaves the rows.
  absl::Status Transact(absl::FunctionRef<absl::Status()> body);
  void RemoveAfterCommit(CartridgeFiles::Place place, const CartridgeCandidate& c);
  absl::Status ApplyPushes(const std::vector<GateDecision>& decisions);
  absl::Status ApplyGate(const GateDecision& d);
  absl::Status ApplyResolution(const GateDecision& d);
  absl::Status InstallActive(CartridgeRecord& record, std::string_view actor,
                             std::string_view reason, bool notify_informational);
  absl::Status SupersedePending(std::string_view name, const CartridgeCandidate& newer);
  absl::Status RejectRecord(CartridgeRecord& record, std::string_view actor,
                            std::string_view reason, bool resolve_notification);
  absl::Status EnqueueSubmit(std::string envelope_json, std::string_view event_type,
                             const CartridgeCandidate* about);
  absl::Status EnqueueResolve(const CartridgeRecord& record, std::string_view resolution_json);
  absl::Status EnqueueReload();
  absl::Status Audit(const CartridgeRecord& record, std::string_view action, std::string_view actor,
                     std::string_view reason);
  absl::StatusOr<v1::Cartridge> ToProto(const CartridgeRecord& record, bool with_audit);

  // Pipeline.ReloadCartridges on the calling thread (not the writer);
  // failures are logged (the outbox holds a reload too).
  void ReloadEgressNow();

  const InstallerOptions options_;
  const std::unique_ptr<Guardian> guardian_;
  const InstallerEvents events_;
  CartridgeSignatures signatures_;
  EgressClient egress_;
  // Used on the writer thread (writer_) only.
  std::unique_ptr<InstallerDb> db_;
  CartridgeFiles files_;
  // Files to delete once the running Transact commits (writer thread only).
  std::vector<std::pair<CartridgeFiles::Place, CartridgeCandidate>> removals_after_commit_;
  // Told of every commit and failure by writer_.
  WriteHealth write_health_;
  // After db_ (uses it; stopped and destroyed first).
  SingleWriter writer_;
  // Set by Start(); the sender is stopped before the writer.
  std::string message_id_prefix_;  // "installer:{instance_id}:o"
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<EgressTransport> transport_;
  std::unique_ptr<OutboxSender> sender_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_INSTALLER_H_
