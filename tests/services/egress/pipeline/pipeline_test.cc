// Component tests of the egress pipeline on a real SQLite file: the runner
// (order, drop, failure, suspension, emits, invocations), the system
// cartridges with TeleClaude's semantics, and the worker (processed inputs,
// the mesh outbox as a participant of its transactions: per-peer bound,
// back-pressure). The test cartridges below are real Cartridge
// implementations (the interface is ours), not mocks.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/catalog/event_catalog.h"
#include "common/delivery/outbox.h"
#include "common/identity/identity_key.h"
#include "common/json/json_text.h"
#include "common/mesh/membership_reader.h"
#include "common/mesh/membership_store.h"
#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "services/egress/cartridges/dedup_cartridge.h"
#include "services/egress/cartridges/mesh_publisher.h"
#include "services/egress/cartridges/notification_projector.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/pipeline_worker.h"
#include "services/egress/storage/events_db.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::TempDir;

constexpr char kTodoCreated[] = "domain.software-development.planning.todo_created";
constexpr char kArtifactChanged[] = "domain.software-development.planning.artifact_changed";
constexpr char kDependencyResolved[] = "domain.software-development.planning.dependency_resolved";
constexpr char kDorAssessed[] = "domain.software-development.planning.dor_assessed";
constexpr char kBuildCompleted[] = "domain.software-development.build.completed";

EventEnvelope Event(std::string type, std::string payload,
                    Visibility visibility = Visibility::kLocal) {
  EventEnvelope e;
  e.event = std::move(type);
  e.source = "alpha";
  e.level = Level::kWorkflow;
  e.visibility = visibility;
  e.payload_json = std::move(payload);
  return e;
}

// A test stage: logs its name, then does what it was told.
class StageCartridge : public Cartridge {
 public:
  enum class Action { kPass, kDrop, kFail, kEmit };
  StageCartridge(std::string name, std::vector<std::string>* log, Action action = Action::kPass,
                 int emits = 1)
      : name_(std::move(name)), log_(log), action_(action), emits_(emits) {}
  std::string_view Name() const override { return name_; }
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override {
    log_->push_back(name_ + ":" + event.event + ":" + event.payload_json);
    switch (action_) {
      case Action::kPass:
        return Verdict::kContinue;
      case Action::kDrop:
        return Verdict::kDrop;
      case Action::kFail:
        event.payload_json = R"({"changed_by_failing":true})";
        return absl::InternalError("boom");
      case Action::kEmit:
        if (event.event == "test.trigger") {
          for (int i = 0; i < emits_; ++i) {
            EventEnvelope e = Event("mesh.event.rejected", "{\"n\":" + std::to_string(i) + "}");
            e.source.clear();
            context.emitted.push_back(std::move(e));
          }
        }
        return Verdict::kContinue;
    }
    return Verdict::kContinue;
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
  Action action_;
  int emits_;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Input keys are stamped by clock_ (pruned in chunks of 100).
    auto db = EventsDb::Open(dir_.File("events.db"), {.prune_chunk = 100, .clock = &clock_});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    // Membership as ingress writes it and egress reads it: beta (c1), gamma
    // (c2), delta (a Python peer: no cluster).
    RecordPeers({{"beta", "c1", "b1"}, {"gamma", "c2", "g1"}, {"delta", std::nullopt, "d1"}});
    membership_ = std::make_unique<MembershipReader>(MembershipReader::Options{
        dir_.File("membership.db"), "alpha", "c1", absl::Hours(1), absl::Hours(24)});
    ASSERT_TRUE(membership_->ReloadNow().ok());
    Build(/*bound=*/0);
  }

