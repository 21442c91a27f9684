#include "common/mesh/time_window.h"

#include <string>

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

constexpr int64_t kSentAt = 1740832496789;

TEST(TimeWindowTest, AcceptsSendTimesWithinTheWindow) {
  const absl::Time now = absl::FromUnixMillis(kSentAt);
  for (absl::Duration d : {absl::ZeroDuration(), absl::Minutes(10), -absl::Hours(6 * 24)}) {
    EXPECT_TRUE(CheckTimeWindow("sent_at", now + d, now, kMessageSendTimeWindow).ok()) << d;
  }
}

TEST(TimeWindowTest, RefusesSendTimesOutsideTheWindowSayingWhy) {
  const absl::Time now = absl::FromUnixMillis(kSentAt);  // 2025-03-01T12:34:56.789Z
  absl::Status ahead =
      CheckTimeWindow("sent_at", now + absl::Minutes(11), now, kMessageSendTimeWindow);
  EXPECT_EQ(ahead.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(std::string(ahead.message()),
            "sent_at: 2025-03-01T12:45:56.789Z is 11m ahead of this computer's clock "
            "(2025-03-01T12:34:56.789Z); accepted: up to 10m ahead (check both clocks, e.g. NTP)");
  absl::Status old = CheckTimeWindow("sent_at", now - absl::Hours(6 * 24) - absl::Milliseconds(1),
                                     now, kMessageSendTimeWindow);
  EXPECT_EQ(old.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(std::string(old.message()),
            "sent_at: 2025-02-23T12:34:56.788Z is 144h0.001s older than this computer's clock "
            "(2025-03-01T12:34:56.789Z); accepted: up to 144h old (a replay, or held back too "
            "long)");
}

}  // namespace
}  // namespace teleclaude::mesh
