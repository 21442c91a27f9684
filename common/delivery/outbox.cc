#include "common/delivery/outbox.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// An audience's destination names are stored '\n'-separated: a name holds
// no control character (peer names are printable: common/mesh/peer_name.h),
// but may hold a space.
constexpr char kNameSeparator = '\n';
bool ValidDestination(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) return false;
  }
  return true;
}

size_t HashNames(const std::vector<std::string_view>& names) {
  size_t h = names.size();
  for (std::string_view n : names) h = h * 1000003u ^ std::hash<std::string_view>{}(n);
  return h;
}

bool SameNames(const std::vector<std::string>& a, const std::vector<std::string_view>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

std::vector<std::string> SplitNames(std::string_view text) {
  return absl::StrSplit(ToAbsl(text), kNameSeparator, absl::SkipEmpty());
}

}  // namespace

std::string Outbox::Schema(std::string_view name) {
  return Cat("CREATE TABLE outbox_", name,
             " (\n"
             "    seq INTEGER PRIMARY KEY,\n"
             "    audience INTEGER NOT NULL,\n"
             "    message_id TEXT NOT NULL,\n"
             "    body BLOB NOT NULL,\n"
             "    created_ms INTEGER NOT NULL\n"
             ");\n"
             "CREATE TABLE outbox_",
             name,
             "_audiences (\n"
             "    id INTEGER PRIMARY KEY,\n"
             "    destinations TEXT NOT NULL UNIQUE\n"
             ");\n"
             "CREATE TABLE outbox_",
             name,
             "_cursors (\n"
             "    destination TEXT PRIMARY KEY,\n"
             "    next_seq INTEGER NOT NULL\n"
             ") WITHOUT ROWID;\n");
}

Outbox::Outbox(Database* db, Options options, Waker* writer, OutboxObserver* observer)
    : db_(db),
      options_(std::move(options)),
      observer_(observer),
      table_(Cat("outbox_", options_.name)),
      audiences_table_(Cat("outbox_", options_.name, "_audiences")),
      cursors_table_(Cat("outbox_", options_.name, "_cursors")),
      insert_sql_(Cat("INSERT INTO ", table_,
                      " (seq, audience, message_id, body, created_ms) VALUES (?, ?, ?, ?, ?)")) {
  AttachWriter(writer);
}

Outbox::~Outbox() = default;

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(Database* db, Options options, Waker* writer,
                                                     OutboxObserver* observer) {
  CHECK(db != nullptr);
  std::unique_ptr<Outbox> outbox(new Outbox(db, std::move(options), writer, observer));
  TM_RETURN_IF_ERROR(outbox->Load());
  return outbox;
}

void Outbox::AttachSender(Waker* sender) {
  absl::MutexLock lock(&mu_);
  sender_ = sender;
}

void Outbox::AttachWriter(Waker* writer) {
  absl::MutexLock lock(&mu_);
  writer_ = writer;
}

absl::Status Outbox::Load() {
  // Audiences no row uses any more (their rows were delivered) go first.
  TM_RETURN_IF_ERROR(
      db_->Exec(Cat("DELETE FROM ", audiences_table_,
                    " WHERE id NOT IN (SELECT DISTINCT audience FROM ", table_, ")")));
  {
    TM_ASSIGN_OR_RETURN(Statement s,
                        db_->Prepare(Cat("SELECT id, destinations FROM ", audiences_table_)));
    while (true) {
      TM_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Audience a;
      a.id = s.ColumnInt64(0);
      a.destinations = SplitNames(s.ColumnText(1));
      std::vector<std::string_view> views(a.destinations.begin(), a.destinations.end());
      audience_by_hash_.emplace(HashNames(views), a.id);
      audiences_.emplace(a.id, std::move(a));
    }
  }
  int64_t max_cursor = 0;
  {
    TM_ASSIGN_OR_RETURN(Statement s,
                        db_->Prepare(Cat("SELECT destination, next_seq FROM ", cursors_table_)));
    while (true) {
      TM_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Dest& d = dests_[s.ColumnText(0)];
      d.cursor = s.ColumnInt64(1);
      max_cursor = std::max(max_cursor, d.cursor);
    }
  }
  int64_t max_seq = 0;
  int64_t min_seq = 0;
  {
    TM_ASSIGN_OR_RETURN(Statement s,
                        db_->Prepare(Cat("SELECT seq, audience FROM ", table_, " ORDER BY seq")));
    while (true) {
      TM_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      const int64_t seq = s.ColumnInt64(0);
      if (min_seq == 0) min_seq = seq;
      max_seq = seq;
      auto a = audiences_.find(s.ColumnInt64(1));
      if (a == audiences_.end()) {
        return absl::DataLossError(Cat(db_->path(), ": ", table_, " row ", seq, " names audience ",
                                       s.ColumnInt64(1), " which is not in ", audiences_table_));
      }
      for (const std::string& name : a->second.destinations) {
        Dest& d = dests_[name];
        if (seq >= d.cursor) ++d.depth;
      }
    }
  }
  // Ids only grow, even when every row was delivered and deleted: no cursor
  // may point past the next row.
  next_seq_ = std::max({max_seq + 1, max_cursor, int64_t{1}});
  pruned_below_ = min_seq > 0 ? min_seq : next_seq_;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, d] : dests_) {
    DestinationStats& st = stats_[name];
    st.destination = name;
    st.depth = d.depth;
    totals_.depth += d.depth;
  }
  PublishView();
  return absl::OkStatus();
}

