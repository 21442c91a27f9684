// The trust gate: membership by --trust_mode, TeleClaude's trust-cartridge
// outcomes by --trust_strictness, and the chain ingress runs.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/identity/identity_key.h"
#include "gtest/gtest.h"
#include "services/ingress/membership_trust.h"
#include "services/ingress/strictness_trust.h"
#include "services/ingress/trust_chain.h"

namespace teleclaude::mesh {
namespace {

// A membership snapshot that stays as it was made (the rules alone; the
// stage against real membership: membership_refresh_test.cc).
class FixedMembership : public MembershipView {
 public:
  explicit FixedMembership(std::shared_ptr<const MembershipSnapshot> snapshot)
      : snapshot_(std::move(snapshot)) {}
  std::shared_ptr<const MembershipSnapshot> Snapshot() const override { return snapshot_; }
  std::shared_ptr<const MembershipSnapshot> Refresh() override { return nullptr; }

 private:
  std::shared_ptr<const MembershipSnapshot> snapshot_;
};

MemberRecord Member(std::string name, std::optional<std::string> cluster,
                    MemberState state = MemberState::kLive) {
  MemberRecord r;
  r.name = std::move(name);
  r.cluster = std::move(cluster);
  r.state = state;
  r.last_seen = absl::Now();
  if (state == MemberState::kForgotten) r.forgotten_by = ForgottenBy::kPerson;
  // A computer with a cluster signs its heartbeats (only signed ones
  // announce a cluster); Python peers have no key.
  if (r.cluster.has_value()) {
    static const std::unique_ptr<IdentityKey> key = IdentityKey::Generate();
    r.public_key = key->public_key();
    r.verified = true;
  }
  return r;
}

// Records: alpha (cluster red), bravo (cluster blue), py (a Python peer, no
// cluster), all live; rosa (red, away: its heartbeat lapsed); fred (red,
// forgotten by a person).
std::unique_ptr<FixedMembership> Peers(std::optional<std::string> self_cluster) {
  return std::make_unique<FixedMembership>(std::make_shared<const MembershipSnapshot>(
      std::vector<MemberRecord>{Member("alpha", "red"), Member("bravo", "blue"),
                                Member("py", std::nullopt),
                                Member("rosa", "red", MemberState::kAway),
                                Member("fred", "red", MemberState::kForgotten)},
      MembershipSnapshot::Self{"beta", std::move(self_cluster), absl::Hours(24)}, absl::Now()));
}

EventEnvelope Event(std::string source, std::string domain = "ops",
                    std::string type = "deployment.started") {
  EventEnvelope e;
  e.event = std::move(type);
  e.source = std::move(source);
  e.domain = std::move(domain);
  e.level = Level::kOperational;
  return e;
}

// The membership stage over Peers(cluster), owning its view.
class MembershipUnderTest {
 public:
  MembershipUnderTest(TrustMode mode, std::optional<std::string> cluster,
                      std::vector<std::string> allow = {})
      : view_(Peers(cluster)),
        trust_(MembershipTrust::Options{mode, cluster, std::move(allow)}, view_.get()) {}
  TrustDecision Evaluate(const EventEnvelope& envelope, std::string_view source) const {
    return trust_.Evaluate(envelope, source);
  }

 private:
  std::unique_ptr<FixedMembership> view_;
  MembershipTrust trust_;
};

std::string Outcome(const TrustDecision& d) {
  std::string out(TrustOutcomeName(d.outcome));
  for (const std::string& f : d.flags) out += " " + f;
  return out;
}

TEST(MembershipTrustTest, ClusterModeTrustsRememberedPeersOfTheSameCluster) {
  MembershipUnderTest trust(TrustMode::kCluster, "red");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("alpha"), "alpha")), "ACCEPT");
  TrustDecision other_cluster = trust.Evaluate(Event("bravo"), "bravo");
  EXPECT_EQ(Outcome(other_cluster), "REJECT");
  EXPECT_EQ(other_cluster.reason, "untrusted");
  EXPECT_NE(other_cluster.detail.find("declares cluster blue"), std::string::npos)
      << other_cluster.detail;
  EXPECT_EQ(Outcome(trust.Evaluate(Event("py"), "py")), "REJECT");  // Python: never a cluster peer
  TrustDecision unknown = trust.Evaluate(Event("zulu"), "zulu");
  EXPECT_EQ(Outcome(unknown), "REJECT");
  EXPECT_NE(unknown.detail.find("zulu is not a known computer"), std::string::npos)
      << unknown.detail;
  // Away (its heartbeat lapsed): still judged by its record.
  EXPECT_EQ(Outcome(trust.Evaluate(Event("rosa"), "rosa")), "ACCEPT");
  TrustDecision forgotten = trust.Evaluate(Event("fred"), "fred");
  EXPECT_EQ(Outcome(forgotten), "REJECT");
  EXPECT_NE(forgotten.detail.find("fred was forgotten"), std::string::npos) << forgotten.detail;
}

TEST(MembershipTrustTest, ClusterModeWithoutOwnClusterTrustsNobody) {
  MembershipUnderTest trust(TrustMode::kCluster, std::nullopt);
  TrustDecision d = trust.Evaluate(Event("alpha"), "alpha");
  EXPECT_EQ(Outcome(d), "REJECT");
  EXPECT_NE(d.detail.find("no --cluster"), std::string::npos) << d.detail;
}

TEST(MembershipTrustTest, MeshModeTrustsAnyRememberedPeer) {
  MembershipUnderTest trust(TrustMode::kMesh, "red");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("alpha"), "alpha")), "ACCEPT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("bravo"), "bravo")), "ACCEPT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("py"), "py")), "ACCEPT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("rosa"), "rosa")), "ACCEPT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("fred"), "fred")), "REJECT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("zulu"), "zulu")), "REJECT");
}

