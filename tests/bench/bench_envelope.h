// The envelopes every benchmark uses (issue 9): a typical mesh event of about
// 600 bytes of model JSON, and helpers to make many distinct ones.
// Header-only so codec_bench and mesh_bench share one definition.
#ifndef TELECLAUDE_MESH_TESTS_BENCH_BENCH_ENVELOPE_H_
#define TELECLAUDE_MESH_TESTS_BENCH_BENCH_ENVELOPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/envelope/envelope.h"
#include "common/envelope/json_codec.h"

namespace teleclaude::mesh::bench {

// The size the issue asks for: the model JSON of TypicalEnvelope().
inline constexpr size_t kTypicalJsonBytes = 600;

// A catalogued type whose lifecycle creates a notification (DESIGN §5,
// ported system.py); its idempotency fields are payload.worker_name and
// payload.timestamp, so a unique `timestamp` value makes a unique key.
inline constexpr char kNotifyingType[] = "system.worker.crashed";
// A type the catalog does not know: no dedup key, no notification.
inline constexpr char kUnknownType[] = "bench.metric.sampled";

// A typical event: a worker crash report with a realistic payload, padded
// (payload.detail) so its model JSON is exactly kTypicalJsonBytes long for
// `seq` = 0 (longer sequence numbers add a few bytes). `notifying` picks
// kNotifyingType (unique idempotency value from `seq`) or kUnknownType.
// `sent_ns` is written as payload.bench_sent_ns (latency measurement).
inline EventEnvelope TypicalEnvelope(int64_t seq, bool notifying, Visibility visibility,
                                     const std::string& source = "alpha", int64_t sent_ns = 0) {
  EventEnvelope e;
  e.event = notifying ? kNotifyingType : kUnknownType;
  e.version = 1;
  e.source = source;
  e.timestamp.civil = absl::CivilSecond(2025, 3, 1, 12, 34, 56);
  e.timestamp.micros = 789012;
  e.timestamp.utc_offset_seconds = 0;
  e.level = Level::kOperational;
  e.domain = "system";
  e.entity = "worker:indexer";
  e.description = "A background worker crashed unexpectedly";
  e.visibility = visibility;
  std::string payload = absl::StrCat("{\"worker_name\":\"indexer\",\"timestamp\":\"run-", seq,
                                     "\",\"exit_code\":137,\"signal\":\"SIGKILL\",\"restarts\":3,"
                                     "\"uptime_s\":8123.5,\"bench_sent_ns\":",
                                     sent_ns, ",\"tags\":[\"prod\",\"eu-west\"],\"detail\":\"");
  // Pad the detail so the whole envelope is kTypicalJsonBytes for seq 0 and
  // sent_ns 0: measure once with an empty detail.
  static const size_t base = [] {
    EventEnvelope probe;
    probe.event = kNotifyingType;
    probe.source = "alpha";
    probe.timestamp.civil = absl::CivilSecond(2025, 3, 1, 12, 34, 56);
    probe.timestamp.micros = 789012;
    probe.timestamp.utc_offset_seconds = 0;
    probe.level = Level::kOperational;
    probe.domain = "system";
    probe.entity = "worker:indexer";
    probe.description = "A background worker crashed unexpectedly";
    probe.visibility = Visibility::kPublic;
    probe.payload_json =
        "{\"worker_name\":\"indexer\",\"timestamp\":\"run-0\",\"exit_code\":137,"
        "\"signal\":\"SIGKILL\",\"restarts\":3,\"uptime_s\":8123.5,\"bench_sent_ns\":0,"
        "\"tags\":[\"prod\",\"eu-west\"],\"detail\":\"\"}";
    return EncodeEnvelopeJson(probe).size();
  }();
  size_t pad = base < kTypicalJsonBytes ? kTypicalJsonBytes - base : 0;
  static const std::string kWords =
      "Traceback (most recent call last): File worker.py, line 88, in run; "
      "MemoryError while indexing batch; restarting with backoff. ";
  std::string detail;
  while (detail.size() < pad) detail += kWords;
  detail.resize(pad);
  absl::StrAppend(&payload, detail, "\"}");
  e.payload_json = std::move(payload);
  return e;
}

}  // namespace teleclaude::mesh::bench

#endif  // TELECLAUDE_MESH_TESTS_BENCH_BENCH_ENVELOPE_H_