void Outbox::PublishView() {
  auto view = std::make_shared<OutboxView>();
  view->end = next_seq_;
  view->forget_epoch = forget_epoch_;
  for (const auto& [name, d] : dests_) {
    if (d.depth > 0) view->cursors.emplace(name, d.cursor);
  }
  view_ = std::move(view);
}

bool Outbox::InAudience(int64_t audience, std::string_view name) const {
  auto a = audiences_.find(audience);
  if (a == audiences_.end()) return false;
  for (const std::string& d : a->second.destinations) {
    if (d == name) return true;
  }
  return false;
}

absl::StatusOr<const Outbox::Audience*> Outbox::Intern(
    const std::vector<std::string_view>& destinations) {
  const size_t h = HashNames(destinations);
  auto [begin, end] = audience_by_hash_.equal_range(h);
  for (auto it = begin; it != end; ++it) {
    const Audience& a = audiences_.at(it->second);
    if (SameNames(a.destinations, destinations)) return &a;
  }
  if (destinations.empty()) {
    return absl::InvalidArgumentError(Cat("outbox ", options_.name, ": no destination"));
  }
  std::set<std::string_view> seen;
  for (std::string_view name : destinations) {
    if (!ValidDestination(name)) {
      return absl::InvalidArgumentError(Cat("outbox ", options_.name, ": destination \"", name,
                                            "\" is empty or holds whitespace"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          Cat("outbox ", options_.name, ": destination ", name, " named twice"));
    }
  }
  Audience a;
  a.destinations.assign(destinations.begin(), destinations.end());
  std::string joined;
  for (std::string_view name : destinations) {
    if (!joined.empty()) joined += kNameSeparator;
    joined.append(name.data(), name.size());
  }
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(Cat("INSERT INTO ", audiences_table_,
                                                     " (destinations) VALUES (?)")));
  s->Bind(1, joined);
  TM_RETURN_IF_ERROR(s->Run());
  a.id = db_->LastInsertRowId();
  staged_.new_audiences.push_back(a.id);
  audience_by_hash_.emplace(h, a.id);
  auto [it, added] = audiences_.emplace(a.id, std::move(a));
  return &it->second;
}

absl::StatusOr<int64_t> Outbox::Append(const std::vector<std::string_view>& destinations,
                                       std::string_view message_id, std::string_view body) {
  TM_ASSIGN_OR_RETURN(const Audience* audience, Intern(destinations));
  const int64_t seq = staged_.next_seq;
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(insert_sql_));
  s->Bind(1, seq)
      .Bind(2, audience->id)
      .Bind(3, message_id)
      .Bind(4, body)
      .Bind(5, absl::ToUnixMillis(options_.clock->Now()));
  TM_RETURN_IF_ERROR(s->Run());
  staged_.next_seq = seq + 1;
  auto [it, added] = staged_.appended.try_emplace(audience->id, 0, seq);
  ++it->second.first;
  staged_.changed = true;
  return seq;
}

