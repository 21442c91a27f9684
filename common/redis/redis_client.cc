#include "common/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <memory>
#include <set>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {

// Bytes taken from the connection per read (a TLS record is at most 16 KiB;
// a plain socket gives more per call when a large reply is waiting).
constexpr size_t kReadBufferSize = 64 * 1024;
// An output buffer grown larger than this by a big pipeline is released
// once sent, so an idle client does not keep its peak.
constexpr size_t kKeptOutputCapacity = 256 * 1024;

void ReleaseOutput(std::string& out) {
  if (out.capacity() > kKeptOutputCapacity) {
    std::string().swap(out);
  } else {
    out.clear();
  }
}

// Decimal digits of n.
size_t Digits(size_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// "<mark><n>\r\n" (a RESP array or bulk string header).
void AppendLength(std::string& out, char mark, size_t n) {
  char buf[24];
  buf[0] = mark;
  char* end = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, static_cast<size_t>(end - buf));
}

// The first byte of a TLS record: a handshake (0x16) or an alert (0x15).
// RESP replies start with one of "+-:$*".
bool IsTlsRecordStart(char c) { return c == 0x15 || c == 0x16; }

}  // namespace

// hiredis' reader builds replies through these functions: straight into
// RedisReply values, so a reply is not first built as a tree of redisReply
// (one allocation per element and per string) and then copied. A child is
// made in place in its parent's elements, which are sized when the parent
// array is made and never resized; only the root is allocated on its own.
// hiredis frees nothing but the root, with Free, when it abandons a reply (a
// protocol error, redisFree); otherwise ReadReply takes it.
struct RedisReplyBuilder {
  static RedisReply* Slot(const redisReadTask* task) {
    if (task->parent == nullptr) return new RedisReply();
    auto* parent = static_cast<RedisReply*>(task->parent->obj);
    return &parent->elements_[task->idx];
  }
  static void* String(const redisReadTask* task, char* str, size_t len) {
    RedisReply* r = Slot(task);
    r->kind_ = task->type == REDIS_REPLY_ERROR    ? RedisReply::Kind::kError
               : task->type == REDIS_REPLY_STATUS ? RedisReply::Kind::kStatus
                                                  : RedisReply::Kind::kString;
    r->str_.assign(str, len);
    return r;
  }
  static void* Array(const redisReadTask* task, int elements) {
    RedisReply* r = Slot(task);
    r->kind_ = RedisReply::Kind::kArray;
    r->elements_.resize(static_cast<size_t>(std::max(elements, 0)));
    return r;
  }
  static void* Integer(const redisReadTask* task, long long value) {  // NOLINT(runtime/int)
    RedisReply* r = Slot(task);
    r->kind_ = RedisReply::Kind::kInteger;
    r->integer_ = value;
    return r;
  }
  static void* Nil(const redisReadTask* task) { return Slot(task); }
  static void Free(void* reply) { delete static_cast<RedisReply*>(reply); }
};

namespace {

redisReplyObjectFunctions kReplyFunctions = {RedisReplyBuilder::String, RedisReplyBuilder::Array,
                                             RedisReplyBuilder::Integer, RedisReplyBuilder::Nil,
                                             RedisReplyBuilder::Free};

// For XREADGROUP replies, [[key, [[id, [field, value, ...] | nil], ...]], ...]
// or nil: reader functions that put the entries straight into StreamEntry
// values (no reply tree at all). The builder (the reader's privdata) owns
// what is built; the objects handed to hiredis are only non-null tokens, so
// freeing them is a no-op. Anything else at the root (an error reply) is
// kept as a RedisReply; unexpected shapes are ignored.
struct StreamEntryBuilder {
  explicit StreamEntryBuilder(std::vector<StreamEntry>* out) : entries(out) {}

  std::vector<StreamEntry>* const entries;
  RedisReply root;    // the root when it is not an array
  size_t paired = 0;  // strings of the current field array that make pairs

