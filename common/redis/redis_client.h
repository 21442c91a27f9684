// A Redis client: lazy connect, reconnect with backoff, connect and command
// timeouts, pipelining, and the stream helpers the mesh needs. The bytes go
// over a RedisConnection (TCP, Unix socket or TLS: doc/tls.md); replies are
// parsed by hiredis' (0.14, Debian 12) reader. Stream keys and consumer
// groups: doc/wire.md.
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_CLIENT_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/redis_connection.h"
#include "common/redis/redis_reply.h"
#include "common/redis/redis_tls_context.h"
#include "common/redis/redis_url.h"

struct redisReader;

namespace teleclaude::mesh {

struct RedisClientOptions {
  RedisEndpoint endpoint;  // rediss:// endpoints carry their TLS options
  absl::Duration connect_timeout = absl::Seconds(2);
  // How long one read or write of a command may wait. After a blocking read
  // (XREADGROUP BLOCK) a connection keeps that read's longer timeout for its
  // commands too — at most 1 s more —, so a reader that reads and
  // acknowledges in turn makes no setsockopt calls between them.
  absl::Duration command_timeout = absl::Seconds(5);
  absl::Duration reconnect_backoff_min = absl::Milliseconds(50);
  absl::Duration reconnect_backoff_max = absl::Seconds(2);
  std::string client_name;  // CLIENT SETNAME when non-empty
};

// One stream entry. Fields keep their order (duplicates too).
struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
};

struct XAutoClaimResult {
  std::string next_id;  // "0-0" when the scan is complete
  std::vector<StreamEntry> entries;
  std::vector<std::string> deleted_ids;  // pending ids whose entries are gone
};

struct GroupInfo {
  std::string last_delivered_id;
  int64_t pending = 0;
  std::optional<int64_t> lag;  // Redis 7+; nullopt when unknown
};