  // The mesh outbox (at most `bound` messages per peer; 0 = none) and the
  // runner whose publisher appends to it.
  void Build(int64_t bound) {
    runner_.reset();
    Outbox::Options outbox_options;
    outbox_options.name = "mesh";
    outbox_options.max_per_destination = bound;
    outbox_options.id_per_destination = true;
    auto outbox = Outbox::Open(db_->database(), outbox_options, nullptr, nullptr);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(*outbox);
    auto push = Outbox::Open(db_->database(), {.name = "push"}, nullptr, nullptr);
    ASSERT_TRUE(push.ok()) << push.status();
    push_outbox_ = std::move(*push);
    std::vector<std::unique_ptr<Cartridge>> system;
    system.push_back(std::make_unique<DedupCartridge>(&catalog_, db_.get()));
    system.push_back(std::make_unique<NotificationProjector>(
        &catalog_, db_.get(),
        std::vector<NotificationPushFn>{[this](const NotificationPushInfo& p) {
          pushes_.push_back(p.envelope->event + ":" + std::to_string(p.notification_id) + ":" +
                            (p.was_created ? "created" : "existing") + ":" +
                            (p.is_meaningful ? "meaningful" : "silent"));
          return absl::OkStatus();
        }}));
    auto publisher = std::make_unique<MeshPublisher>(MeshPublisher::Options{"alpha"},
                                                     membership_.get(), outbox_.get());
    publisher_ = publisher.get();
    system.push_back(std::move(publisher));
    PipelineRunner::Options options;
    options.computer_name = "alpha";
    runner_ = std::make_unique<PipelineRunner>(
        options, std::move(system),
        [this](const CartridgeSpec& spec, const std::string&) { suspended_.push_back(spec.name); });
  }

