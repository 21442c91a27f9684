// Whether a time a peer claims (a message's `sent_at`, a heartbeat's
// `last_seen`) is plausible against this computer's clock (doc/security.md
// "Replays"). Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_MESH_TIME_WINDOW_H_
#define TELECLAUDE_MESH_COMMON_MESH_TIME_WINDOW_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

// A claimed time is accepted from now - max_past to now + max_future.
struct TimeWindow {
  absl::Duration max_past;
  absl::Duration max_future;
};

// For an authenticated message's `sent_at`. max_future bounds clock skew
// (10 min). max_past is how long a message may wait in the receiver's
// stream (the receiver down, say) and still be accepted: 6 days. It must
// stay below the time the receiver remembers message ids (egress'
// seen_ids keeps them 7 days, doc/events-db.md) minus max_future:
// then a replay is refused either as a duplicate (its id is remembered) or
// as too old (its id may be forgotten) — never accepted twice.
inline constexpr TimeWindow kMessageSendTimeWindow{absl::Hours(6 * 24), absl::Minutes(10)};

// OK when `claimed` is within `window` of `now`; otherwise OUT_OF_RANGE
// "<field>: <claimed> is <how far> ahead of / older than this computer's
// clock (<now>); accepted: <window>".
absl::Status CheckTimeWindow(std::string_view field, absl::Time claimed, absl::Time now,
                             const TimeWindow& window);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_TIME_WINDOW_H_
