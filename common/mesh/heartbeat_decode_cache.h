// DecodeSignedHeartbeat without verifying the same bytes twice
// (doc/security.md §9, §10.1). Membership reads every heartbeat about once a
// second and a heartbeat value changes only when its computer writes a new
// one, yet checking a signed value costs ~84 µs (Ed25519). DecodeSignedHeartbeat
// is a pure function of (Redis key, value), so its result for a value that is
// byte for byte the one last decoded under the same key is reused; any other
// value — a new heartbeat, or one altered by a single byte — is decoded and
// verified again. Errors are reused the same way (a forged value left in
// Redis costs one verification, not one per read).
//
// Bounded: at most `capacity` keys are remembered, each with a value of at
// most kMaxHeartbeatBytes and a key of at most kMaxCachedKeyBytes (longer
// ones are decoded every time, never cached); EndRead() forgets the keys not
// decoded since the previous EndRead() (their heartbeats are gone). A key
// that does not fit while the cache is full is decoded every time.
//
// Not thread-safe: one caller at a time (MembershipWriter calls it under its
// work lock).
#ifndef TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_DECODE_CACHE_H_
#define TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_DECODE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/mesh/heartbeat.h"

namespace teleclaude::mesh {

class HeartbeatDecodeCache {
 public:
  // Keys longer than this are not cached (ours are ~20 bytes; a peer name
  // is at most 255).
  static constexpr size_t kMaxCachedKeyBytes = 512;
  static constexpr size_t kDefaultCapacity = 1024;

  struct Counters {
    int64_t decoded = 0;  // calls that ran DecodeSignedHeartbeat
    int64_t reused = 0;   // calls answered from the cache
  };

  // REQUIRES: capacity > 0.
  explicit HeartbeatDecodeCache(size_t capacity = kDefaultCapacity);

  // Exactly DecodeSignedHeartbeat(key, value): a copy of the remembered
  // result when `value` equals the value last decoded for `key`, otherwise
  // decoded (and verified) now and remembered.
  absl::StatusOr<CheckedHeartbeat> Decode(std::string_view key, std::string_view value);

  // Ends one read of the heartbeats: forgets every key Decode was not called
  // with since the previous EndRead.
  void EndRead();

  size_t size() const { return entries_.size(); }
  const Counters& counters() const { return counters_; }

 private:
  struct Entry {
    std::string value;
    absl::StatusOr<CheckedHeartbeat> result;
    bool used = false;  // decoded since the last EndRead
  };

  const size_t capacity_;
  std::map<std::string, Entry, std::less<>> entries_;
  Counters counters_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_DECODE_CACHE_H_
