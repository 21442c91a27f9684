// The one OutboxKind (egress's and the installer's outbox tables).
#include "common/delivery/outbox_kind.h"

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

TEST(OutboxKindTest, EveryKindReadsBackFromItsColumnValue) {
  for (OutboxKind kind :
       {OutboxKind::kPush, OutboxKind::kSubmit, OutboxKind::kResolve, OutboxKind::kReload}) {
    absl::StatusOr<OutboxKind> parsed = ParseOutboxKind(OutboxKindName(kind));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(OutboxKindName(OutboxKind::kPush), "push");
  EXPECT_EQ(OutboxKindName(OutboxKind::kSubmit), "submit");
}

TEST(OutboxKindTest, AnUnknownValueIsRefusedNamingTheFieldInOneLine) {
  absl::StatusOr<OutboxKind> parsed = ParseOutboxKind("sub\nmit");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), R"(kind: unknown outbox kind "sub\x0amit")");
  EXPECT_FALSE(ParseOutboxKind("").ok());
  EXPECT_FALSE(ParseOutboxKind("Submit").ok());
}

}  // namespace
}  // namespace teleclaude::mesh
