// codec_bench (issue 9 §7): Google Benchmark of the envelope codecs on a
// typical ~600-byte envelope (bench_envelope.h), one thread (one core).
//
//   BM_JsonRoundTrip   DecodeEnvelopeJson + EncodeEnvelopeJson — the figure
//                      of the issue, printed at the end as
//                      `codec_roundtrips_per_s=<items/s>`
//   BM_JsonDecode, BM_JsonEncode, BM_StreamEncode, BM_StreamDecode,
//   BM_StreamEntryDecode (copy of the entry + decode moving it, as the
//   local stream reader does), BM_StreamRoundTrip  the parts, for profiling
//
// Every Google Benchmark flag works (--benchmark_filter,
// --benchmark_min_time, --benchmark_repetitions ...). With repetitions the
// printed figure is the median. Rates are per CPU second of this thread.
#include <unistd.h>

#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/envelope/envelope.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "tests/bench/bench_envelope.h"

namespace teleclaude::mesh::bench {
namespace {

const std::string& TypicalJson() {
  static const std::string json =
      EncodeEnvelopeJson(TypicalEnvelope(0, /*notifying=*/true, Visibility::kPublic));
  return json;
}

void SetRates(benchmark::State& state, size_t bytes_per_item) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes_per_item));
}

void BM_JsonRoundTrip(benchmark::State& state) {
  const std::string& json = TypicalJson();
  std::string out;
  for (auto _ : state) {
    auto env = DecodeEnvelopeJson(json);
    if (!env.ok()) {
      state.SkipWithError(std::string(env.status().message()).c_str());
      return;
    }
    out.clear();
    AppendEnvelopeJson(*env, &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != json) state.SkipWithError("round trip changed the JSON text");
  SetRates(state, json.size());
}
BENCHMARK(BM_JsonRoundTrip);

void BM_JsonDecode(benchmark::State& state) {
  const std::string& json = TypicalJson();
  for (auto _ : state) {
    auto env = DecodeEnvelopeJson(json);
    if (!env.ok()) {
      state.SkipWithError(std::string(env.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(env->payload_json.data());
  }
  SetRates(state, json.size());
}
BENCHMARK(BM_JsonDecode);

void BM_JsonEncode(benchmark::State& state) {
  const EventEnvelope env = TypicalEnvelope(0, true, Visibility::kPublic);
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendEnvelopeJson(env, &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  SetRates(state, out.size());
}
BENCHMARK(BM_JsonEncode);

void BM_StreamEncode(benchmark::State& state) {
  const EventEnvelope env = TypicalEnvelope(0, true, Visibility::kLocal);
  for (auto _ : state) {
    StreamFields fields = EncodeEnvelopeStream(env);
    benchmark::DoNotOptimize(fields.data());
  }
  SetRates(state, TypicalJson().size());
}
BENCHMARK(BM_StreamEncode);

void BM_StreamDecode(benchmark::State& state) {
  const StreamFields fields = EncodeEnvelopeStream(TypicalEnvelope(0, true, Visibility::kLocal));
  for (auto _ : state) {
    auto env = DecodeEnvelopeStream(fields);
    if (!env.ok()) {
      state.SkipWithError(std::string(env.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(env->payload_json.data());
  }
  SetRates(state, TypicalJson().size());
}
BENCHMARK(BM_StreamDecode);

// The local stream reader's way: the entry's strings are fresh (here copied,
// there filled from the Redis reply) and moved into the envelope.
void BM_StreamEntryDecode(benchmark::State& state) {
  const StreamFields fields = EncodeEnvelopeStream(TypicalEnvelope(0, true, Visibility::kLocal));
  for (auto _ : state) {
    StreamFields entry = fields;
    auto env = DecodeEnvelopeStream(std::move(entry));
    if (!env.ok()) {
      state.SkipWithError(std::string(env.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(env->payload_json.data());
  }
  SetRates(state, TypicalJson().size());
}
BENCHMARK(BM_StreamEntryDecode);

void BM_StreamRoundTrip(benchmark::State& state) {
  const StreamFields fields = EncodeEnvelopeStream(TypicalEnvelope(0, true, Visibility::kLocal));
  for (auto _ : state) {
    auto env = DecodeEnvelopeStream(fields);
    if (!env.ok()) {
      state.SkipWithError(std::string(env.status().message()).c_str());
      return;
    }
    StreamFields again = EncodeEnvelopeStream(*env);
    benchmark::DoNotOptimize(again.data());
  }
  SetRates(state, TypicalJson().size());
}
BENCHMARK(BM_StreamRoundTrip);

// The console table, plus the items/s of each benchmark (the median when
// there are repetitions) kept for the name=value lines.
class FigureReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal.
  FigureReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) {
        errors_[run.run_name.function_name] = run.error_message;
        continue;
      }
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      const std::string& name = run.run_name.function_name;
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") medians_[name] = it->second.value;
      } else {
        last_[name] = it->second.value;
      }
    }
  }

  // items/s of `name`, or -1 when it did not run.
  double Rate(const std::string& name) const {
    if (auto it = medians_.find(name); it != medians_.end()) return it->second;
    if (auto it = last_.find(name); it != last_.end()) return it->second;
    return -1;
  }
  std::string Error(const std::string& name) const {
    auto it = errors_.find(name);
    return it == errors_.end() ? "" : it->second;
  }

 private:
  std::map<std::string, double> medians_, last_;
  std::map<std::string, std::string> errors_;
};

void PrintFigure(const FigureReporter& reporter, const std::string& bench,
                 const std::string& figure) {
  double rate = reporter.Rate(bench);
  if (rate >= 0) {
    std::cout << figure << "=" << static_cast<int64_t>(rate) << "\n";
  } else if (std::string err = reporter.Error(bench); !err.empty()) {
    std::cout << figure << "=unavailable (" << err << ")\n";
  }
}

}  // namespace
}  // namespace teleclaude::mesh::bench

int main(int argc, char** argv) {
  using namespace teleclaude::mesh::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::cout << "codec_payload_bytes=" << TypicalJson().size() << "\n";
  FigureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  PrintFigure(reporter, "BM_JsonRoundTrip", "codec_roundtrips_per_s");
  PrintFigure(reporter, "BM_JsonDecode", "codec_json_decodes_per_s");
  PrintFigure(reporter, "BM_JsonEncode", "codec_json_encodes_per_s");
  PrintFigure(reporter, "BM_StreamRoundTrip", "codec_stream_roundtrips_per_s");
  std::cout.flush();
  return 0;
}