TEST(MembershipTrustTest, AllowlistModeTrustsExactlyTheListedNames) {
  MembershipUnderTest trust(TrustMode::kAllowlist, "red", {"bravo", "offline"});
  EXPECT_EQ(Outcome(trust.Evaluate(Event("bravo"), "bravo")), "ACCEPT");
  EXPECT_EQ(Outcome(trust.Evaluate(Event("offline"), "offline")), "ACCEPT");  // no heartbeat needed
  TrustDecision d = trust.Evaluate(Event("alpha"), "alpha");
  EXPECT_EQ(Outcome(d), "REJECT");
  EXPECT_NE(d.detail.find("--trusted_peers"), std::string::npos) << d.detail;
}

struct StrictnessCase {
  TrustStrictness strictness;
  bool known;
  std::string domain;
  std::string type;
  int level;
  std::string expected;
};

TEST(StrictnessTrustTest, OutcomesFollowTrustPy) {
  const std::vector<StrictnessCase> cases = {
      {TrustStrictness::kPermissive, false, "", "deployment.started", 1, "ACCEPT"},
      {TrustStrictness::kPermissive, false, "", "x", 9, "ACCEPT"},
      {TrustStrictness::kStandard, true, "ops", "deployment.started", 1, "ACCEPT"},
      {TrustStrictness::kStandard, true, "", "deployment.started", 1, "ACCEPT"},
      {TrustStrictness::kStandard, false, "ops", "deployment.started", 1, "FLAG unknown_source"},
      {TrustStrictness::kStandard, true, "ops", "deployment.started", 7,
       "QUARANTINE malformed_level"},
      {TrustStrictness::kStrict, true, "ops", "deployment.started", 2, "ACCEPT"},
      {TrustStrictness::kStrict, false, "ops", "deployment.started", 2,
       "QUARANTINE unknown_source"},
      {TrustStrictness::kStrict, true, "", "deployment.started", 2, "FLAG missing_domain"},
      {TrustStrictness::kStrict, true, "", "system.health", 2, "ACCEPT"},
      {TrustStrictness::kStrict, true, "ops", "deployment.started", 5, "REJECT unknown_level"},
  };
  for (const StrictnessCase& c : cases) {
    StrictnessTrust trust(c.strictness, [&](std::string_view) { return c.known; });
    EventEnvelope e = Event("alpha", c.domain, c.type);
    e.level = static_cast<Level>(c.level);
    EXPECT_EQ(Outcome(trust.Evaluate(e, "alpha")), c.expected)
        << TrustStrictnessName(c.strictness) << " known=" << c.known << " domain=" << c.domain
        << " type=" << c.type << " level=" << c.level;
  }
}

TEST(TrustChainTest, BuiltGateAppliesMembershipThenStrictnessOverKnownSources) {
  std::unique_ptr<FixedMembership> view = Peers("red");
  MembershipView* source = view.get();
  // standard: a trusted sender whose envelope names another source is flagged.
  auto standard =
      BuildTrustGate({TrustMode::kCluster, TrustStrictness::kStandard, "red", {}}, source);
  EXPECT_EQ(Outcome(standard->Evaluate(Event("alpha"), "alpha")), "ACCEPT");
  EXPECT_EQ(Outcome(standard->Evaluate(Event("daemon"), "alpha")), "FLAG unknown_source");
  EXPECT_EQ(Outcome(standard->Evaluate(Event("alpha"), "bravo")), "REJECT");
  // strict: the same event is quarantined; a missing domain is flagged.
  auto strict = BuildTrustGate({TrustMode::kMesh, TrustStrictness::kStrict, "red", {}}, source);
  EXPECT_EQ(Outcome(strict->Evaluate(Event("daemon"), "alpha")), "QUARANTINE unknown_source");
  EXPECT_EQ(Outcome(strict->Evaluate(Event("py", ""), "py")), "FLAG missing_domain");
  EXPECT_EQ(Outcome(strict->Evaluate(Event("zulu"), "zulu")), "REJECT");
  // permissive still never bypasses membership.
  auto permissive = BuildTrustGate(
      {TrustMode::kAllowlist, TrustStrictness::kPermissive, "red", {"alpha"}}, source);
  EXPECT_EQ(Outcome(permissive->Evaluate(Event("anything"), "alpha")), "ACCEPT");
  EXPECT_EQ(Outcome(permissive->Evaluate(Event("bravo"), "bravo")), "REJECT");
}

TEST(TrustChainTest, FlagsAccumulateAndAStopKeepsThem) {
  class Fixed : public TrustEvaluator {
   public:
    explicit Fixed(TrustDecision d) : d_(std::move(d)) {}
    TrustDecision Evaluate(const EventEnvelope&, std::string_view) const override { return d_; }

   private:
    TrustDecision d_;
  };
  std::vector<std::unique_ptr<TrustEvaluator>> stages;
  stages.push_back(std::make_unique<Fixed>(TrustDecision{TrustOutcome::kFlag, {"a"}, "", ""}));
  stages.push_back(std::make_unique<Fixed>(TrustDecision{TrustOutcome::kFlag, {"b"}, "", ""}));
  stages.push_back(
      std::make_unique<Fixed>(TrustDecision{TrustOutcome::kQuarantine, {"c"}, "", ""}));
  TrustChain chain(std::move(stages));
  EXPECT_EQ(Outcome(chain.Evaluate(Event("x"), "x")), "QUARANTINE a b c");
}

}  // namespace
}  // namespace teleclaude::mesh
