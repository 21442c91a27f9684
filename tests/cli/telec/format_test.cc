#include "cli/telec/format.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh::telec {
namespace {

TEST(TableTest, AlignsColumnsByWidestCellWithoutTrailingSpaces) {
  Table table({"NAME", "STATUS", "N"});
  table.AddRow({"dedup", "system", "0"});
  table.AddRow({"my-long-filter", "pending", "12"});
  EXPECT_EQ(table.Render(),
            "NAME            STATUS   N\n"
            "dedup           system   0\n"
            "my-long-filter  pending  12\n");
}

TEST(TableTest, WidthCountsCodePointsAndNewlinesBecomeSpaces) {
  Table table({"A", "B"});
  table.AddRow({"\xC3\xA9t\xC3\xA9", "x"});  // "été": 3 code points, 5 bytes
  table.AddRow({"two\nlines", "y"});
  EXPECT_EQ(table.Render(),
            "A          B\n"
            "\xC3\xA9t\xC3\xA9        x\n"
            "two lines  y\n");
}

TEST(FormatTest, Abbreviate) {
  EXPECT_EQ(Abbreviate("short", 10), "short");
  EXPECT_EQ(Abbreviate("0123456789abc", 10), "0123456...");
  EXPECT_EQ(Abbreviate("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4), "\xC3\xA9...");
  EXPECT_EQ(Abbreviate("a\nb", 10), "a b");
}

TEST(FormatTest, RelativeTime) {
  absl::Time now = absl::FromUnixSeconds(1740832496);  // 2025-03-01T12:34:56Z
  EXPECT_EQ(RelativeTime(now, now), "just now");
  EXPECT_EQ(RelativeTime(now - absl::Seconds(4), now), "just now");
  EXPECT_EQ(RelativeTime(now - absl::Seconds(42), now), "42 s ago");
  EXPECT_EQ(RelativeTime(now - absl::Minutes(3) - absl::Seconds(20), now), "3 min ago");
  EXPECT_EQ(RelativeTime(now - absl::Hours(5), now), "5 h ago");
  EXPECT_EQ(RelativeTime(now - absl::Hours(25), now), "1 day ago");
  EXPECT_EQ(RelativeTime(now - absl::Hours(24 * 12), now), "12 days ago");
  EXPECT_EQ(RelativeTime(now - absl::Hours(24 * 90), now), "2024-12-01");
  EXPECT_EQ(RelativeTime(now + absl::Minutes(3), now), "in 3 min");
}

TEST(FormatTest, RelativeTimestampParsesTheServicesSpellings) {
  absl::Time now = absl::FromUnixSeconds(1740832496);  // 2025-03-01T12:34:56Z
  EXPECT_EQ(RelativeTimestamp("2025-03-01T12:31:56Z", now), "3 min ago");
  EXPECT_EQ(RelativeTimestamp("2025-03-01T12:31:55.250000+00:00", now), "3 min ago");
  EXPECT_EQ(RelativeTimestamp("2025-03-01T13:31:56+01:00", now), "3 min ago");
  EXPECT_EQ(RelativeTimestamp("", now), "never");
  EXPECT_EQ(RelativeTimestamp("", now, "-"), "-");
  EXPECT_EQ(RelativeTimestamp("yesterday", now), "yesterday");
}

TEST(FormatTest, ParseLevelAndVisibility) {
  EXPECT_EQ(*ParseLevel("level", "2"), v1::EVENT_LEVEL_WORKFLOW);
  EXPECT_EQ(*ParseLevel("level", "Business"), v1::EVENT_LEVEL_BUSINESS);
  EXPECT_EQ(ParseLevel("level", "4").status().message(),
            "--level: \"4\" is not a level; use 0-3 or infrastructure, operational, workflow or "
            "business");
  EXPECT_EQ(*ParseVisibility("visibility", "PUBLIC"), v1::EVENT_VISIBILITY_PUBLIC);
  EXPECT_EQ(ParseVisibility("visibility", "world").status().message(),
            "--visibility: \"world\" is not a visibility; use local, cluster or public");
}

TEST(FormatTest, NamesAndCounts) {
  EXPECT_EQ(CartridgeStatusName(v1::CARTRIDGE_STATUS_SUPERSEDED), "superseded");
  EXPECT_EQ(OutcomeName(v1::OUTCOME_DROPPED), "dropped");
  EXPECT_EQ(Count(0), "0");
  EXPECT_EQ(Count(999), "999");
  EXPECT_EQ(Count(1234567), "1,234,567");
  EXPECT_EQ(Count(-1000), "-1,000");
}

}  // namespace
}  // namespace teleclaude::mesh::telec