Outbox::Dest& Outbox::Stage(std::string_view name) {
  auto staged = staged_.dests.find(name);
  if (staged != staged_.dests.end()) return staged->second;
  auto committed = dests_.find(name);
  Dest initial = committed != dests_.end() ? committed->second : Dest{};
  return staged_.dests.emplace(std::string(name), initial).first->second;
}

absl::StatusOr<int64_t> Outbox::CountFrom(std::string_view name, int64_t from) {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(Cat("SELECT audience FROM ", table_,
                                                     " WHERE seq >= ? ORDER BY seq")));
  s->Bind(1, from);
  int64_t n = 0;
  while (true) {
    absl::StatusOr<bool> row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    if (InAudience(s->ColumnInt64(0), name)) ++n;
  }
  s->Reset();
  return n;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Outbox::SkipFrom(std::string_view name, int64_t from,
                                                             int64_t count) {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(Cat("SELECT seq, audience FROM ", table_,
                                                     " WHERE seq >= ? ORDER BY seq")));
  s->Bind(1, from);
  int64_t passed = 0;
  int64_t cursor = from;
  while (passed < count) {
    absl::StatusOr<bool> row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) {
      cursor = staged_.next_seq;
      break;
    }
    if (InAudience(s->ColumnInt64(1), name)) {
      ++passed;
      cursor = s->ColumnInt64(0) + 1;
    }
  }
  s->Reset();
  return std::make_pair(cursor, passed);
}

absl::Status Outbox::BeforeJobs() {
  staged_ = Staged{};
  staged_.next_seq = next_seq_;
  {
    absl::MutexLock lock(&mu_);
    staged_.reports.swap(reports_);
    staged_.forgets.swap(forget_requests_);
    has_work_.store(false);
  }
  for (const auto& [name, m] : staged_.reports) {
    if (dests_.find(name) == dests_.end()) continue;  // forgotten meanwhile
    Dest& d = Stage(name);
    if (m.to <= d.cursor) continue;  // rows passed already (dropped by the bound)
    staged_.changed = true;
    if (m.contiguous && m.from == d.cursor && m.done <= d.depth) {
      d.cursor = m.to;
      d.depth -= m.done;
      continue;
    }
    // The sender started before a cursor the bound moved: count again.
    d.cursor = m.to;
    TM_ASSIGN_OR_RETURN(d.depth, CountFrom(name, m.to));
  }
  return absl::OkStatus();
}

