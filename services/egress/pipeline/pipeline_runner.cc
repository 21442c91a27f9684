#include "services/egress/pipeline/pipeline_runner.h"

#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

PipelineRunner::PipelineRunner(Options options, std::vector<std::unique_ptr<Cartridge>> system,
                               SuspendFn on_suspend)
    : options_(std::move(options)), on_suspend_(std::move(on_suspend)), system_(std::move(system)) {
  for (const auto& c : system_) counters_[std::string(c->Name())];
}

void PipelineRunner::SetActive(std::vector<ActiveCartridge> active) {
  active_ = std::move(active);
  for (const ActiveCartridge& a : active_) {
    CartridgeCounters& c = counters_[a.spec.name];
    c.suspended = false;
    c.consecutive_failures = 0;
  }
}

std::vector<std::string> PipelineRunner::ActiveNames() const {
  std::vector<std::string> names;
  for (const ActiveCartridge& a : active_) {
    auto it = counters_.find(a.spec.name);
    if (it != counters_.end() && it->second.suspended) continue;
    names.push_back(a.spec.name);
  }
  return names;
}

std::string PipelineRunner::Unavailable(const std::string& name) const {
  for (const ActiveCartridge& a : active_) {
    if (a.spec.name == name) return a.cartridge->Unavailable();
  }
  return "";
}

void PipelineRunner::Run(EventEnvelope event, EventOrigin origin, std::string source_computer,
                         std::string input_key, std::vector<RunResult>* results,
                         std::vector<Invocation>* invocations) {
  CartridgeContext context;
  context.origin = origin;
  context.source_computer = std::move(source_computer);
  context.input_key = std::move(input_key);
  RunOne(std::move(event), std::move(context), results, invocations);
}

void PipelineRunner::RunOne(EventEnvelope event, CartridgeContext context,
                            std::vector<RunResult>* results, std::vector<Invocation>* invocations) {
  // The chain of this run: system cartridges, then the active ones that are
  // not suspended (a suspension during this run takes effect at once).
  std::vector<Slot> chain;
  chain.reserve(system_.size() + active_.size());
  for (auto& c : system_) chain.push_back({c.get(), nullptr});
  for (auto& a : active_) chain.push_back({a.cartridge.get(), &a.spec});

  RunResult result;
  result.origin = context.origin;
  result.source_computer = context.source_computer;
  result.input_key = context.input_key;
  std::vector<EventEnvelope> emitted;  // gathered from every cartridge call
  std::vector<std::pair<const ActiveCartridge*, std::string>> suspended_now;

  for (size_t i = 0; i < chain.size(); ++i) {
    Slot& slot = chain[i];
    std::string name(slot.cartridge->Name());
    CartridgeCounters& counters = counters_[name];
    if (counters.suspended) continue;
    // Restored when a published cartridge fails. System cartridges change
    // the event only after their last fallible step (dedup stamps the key),
    // so they skip the copy (hot path).
    std::optional<EventEnvelope> before;
    if (slot.spec != nullptr) before = event;
    context.emitted.clear();
    absl::StatusOr<Cartridge::Verdict> verdict = slot.cartridge->Process(event, context);
    if (!verdict.ok()) {
      if (before.has_value()) event = std::move(*before);
      ++counters.failures;
      ++counters.consecutive_failures;
      LOG(WARNING) << "cartridge " << name << " failed on " << event.event << ": "
                   << verdict.status().message();
      if (slot.spec != nullptr && counters.consecutive_failures >= options_.failure_threshold) {
        for (ActiveCartridge& a : active_) {
          if (&a.spec == slot.spec) {
            std::string reason(verdict.status().message());
            Suspend(a, reason);
            suspended_now.emplace_back(&a, std::move(reason));
          }
        }
      }
      continue;
    }
    if (*verdict == Cartridge::Verdict::kSkipped) {
      if (before.has_value()) event = std::move(*before);
      ++counters.skipped;
      context.emitted.clear();
      continue;
    }
    counters.consecutive_failures = 0;
    // Emitted events, within the limits.
    int taken = 0;
    for (EventEnvelope& e : context.emitted) {
      if (taken >= options_.max_emits_per_call ||
          context.emit_depth + 1 > options_.max_emit_depth) {
        ++emits_refused_;
        LOG_EVERY_N(WARNING, 100) << "cartridge " << name << ": emitted event " << e.event
                                  << " not run (at most " << options_.max_emits_per_call
                                  << " per call, depth " << options_.max_emit_depth << ")";
        continue;
      }
      if (e.source.empty()) e.source = options_.computer_name;
      emitted.push_back(std::move(e));
      ++taken;
    }
    context.emitted.clear();
    if (*verdict == Cartridge::Verdict::kDrop) {
      ++counters.dropped;
      result.status = RunResult::Status::kDropped;
      result.dropped_by = name;
      break;
    }
    ++counters.invocations;
    if (event.event != "cartridge.invoked") {
      invocations->push_back({name, event.event, absl::Now()});
    }
  }
  result.envelope = std::move(event);
  result.notification_id = context.notification_id;
  results->push_back(std::move(result));

  // Suspension notices (local notifications), then emitted events, each
  // through the whole chain.
  for (const auto& [a, reason] : suspended_now) {
    EventEnvelope notice;
    notice.event = "cartridge.suspended";
    notice.source = options_.computer_name;
    notice.level = Level::kOperational;
    notice.domain = "cartridge";
    notice.visibility = Visibility::kLocal;
    notice.description = Cat("Cartridge ", a->spec.name, " was suspended after ",
                             options_.failure_threshold, " consecutive failures");
    notice.idempotency_key = Cat("cartridge.suspended:", a->spec.name, ":", a->spec.sha256);
    notice.payload_json.clear();  // the default is "{}"
    json::Writer w(&notice.payload_json);
    w.BeginObject();
    w.Key("name").String(a->spec.name);
    w.Key("sha256").String(a->spec.sha256);
    w.Key("version").String(a->spec.version);
    w.Key("failures").Int(options_.failure_threshold);
    w.Key("reason").String(reason);
    w.EndObject();
    CartridgeContext child;
    child.origin = EventOrigin::kLocal;
    child.input_key = Cat(context.input_key, "#suspended:", a->spec.name);
    child.emit_depth = context.emit_depth + 1;
    RunOne(std::move(notice), std::move(child), results, invocations);
  }
  int n = 0;
  for (EventEnvelope& e : emitted) {
    CartridgeContext child;
    child.origin = EventOrigin::kLocal;
    child.input_key = Cat(context.input_key, "#e", n++);
    child.emit_depth = context.emit_depth + 1;
    RunOne(std::move(e), std::move(child), results, invocations);
  }
}

void PipelineRunner::Suspend(ActiveCartridge& active, const std::string& reason) {
  CartridgeCounters& c = counters_[active.spec.name];
  c.suspended = true;
  LOG(WARNING) << "cartridge " << active.spec.name << " suspended after " << c.consecutive_failures
               << " consecutive failures; last: " << reason;
  if (on_suspend_) {
    on_suspend_(active.spec, Cat(c.consecutive_failures, " consecutive failures; last: ", reason));
  }
}

}  // namespace teleclaude::mesh
