#include "common/delivery/outbox_sender.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

OutboxSender::OutboxSender(Options options, Outbox* outbox, OutboxTransport* transport)
    : options_(std::move(options)),
      outbox_(outbox),
      transport_(transport),
      read_sql_(Cat("SELECT seq, audience, message_id, body FROM outbox_", outbox->options().name,
                    " WHERE seq >= ? ORDER BY seq LIMIT ?")) {
  CHECK(outbox_ != nullptr);
  CHECK(transport_ != nullptr);
  CHECK_GT(options_.max_deliveries, 0);
  CHECK_GT(options_.max_rows, 0);
  outbox_->AttachSender(this);
}

OutboxSender::~OutboxSender() {
  Stop();
  outbox_->AttachSender(nullptr);
}

absl::Status OutboxSender::Start() {
  TM_ASSIGN_OR_RETURN(db_, Database::Open(options_.db_path));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void OutboxSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxSender::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void OutboxSender::Wait(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || woken_; };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
}

void OutboxSender::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      woken_ = false;
    }
    absl::Time wait_until;
    if (Round(&wait_until)) continue;
    Wait(wait_until);
  }
}

OutboxSender::DestState& OutboxSender::State(const std::string& name) {
  auto it = states_.find(name);
  if (it != states_.end()) return it->second;
  return states_
      .emplace(name, DestState{0, absl::InfinitePast(),
                               Backoff(options_.backoff_min, options_.backoff_max),
                               Backoff(options_.hold_min, options_.hold_max)})
      .first->second;
}

absl::Status OutboxSender::ReadRows(int64_t from, int limit, std::vector<Row>* rows) {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(read_sql_));
  s->Bind(1, from).Bind(2, static_cast<int64_t>(limit));
  while (true) {
    absl::StatusOr<bool> row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    Row& r = rows->emplace_back();
    r.seq = s->ColumnInt64(0);
    r.audience = s->ColumnInt64(1);
    r.message_id = s->ColumnText(2);
    r.body = s->ColumnText(3);
  }
  s->Reset();
  return absl::OkStatus();
}

absl::StatusOr<const std::vector<std::string>*> OutboxSender::AudienceOf(int64_t audience) {
  auto it = audiences_.find(audience);
  if (it != audiences_.end()) return &it->second;
  TM_ASSIGN_OR_RETURN(std::vector<std::string> names,
                      Outbox::ReadAudience(db_.get(), outbox_->options().name, audience));
  return &audiences_.emplace(audience, std::move(names)).first->second;
}

