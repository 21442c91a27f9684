#include "common/mesh/heartbeat_decode_cache.h"

#include <utility>

#include "glog/logging.h"

namespace teleclaude::mesh {

HeartbeatDecodeCache::HeartbeatDecodeCache(size_t capacity) : capacity_(capacity) {
  CHECK_GT(capacity_, 0u);
}

absl::StatusOr<CheckedHeartbeat> HeartbeatDecodeCache::Decode(std::string_view key,
                                                              std::string_view value) {
  auto it = entries_.find(key);
  // The whole value is compared, not a digest or the signature alone: the
  // result must be what decoding these exact bytes gives.
  if (it != entries_.end() && it->second.value == value) {
    it->second.used = true;
    ++counters_.reused;
    return it->second.result;
  }
  ++counters_.decoded;
  absl::StatusOr<CheckedHeartbeat> result = DecodeSignedHeartbeat(key, value);
  if (value.size() > kMaxHeartbeatBytes || key.size() > kMaxCachedKeyBytes) {
    if (it != entries_.end()) entries_.erase(it);
    return result;
  }
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) return result;
    it = entries_.emplace(std::string(key), Entry{std::string(), result, false}).first;
  } else {
    it->second.result = result;
  }
  it->second.value.assign(value);
  it->second.used = true;
  return result;
}

void HeartbeatDecodeCache::EndRead() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.used) {
      it = entries_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

}  // namespace teleclaude::mesh