  // One read of the heartbeats, recorded in membership.db (as ingress does).
  // Each heartbeat signed by its computer's key (one key per name: only
  // signed heartbeats announce a cluster, doc/security.md §10.1).
  void RecordPeers(std::vector<HeartbeatSighting> seen) {
    auto store = MembershipStore::Open(dir_.File("membership.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    for (HeartbeatSighting& s : seen) {
      std::unique_ptr<IdentityKey>& key = keys_[s.name];
      if (key == nullptr) key = IdentityKey::Generate();
      s.key = key->public_key();
      s.signed_last_seen = absl::Now();
    }
    ASSERT_TRUE((*store)->RecordHeartbeats(seen, absl::Now(), {}).ok());
  }
  std::map<std::string, std::unique_ptr<IdentityKey>> keys_;

  void SetActive(std::vector<std::unique_ptr<Cartridge>> cartridges) {
    std::vector<ActiveCartridge> active;
    for (auto& c : cartridges) {
      CartridgeSpec spec;
      spec.name = std::string(c->Name());
      spec.sha256 = "sha-" + spec.name;
      active.push_back({spec, std::move(c)});
    }
    runner_->SetActive(std::move(active));
  }

  std::vector<RunResult> Run(EventEnvelope e, EventOrigin origin = EventOrigin::kLocal,
                             std::string key = "") {
    std::vector<RunResult> results;
    if (key.empty()) key = "test:" + std::to_string(next_key_++);
    // One round, as the worker runs it: the outbox takes part.
    auto txn = Transaction::Begin(db_->database());
    EXPECT_TRUE(txn.ok());
    EXPECT_TRUE(outbox_->BeforeJobs().ok());
    runner_->Run(std::move(e), origin, origin == EventOrigin::kMesh ? "beta" : "", key, &results,
                 &invocations_);
    EXPECT_TRUE(outbox_->AfterJobs().ok());
    EXPECT_TRUE(txn->Commit().ok());
    outbox_->Committed();
    return results;
  }

  NotificationRow Row(int64_t id) {
    auto row = db_->GetNotification(id);
    EXPECT_TRUE(row.ok() && row->has_value());
    return row.ok() && row->has_value() ? **row : NotificationRow{};
  }

  // The pending mesh deliveries as committed in events.db, oldest first:
  // "destination" or, with `ids`, the message id.
  std::vector<std::string> OutboxDestinations(bool ids = false) {
    Database* db = db_->database();
    std::map<std::string, int64_t> cursors;
    auto c = db->Prepare("SELECT destination, next_seq FROM outbox_mesh_cursors");
    EXPECT_TRUE(c.ok());
    while (c.ok() && *c->Step()) cursors[c->ColumnText(0)] = c->ColumnInt64(1);
    std::vector<std::string> out;
    auto s = db->Prepare(
        "SELECT o.seq, o.message_id, a.destinations FROM outbox_mesh o JOIN "
        "outbox_mesh_audiences a ON a.id = o.audience ORDER BY o.seq");
    EXPECT_TRUE(s.ok());
    while (s.ok() && *s->Step()) {
      const int64_t seq = s->ColumnInt64(0);
      for (const std::string& dest :
           std::vector<std::string>(absl::StrSplit(s->ColumnText(2), '\n'))) {
        if (seq < cursors[std::string(dest)]) continue;
        out.push_back(ids ? s->ColumnText(1) + std::string(dest) : std::string(dest));
      }
    }
    return out;
  }

  int64_t OutboxRows() {
    auto s = db_->database()->Prepare("SELECT COUNT(*) FROM outbox_mesh");
    EXPECT_TRUE(s.ok() && *s->Step());
    return s.ok() ? s->ColumnInt64(0) : -1;
  }

  // What the mesh outbox's sender reports (common/delivery/outbox_sender.h),
  // for every peer: `sent` more messages delivered, draining or not.
  void ReportSent(int sent, bool draining) {
    std::shared_ptr<const OutboxView> view = outbox_->View();
    std::vector<DestinationProgress> progress;
    for (const auto& [dest, cursor] : view->cursors) {
      DestinationProgress p;
      p.destination = dest;
      p.from = cursor;
      p.to = cursor + sent;
      p.delivered = sent;
      p.draining = draining;
      progress.push_back(p);
    }
    outbox_->Report(std::move(progress));
  }

  TempDir dir_;
  // Starts at the real time, so workers on the real clock prune nothing.
  testing::ManualClock clock_{absl::Now()};
  EventCatalog catalog_ = BuildDefaultCatalog();
  std::unique_ptr<EventsDb> db_;
  std::unique_ptr<MembershipReader> membership_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Outbox> push_outbox_;  // the installer pushes' (no sender here)
  MeshPublisher* publisher_ = nullptr;
  std::unique_ptr<PipelineRunner> runner_;
  std::vector<Invocation> invocations_;
  std::vector<std::string> pushes_;
  std::vector<std::string> suspended_;
  int next_key_ = 0;
};

std::vector<std::string> Names(const std::vector<Invocation>& invocations) {
  std::vector<std::string> out;
  for (const auto& i : invocations) out.push_back(i.cartridge_name + "/" + i.event_type);
  return out;
}

TEST_F(PipelineTest, RunsSystemCartridgesThenActiveOnesInOrder) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Cartridge>> active;
  active.push_back(std::make_unique<StageCartridge>("first", &log));
  active.push_back(std::make_unique<StageCartridge>("second", &log));
  SetActive(std::move(active));
  auto results = Run(Event("test.unknown", "{}"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RunResult::Status::kProcessed);
  EXPECT_EQ(log, (std::vector<std::string>{"first:test.unknown:{}", "second:test.unknown:{}"}));
  EXPECT_EQ(Names(invocations_),
            (std::vector<std::string>{"dedup/test.unknown", "notification-projector/test.unknown",
                                      "mesh-publisher/test.unknown", "first/test.unknown",
                                      "second/test.unknown"}));
}

TEST_F(PipelineTest, DropStopsTheChainAndNamesTheCartridge) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Cartridge>> active;
  active.push_back(
      std::make_unique<StageCartridge>("dropper", &log, StageCartridge::Action::kDrop));
  active.push_back(std::make_unique<StageCartridge>("after", &log));
  SetActive(std::move(active));
  auto results = Run(Event("test.unknown", "{}"));
  EXPECT_EQ(results[0].status, RunResult::Status::kDropped);
  EXPECT_EQ(results[0].dropped_by, "dropper");
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(runner_->counters().at("dropper").dropped, 1);
  // No invocation for the cartridge that dropped (it returned no event).
  EXPECT_EQ(Names(invocations_).back(), "mesh-publisher/test.unknown");
}

