// Invocation stats and promotion: exactly once at the threshold, whatever the
// batch sizes, re-sent batches and restarts.
#include <filesystem>

#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/installer/cartridge_installer.h"
#include "tests/support/recording_pipeline.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::RecordingPipeline;
using ::teleclaude::mesh::testing::RecordingPipelineServer;
using ::teleclaude::mesh::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class InstallerStatsTest : public ::testing::Test {
 protected:
  std::unique_ptr<CartridgeInstaller> Make() {
    InstallerOptions o;
    o.computer_name = "me";
    o.promotion_threshold = 10;
    o.data_dir = dir_.path();
    o.cartridges_dir = dir_.path() / "cartridges";
    o.incoming_dir = dir_.path() / "cartridges" / "incoming";
    o.db_path = dir_.path() / "installer.db";
    o.egress_addr = egress_.addr();
    o.retry_initial = absl::Milliseconds(20);
    auto made = CartridgeInstaller::Create(o, nullptr);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *std::move(made) : nullptr;
  }

  // One batch of `entries` counts of `each` for `name`.
  absl::StatusOr<v1::RecordInvocationsResponse> Record(CartridgeInstaller& inst,
                                                       const std::string& batch_id,
                                                       const std::string& name, int entries,
                                                       int64_t each) {
    v1::RecordInvocationsRequest r;
    r.set_batch_id(batch_id);
    for (int i = 0; i < entries; ++i) {
      v1::InvocationCount* c = r.add_counts();
      c->set_cartridge_name(name);
      c->set_count(each);
      c->set_last_invoked_at("2025-03-01T12:00:00Z");
    }
    return inst.RecordInvocations(r);
  }

  // name:count of every promotion_suggested event so far.
  std::vector<std::string> Promotions(CartridgeInstaller& inst) {
    EXPECT_TRUE(inst.WaitForOutboxEmpty(absl::Seconds(5)));
    std::vector<std::string> out;
    for (const auto& e : recorder_.Events("cartridge.promotion_suggested")) {
      out.push_back(json::GetMemberString(e.payload_json, "cartridge_name").value_or("?") + ":" +
                    json::GetMember(e.payload_json, "invocation_count").value_or("?"));
    }
    return out;
  }

  int64_t Count(CartridgeInstaller& inst, const std::string& name) {
    auto stats = inst.GetStats();
    for (const auto& s : stats->stats()) {
      if (s.cartridge_name() == name) return s.invocation_count();
    }
    return 0;
  }

  TempDir dir_;
  RecordingPipelineServer egress_;
  RecordingPipeline& recorder_ = egress_.pipeline();
};

TEST_F(InstallerStatsTest, BatchesOfOneSuggestPromotionExactlyAtTheThreshold) {
  auto inst = Make();
  for (int i = 1; i <= 9; ++i)
    ASSERT_TRUE(Record(*inst, "b" + std::to_string(i), "ones", 1, 1).ok());
  EXPECT_THAT(Promotions(*inst), IsEmpty());
  ASSERT_TRUE(Record(*inst, "b10", "ones", 1, 1).ok());
  for (int i = 11; i <= 30; ++i)
    ASSERT_TRUE(Record(*inst, "b" + std::to_string(i), "ones", 1, 1).ok());
  EXPECT_THAT(Promotions(*inst), ElementsAre("ones:10"));
  EXPECT_EQ(Count(*inst, "ones"), 30);
}

TEST_F(InstallerStatsTest, BatchesOfSevenAndOfAThousandSuggestOnce) {
  auto inst = Make();
  ASSERT_TRUE(Record(*inst, "s1", "sevens", 7, 1).ok());  // 7
  EXPECT_THAT(Promotions(*inst), IsEmpty());
  ASSERT_TRUE(Record(*inst, "s2", "sevens", 7, 1).ok());       // 14: crosses
  ASSERT_TRUE(Record(*inst, "s3", "sevens", 7, 1).ok());       // 21
  ASSERT_TRUE(Record(*inst, "t1", "thousand", 1000, 1).ok());  // 1000 entries at once
  ASSERT_TRUE(Record(*inst, "t2", "thousand", 1, 1000).ok());  // one entry of 1000
  ASSERT_TRUE(Record(*inst, "u1", "lump", 1, 1000).ok());
  EXPECT_THAT(Promotions(*inst), ElementsAre("sevens:14", "thousand:1000", "lump:1000"));
  EXPECT_EQ(Count(*inst, "sevens"), 21);
  EXPECT_EQ(Count(*inst, "thousand"), 2000);
  auto stats = inst->GetStats();
  for (const auto& s : stats->stats()) {
    EXPECT_FALSE(s.promotion_suggested_at().empty()) << s.cartridge_name();
    EXPECT_EQ(s.last_invoked_at(), "2025-03-01T12:00:00Z");
  }
  EXPECT_EQ(stats->promotion_threshold(), 10);
}

TEST_F(InstallerStatsTest, AReSentBatchIsAppliedOnce) {
  auto inst = Make();
  auto first = Record(*inst, "same", "x", 1, 9);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->already_applied());
  auto again = Record(*inst, "same", "x", 1, 9);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_applied());
  EXPECT_EQ(Count(*inst, "x"), 9);
  EXPECT_THAT(Promotions(*inst), IsEmpty());
}

TEST_F(InstallerStatsTest, NoSecondSuggestionAfterReopeningTheDatabase) {
  auto inst = Make();
  ASSERT_TRUE(Record(*inst, "a", "x", 1, 12).ok());
  EXPECT_THAT(Promotions(*inst), ElementsAre("x:12"));
  inst->Stop();
  inst.reset();
  inst = Make();
  ASSERT_TRUE(Record(*inst, "a", "x", 1, 12).ok());  // re-sent after the restart
  ASSERT_TRUE(Record(*inst, "b", "x", 1, 5).ok());
  EXPECT_EQ(Count(*inst, "x"), 17);
  EXPECT_THAT(Promotions(*inst), ElementsAre("x:12"));
}

TEST_F(InstallerStatsTest, RefusesMalformedBatches) {
  auto inst = Make();
  EXPECT_EQ(Record(*inst, "", "x", 1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Record(*inst, "b", "", 1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Record(*inst, "b", "x", 1, -1).status().code(), absl::StatusCode::kInvalidArgument);
  v1::RecordInvocationsRequest bad_time;
  bad_time.set_batch_id("t");
  bad_time.add_counts()->set_cartridge_name("x");
  bad_time.mutable_counts(0)->set_count(1);
  bad_time.mutable_counts(0)->set_last_invoked_at("yesterday");
  EXPECT_EQ(inst->RecordInvocations(bad_time).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inst->GetStats()->stats(), IsEmpty());
}

}  // namespace
}  // namespace teleclaude::mesh