  static StreamEntryBuilder* Of(const redisReadTask* task) {
    return static_cast<StreamEntryBuilder*>(task->privdata);
  }
  static int Depth(const redisReadTask* task) {
    int depth = 0;
    for (; task->parent != nullptr; task = task->parent) ++depth;
    return depth;
  }
  // Depths: 0 the reply, 1 [key, entries], 2 key / entries, 3 an entry,
  // 4 its id / its fields, 5 a field name or value.
  static void* String(const redisReadTask* task, char* str, size_t len) {
    StreamEntryBuilder* b = Of(task);
    switch (Depth(task)) {
      case 0:
        b->root = task->type == REDIS_REPLY_ERROR    ? RedisReply::Error(std::string(str, len))
                  : task->type == REDIS_REPLY_STATUS ? RedisReply::Status(std::string(str, len))
                                                     : RedisReply::String(std::string(str, len));
        break;
      case 4:
        if (task->idx == 0 && !b->entries->empty()) b->entries->back().id.assign(str, len);
        break;
      case 5: {
        if (b->entries->empty() || static_cast<size_t>(task->idx) >= b->paired) break;
        auto& fields = b->entries->back().fields;
        if (task->idx % 2 == 0) {
          fields.emplace_back(std::string(str, len), std::string());
        } else {
          fields.back().second.assign(str, len);
        }
        break;
      }
      default:
        break;
    }
    return b;
  }
  static void* Array(const redisReadTask* task, int elements) {
    StreamEntryBuilder* b = Of(task);
    const size_t n = static_cast<size_t>(std::max(elements, 0));
    switch (Depth(task)) {
      case 0:
        b->root = RedisReply::Array({});
        break;
      case 2:
        if (task->idx == 1) b->entries->reserve(b->entries->size() + n);
        break;
      case 3:
        if (n > 0) b->entries->emplace_back();
        break;
      case 4:
        if (task->idx == 1 && !b->entries->empty()) {
          b->paired = n / 2 * 2;
          b->entries->back().fields.reserve(n / 2);
        }
        break;
      default:
        break;
    }
    return b;
  }
  static void* Integer(const redisReadTask* task, long long value) {  // NOLINT(runtime/int)
    StreamEntryBuilder* b = Of(task);
    if (task->parent == nullptr) b->root = RedisReply::Integer(value);
    return b;
  }
  static void* Nil(const redisReadTask* task) { return Of(task); }
  static void Free(void*) {}
};

redisReplyObjectFunctions kStreamEntryFunctions = {
    StreamEntryBuilder::String, StreamEntryBuilder::Array, StreamEntryBuilder::Integer,
    StreamEntryBuilder::Nil, StreamEntryBuilder::Free};

// "XADD messages:b", "XREADGROUP messages:b", "XGROUP CREATE messages:b" —
// the command and the key it works on, for error messages.
std::string Describe(const std::vector<std::string>& argv) {
  if (argv.empty()) return "(empty command)";
  std::string out = argv[0];
  auto add = [&out](const std::string& arg) {
    if (arg.size() <= 80) CatTo(out, " ", arg);
  };
  std::string upper = argv[0];
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (upper == "XREADGROUP" || upper == "XREAD") {
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
      std::string a = argv[i];
      for (char& c : a) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
      if (a == "STREAMS") {
        add(argv[i + 1]);
        break;
      }
    }
  } else if (upper == "XGROUP" || upper == "XINFO" || upper == "CLIENT" || upper == "CONFIG") {
    if (argv.size() > 1) add(argv[1]);
    if (argv.size() > 2 && upper != "CLIENT" && upper != "CONFIG") add(argv[2]);
  } else if (upper == "AUTH") {
    // never the password
  } else if (argv.size() > 1) {
    add(argv[1]);
  }
  return out;
}

absl::Status ReplyError(const std::string& what, const RedisReply& reply) {
  return absl::FailedPreconditionError(Cat(what, ": ", reply.str()));
}

}  // namespace

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {}

RedisClient::~RedisClient() { Disconnect(); }