TEST_F(PipelineTest, FailureRestoresTheEventAndRepeatedFailuresSuspend) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Cartridge>> active;
  active.push_back(std::make_unique<StageCartridge>("flaky", &log, StageCartridge::Action::kFail));
  active.push_back(std::make_unique<StageCartridge>("after", &log));
  SetActive(std::move(active));
  auto results = Run(Event("test.unknown", R"({"a":1})"));
  // The next cartridge saw the event as it was before the failing call.
  EXPECT_EQ(log.back(), R"(after:test.unknown:{"a":1})");
  EXPECT_EQ(results[0].envelope.payload_json, R"({"a":1})");
  EXPECT_EQ(runner_->counters().at("flaky").failures, 1);
  for (int i = 0; i < 4; ++i) results = Run(Event("test.unknown", R"({"a":1})"));
  EXPECT_EQ(suspended_, (std::vector<std::string>{"flaky"}));
  EXPECT_TRUE(runner_->counters().at("flaky").suspended);
  EXPECT_EQ(runner_->ActiveNames(), (std::vector<std::string>{"after"}));
  // The suspension became a local cartridge.suspended notification.
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].envelope.event, "cartridge.suspended");
  EXPECT_GT(results[1].notification_id, 0);
  // Suspended: not called any more.
  size_t calls = log.size();
  Run(Event("test.unknown", "{}"));
  EXPECT_EQ(log.size(), calls + 1);  // only "after"
}

TEST_F(PipelineTest, EmittedEventsRunThroughTheWholeChainWithinLimits) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Cartridge>> active;
  active.push_back(
      std::make_unique<StageCartridge>("emitter", &log, StageCartridge::Action::kEmit, 15));
  SetActive(std::move(active));
  auto results = Run(Event("test.trigger", "{}"), EventOrigin::kLocal, "local:s:1-0");
  ASSERT_EQ(results.size(), 11u);  // the trigger + at most 10 emitted
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].envelope.event, "mesh.event.rejected");
    EXPECT_EQ(results[i].envelope.source, "alpha");
    EXPECT_GT(results[i].notification_id, 0) << "emitted event projected";
    EXPECT_EQ(results[i].input_key, "local:s:1-0#e" + std::to_string(i - 1));
  }
  EXPECT_EQ(runner_->emits_refused(), 5);
  EXPECT_EQ(*db_->CountNotifications(), 10);
}

TEST_F(PipelineTest, NoInvocationIsRecordedForCartridgeInvoked) {
  Run(Event("cartridge.invoked", R"({"cartridge_name":"x","event_type":"y"})"));
  EXPECT_TRUE(invocations_.empty());
}

TEST_F(PipelineTest, DedupStampsTheKeyAndDropsAnEventWhoseKeyHasANotification) {
  auto first = Run(Event(kTodoCreated, R"({"slug":"s1","title":"T"})"));
  EXPECT_EQ(first[0].status, RunResult::Status::kProcessed);
  EXPECT_EQ(first[0].envelope.idempotency_key, std::string(kTodoCreated) + ":s1");
  auto second = Run(Event(kTodoCreated, R"({"slug":"s1","title":"other"})"));
  EXPECT_EQ(second[0].status, RunResult::Status::kDropped);
  EXPECT_EQ(second[0].dropped_by, "dedup");
  EXPECT_EQ(*db_->CountNotifications(), 1);
}

TEST_F(PipelineTest, CreatesLifecyclePushesCreated) {
  auto r = Run(Event(kTodoCreated, R"({"slug":"s1"})"));
  NotificationRow row = Row(r[0].notification_id);
  EXPECT_EQ(row.human_status, "unseen");
  EXPECT_EQ(row.agent_status, "none");
  EXPECT_EQ(row.payload_json, R"({"slug":"s1"})");
  EXPECT_EQ(pushes_, (std::vector<std::string>{std::string(kTodoCreated) + ":" +
                                               std::to_string(row.id) + ":created:silent"}));
}

