// identity_bench (issue 14): what the computer identity costs, on one thread
// (doc/security.md "Costs"). Each figure is CPU time per operation of this
// thread (CLOCK_THREAD_CPUTIME_ID), the median of --repetitions runs of
// --iterations operations each (derivations run iterations/20 times: they
// are slow). Prints `name=value` lines:
//
//   identity_sign_us                Ed25519 signature of a heartbeat's signed bytes
//   identity_verify_us              its verification
//   identity_heartbeat_encode_us    EncodeSignedHeartbeat (sign + JSON)
//   identity_heartbeat_decode_us    DecodeSignedHeartbeat (JSON + checks + verify)
//   identity_heartbeat_decode_cached_us  HeartbeatDecodeCache::Decode of a value
//                                   unchanged since the last read (membership's
//                                   per-peer cost of a refresh, doc/security.md §10.1)
//   identity_pair_key_cold_us       DerivePairKeys (two scalar multiplications
//                                   and two hashes): a peer's first message
//   identity_pair_key_cached_ns     PairKeyCache::Get of a cached peer
//   identity_mac_compute_ns         AppendMeshMessageAuth on a 600-byte envelope
//   identity_mac_verify_ns          DecodeMeshMessageAuth + VerifyMeshMessageAuth
//   identity_auth_send_ns           cached pair key + MAC: what egress adds per message
//   identity_auth_receive_ns        cached pair key + decode + verify: what ingress adds
//   identity_auth_cpu_us_per_message  send + receive
//   identity_auth_overhead_ratio_estimate  (hop + send + receive) / hop, with
//                                   hop = --hop_cpu_us (the mesh hop's CPU per
//                                   event, total over the services, from
//                                   tests/bench/run: mesh_cpu_us_per_event_total)
//
// An estimate from parts: the measured mesh_auth_overhead_ratio needs the
// services wired (the next stage) and comes from tests/bench/run.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/envelope/json_codec.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/heartbeat_decode_cache.h"
#include "common/mesh/mesh_message.h"
#include "tests/bench/bench_envelope.h"

ABSL_FLAG(int64_t, iterations, 20000, "operations per repetition");
ABSL_FLAG(int64_t, repetitions, 5, "repetitions; the median is printed");
ABSL_FLAG(double, hop_cpu_us, 66.0, "the mesh hop's CPU per event (µs), for the ratio estimate");