void RedisClient::Disconnect() {
  if (reader_ != nullptr) {
    // Frees a partial reply through the reader's current functions (a no-op
    // for StreamEntryBuilder's).
    redisReaderFree(reader_);
    reader_ = nullptr;
  }
  conn_.reset();
  ReleaseOutput(out_);
}

absl::Status RedisClient::EnsureConnected() {
  if (conn_ != nullptr) return absl::OkStatus();
  absl::Time now = absl::Now();
  if (now < next_attempt_) {
    return absl::UnavailableError(
        Cat("redis ", options_.endpoint.ToString(), " unreachable (retrying in ",
            absl::FormatDuration(next_attempt_ - now), "): ", last_connect_error_.message()));
  }
  absl::Status s = Connect();
  if (s.ok()) {
    backoff_ = absl::ZeroDuration();
    next_attempt_ = absl::InfinitePast();
    return s;
  }
  backoff_ = backoff_ == absl::ZeroDuration()
                 ? options_.reconnect_backoff_min
                 : std::min(backoff_ * 2, options_.reconnect_backoff_max);
  next_attempt_ = absl::Now() + backoff_;
  last_connect_error_ = s;
  return s;
}

absl::Status RedisClient::Connect() {
  const RedisEndpoint& ep = options_.endpoint;
  if (ep.use_tls && tls_ == nullptr) {
    absl::StatusOr<std::shared_ptr<const RedisTlsContext>> made = RedisTlsContext::Create(ep.tls);
    if (!made.ok()) {
      return absl::UnavailableError(Cat("redis ", ep.ToString(), ": ", made.status().message()));
    }
    tls_ = *std::move(made);
  }
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
      RedisConnection::Open(ep, tls_.get(), options_.connect_timeout);
  if (!conn.ok()) {
    return absl::UnavailableError(Cat("redis ", ep.ToString(), ": ", conn.status().message()));
  }
  reader_ = redisReaderCreateWithFunctions(&kReplyFunctions);
  if (reader_ == nullptr) {
    return absl::UnavailableError(Cat("redis ", ep.ToString(), ": cannot allocate a reader"));
  }
  if (read_buf_ == nullptr) read_buf_ = std::make_unique<char[]>(kReadBufferSize);
  conn_ = *std::move(conn);
  got_reply_ = false;
  kept_block_ = absl::ZeroDuration();
  absl::Status s = SetSocketTimeout(options_.command_timeout);
  std::vector<std::vector<std::string>> setup;
  if (!ep.password.empty()) {
    if (ep.user.empty()) {
      setup.push_back({"AUTH", ep.password});
    } else {
      setup.push_back({"AUTH", ep.user, ep.password});
    }
  }
  if (ep.db != 0) setup.push_back({"SELECT", std::to_string(ep.db)});
  if (!options_.client_name.empty()) {
    setup.push_back({"CLIENT", "SETNAME", options_.client_name});
  }
  // A TLS 1.3 server refuses a client (e.g. one without the certificate it
  // requires) only after the client's side of the handshake is done: one
  // round trip makes that a connect error (with its backoff) rather than the
  // first command's.
  if (setup.empty() && ep.use_tls) setup.push_back({"PING"});
  for (const auto& argv : setup) {
    if (!s.ok()) break;
    s = AppendCommand(argv);
    if (!s.ok()) break;
    absl::StatusOr<RedisReply> reply = ReadReply([&] { return argv[0]; });
    if (!reply.ok()) {
      s = reply.status();
    } else if (reply->is_error()) {
      std::string what =
          argv[0] == "AUTH" ? "AUTH (check the user and password in redis_url)" : Describe(argv);
      s = absl::UnavailableError(Cat("redis ", ep.ToString(), ": ", what, ": ", reply->str()));
    }
  }
  if (!s.ok()) Disconnect();
  return s;
}

absl::Status RedisClient::SetSocketTimeout(absl::Duration timeout) {
  if (conn_ == nullptr) return absl::OkStatus();
  if (absl::Status s = conn_->SetTimeout(timeout); !s.ok()) {
    return IoError("set socket timeout", ToStd(s.message()));
  }
  return absl::OkStatus();
}