TEST_F(PipelineTest, UpdatesByGroupKeyResetHumanStatusOnlyForMeaningfulFields) {
  auto created = Run(Event(kTodoCreated, R"({"slug":"s1"})"));
  int64_t id = created[0].notification_id;
  ASSERT_TRUE(db_->MarkSeen(id).ok());
  // Silent fields only: updated, still seen. Update-only types pass dedup
  // even when the same event comes twice.
  for (int i = 0; i < 2; ++i) {
    auto silent = Run(Event(kArtifactChanged, R"({"slug":"s1","artifact":"plan.md"})"));
    EXPECT_EQ(silent[0].status, RunResult::Status::kProcessed);
    EXPECT_EQ(silent[0].notification_id, id);
  }
  EXPECT_EQ(Row(id).human_status, "seen");
  EXPECT_EQ(Row(id).payload_json, R"({"slug":"s1","artifact":"plan.md"})");
  // A meaningful field: back to unseen.
  auto meaningful = Run(Event(kDependencyResolved, R"({"slug":"s1","dependency":"d"})"));
  EXPECT_EQ(meaningful[0].notification_id, id);
  EXPECT_EQ(Row(id).human_status, "unseen");
  EXPECT_EQ(pushes_.back(),
            std::string(kDependencyResolved) + ":" + std::to_string(id) + ":existing:meaningful");
  // An update with no notification for its group creates one.
  auto fresh = Run(Event(kArtifactChanged, R"({"slug":"other","artifact":"x"})"));
  EXPECT_NE(fresh[0].notification_id, id);
  EXPECT_EQ(pushes_.back(), std::string(kArtifactChanged) + ":" +
                                std::to_string(fresh[0].notification_id) + ":created:meaningful");
}

TEST_F(PipelineTest, CreatesAndUpdatesUpsertsByGroupKey) {
  auto first = Run(Event(kDorAssessed, R"({"slug":"s1","score":5})"));
  ASSERT_TRUE(db_->MarkSeen(first[0].notification_id).ok());
  auto second = Run(Event(kDorAssessed, R"({"slug":"s1","score":8})"));
  EXPECT_EQ(second[0].notification_id, first[0].notification_id);
  EXPECT_EQ(Row(first[0].notification_id).human_status, "unseen");
  EXPECT_EQ(Row(first[0].notification_id).payload_json, R"({"slug":"s1","score":8})");
  EXPECT_EQ(*db_->CountNotifications(), 1);
}

TEST_F(PipelineTest, ResolvesByGroupKey) {
  auto created = Run(Event(kTodoCreated, R"({"slug":"s1"})"));
  auto resolved = Run(Event(kBuildCompleted, R"({"slug":"s1","ok":true})"));
  EXPECT_EQ(resolved[0].notification_id, created[0].notification_id);
  NotificationRow row = Row(created[0].notification_id);
  EXPECT_EQ(row.agent_status, "resolved");
  EXPECT_EQ(row.resolution_json, R"({"slug":"s1","ok":true})");
  EXPECT_TRUE(row.resolved_at.has_value());
  // Nothing to resolve: no notification, no push.
  size_t pushes = pushes_.size();
  auto none = Run(Event(kBuildCompleted, R"({"slug":"unknown"})"));
  EXPECT_EQ(none[0].notification_id, 0);
  EXPECT_EQ(pushes_.size(), pushes);
}

