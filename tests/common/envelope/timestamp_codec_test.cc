#include "common/envelope/timestamp_codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

std::string Mesh(std::string_view in) {
  auto ts = ParseTimestamp(in);
  if (!ts.ok()) return "error: " + std::string(ts.status().message());
  return FormatTimestampMesh(*ts);
}

std::string Stream(std::string_view in) {
  auto ts = ParseTimestampIsoformat(in);
  if (!ts.ok()) return "error: " + std::string(ts.status().message());
  return FormatTimestampStream(*ts);
}

TEST(TimestampCodecTest, ParsesEverySpellingThePythonModelAccepts) {
  EXPECT_EQ(Mesh("2025-03-01T12:34:56.789012Z"), "2025-03-01T12:34:56.789012Z");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56.000000Z"), "2025-03-01T12:34:56Z");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56.123Z"), "2025-03-01T12:34:56.123000Z");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56.123456789Z"), "2025-03-01T12:34:56.123456Z");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56.789012+00:00"), "2025-03-01T12:34:56.789012Z");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56+05:30"), "2025-03-01T12:34:56+05:30");
  EXPECT_EQ(Mesh("2025-03-01T04:34:56-0800"), "2025-03-01T04:34:56-08:00");
  EXPECT_EQ(Mesh("2025-03-01T04:34:56+02"), "2025-03-01T04:34:56+02:00");
  EXPECT_EQ(Mesh("2025-03-01T12:34:56"), "2025-03-01T12:34:56");
  EXPECT_EQ(Mesh("2025-03-01 12:34:56z"), "2025-03-01T12:34:56Z");
  EXPECT_EQ(Mesh("2025-03-01t12:34Z"), "2025-03-01T12:34:00Z");
  EXPECT_EQ(Mesh("2025-03-01"), "2025-03-01T00:00:00");
  EXPECT_EQ(Mesh("2024-02-29T23:59:59.999999Z"), "2024-02-29T23:59:59.999999Z");
  EXPECT_EQ(Mesh("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(Mesh("1740832496"), "2025-03-01T12:34:56Z");
}

TEST(TimestampCodecTest, RejectsWhatThePythonModelRejects) {
  for (std::string_view bad :
       {"", "not-a-date", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2025-03-01T12:00:00+25:00", "2025-03-01T24:00:00Z", "2025-03-01T12:00:00Zjunk",
        "0000-01-01T00:00:00Z", "2025-03-01X12:00", "2025-03-01T12:00:00.Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_EQ(Mesh("2025-13-01T00:00:00Z"), "error: month value is outside expected range of 1-12");
}

TEST(TimestampCodecTest, UnixSeconds) {
  EXPECT_EQ(FormatTimestampMesh(*TimestampFromUnixText("1740832496")), "2025-03-01T12:34:56Z");
  EXPECT_EQ(FormatTimestampMesh(*TimestampFromUnixText("1740832496.5")),
            "2025-03-01T12:34:56.500000Z");
  EXPECT_EQ(FormatTimestampMesh(*TimestampFromUnixText("1740832496500")),
            "2025-03-01T12:34:56.500000Z");  // milliseconds above 2e10
  EXPECT_EQ(FormatTimestampMesh(*TimestampFromUnixText("0")), "1970-01-01T00:00:00Z");
  EXPECT_FALSE(TimestampFromUnixText("1e300").ok());
  EXPECT_FALSE(TimestampFromUnixText("NaN").ok());
}

TEST(TimestampCodecTest, StreamFormatAndPythonFromisoformat) {
  EXPECT_EQ(Stream("2025-03-01T12:34:56.789012+00:00"), "2025-03-01T12:34:56.789012+00:00");
  EXPECT_EQ(Stream("2025-03-01T12:34:56Z"), "2025-03-01T12:34:56+00:00");
  EXPECT_EQ(Stream("2025-03-01T04:34:56-08:00"), "2025-03-01T04:34:56-08:00");
  EXPECT_EQ(Stream("2025-03-01T00:00:00"), "2025-03-01T00:00:00");
  EXPECT_EQ(Stream("2025-03-01"), "2025-03-01T00:00:00");
  EXPECT_EQ(Stream("20250301T123456"), "2025-03-01T12:34:56");
  EXPECT_EQ(Stream("2025-03-01 12:34:56.5"), "2025-03-01T12:34:56.500000");
  EXPECT_EQ(Stream("2025-03-01T12"), "2025-03-01T12:00:00");
  EXPECT_EQ(Stream("2025-03-01T12:34:56+05:30:15"),
            "error: UTC offsets with seconds are not supported");
  EXPECT_NE(Stream("2025-03-01T12:34:56+24:00").rfind("error", 0), std::string::npos);
  EXPECT_NE(Stream("nope").rfind("error", 0), std::string::npos);
  EXPECT_NE(Stream("2025-03-01T12:3").rfind("error", 0), std::string::npos);
}

TEST(TimestampCodecTest, ToTimeHonoursTheOffset) {
  auto a = ParseTimestamp("2025-03-01T12:34:56.5+05:30");
  auto b = ParseTimestamp("2025-03-01T07:04:56.5Z");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToTime(), b->ToTime());
  Timestamp now = Timestamp::NowUtc();
  EXPECT_EQ(now.utc_offset_seconds, 0);
  EXPECT_LT(absl::AbsDuration(now.ToTime() - absl::Now()), absl::Seconds(5));
}

// NowUtc and Unix-number timestamps use plain calendar arithmetic instead of
// absl's time zone code: the two must agree over the whole supported range.
TEST(TimestampCodecTest, CivilFromUnixSecondsMatchesAbsl) {
  constexpr int64_t kFirst = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  std::vector<int64_t> seconds = {kFirst,
                                  kLast,
                                  -1,
                                  0,
                                  1,
                                  86399,
                                  86400,
                                  951782400 /* 2000-02-29 */,
                                  4107542400 /* 2100-03-01 */,
                                  -2208988800 /* 1900-01-01 */};
  for (int64_t s = kFirst; s < kLast; s += 7777777 + (s & 1023)) seconds.push_back(s);
  for (int64_t s : seconds) {
    EXPECT_EQ(CivilFromUnixSeconds(s),
              absl::ToCivilSecond(absl::FromUnixSeconds(s), absl::UTCTimeZone()))
        << s;
  }
  Timestamp now = Timestamp::NowUtc();
  EXPECT_GE(now.micros, 0);
  EXPECT_LT(now.micros, 1000000);
}

}  // namespace
}  // namespace teleclaude::mesh