bool OutboxSender::Round(absl::Time* wait_until) {
  const std::string& name = outbox_->options().name;
  const bool id_per_destination = outbox_->options().id_per_destination;
  std::shared_ptr<const OutboxView> view = outbox_->View();
  if (view->forget_epoch != forget_epoch_) {
    // A forgotten destination that comes back starts from its committed
    // cursor.
    forget_epoch_ = view->forget_epoch;
    for (auto it = states_.begin(); it != states_.end();) {
      it = view->cursors.count(it->first) == 0 ? states_.erase(it) : std::next(it);
    }
  }
  const absl::Time now = absl::Now();
  *wait_until = now + options_.poll;

  // Destinations with rows beyond their cursor, not pausing; by position.
  struct Active {
    int64_t cursor;
    const std::string* name;
    DestState* state;
  };
  std::vector<Active> active;
  for (const auto& [dest, committed] : view->cursors) {
    DestState& st = State(dest);
    st.cursor = std::max(st.cursor, committed);
    if (st.cursor >= view->end) continue;  // sent already; the progress is being recorded
    if (now < st.paused_until) {
      *wait_until = std::min(*wait_until, st.paused_until);
      continue;
    }
    active.push_back({st.cursor, &dest, &st});
  }
  if (active.empty()) return false;
  std::stable_sort(active.begin(), active.end(),
                   [](const Active& a, const Active& b) { return a.cursor < b.cursor; });

  // Plan: destinations at the same position share a read; each read serves
  // the destinations whose cursor falls within the rows it covers.
  struct Served {
    const std::string* name;
    DestState* state;
    int64_t from;
    int64_t examined_through;  // every row up to here was looked at for it
    int64_t held_seq = -1;     // flow control stopped it here
    int64_t undone_seq = -1;   // the send failed from here
    int64_t delivered = 0;
    int64_t refused = 0;
    bool had = false;  // something was offered to it
  };
  std::vector<Served> served;
  std::vector<std::vector<Row>> reads;
  reads.reserve(active.size());
  std::vector<OutboxDelivery> deliveries;
  std::vector<uint32_t> owner;  // served index of each delivery
  int64_t budget = options_.max_deliveries;
  int64_t rows_seen = 0;
  for (size_t i = 0; i < active.size() && budget > 0;) {
    const int64_t lo = active[i].cursor;
    const int limit = rows_per_read_ > 0 ? rows_per_read_ : options_.max_rows;
    std::vector<Row>& rows = reads.emplace_back();
    absl::Status read = ReadRows(lo, limit, &rows);
    if (!read.ok()) {
      LOG_EVERY_N(ERROR, 10) << "outbox " << name << ": " << read.message();
      *wait_until = now + options_.backoff_max;
      return false;
    }
    const bool full = rows.size() == static_cast<size_t>(limit);
    const int64_t hi =
        full ? rows.back().seq : std::max(rows.empty() ? lo - 1 : rows.back().seq, view->end - 1);
    const size_t group_begin = served.size();
    std::unordered_map<std::string_view, uint32_t> group;
    size_t j = i;
    for (; j < active.size() && active[j].cursor <= hi; ++j) {
      group.emplace(*active[j].name, static_cast<uint32_t>(served.size()));
      served.push_back(Served{active[j].name, active[j].state, active[j].cursor, hi});
    }
    for (const Row& row : rows) {
      if (budget <= 0) {
        for (size_t k = group_begin; k < served.size(); ++k) {
          served[k].examined_through = row.seq - 1;
        }
        break;
      }
      ++rows_seen;
      absl::StatusOr<const std::vector<std::string>*> audience = AudienceOf(row.audience);
      if (!audience.ok()) {
        LOG_EVERY_N(ERROR, 10) << "outbox " << name << ": " << audience.status().message();
        *wait_until = now + options_.backoff_max;
        return false;
      }
      for (const std::string& dest : **audience) {
        auto g = group.find(dest);
        if (g == group.end()) continue;
        Served& s = served[g->second];
        if (row.seq < s.from) continue;
        deliveries.push_back(OutboxDelivery{
            dest, row.message_id, id_per_destination ? std::string_view(dest) : std::string_view(),
            row.body, row.seq});
        owner.push_back(g->second);
        s.had = true;
        --budget;
      }
    }
    i = j;
  }
  if (!deliveries.empty()) {
    // The next read asks for about as many rows as fill the budget.
    rows_per_read_ = static_cast<int>(std::clamp<int64_t>(
        options_.max_deliveries * rows_seen / static_cast<int64_t>(deliveries.size()), 1,
        options_.max_rows));
  }

  // Flow control, then one send.
  std::vector<std::string_view> names;
  std::vector<uint32_t> name_of(served.size(), UINT32_MAX);
  for (size_t k = 0; k < served.size(); ++k) {
    if (!served[k].had) continue;
    name_of[k] = static_cast<uint32_t>(names.size());
    names.push_back(*served[k].name);
  }
  absl::Status failure;
  std::vector<OutboxDelivery> kept;
  std::vector<uint32_t> kept_owner;
  if (!names.empty()) {
    absl::StatusOr<std::vector<int64_t>> room = transport_->Room(names);
    if (!room.ok()) {
      failure = room.status();
    } else {
      std::vector<int64_t> left(served.size(), 0);
      for (size_t k = 0; k < served.size(); ++k) {
        if (name_of[k] != UINT32_MAX && name_of[k] < room->size()) left[k] = (*room)[name_of[k]];
      }
      kept.reserve(deliveries.size());
      kept_owner.reserve(deliveries.size());
      for (size_t n = 0; n < deliveries.size(); ++n) {
        Served& s = served[owner[n]];
        if (s.held_seq >= 0) continue;
        if (left[owner[n]] <= 0) {
          s.held_seq = deliveries[n].seq;
          continue;
        }
        --left[owner[n]];
        kept.push_back(deliveries[n]);
        kept_owner.push_back(owner[n]);
      }
    }
  }
  size_t done = 0;
  if (failure.ok() && !kept.empty()) {
    OutboxSendResult result = transport_->Send(kept);
    done = std::min(result.statuses.size(), kept.size());
    for (size_t n = 0; n < done; ++n) {
      Served& s = served[kept_owner[n]];
      if (result.statuses[n].ok()) {
        ++s.delivered;
      } else {
        ++s.refused;
        LOG_EVERY_N(ERROR, 100) << "outbox " << name << ": message " << kept[n].message_id
                                << kept[n].message_id_suffix << " to " << kept[n].destination
                                << " refused, dropped: " << result.statuses[n].message();
      }
    }
    failure = result.error;
    for (size_t n = done; n < kept.size(); ++n) {
      Served& s = served[kept_owner[n]];
      int64_t& stop = failure.ok() ? s.held_seq : s.undone_seq;
      if (stop < 0 || kept[n].seq < stop) stop = kept[n].seq;
    }
  } else if (!failure.ok()) {
    for (size_t n = 0; n < deliveries.size(); ++n) {
      Served& s = served[owner[n]];
      if (s.undone_seq < 0) s.undone_seq = deliveries[n].seq;
    }
  }

  // Progress per destination.
  bool progressed = false;
  std::vector<DestinationProgress> progress;
  progress.reserve(served.size());
  for (Served& s : served) {
    DestState& st = *s.state;
    int64_t stop = -1;
    if (s.held_seq >= 0) stop = s.held_seq;
    if (s.undone_seq >= 0 && (stop < 0 || s.undone_seq < stop)) stop = s.undone_seq;
    const int64_t to = stop >= 0 ? stop : s.examined_through + 1;
    DestinationProgress p;
    p.destination = *s.name;
    p.from = s.from;
    p.to = std::max(to, s.from);
    p.delivered = s.delivered;
    p.refused = s.refused;
    p.held = s.held_seq >= 0;
    p.failed = s.undone_seq >= 0;
    p.draining = s.had && stop < 0;
    if (p.to > p.from || s.delivered + s.refused > 0) progressed = true;
    st.cursor = p.to;
    if (p.failed) {
      p.error = std::string(failure.message());
      ++st.errors_since_log;
      // One line when sending starts failing, then at most one every 10 s.
      if (!st.failing || now - st.last_error_log > absl::Seconds(10)) {
        LOG(WARNING) << "outbox " << name << ": cannot send to " << *s.name
                     << " (failures since last report: " << st.errors_since_log
                     << "); retrying with backoff: " << failure.message();
        st.last_error_log = now;
        st.errors_since_log = 0;
      }
      st.failing = true;
      st.paused_until = now + st.fail_backoff.Next();
    } else {
      if (st.failing) LOG(INFO) << "outbox " << name << ": sending to " << *s.name << " again";
      st.failing = false;
      st.fail_backoff.Reset();
      if (p.held) {
        st.paused_until = now + st.hold_backoff.Next();
      } else {
        st.hold_backoff.Reset();
      }
    }
    if (now < st.paused_until) *wait_until = std::min(*wait_until, st.paused_until);
    progress.push_back(std::move(p));
  }
  outbox_->Report(std::move(progress));
  return progressed;
}

}  // namespace teleclaude::mesh