TEST_F(PipelineTest, MeshPublisherRoutesByVisibility) {
  Run(Event("test.x", "{}", Visibility::kLocal));
  EXPECT_TRUE(OutboxDestinations().empty());
  Run(Event("test.x", "{}", Visibility::kCluster));
  EXPECT_EQ(OutboxDestinations(), (std::vector<std::string>{"beta"}));  // never alpha itself
  Run(Event("test.x", "{}", Visibility::kPublic), EventOrigin::kLocal, "local:s:9-0");
  EXPECT_EQ(OutboxDestinations(),
            (std::vector<std::string>{"beta", "beta", "delta", "gamma"}));  // peers sorted by name
  EXPECT_EQ(OutboxDestinations(/*ids=*/true)[1], "alpha/local:s:9-0/beta");
  // One row per event: the body is stored once for its three peers.
  EXPECT_EQ(OutboxRows(), 2);
  EXPECT_EQ(outbox_->Totals().depth, 4);
  // From the mesh, by origin or by the stamp: never forwarded again.
  Run(Event("test.x", "{}", Visibility::kPublic), EventOrigin::kMesh);
  Run(Event("test.x", R"({"_mesh_source":"beta"})", Visibility::kPublic));
  EXPECT_EQ(OutboxDestinations().size(), 4u);
}

// A Python computer named with a space (issue 15) is a destination like any.
TEST_F(PipelineTest, MeshPublisherRoutesToAPeerWhoseNameHasASpace) {
  RecordPeers({{"beta", "c1", "b2"},
               {"gamma", "c2", "g2"},
               {"delta", std::nullopt, "d2"},
               {"py C", std::nullopt, "p1"}});
  ASSERT_TRUE(membership_->ReloadNow().ok());
  Run(Event("test.x", "{}", Visibility::kPublic), EventOrigin::kLocal, "local:s:7-0");
  EXPECT_EQ(OutboxDestinations(), (std::vector<std::string>{"beta", "delta", "gamma", "py C"}));
  EXPECT_EQ(OutboxDestinations(/*ids=*/true)[3], "alpha/local:s:7-0/py C");
}

TEST_F(PipelineTest, MeshPublisherKeepsRoutingToAwayPeersButNotToForgottenOnes) {
  // beta's heartbeat lapses (away), gamma's too, then a person forgets gamma.
  RecordPeers({{"delta", std::nullopt, "d1"}});
  {
    auto store = MembershipStore::Open(dir_.File("membership.db"));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Forget("gamma", absl::Now()).ok());
  }
  ASSERT_TRUE(membership_->ReloadNow().ok());
  ASSERT_EQ(membership_->Snapshot()->Find("beta")->state, MemberState::kAway);
  Run(Event("test.x", "{}", Visibility::kCluster));
  EXPECT_EQ(OutboxDestinations(), (std::vector<std::string>{"beta"}));
  Run(Event("test.x", "{}", Visibility::kPublic));
  EXPECT_EQ(OutboxDestinations(), (std::vector<std::string>{"beta", "beta", "delta"}));
}

TEST_F(PipelineTest, WorkerRecordsInputsSoARedeliveryHasNoSecondEffect) {
  PipelineWorker worker({"alpha"}, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());
  auto submit = [&](std::string key) {
    absl::Notification done;
    std::vector<InputOutcome> outcomes;
    InputEvent in;
    in.envelope = Event("mesh.event.rejected", R"({"reason":"x"})", Visibility::kPublic);
    in.input_key = std::move(key);
    std::vector<InputEvent> events;
    events.push_back(in);
    events.push_back(in);  // the same key twice in one batch
    worker.Submit(std::move(events), [&](absl::StatusOr<std::vector<InputOutcome>> out) {
      EXPECT_TRUE(out.ok());
      if (out.ok()) outcomes = *out;
      done.Notify();
    });
    done.WaitForNotification();
    return outcomes;
  };
  auto first = submit("local:s:1-0");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].status, InputOutcome::Status::kProcessed);
  EXPECT_EQ(first[1].status, InputOutcome::Status::kDuplicate);
  auto again = submit("local:s:1-0");
  EXPECT_EQ(again[0].status, InputOutcome::Status::kDuplicate);
  EXPECT_EQ(*db_->CountNotifications(), 1);
  EXPECT_EQ(OutboxDestinations().size(), 3u);  // beta, gamma, delta once
  worker.Stop();
  EXPECT_EQ(worker.stats().inputs_duplicate, 3);
}

