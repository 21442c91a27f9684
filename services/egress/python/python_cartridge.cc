#include "services/egress/python/python_cartridge.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "services/egress/python/runner_protocol.h"

namespace teleclaude::mesh {

std::string OneLine(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) n = 1;  // invalid byte: replaced below
    if (out.size() + n > max_bytes) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7f || c >= 0x80)) {
      out.push_back(c >= 0x80 ? '?' : ' ');
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

PythonCartridge::PythonCartridge(std::string name, SandboxRunnerClient* client,
                                 std::shared_ptr<const std::string> catalog_snapshot_json,
                                 absl::Duration budget)
    : name_(std::move(name)),
      client_(client),
      catalog_snapshot_json_(std::move(catalog_snapshot_json)),
      budget_(budget) {}

absl::StatusOr<Cartridge::Verdict> PythonCartridge::Process(EventEnvelope& event,
                                                            CartridgeContext& /*context*/) {
  if (!client_->Unavailable().empty()) return Verdict::kSkipped;
  TM_ASSIGN_OR_RETURN(std::string frame,
                      EncodeRunnerRequest(name_, event, *catalog_snapshot_json_));
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> body = client_->Exchange(name_, frame, budget_);
  const absl::Duration took = absl::Now() - start;
  if (!body.ok()) {
    switch (body.status().code()) {
      case absl::StatusCode::kUnavailable:
        return Verdict::kSkipped;
      case absl::StatusCode::kDeadlineExceeded:
        return absl::ResourceExhaustedError(Cat("wall-time budget of ",
                                                absl::FormatDuration(budget_), " exceeded (",
                                                body.status().message(), ")"));
      default:
        return absl::Status(body.status().code(), Cat("python runner: ", body.status().message()));
    }
  }
  if (took > budget_) {
    return absl::ResourceExhaustedError(
        Cat("wall-time budget of ", absl::FormatDuration(budget_), " exceeded (the runner took ",
            absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))), ")"));
  }
  absl::StatusOr<RunnerResponse> response = DecodeRunnerResponse(*body);
  if (!response.ok()) {
    return absl::InvalidArgumentError(
        Cat("python runner: ", OneLine(ToStd(response.status().message()))));
  }
  if (response->error.has_value()) {
    if (response->error->empty()) {
      return absl::AbortedError(
          "python runner: error \"\" (the cartridge raised an exception without a message)");
    }
    return absl::AbortedError(Cat("python runner: ", OneLine(*response->error)));
  }
  if (!response->envelope.has_value()) return Verdict::kDrop;
  event = std::move(*response->envelope);
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