absl::Status RedisClient::UseTimeout(absl::Duration block) {
  constexpr absl::Duration kMaxKeptBlock = absl::Seconds(1);
  if (block > kMaxKeptBlock) return SetSocketTimeout(options_.command_timeout + block);
  kept_block_ = std::max(kept_block_, block);
  return SetSocketTimeout(options_.command_timeout + kept_block_);
}

absl::Status RedisClient::AppendCommand(const std::vector<std::string>& argv) {
  // RESP multibulk: *<argc>\r\n then $<len>\r\n<arg>\r\n per argument —
  // what redisFormatCommandArgv makes, written straight into the output
  // buffer: hiredis' formatter (sprintf per argument, a malloc and a copy
  // per command) cost about 10% more CPU per pipelined XADD.
  size_t total = 1 + Digits(argv.size()) + 2;
  for (const std::string& a : argv) total += 1 + Digits(a.size()) + 2 + a.size() + 2;
  out_.reserve(out_.size() + total);
  AppendLength(out_, '*', argv.size());
  for (const std::string& a : argv) {
    AppendLength(out_, '$', a.size());
    out_.append(a);
    out_.append("\r\n", 2);
  }
  return absl::OkStatus();
}

absl::Status RedisClient::IoError(std::string_view what, std::string_view detail) {
  const RedisEndpoint& ep = options_.endpoint;
  std::string hint;
  // Failures of a connection's first exchange have likely causes worth
  // naming: a plain client at a TLS port; a TLS server that refuses this
  // client's certificate, or its absence (TLS 1.3 says so only after the
  // client's handshake, and the connection reset may swallow the alert).
  if (!got_reply_ && ep.unix_path.empty() && !ep.use_tls) {
    hint = Cat("; if ", ep.host, ":", ep.port, " expects TLS, use rediss://");
  } else if (!got_reply_ && ep.use_tls && detail.find("--redis_tls_") == std::string_view::npos) {
    hint = ep.tls.cert_file.empty()
               ? "; if the server requires client certificates, give --redis_tls_cert and "
                 "--redis_tls_key"
               : Cat("; the server may refuse --redis_tls_cert=", ep.tls.cert_file,
                     " (is it signed by a CA the server trusts?)");
  }
  absl::Status s =
      absl::UnavailableError(Cat(what, ": ", detail, " (redis ", ep.ToString(), ")", hint));
  Disconnect();
  return s;
}

absl::StatusOr<void*> RedisClient::NextReply(absl::FunctionRef<std::string()> what) {
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
      return IoError(what(), Cat("protocol error: ", reader_->errstr));
    }
    if (raw != nullptr) return raw;
    if (!out_.empty()) {
      if (absl::Status s = conn_->Write(out_); !s.ok()) return IoError(what(), ToStd(s.message()));
      ReleaseOutput(out_);
    }
    // OpenSSL may hold decrypted bytes already (a record read ahead): Read
    // returns those first, so the reader never waits on the socket for data
    // that has arrived.
    absl::StatusOr<size_t> n = conn_->Read(read_buf_.get(), kReadBufferSize);
    if (!n.ok()) return IoError(what(), ToStd(n.status().message()));
    if (!got_reply_ && !conn_->is_tls() && IsTlsRecordStart(read_buf_[0])) {
      return IoError(what(), "the server answered in TLS; use rediss:// for a TLS port");
    }
    got_reply_ = true;
    if (redisReaderFeed(reader_, read_buf_.get(), *n) != REDIS_OK) {
      return IoError(what(), "out of memory");
    }
  }
}