TEST_F(PipelineTest, WorkerBoundsTheMeshOutboxPerPeerDroppingItsOldestCounted) {
  Build(/*bound=*/2);
  PipelineWorker::Options options;
  options.computer_name = "alpha";
  PipelineWorker worker(options, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 4; ++i) {
    absl::Notification done;
    InputEvent in;
    in.envelope = Event("test.x", "{}", Visibility::kPublic);  // 3 peers each
    in.input_key = "k" + std::to_string(i);
    std::vector<InputEvent> events{in};
    worker.Submit(std::move(events), [&](auto) { done.Notify(); });
    done.WaitForNotification();
  }
  worker.Stop();
  // Each peer keeps its 2 newest; its 2 oldest are gone, counted for it.
  EXPECT_EQ(OutboxDestinations(/*ids=*/true),
            (std::vector<std::string>{"alpha/k2/beta", "alpha/k2/delta", "alpha/k2/gamma",
                                      "alpha/k3/beta", "alpha/k3/delta", "alpha/k3/gamma"}));
  EXPECT_EQ(worker.stats().outbox_dropped, 6);
  EXPECT_EQ(worker.stats().mesh_outbox_depth, 6);
  for (const DestinationStats& d : outbox_->Stats()) {
    EXPECT_EQ(d.dropped, 2) << d.destination;
    EXPECT_EQ(d.depth, 2) << d.destination;
    EXPECT_TRUE(d.dropping) << d.destination;
  }
  EXPECT_EQ(OutboxRows(), 2);  // rows every peer is done with are deleted
}

// While the mesh sender drains a peer, inputs wait (they stay in their
// stream) instead of pushing that peer over its bound; a sender that does
// not drain it (failing, held by a full inbox, idle) does not hold them back.
TEST_F(PipelineTest, WorkerHoldsInputsWhileTheMeshSenderDrainsAHalfFullPeer) {
  Build(/*bound=*/4);  // back-pressure from 2 messages per peer (2 events) on
  PipelineWorker::Options options;
  options.computer_name = "alpha";
  options.hold_recheck = absl::Hours(1);  // only the outbox's reports wake it
  PipelineWorker worker(options, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());
  std::atomic<int> done{0};
  auto submit = [&](int i) {
    InputEvent in;
    in.envelope = Event("test.x", "{}", Visibility::kPublic);  // 3 peers each
    in.input_key = "k" + std::to_string(i);
    std::vector<InputEvent> events{in};
    worker.Submit(std::move(events), [&](auto) { done.fetch_add(1); });
  };
  for (int i = 0; i < 2; ++i) submit(i);
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 2; }, absl::Seconds(5)));
  ReportSent(0, /*draining=*/true);  // the sender is busy with every peer
  for (int i = 2; i < 6; ++i) submit(i);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(done.load(), 2);  // held: every peer is at half its bound
  // The sender reports the first event delivered: one more input fits.
  ReportSent(1, /*draining=*/true);
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 3; }, absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(done.load(), 3);
  // A sender that stops draining (failing, held by a full inbox, or idle)
  // lets the rest through; the bound drops, per peer.
  ReportSent(0, /*draining=*/false);
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 6; }, absl::Seconds(5)));
  worker.Stop();
  EXPECT_EQ(worker.stats().mesh_outbox_depth, 12);
  EXPECT_EQ(worker.stats().outbox_dropped, 3);
  EXPECT_GT(worker.stats().input_holds, 0);
  EXPECT_EQ(OutboxDestinations().size(), 12u);
}

// `n` public test.x events with input keys k{first}, k{first+1}, ...
std::vector<InputEvent> PublicEvents(int first, int n) {
  std::vector<InputEvent> events;
  for (int i = first; i < first + n; ++i) {
    InputEvent in;
    in.envelope = Event("test.x", "{}", Visibility::kPublic);
    in.input_key = "k" + std::to_string(i);
    events.push_back(std::move(in));
  }
  return events;
}

