// doc/security.md §10.5 and §10.7: the installer verifies who wrote a
// cartridge before the sovereignty gate. One real computer ("lab": installer,
// egress, ingress at L3) on a real redis-server, driven through `telec`:
// cartridges claiming the author "beta" — whose key is pinned in lab's real
// membership.db — arrive as cartridge.published events; only the one beta's
// key signed, unchanged, activates; a forged, a relayed-and-changed and an
// unsigned one wait for a person and show UNVERIFIED in `telec cartridges
// list/show` and in their install_pending notification. A cartridge lab
// publishes itself (`telec cartridges publish`, signed through
// Installer.SignCartridge) verifies against lab's own key.
//
// The pin: until ingress pins keys from signed heartbeats (doc/security.md
// §10.1), the test writes beta's pin into lab's membership.db before lab
// starts (tests/support/membership_pins.h: the store's own migrations, then
// the row of doc/membership.md's schema with key source "provisioned").
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/identity/identity_key.h"
#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/installer/cartridge_signatures.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/membership_pins.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] = "function process(event) return event end\n";

// A cartridge.published payload claiming author beta, unsigned.
std::string Payload(const std::string& name) {
  return absl::StrCat(R"({"name":")", name,
                      R"(","event_type":"demo.ping","version":"1.0.0","author":"beta",)",
                      R"("code":")", absl::Base64Escape(kSource),
                      R"(","entry_point":"process","runtime":"lua","description":"pings"})");
}

// The same, signed with `key` as beta's computer signs it.
std::string Signed(const std::string& name, const IdentityKey& key) {
  absl::StatusOr<std::string> out = SignCartridgePayload(Payload(name), key, "beta", 1 << 20);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

class CartridgeE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ComputerOptions o;
    o.name = "lab";
    o.install_level = "L3";
    o.redis_url = redis_.url();
    lab_ = std::make_unique<Computer>(std::move(o));
    std::filesystem::create_directories(lab_->data_dir());
    ASSERT_TRUE(testing::PinPeerKey(std::filesystem::path(lab_->data_dir()) / "membership.db",
                                    "beta", beta_->public_key())
                    .ok());
    absl::Status s = lab_->Launch();
    if (s.ok()) s = lab_->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << lab_->LogTails();
  }

  // What `telec cartridges list --json` says of `name` ("" = not listed).
  std::string Field(const std::string& name, const std::string& field) {
    absl::StatusOr<Json> list = lab_->TelecJson({"cartridges", "list"});
    if (!list.ok() || !(*list)->IsArray()) return "";
    for (const rapidjson::Value& row : (*list)->GetArray()) {
      if (Str(row, "name") == name) return Str(row, field);
    }
    return "";
  }

  void Emit(const std::string& payload) {
    absl::StatusOr<testing::CommandResult> r = lab_->Telec(
        {"events", "emit", "cartridge.published", "--payload", payload, "--visibility", "local"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->err;
  }

  testing::RedisServer redis_;
  std::unique_ptr<IdentityKey> beta_ = IdentityKey::Generate();
  std::unique_ptr<Computer> lab_;
  testing::TempDir files_;
};

TEST_F(CartridgeE2ETest, ForgedRelayedTamperedCartridgesAreNotActivated) {
  auto mallory = IdentityKey::Generate();
  // Signed by another key, in beta's name.
  Emit(Signed("forged", *mallory));
  // Signed by beta, then relayed with a changed description.
  absl::StatusOr<std::string> relayed =
      json::SetMember(Signed("relayed", *beta_), "description", "\"harmless, approved by ops\"");
  ASSERT_TRUE(relayed.ok());
  Emit(*relayed);
  // Not signed at all.
  Emit(Payload("unsigned"));
  // Signed by beta, unchanged.
  Emit(Signed("genuine", *beta_));
  // Published by lab itself: telec asks the installer to sign it.
  const std::string path = files_.File("own.lua");
  std::ofstream(path) << kSource;
  absl::StatusOr<testing::CommandResult> published =
      lab_->Telec({"cartridges", "publish", path, "--name", "own", "--version", "1.0.0"});
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_EQ(published->exit_code, 0) << published->err;
  EXPECT_THAT(published->out, HasSubstr("signed with key "));

  ASSERT_TRUE(WaitFor(
      [&] {
        return Field("genuine", "status") == "active" && Field("own", "status") == "active" &&
               Field("forged", "status") == "pending" && Field("relayed", "status") == "pending" &&
               Field("unsigned", "status") == "pending";
      },
      absl::Seconds(30)))
      << lab_->LogTails();
  // One listing, read whole (a telec call that failed would read as "").
  absl::StatusOr<Json> listed = lab_->TelecJson({"cartridges", "list"});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE((*listed)->IsArray());
  std::map<std::string, std::pair<std::string, std::string>> signature;  // name -> (outcome, key)
  for (const rapidjson::Value& row : (*listed)->GetArray()) {
    signature[Str(row, "name")] = {Str(row, "signature"), Str(row, "author_fingerprint")};
  }
  EXPECT_EQ(signature["genuine"].first, "verified");
  EXPECT_EQ(signature["own"].first, "verified");
  EXPECT_EQ(signature["forged"].first, "key_mismatch");
  EXPECT_EQ(signature["relayed"].first, "bad_signature");
  EXPECT_EQ(signature["unsigned"].first, "unsigned") << ToText(**listed);
  EXPECT_EQ(signature["unsigned"].second, "");
  EXPECT_EQ(signature["genuine"].second, beta_->fingerprint().ToString());
  EXPECT_EQ(signature["forged"].second, mallory->fingerprint().ToString());

  // A person sees UNVERIFIED in the list and in show.
  absl::StatusOr<testing::CommandResult> list = lab_->Telec({"cartridges", "list"});
  ASSERT_TRUE(list.ok());
  for (const std::string name : {"forged", "relayed", "unsigned", "genuine", "own"}) {
    const size_t at = list->out.find(name + " ");
    ASSERT_NE(at, std::string::npos) << list->out;
    const std::string line = list->out.substr(at, list->out.find('\n', at) - at);
    const bool verified = name == "genuine" || name == "own";
    EXPECT_EQ(line.find("UNVERIFIED") == std::string::npos, verified) << line;
  }
  absl::StatusOr<testing::CommandResult> show = lab_->Telec({"cartridges", "show", "relayed"});
  ASSERT_TRUE(show.ok());
  EXPECT_THAT(show->out, HasSubstr("UNVERIFIED, bad_signature: author_signature: does not verify"));

  // ... and in the install_pending notifications, one per unverified cartridge.
  absl::StatusOr<Json> pending = lab_->TelecJson(
      {"notifications", "list", "--type", "cartridge.install_pending", "--limit", "100"});
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE((*pending)->IsArray());
  std::vector<std::string> descriptions;
  for (const rapidjson::Value& n : (*pending)->GetArray()) {
    descriptions.push_back(Str(n, "description"));
  }
  ASSERT_EQ(descriptions.size(), 3u) << ToText(**pending);
  for (const std::string& d : descriptions) EXPECT_THAT(d, StartsWith("UNVERIFIED: ")) << d;
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
