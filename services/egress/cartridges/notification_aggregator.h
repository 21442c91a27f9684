// Counts per-message failure notifications (`mesh.event.rejected`: rejected,
// malformed, too large, quarantined entries of messages:{me} and malformed
// entries of the local stream) into ONE notification per sender and reason,
// with the count and the last example, instead of one row per message
// (issue 18 "Floods aggregate"; doc/events-db.md "Aggregated notifications").
//
// Exactness: Count() runs inside the pipeline worker's batch transaction,
// after the input's key was recorded in seen_ids in that same
// transaction (`submit:rejected:{entry id}` for ingress, `local:...` for the
// local stream), so an input counted once is never counted again — a
// redelivered entry after a SIGKILL is a duplicate input and never reaches
// the aggregator; a rolled-back batch counts nothing.
//
// Rate limit: at most `max_new_rows` new aggregate rows per `window`; an
// event whose row does not exist yet beyond that is counted into its type's
// overflow row (every key field "(others)"), so senders that vary their name
// cannot make rows without bound. The limit's memory is in-process (a
// restart starts a fresh window); the counts are in the database.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_AGGREGATOR_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_AGGREGATOR_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/envelope/envelope.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// Thread-compatible (the pipeline worker's thread). `db` and `clock` are not
// owned and must outlive the aggregator.
class NotificationAggregator {
 public:
  // Events of `event_type` with equal payload values of `key_fields` share
  // one notification.
  struct Rule {
    std::string event_type;
    std::vector<std::string> key_fields;
  };
  struct Options {
    std::vector<Rule> rules = DefaultRules();
    int max_new_rows = 20;
    absl::Duration window = absl::Minutes(1);
    // Longer key values are cut (at a UTF-8 boundary) before keying.
    size_t max_key_value_bytes = 128;
  };
  // mesh.event.rejected by {source_computer, reason}.
  static std::vector<Rule> DefaultRules();

  // The value of every key field in an overflow row.
  static constexpr std::string_view kOthers = "(others)";

  NotificationAggregator(Options options, EventsDb* db, const Clock* clock = Clock::Real());

  // The rule for `event_type`; nullptr when the type is not aggregated.
  const Rule* Find(std::string_view event_type) const;

  struct Counted {
    int64_t notification_id = 0;
    bool created = false;  // a new aggregate row
    int64_t count = 0;     // the row's count including this event
  };
  // Counts `event` into its aggregate row: creates it (count 1) or sets its
  // payload to the event's payload plus `count` (+1), `first_seen_at` (kept)
  // and `aggregate_key`, description "... (N in all)", human_status unseen.
  // REQUIRES: inside the caller's transaction on `db`; `rule` from Find().
  // Errors: events.db errors (the caller's transaction must roll back).
  absl::StatusOr<Counted> Count(const Rule& rule, const EventEnvelope& event);

  // Rows created since construction (overflow rows included).
  int64_t rows_created() const { return rows_created_; }

 private:
  // The idempotency key of the aggregate row for these key values.
  std::string RowKey(const Rule& rule, const std::vector<std::string>& values) const;
  bool MayCreateRow();

  const Options options_;
  EventsDb* const db_;
  const Clock* const clock_;
  std::deque<absl::Time> created_at_;  // rows created within the window
  int64_t rows_created_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_AGGREGATOR_H_