// events.db has no auto-checkpoint: the worker checkpoints after a round
// once the WAL passes its threshold, so the WAL stays bounded.
TEST_F(PipelineTest, WorkerCheckpointsTheWalPastItsThreshold) {
  PipelineWorker::Options options;
  options.computer_name = "alpha";
  options.checkpoint_idle_pages = 20;
  options.checkpoint_busy_pages = 40;
  PipelineWorker worker(options, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());
  int max_frames = 0;
  for (int round = 0; round < 40; ++round) {
    absl::Notification done;
    std::vector<InputEvent> events = PublicEvents(round * 20, 20);
    worker.Submit(std::move(events), [&](auto) { done.Notify(); });
    done.WaitForNotification();
    // Read between rounds, on the worker thread.
    absl::Notification read;
    worker.Post([&](bool) {
      max_frames = std::max(max_frames, db_->database()->wal_frames());
      read.Notify();
    });
    read.WaitForNotification();
  }
  worker.Stop();
  EXPECT_GT(worker.stats().checkpoints, 0);
  // One round writes a few pages: the WAL never runs far past the idle
  // threshold (no backlog waits here, so the busy one never applies).
  EXPECT_LT(max_frames, 20 + 30);
}

// Under a backlog the worker checkpoints only at the busy threshold (here:
// never), then once the backlog is gone.
TEST_F(PipelineTest, WorkerDefersCheckpointsWhileABacklogWaits) {
  PipelineWorker::Options options;
  options.computer_name = "alpha";
  options.max_batch_events = 20;  // one input batch per round
  options.checkpoint_idle_pages = 20;
  options.checkpoint_busy_pages = 1'000'000;
  options.checkpoint_backlog_events = 20;
  PipelineWorker worker(options, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  std::atomic<int> done{0};
  for (int round = 0; round < 40; ++round) {
    std::vector<InputEvent> events = PublicEvents(round * 20, 20);
    worker.Submit(std::move(events), [&](auto) { done.fetch_add(1); });
  }
  ASSERT_TRUE(worker.Start().ok());  // the whole backlog is queued
  ASSERT_TRUE(testing::WaitFor([&] { return done.load() == 40; }, absl::Seconds(10)));
  ASSERT_TRUE(testing::WaitFor([&] { return worker.stats().checkpoints == 1; }, absl::Seconds(5)));
  worker.Stop();
  EXPECT_EQ(worker.stats().batches, 40);
  EXPECT_EQ(worker.stats().checkpoints, 1);
}

// Input keys older than the TTL (7 days) are pruned in chunks, one per
// round, until none is left — however many there are — and fresh ones stay.
TEST_F(PipelineTest, WorkerPrunesEveryExpiredInputInChunks) {
  auto mark = [&](const std::string& prefix, int n) {
    auto txn = Transaction::Begin(db_->database());
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < n; ++i) {
      auto fresh = db_->MarkInputProcessed(prefix + std::to_string(i));
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      ASSERT_TRUE(*fresh);
    }
    ASSERT_TRUE(txn->Commit().ok());
  };
  mark("local:old:", 2500);
  clock_.Advance(absl::Hours(24 * 7) + absl::Minutes(1));
  mark("local:fresh:", 10);
  PipelineWorker::Options options;
  options.computer_name = "alpha";
  options.clock = &clock_;
  PipelineWorker worker(options, db_.get(), runner_.get(), publisher_, outbox_.get(),
                        push_outbox_.get(), nullptr, nullptr);
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(
      testing::WaitFor([&] { return worker.stats().inputs_pruned == 2500; }, absl::Seconds(10)));
  worker.Stop();
  EXPECT_EQ(worker.stats().inputs_pruned, 2500);  // 25 chunks of 100
  // The fresh inputs are still known: a redelivery of one has no effect.
  auto again = db_->MarkInputProcessed("local:fresh:3");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto gone = db_->MarkInputProcessed("local:old:3");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(*gone);
}

}  // namespace
}  // namespace teleclaude::mesh