absl::StatusOr<RedisReply> RedisClient::ReadReply(absl::FunctionRef<std::string()> what) {
  TM_ASSIGN_OR_RETURN(void* raw, NextReply(what));
  std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(raw));  // see kReplyFunctions
  return std::move(*reply);
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  TM_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, Pipeline({argv}));
  RedisReply& reply = replies.front();
  if (reply.is_error()) return ReplyError(Describe(argv), reply);
  return std::move(reply);
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<RedisReply> replies;
  if (commands.empty()) return replies;
  for (size_t i = 0; i < commands.size(); ++i) {
    // Redis answers nothing to an empty multibulk: the read would only time out.
    if (commands[i].empty()) {
      return absl::InvalidArgumentError(Cat("redis pipeline: command #", i, " is empty"));
    }
  }
  TM_RETURN_IF_ERROR(EnsureConnected());
  TM_RETURN_IF_ERROR(UseTimeout(absl::ZeroDuration()));
  for (const auto& argv : commands) TM_RETURN_IF_ERROR(AppendCommand(argv));
  replies.reserve(commands.size());
  for (const auto& argv : commands) {
    TM_ASSIGN_OR_RETURN(RedisReply reply, ReadReply([&] { return Describe(argv); }));
    replies.push_back(std::move(reply));
  }
  return replies;
}

absl::Status RedisClient::Ping() { return Command({"PING"}).status(); }

std::vector<std::string> RedisClient::XAddArgv(
    std::string_view key, const std::vector<std::pair<std::string, std::string>>& fields,
    int64_t maxlen, std::string_view id) {
  std::vector<std::string> argv;
  argv.reserve(6 + 2 * fields.size());
  argv.emplace_back("XADD");
  argv.emplace_back(key);
  if (maxlen > 0) {
    argv.emplace_back("MAXLEN");
    argv.emplace_back("~");
    argv.emplace_back(std::to_string(maxlen));
  }
  argv.emplace_back(id);
  for (const auto& [f, v] : fields) {
    argv.push_back(f);
    argv.push_back(v);
  }
  return argv;
}

absl::StatusOr<std::string> RedisClient::XAdd(
    std::string_view key, const std::vector<std::pair<std::string, std::string>>& fields,
    int64_t maxlen, std::string_view id) {
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command(XAddArgv(key, fields, maxlen, id)));
  return reply.str();
}

absl::Status RedisClient::XGroupCreate(std::string_view key, std::string_view group,
                                       std::string_view start_id, bool mkstream) {
  std::vector<std::string> argv = {"XGROUP", "CREATE", std::string(key), std::string(group),
                                   std::string(start_id)};
  if (mkstream) argv.emplace_back("MKSTREAM");
  absl::StatusOr<RedisReply> reply = Command(argv);
  if (!reply.ok() && absl::IsFailedPrecondition(reply.status()) &&
      ToStd(reply.status().message()).find("BUSYGROUP") != std::string_view::npos) {
    return absl::OkStatus();
  }
  return reply.status();
}

std::vector<StreamEntry> RedisClient::ParseEntries(const RedisReply& reply) {
  RedisReply copy = reply;
  return ParseEntries(std::move(copy));
}

std::vector<StreamEntry> RedisClient::ParseEntries(RedisReply&& reply) {
  std::vector<StreamEntry> entries;
  entries.reserve(reply.elements().size());
  for (RedisReply& e : reply.mutable_elements()) {
    if (!e.is_array() || e.elements().empty()) continue;
    std::vector<RedisReply>& parts = e.mutable_elements();
    StreamEntry& entry = entries.emplace_back();
    entry.id = std::move(parts[0].mutable_str());
    if (parts.size() > 1) {
      std::vector<RedisReply>& kv = parts[1].mutable_elements();
      entry.fields.reserve(kv.size() / 2);
      for (size_t i = 0; i + 1 < kv.size(); i += 2) {
        entry.fields.emplace_back(std::move(kv[i].mutable_str()),
                                  std::move(kv[i + 1].mutable_str()));
      }
    }
  }
  return entries;
}