absl::Status Outbox::AfterJobs() {
  // The rows appended, per destination: how many, and the first one.
  if (!staged_.appended.empty()) {
    std::map<std::string_view, std::pair<int64_t, int64_t>> per_dest;
    for (const auto& [audience, added] : staged_.appended) {
      for (const std::string& name : audiences_.at(audience).destinations) {
        auto [it, fresh] = per_dest.try_emplace(name, 0, added.second);
        it->second.first += added.first;
        it->second.second = std::min(it->second.second, added.second);
      }
    }
    for (const auto& [name, added] : per_dest) {
      Dest& d = Stage(name);
      // Nothing was waiting: every older row is done for it, so its cursor
      // can skip rows meant for others (the sender need not read them).
      if (d.depth == 0) d.cursor = std::max(d.cursor, added.second);
      d.depth += added.first;
    }
  }
  for (const std::string& name : staged_.forgets) {
    if (dests_.find(name) == dests_.end() && staged_.dests.find(name) == staged_.dests.end()) {
      continue;
    }
    const int64_t depth = Stage(name).depth;
    staged_.forgotten += depth;
    staged_.dests.erase(name);
    staged_.removed.push_back(name);
    staged_.changed = true;
    TM_ASSIGN_OR_RETURN(Statement * del,
                        db_->Cached(Cat("DELETE FROM ", cursors_table_, " WHERE destination = ?")));
    del->Bind(1, name);
    TM_RETURN_IF_ERROR(del->Run());
    LOG(WARNING) << "outbox " << options_.name << ": destination " << name
                 << " forgotten; dropped the " << depth << " message(s) waiting for it";
  }
  const int64_t bound = options_.max_per_destination;
  for (auto& [name, d] : staged_.dests) {
    if (bound > 0 && d.depth > bound) {
      TM_ASSIGN_OR_RETURN(auto skipped, SkipFrom(name, d.cursor, d.depth - bound));
      d.cursor = skipped.first;
      d.depth -= skipped.second;
      staged_.dropped += skipped.second;
      staged_.dropped_by[name] += skipped.second;
      if (!d.dropping) {
        d.dropping = true;
        d.episode_since = options_.clock->Now();
        d.episode_dropped = 0;
        staged_.episodes.push_back(
            DropEpisode{options_.name, name, skipped.second, bound, d.episode_since});
      }
      d.episode_dropped += skipped.second;
      LOG_EVERY_T(WARNING, 10) << "outbox " << options_.name << ": " << name << " has " << bound
                               << " message(s) waiting (the bound): dropped its " << skipped.second
                               << " oldest";
    } else if (d.dropping && d.depth <= bound / 2) {
      LOG(INFO) << "outbox " << options_.name << ": " << name << " is back under half the bound ("
                << d.depth << " waiting) after dropping " << d.episode_dropped << " message(s)";
      d.dropping = false;
      d.episode_dropped = 0;
    }
  }
  // Cursors that moved.
  for (const auto& [name, d] : staged_.dests) {
    auto committed = dests_.find(name);
    if (committed != dests_.end() && committed->second.cursor == d.cursor) continue;
    TM_ASSIGN_OR_RETURN(
        Statement * put,
        db_->Cached(Cat("INSERT INTO ", cursors_table_,
                        " (destination, next_seq) VALUES (?, ?) ON CONFLICT (destination) DO "
                        "UPDATE SET next_seq = excluded.next_seq")));
    put->Bind(1, name).Bind(2, d.cursor);
    TM_RETURN_IF_ERROR(put->Run());
  }
  // Rows every destination is done with leave by range.
  int64_t keep_from = staged_.next_seq;
  for (const auto& [name, d] : dests_) {
    if (staged_.dests.count(name) > 0) continue;
    if (std::find(staged_.removed.begin(), staged_.removed.end(), name) != staged_.removed.end()) {
      continue;
    }
    if (d.depth > 0) keep_from = std::min(keep_from, d.cursor);
  }
  for (const auto& [name, d] : staged_.dests) {
    if (d.depth > 0) keep_from = std::min(keep_from, d.cursor);
  }
  if (keep_from > pruned_below_) {
    TM_ASSIGN_OR_RETURN(Statement * del,
                        db_->Cached(Cat("DELETE FROM ", table_, " WHERE seq < ?")));
    del->Bind(1, keep_from);
    TM_RETURN_IF_ERROR(del->Run());
    staged_.pruned_below = keep_from;
  }
  return absl::OkStatus();
}

void Outbox::Committed() {
  const bool appended = !staged_.appended.empty();
  const bool moved = staged_.dropped > 0 || !staged_.removed.empty();
  for (auto& [name, d] : staged_.dests) dests_[name] = d;
  for (const std::string& name : staged_.removed) dests_.erase(name);
  next_seq_ = staged_.next_seq;
  if (staged_.pruned_below > pruned_below_) pruned_below_ = staged_.pruned_below;
  Waker* sender = nullptr;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, d] : staged_.dests) {
      DestinationStats& st = stats_[name];
      totals_.depth += d.depth - st.depth;
      st.destination = name;
      st.depth = d.depth;
      st.dropping = d.dropping;
    }
    for (const std::string& name : staged_.removed) {
      auto it = stats_.find(name);
      if (it != stats_.end()) {
        totals_.depth -= it->second.depth;
        stats_.erase(it);
      }
      draining_.erase(name);
      ++forget_epoch_;
    }
    for (const auto& [name, n] : staged_.dropped_by) stats_[name].dropped += n;
    totals_.dropped += staged_.dropped;
    totals_.forgotten += staged_.forgotten;
    if (staged_.changed) PublishView();
    if (appended || moved) sender = sender_;
  }
  if (sender != nullptr) sender->Wake();
  if (observer_ != nullptr) {
    for (const DropEpisode& e : staged_.episodes) observer_->OnDropEpisode(e);
  }
  staged_ = Staged{};
}

