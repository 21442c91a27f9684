#include "common/sqlite/statement.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/cord.h"
#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {
constexpr std::string_view kResultCodeUrl = "type.teleclaude.dev/sqlite.result_code";
}  // namespace

absl::Status SqliteStatus(int rc, std::string message) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kFailedPrecondition;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:  // transient: free space and retry (not "request too large")
      code = absl::StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  absl::Status status(code, ToAbsl(message));
  status.SetPayload(ToAbsl(kResultCodeUrl), absl::Cord(ToAbsl(std::to_string(rc))));
  return status;
}

std::optional<int> SqliteResultCode(const absl::Status& status) {
  auto payload = status.GetPayload(ToAbsl(kResultCodeUrl));
  if (!payload.has_value()) return std::nullopt;
  int rc = 0;
  if (!ParseInt(std::string(*payload), &rc)) return std::nullopt;
  return rc;
}

bool IsUniqueViolation(const absl::Status& status) {
  std::optional<int> rc = SqliteResultCode(status);
  return rc.has_value() && (*rc == SQLITE_CONSTRAINT_UNIQUE || *rc == SQLITE_CONSTRAINT_PRIMARYKEY);
}

bool IsDiskFull(const absl::Status& status) {
  std::optional<int> rc = SqliteResultCode(status);
  return rc.has_value() && (*rc & 0xff) == SQLITE_FULL;
}

absl::Status DiskFullStatus(std::string message) {
  return SqliteStatus(SQLITE_FULL, std::move(message));
}

bool IsConstraintViolation(const absl::Status& status) {
  std::optional<int> rc = SqliteResultCode(status);
  return rc.has_value() && (*rc & 0xff) == SQLITE_CONSTRAINT;
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, std::string context)
    : db_(db), stmt_(stmt), context_(std::move(context)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      context_(std::move(other.context_)),
      bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    context_ = std::move(other.context_);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<std::string>& value) {
  if (!value.has_value()) return BindNull(index);
  return Bind(index, std::string_view(*value));
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

absl::Status Statement::Error(int rc) const {
  return SqliteStatus(
      rc, Cat(context_, ": ", db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_error_ != 0) {
    int rc = bind_error_;
    bind_error_ = 0;
    return SqliteStatus(rc, Cat(context_, ": bind failed: ", sqlite3_errstr(rc)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status s = Error(rc);
  sqlite3_reset(stmt_);
  return s;
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row;
  do {
    row = Step();
  } while (row.ok() && *row);
  sqlite3_reset(stmt_);
  return row.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

int64_t Statement::ColumnInt64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, col));
}

std::optional<std::string> Statement::ColumnOptionalText(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnText(col);
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace teleclaude::mesh