namespace teleclaude::mesh::bench {
namespace {

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Median over repetitions of the CPU ns per call of `op`, called `n` times.
double MedianNs(int64_t n, const std::function<void()>& op) {
  std::vector<double> runs;
  const int64_t reps = std::max<int64_t>(1, absl::GetFlag(FLAGS_repetitions));
  op();  // warm up (first-use allocations, caches)
  for (int64_t r = 0; r < reps; ++r) {
    const int64_t start = ThreadCpuNs();
    for (int64_t i = 0; i < n; ++i) op();
    runs.push_back(static_cast<double>(ThreadCpuNs() - start) / static_cast<double>(n));
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

void Print(const char* name, double value, int decimals) {
  std::printf("%s=%.*f\n", name, decimals, value);
}

// Keeps a result observable so the compiler cannot drop the work.
volatile size_t g_sink = 0;
void Keep(size_t v) { g_sink = g_sink + v; }

int Run() {
  const int64_t n = std::max<int64_t>(20, absl::GetFlag(FLAGS_iterations));
  auto alpha = IdentityKey::Generate();
  auto beta = IdentityKey::Generate();
  const std::string envelope = EncodeEnvelopeJson(TypicalEnvelope(0, true, Visibility::kPublic));
  std::printf("identity_envelope_bytes=%zu\n", envelope.size());

  const Heartbeat hb{"alpha", "2025-03-01T12:34:56.789012+00:00", "red"};
  const std::string signed_bytes = HeartbeatSignedBytes(hb, alpha->public_key());
  const Signature sig = alpha->Sign(signed_bytes);
  Print("identity_sign_us",
        MedianNs(n / 4, [&] { Keep(alpha->Sign(signed_bytes).bytes()[0]); }) / 1000, 2);
  Print("identity_verify_us",
        MedianNs(n / 4, [&] { Keep(alpha->public_key().Verify(signed_bytes, sig)); }) / 1000, 2);
  const std::string value = EncodeSignedHeartbeat(hb, *alpha);
  Print("identity_heartbeat_encode_us",
        MedianNs(n / 4, [&] { Keep(EncodeSignedHeartbeat(hb, *alpha).size()); }) / 1000, 2);
  Print("identity_heartbeat_decode_us",
        MedianNs(n / 4,
                 [&] { Keep(DecodeSignedHeartbeat("computer:alpha:heartbeat", value).ok()); }) /
            1000,
        2);
  HeartbeatDecodeCache decode_cache;
  Print("identity_heartbeat_decode_cached_us",
        MedianNs(n, [&] { Keep(decode_cache.Decode("computer:alpha:heartbeat", value).ok()); }) /
            1000,
        3);

  Print("identity_pair_key_cold_us",
        MedianNs(std::max<int64_t>(5, n / 20),
                 [&] { Keep(DerivePairKeys(*alpha, "alpha", "beta", beta->public_key()).ok()); }) /
            1000,
        2);
  PairKeyCache alpha_cache(alpha.get(), "alpha");
  PairKeyCache beta_cache(beta.get(), "beta");
  Print("identity_pair_key_cached_ns",
        MedianNs(n, [&] { Keep(alpha_cache.Get("beta", beta->public_key()).ok()); }), 0);

  const std::string stream = MeshStreamKey("beta");
  const std::string message_id = "alpha/local:teleclaude:events:alpha:1712345678901-0/beta";
  const std::string sent_at = "1740832496789";
  const PairKeys& send_keys = **alpha_cache.Get("beta", beta->public_key());
  const PairKeys& receive_keys = **beta_cache.Get("alpha", alpha->public_key());
  std::string auth;
  const double mac_ns = MedianNs(n, [&] {
    auth.clear();
    AppendMeshMessageAuth(send_keys.send, "alpha", stream, message_id, sent_at, envelope, &auth);
    Keep(auth.size());
  });
  Print("identity_mac_compute_ns", mac_ns, 0);
  MeshMessage message;
  message.type = std::string(kMeshEventType);
  message.payload = envelope;
  message.source_computer = "alpha";
  message.message_id = message_id;
  message.sent_at = sent_at;
  message.auth = auth;
  auto verify = [&](const MacKey& key) {
    absl::StatusOr<std::optional<MeshMessageAuth>> a = DecodeMeshMessageAuth(message);
    return a.ok() && a->has_value() && VerifyMeshMessageAuth(key, stream, message, **a).ok();
  };
  if (!verify(receive_keys.receive)) {
    std::fprintf(stderr, "identity_bench: the receiver does not verify the sender's MAC\n");
    return 1;
  }
  Print("identity_mac_verify_ns", MedianNs(n, [&] { Keep(verify(receive_keys.receive)); }), 0);

  const double send_ns = MedianNs(n, [&] {
    auto keys = alpha_cache.Get("beta", beta->public_key());
    auth.clear();
    AppendMeshMessageAuth((*keys)->send, "alpha", stream, message_id, sent_at, envelope, &auth);
    Keep(auth.size());
  });
  const double receive_ns = MedianNs(n, [&] {
    auto keys = beta_cache.Get("alpha", alpha->public_key());
    Keep(verify((*keys)->receive));
  });
  Print("identity_auth_send_ns", send_ns, 0);
  Print("identity_auth_receive_ns", receive_ns, 0);
  const double per_message_us = (send_ns + receive_ns) / 1000;
  Print("identity_auth_cpu_us_per_message", per_message_us, 2);
  const double hop = absl::GetFlag(FLAGS_hop_cpu_us);
  std::printf("identity_hop_cpu_us_assumed=%.1f\n", hop);
  Print("identity_auth_overhead_ratio_estimate", (hop + per_message_us) / hop, 3);
  return 0;
}

}  // namespace
}  // namespace teleclaude::mesh::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return teleclaude::mesh::bench::Run();
}