absl::StatusOr<RedisReply> RedisClient::ReadStreamEntries(const std::vector<std::string>& argv,
                                                          std::vector<StreamEntry>* entries) {
  StreamEntryBuilder builder(entries);
  reader_->fn = &kStreamEntryFunctions;
  reader_->privdata = &builder;
  absl::StatusOr<void*> raw = NextReply([&] { return Describe(argv); });
  // On failure the connection is gone, with the builder's functions still in
  // place, so the reader dropped a partial reply through them (a no-op).
  if (!raw.ok()) return raw.status();
  reader_->fn = &kReplyFunctions;
  reader_->privdata = nullptr;
  return std::move(builder.root);
}

absl::StatusOr<std::vector<StreamEntry>> RedisClient::XReadGroup(
    std::string_view group, std::string_view consumer, std::string_view key,
    std::string_view start_id, int count, std::optional<absl::Duration> block) {
  absl::Status no_acks;
  return XAckThenReadGroup(group, consumer, key, {}, start_id, count, block, &no_acks);
}

absl::StatusOr<std::vector<StreamEntry>> RedisClient::XAckThenReadGroup(
    std::string_view group, std::string_view consumer, std::string_view key,
    const std::vector<std::string>& acks, std::string_view start_id, int count,
    std::optional<absl::Duration> block, absl::Status* ack_status) {
  *ack_status = absl::OkStatus();
  std::vector<std::string> argv = {"XREADGROUP",          "GROUP", std::string(group),
                                   std::string(consumer), "COUNT", std::to_string(count)};
  if (block.has_value()) {
    argv.emplace_back("BLOCK");
    argv.emplace_back(std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(*block))));
  }
  argv.emplace_back("STREAMS");
  argv.emplace_back(key);
  argv.emplace_back(start_id);
  auto failed = [&](absl::Status status) {
    if (!acks.empty()) *ack_status = status;
    return status;
  };
  if (absl::Status s = EnsureConnected(); !s.ok()) return failed(s);
  if (absl::Status s = UseTimeout(block.value_or(absl::ZeroDuration())); !s.ok()) return failed(s);
  std::vector<std::string> xack;
  if (!acks.empty()) {
    xack = XAckArgv(key, group, acks);
    if (absl::Status s = AppendCommand(xack); !s.ok()) return failed(s);
  }
  if (absl::Status s = AppendCommand(argv); !s.ok()) return failed(s);
  if (!acks.empty()) {
    // Sends both; the read's reply stays in the reader for ReadStreamEntries.
    absl::StatusOr<RedisReply> acked = ReadReply([&] { return Describe(xack); });
    if (!acked.ok()) return failed(acked.status());
    if (acked->is_error()) *ack_status = ReplyError(Describe(xack), *acked);
  }
  std::vector<StreamEntry> entries;
  absl::StatusOr<RedisReply> root = ReadStreamEntries(argv, &entries);
  if (!root.ok()) return root.status();  // the XACK's reply, if any, came first
  if (root->is_error()) return ReplyError(Describe(argv), *root);
  return entries;
}

std::vector<std::string> RedisClient::XAckArgv(std::string_view key, std::string_view group,
                                               const std::vector<std::string>& ids) {
  std::vector<std::string> argv = {"XACK", std::string(key), std::string(group)};
  argv.insert(argv.end(), ids.begin(), ids.end());
  return argv;
}

absl::StatusOr<int64_t> RedisClient::XAck(std::string_view key, std::string_view group,
                                          const std::vector<std::string>& ids) {
  if (ids.empty()) return 0;
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command(XAckArgv(key, group, ids)));
  return reply.integer();
}

absl::StatusOr<XAutoClaimResult> RedisClient::XAutoClaim(std::string_view key,
                                                         std::string_view group,
                                                         std::string_view consumer,
                                                         absl::Duration min_idle,
                                                         std::string_view start_id, int count) {
  TM_ASSIGN_OR_RETURN(
      RedisReply reply,
      Command({"XAUTOCLAIM", std::string(key), std::string(group), std::string(consumer),
               std::to_string(absl::ToInt64Milliseconds(min_idle)), std::string(start_id), "COUNT",
               std::to_string(count)}));
  XAutoClaimResult result;
  auto& e = reply.mutable_elements();
  if (!e.empty()) result.next_id = e[0].str();
  if (e.size() > 1) result.entries = ParseEntries(std::move(e[1]));
  if (e.size() > 2) {
    for (const RedisReply& id : e[2].elements()) result.deleted_ids.push_back(id.str());
  }
  // Entries deleted from the stream come back as nil in Redis 6.2.
  std::erase_if(result.entries, [](const StreamEntry& s) { return s.id.empty(); });
  return result;
}