void Outbox::RolledBack() {
  for (int64_t id : staged_.new_audiences) {
    auto a = audiences_.find(id);
    if (a == audiences_.end()) continue;
    std::vector<std::string_view> views(a->second.destinations.begin(),
                                        a->second.destinations.end());
    auto [begin, end] = audience_by_hash_.equal_range(HashNames(views));
    for (auto it = begin; it != end; ++it) {
      if (it->second == id) {
        audience_by_hash_.erase(it);
        break;
      }
    }
    audiences_.erase(a);
  }
  bool work = false;
  {
    absl::MutexLock lock(&mu_);
    // The reports taken for this transaction come first again.
    for (auto& [name, later] : reports_) {
      auto it = staged_.reports.find(name);
      if (it == staged_.reports.end()) {
        staged_.reports.emplace(name, later);
        continue;
      }
      Merged& m = it->second;
      m.contiguous = m.contiguous && later.contiguous && m.to == later.from;
      m.to = std::max(m.to, later.to);
      m.done += later.done;
    }
    reports_.swap(staged_.reports);
    forget_requests_.insert(forget_requests_.begin(), staged_.forgets.begin(),
                            staged_.forgets.end());
    work = !reports_.empty() || !forget_requests_.empty();
    if (work) has_work_.store(true);
  }
  staged_ = Staged{};
}

void Outbox::Forget(std::string destination) {
  Waker* writer;
  {
    absl::MutexLock lock(&mu_);
    forget_requests_.push_back(std::move(destination));
    has_work_.store(true);
    writer = writer_;
  }
  if (writer != nullptr) writer->Wake();
}

bool Outbox::ShouldHoldInputs(int64_t extra) const {
  const int64_t bound = options_.max_per_destination;
  if (bound <= 0) return false;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, draining] : draining_) {
    if (!draining) continue;
    auto st = stats_.find(name);
    if (st != stats_.end() && st->second.depth + extra >= bound / 2) return true;
  }
  return false;
}

std::vector<DestinationStats> Outbox::Stats() const {
  absl::MutexLock lock(&mu_);
  std::vector<DestinationStats> out;
  out.reserve(stats_.size());
  for (const auto& [name, st] : stats_) out.push_back(st);
  return out;
}

OutboxTotals Outbox::Totals() const {
  absl::MutexLock lock(&mu_);
  return totals_;
}

std::shared_ptr<const OutboxView> Outbox::View() const {
  absl::MutexLock lock(&mu_);
  return view_;
}

void Outbox::Report(std::vector<DestinationProgress> progress) {
  bool wake = false;
  Waker* writer;
  {
    absl::MutexLock lock(&mu_);
    for (DestinationProgress& p : progress) {
      DestinationStats& st = stats_[p.destination];
      st.destination = p.destination;
      st.sent += p.delivered;
      st.refused += p.refused;
      totals_.sent += p.delivered;
      totals_.refused += p.refused;
      if (p.held) ++st.held_rounds;
      st.held = p.held;
      st.failing = p.failed;
      if (p.failed) st.last_error = std::move(p.error);
      bool& draining = draining_[p.destination];
      if (draining && !p.draining) wake = true;  // the gate may open now
      draining = p.draining;
      if (p.to <= p.from) continue;
      auto [it, fresh] =
          reports_.try_emplace(p.destination, Merged{p.from, p.to, p.delivered + p.refused, true});
      if (!fresh) {
        Merged& m = it->second;
        m.contiguous = m.contiguous && m.to == p.from;
        m.to = std::max(m.to, p.to);
        m.done += p.delivered + p.refused;
      }
      wake = true;
    }
    if (!reports_.empty()) has_work_.store(true);
    writer = writer_;
  }
  if (wake && writer != nullptr) writer->Wake();
}

absl::StatusOr<std::vector<std::string>> Outbox::ReadAudience(Database* db, std::string_view name,
                                                              int64_t audience) {
  TM_ASSIGN_OR_RETURN(Statement * s, db->Cached(Cat("SELECT destinations FROM outbox_", name,
                                                    "_audiences WHERE id = ?")));
  s->Bind(1, audience);
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    s->Reset();
    return absl::NotFoundError(
        Cat(db->path(), ": outbox_", name, "_audiences has no audience ", audience));
  }
  std::vector<std::string> names = SplitNames(s->ColumnText(0));
  s->Reset();
  return names;
}

}  // namespace teleclaude::mesh