// NOT thread-safe: use one client per thread.
//
// The connection is made on the first call and re-made on the first call
// after a failure; between failed attempts calls fail fast with UNAVAILABLE
// for an exponentially growing backoff, so a caller looping on errors does
// not spin. Errors:
//   UNAVAILABLE         connection or I/O failure, timeout, refused AUTH, a
//                       TLS failure (the connection is dropped; the next call
//                       reconnects) — message names the command, the key and
//                       the endpoint (never the password), e.g. "XREADGROUP
//                       messages:b: Connection reset by peer (redis
//                       redis://h:6379/0)"; a TLS failure says which flag
//                       fixes it (e.g. --redis_tls_ca), as do unusable
//                       --redis_tls_* files (RedisTlsContext::Create's
//                       message);
//   FAILED_PRECONDITION an error reply from Redis: "<command> <key>: <reply>",
//                       e.g. "INCR k: ERR value is not an integer ...";
//   INVALID_ARGUMENT    an empty command.
class RedisClient {
 public:
  explicit RedisClient(RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  const RedisEndpoint& endpoint() const { return options_.endpoint; }

  // Connects now if not connected (AUTH, SELECT, CLIENT SETNAME included).
  absl::Status EnsureConnected();
  // Drops the connection; the next call reconnects (once a running backoff
  // after a failed attempt has passed).
  void Disconnect();

  // One command. An error reply becomes FAILED_PRECONDITION.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv);

  // Many commands in one round trip. Per-command error replies stay in the
  // returned vector; an I/O failure fails the whole call (some commands may
  // have been applied: callers make their commands idempotent).
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  absl::Status Ping();

  // --- streams -----------------------------------------------------------
  // XADD key [MAXLEN ~ maxlen] id field value ... (maxlen 0 = no trimming).
  absl::StatusOr<std::string> XAdd(std::string_view key,
                                   const std::vector<std::pair<std::string, std::string>>& fields,
                                   int64_t maxlen, std::string_view id = "*");
  // The argv of that XADD, to pipeline many.
  static std::vector<std::string> XAddArgv(
      std::string_view key, const std::vector<std::pair<std::string, std::string>>& fields,
      int64_t maxlen, std::string_view id = "*");
  // XGROUP CREATE key group start_id [MKSTREAM]; an existing group is OK.
  absl::Status XGroupCreate(std::string_view key, std::string_view group, std::string_view start_id,
                            bool mkstream);
  // XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS key start_id.
  // start_id ">" = new entries, "0" = this consumer's pending ones. A timed-out
  // block returns no entries. Entries deleted while pending come back with no
  // fields. A block of zero blocks 1 ms (never forever). The socket timeout
  // is command_timeout + block (see RedisClientOptions). A missing group:
  // see IsRedisNoGroupError().
  absl::StatusOr<std::vector<StreamEntry>> XReadGroup(std::string_view group,
                                                      std::string_view consumer,
                                                      std::string_view key,
                                                      std::string_view start_id, int count,
                                                      std::optional<absl::Duration> block);
  // XACK; returns how many were acknowledged (0 for a missing group).
  absl::StatusOr<int64_t> XAck(std::string_view key, std::string_view group,
                               const std::vector<std::string>& ids);
  // The argv of that XACK.
  static std::vector<std::string> XAckArgv(std::string_view key, std::string_view group,
                                           const std::vector<std::string>& ids);
  // XACK key group `acks`, then the XREADGROUP above, in one round trip (one
  // write; the two replies read in order): a reader that acknowledges what
  // it committed before its next read pays one round trip, not two. No
  // XACK is sent when `acks` is empty. `*ack_status`: the XACK's outcome (an
  // error reply such as WRONGTYPE as FAILED_PRECONDITION; a missing group is
  // not one for XACK); the return: the read's. An I/O failure is both (whether the XACK was applied
  // is unknown; XACK is idempotent).
  absl::StatusOr<std::vector<StreamEntry>> XAckThenReadGroup(
      std::string_view group, std::string_view consumer, std::string_view key,
      const std::vector<std::string>& acks, std::string_view start_id, int count,
      std::optional<absl::Duration> block, absl::Status* ack_status);
  // XAUTOCLAIM key group consumer min_idle start COUNT count.
  absl::StatusOr<XAutoClaimResult> XAutoClaim(std::string_view key, std::string_view group,
                                              std::string_view consumer, absl::Duration min_idle,
                                              std::string_view start_id, int count);
  // The group's last-delivered id, pending count and lag (XINFO GROUPS).
  // NOT_FOUND when the stream or the group does not exist.
  absl::StatusOr<GroupInfo> XInfoGroup(std::string_view key, std::string_view group);
  absl::StatusOr<int64_t> XLen(std::string_view key);

  // --- keys ----------------------------------------------------------------
  absl::Status SetEx(std::string_view key, std::string_view value, absl::Duration ttl);
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  absl::StatusOr<int64_t> Del(const std::vector<std::string>& keys);
  // Every key matching `pattern` (a full SCAN loop; may contain duplicates
  // removed here).
  absl::StatusOr<std::vector<std::string>> ScanKeys(std::string_view pattern,
                                                    int count_hint = 1000);
  absl::StatusOr<std::vector<std::optional<std::string>>> MGet(
      const std::vector<std::string>& keys);

  // The entry for `group` in an XINFO GROUPS reply; nullopt when absent.
  static std::optional<GroupInfo> FindGroupInfo(const RedisReply& xinfo_groups,
                                                std::string_view group);

  // Parses an XREAD-style entry list ([[id, [f, v, ...]], ...]). The
  // rvalue form moves the strings out of `reply` instead of copying them.
  static std::vector<StreamEntry> ParseEntries(const RedisReply& reply);
  static std::vector<StreamEntry> ParseEntries(RedisReply&& reply);

 private:
  absl::Status Connect();
  // Formats one command (RESP multibulk) onto the output buffer, sent by
  // the next read. Always OK (kept a Status for callers' uniformity).
  // REQUIRES: connected.
  absl::Status AppendCommand(const std::vector<std::string>& argv);
  // "<what>: <detail> (redis <endpoint>)" as UNAVAILABLE; drops the connection.
  absl::Status IoError(std::string_view what, std::string_view detail);
  // `what` names the command in an error message (made only on error).
  absl::StatusOr<RedisReply> ReadReply(absl::FunctionRef<std::string()> what);
  // The next reply from the reader as a raw reader object (see
  // kReplyFunctions / StreamEntryBuilder in the .cc): sends the output
  // buffer first, then reads until the reader has a whole reply. I/O and
  // protocol failures as IoError.
  absl::StatusOr<void*> NextReply(absl::FunctionRef<std::string()> what);
  absl::Status SetSocketTimeout(absl::Duration timeout);
  // Sets the socket's timeout for an operation that may wait `block` for
  // its reply on top of command_timeout (0 for a plain command): up to
  // kMaxKeptBlock, the longest block used on this connection is kept for
  // every operation (the setsockopt calls of switching back and forth cost
  // as much as the read); a longer block is set for that read alone.
  absl::Status UseTimeout(absl::Duration block);
  // Reads the reply of the XREADGROUP `argv` (appended to the output buffer
  // by the caller; sent by this read when still there) straight into
  // `entries` (see StreamEntryBuilder in the .cc). Returns the reply's root
  // when it is not the entry list: an error reply, nil; I/O failures as
  // UNAVAILABLE.
  // REQUIRES: connected.
  absl::StatusOr<RedisReply> ReadStreamEntries(const std::vector<std::string>& argv,
                                               std::vector<StreamEntry>* entries);

  const RedisClientOptions options_;
  // Made on the first connect of a rediss:// endpoint, kept for reconnects.
  std::shared_ptr<const RedisTlsContext> tls_;
  std::unique_ptr<RedisConnection> conn_;  // null when disconnected
  redisReader* reader_ = nullptr;          // owned; exists with conn_
  std::string out_;                        // formatted commands not yet sent
  bool got_reply_ = false;                 // any bytes received on conn_ yet
  absl::Duration kept_block_;              // see UseTimeout; per connection
  std::unique_ptr<char[]> read_buf_;       // kReadBufferSize bytes, made once
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::ZeroDuration();
  absl::Status last_connect_error_;
};

// True for the error XREADGROUP / XACK / XAUTOCLAIM return when the stream
// or its consumer group does not exist (e.g. Redis restarted without
// persistence): callers re-create the group (XGroupCreate, mkstream) and retry.
bool IsRedisNoGroupError(const absl::Status& status);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_CLIENT_H_
