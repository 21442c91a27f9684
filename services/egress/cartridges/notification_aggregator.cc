#include "services/egress/cartridges/notification_aggregator.h"

#include <optional>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"

namespace teleclaude::mesh {
namespace {

// The longest prefix of `s` of at most `limit` bytes that ends on a UTF-8
// boundary (key values come from other computers: any bytes).
std::string CutUtf8(std::string s, size_t limit) {
  if (s.size() <= limit) return s;
  size_t end = 0;
  while (end < limit) {
    size_t len = Utf8SequenceLength(s, end);
    if (len == 0 || end + len > limit) break;
    end += len;
  }
  s.resize(end);
  return s;
}

std::string JsonString(std::string_view s) {
  std::string out;
  json::Writer(&out).String(s);
  return out;
}

}  // namespace

std::vector<NotificationAggregator::Rule> NotificationAggregator::DefaultRules() {
  return {{"mesh.event.rejected", {"source_computer", "reason"}}};
}

NotificationAggregator::NotificationAggregator(Options options, EventsDb* db, const Clock* clock)
    : options_(std::move(options)), db_(db), clock_(clock) {}

const NotificationAggregator::Rule* NotificationAggregator::Find(
    std::string_view event_type) const {
  for (const Rule& rule : options_.rules) {
    if (rule.event_type == event_type) return &rule;
  }
  return nullptr;
}

std::string NotificationAggregator::RowKey(const Rule& rule,
                                           const std::vector<std::string>& values) const {
  std::vector<std::string> parts = {rule.event_type};
  parts.insert(parts.end(), values.begin(), values.end());
  std::string key = "aggregate:";
  json::Writer(&key).StringList(parts);
  return key;
}

bool NotificationAggregator::MayCreateRow() {
  const absl::Time now = clock_->Now();
  while (!created_at_.empty() && created_at_.front() <= now - options_.window) {
    created_at_.pop_front();
  }
  return static_cast<int>(created_at_.size()) < options_.max_new_rows;
}

absl::StatusOr<NotificationAggregator::Counted> NotificationAggregator::Count(
    const Rule& rule, const EventEnvelope& event) {
  std::vector<std::string> values;
  for (const std::string& field : rule.key_fields) {
    std::optional<std::string> member = json::GetMember(event.payload_json, field);
    values.push_back(CutUtf8(member.has_value() ? json::PythonStr(*member) : std::string(),
                             options_.max_key_value_bytes));
  }
  Database* db = db_->database();
  std::string key = RowKey(rule, values);
  TM_ASSIGN_OR_RETURN(Statement * find, db->Cached("SELECT id, json_extract(payload, '$.count'), "
                                                   "json_extract(payload, '$.first_seen_at') "
                                                   "FROM notifications WHERE idempotency_key = ?"));
  // One lookup of `row_key`: {id, count, first_seen_at} when the row exists.
  struct Row {
    int64_t id = 0;
    int64_t count = 0;
    std::string first_seen_at;
  };
  auto lookup = [&](const std::string& row_key) -> absl::StatusOr<std::optional<Row>> {
    find->Bind(1, row_key);
    absl::StatusOr<bool> found = find->Step();
    std::optional<Row> row;
    if (found.ok() && *found) {
      row = Row{find->ColumnInt64(0), find->ColumnInt64(1), find->ColumnText(2)};
    }
    find->Reset();
    if (!found.ok()) return found.status();
    return row;
  };
  TM_ASSIGN_OR_RETURN(std::optional<Row> row, lookup(key));
  bool overflow = false;
  if (!row.has_value() && !MayCreateRow()) {
    overflow = true;
    values.assign(values.size(), std::string(kOthers));
    key = RowKey(rule, values);
    TM_ASSIGN_OR_RETURN(row, lookup(key));
  }

  const std::string now = EventsDb::NowIso();
  const int64_t count = row.has_value() ? row->count + 1 : 1;
  std::string payload = event.payload_json.empty() ? std::string("{}") : event.payload_json;
  std::string aggregate;
  {
    json::Writer w(&aggregate);
    w.BeginObject();
    for (size_t i = 0; i < values.size(); ++i) w.Key(rule.key_fields[i]).String(values[i]);
    w.EndObject();
  }
  for (const auto& [member, value] : std::vector<std::pair<std::string_view, std::string>>{
           {"count", std::to_string(count)},
           {"first_seen_at",
            JsonString(row.has_value() && !row->first_seen_at.empty() ? row->first_seen_at : now)},
           {"last_seen_at", JsonString(now)},
           {"aggregate_key", aggregate}}) {
    absl::StatusOr<std::string> set = json::SetMember(payload, member, value);
    if (!set.ok()) {
      // Not an object (a local caller's odd payload): keep it as the example.
      TM_ASSIGN_OR_RETURN(set, json::SetMember("{}", "example", payload));
      TM_ASSIGN_OR_RETURN(set, json::SetMember(*set, member, value));
    }
    payload = *std::move(set);
  }
  std::string description = Cat(event.description, " (", count, " in all)");
  if (overflow) {
    description =
        Cat(event.event, ": more senders or reasons than ", options_.max_new_rows, " new rows per ",
            absl::FormatDuration(options_.window), " allow; counted here (", count,
            " in all; the last: ", event.description, ")");
  }

  if (row.has_value()) {
    TM_RETURN_IF_ERROR(
        db_->UpdateNotificationFields(row->id, description, payload, /*reset_human_status=*/true)
            .status());
    return Counted{row->id, false, count};
  }
  EventEnvelope first = event;
  first.payload_json = std::move(payload);
  first.description = std::move(description);
  first.idempotency_key = key;
  if (overflow) first.entity.reset();
  TM_ASSIGN_OR_RETURN(auto upserted, db_->UpsertByIdempotencyKey(first, /*known_absent=*/true));
  created_at_.push_back(clock_->Now());
  ++rows_created_;
  return Counted{upserted.first, true, count};
}

}  // namespace teleclaude::mesh