absl::StatusOr<GroupInfo> RedisClient::XInfoGroup(std::string_view key, std::string_view group) {
  absl::StatusOr<RedisReply> reply = Command({"XINFO", "GROUPS", std::string(key)});
  if (!reply.ok()) {
    if (absl::IsFailedPrecondition(reply.status()) &&
        ToStd(reply.status().message()).find("no such key") != std::string_view::npos) {
      return absl::NotFoundError(Cat("stream ", key, " does not exist"));
    }
    return reply.status();
  }
  std::optional<GroupInfo> info = FindGroupInfo(*reply, group);
  if (!info.has_value()) {
    return absl::NotFoundError(Cat("stream ", key, " has no consumer group ", group));
  }
  return *info;
}

std::optional<GroupInfo> RedisClient::FindGroupInfo(const RedisReply& xinfo_groups,
                                                    std::string_view group) {
  for (const RedisReply& g : xinfo_groups.elements()) {
    GroupInfo info;
    std::string name;
    const auto& kv = g.elements();
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      const std::string& k = kv[i].str();
      const RedisReply& v = kv[i + 1];
      if (k == "name") {
        name = v.str();
      } else if (k == "last-delivered-id") {
        info.last_delivered_id = v.str();
      } else if (k == "pending") {
        info.pending = v.integer();
      } else if (k == "lag" && v.is_integer()) {
        info.lag = v.integer();
      }
    }
    if (name == group) return info;
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> RedisClient::XLen(std::string_view key) {
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command({"XLEN", std::string(key)}));
  return reply.integer();
}

absl::Status RedisClient::SetEx(std::string_view key, std::string_view value, absl::Duration ttl) {
  int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(ttl));
  return Command({"SETEX", std::string(key), std::to_string(seconds), std::string(value)}).status();
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(std::string_view key) {
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command({"GET", std::string(key)}));
  if (reply.is_nil()) return std::optional<std::string>();
  return std::optional<std::string>(reply.str());
}

absl::StatusOr<int64_t> RedisClient::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  std::vector<std::string> argv = {"DEL"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command(argv));
  return reply.integer();
}

absl::StatusOr<std::vector<std::string>> RedisClient::ScanKeys(std::string_view pattern,
                                                               int count_hint) {
  std::set<std::string> seen;
  std::string cursor = "0";
  do {
    TM_ASSIGN_OR_RETURN(RedisReply reply, Command({"SCAN", cursor, "MATCH", std::string(pattern),
                                                   "COUNT", std::to_string(count_hint)}));
    if (reply.elements().size() < 2) {
      return absl::InternalError(Cat("SCAN ", pattern, ": unexpected reply shape"));
    }
    cursor = reply.elements()[0].str();
    for (const RedisReply& k : reply.elements()[1].elements()) seen.insert(k.str());
  } while (cursor != "0");
  return std::vector<std::string>(seen.begin(), seen.end());
}

absl::StatusOr<std::vector<std::optional<std::string>>> RedisClient::MGet(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values;
  if (keys.empty()) return values;
  std::vector<std::string> argv = {"MGET"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  TM_ASSIGN_OR_RETURN(RedisReply reply, Command(argv));
  values.reserve(keys.size());
  for (const RedisReply& v : reply.elements()) {
    values.push_back(v.is_nil() ? std::nullopt : std::optional<std::string>(v.str()));
  }
  return values;
}

bool IsRedisNoGroupError(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) &&
         ToStd(status.message()).find(": NOGROUP ") != std::string_view::npos;
}

}  // namespace teleclaude::mesh
