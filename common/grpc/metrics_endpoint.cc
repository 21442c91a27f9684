#include "common/grpc/metrics_endpoint.h"

#include <exception>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace teleclaude::mesh {
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& addr, const std::string& program, const std::string& flag_name) {
  const std::string& bind = addr;
  const size_t colon = bind.rfind(':');
  int wanted_port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(bind.substr(colon + 1), &wanted_port) ||
      wanted_port < 0 || wanted_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag_name, " ", addr, ": not host:port; use e.g. 127.0.0.1:9464"));
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb: one listener thread and one worker thread are plenty for a
    // scraper every few seconds.
    exposer = std::make_unique<prometheus::Exposer>(bind, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(flag_name, " ", bind, ": cannot listen (", e.what(),
                                               "; is the port in use by another ", program,
                                               "?); give a free local host:port"));
  }
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat(flag_name, " ", bind, ": cannot listen"));
  }
  std::string host = bind.substr(0, colon);
  auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(
      std::move(exposer), ports.front(), absl::StrCat(host, ":", ports.front())));
  return endpoint;
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, int port,
                                 std::string address)
    : registry_(std::make_shared<prometheus::Registry>()),
      exposer_(std::move(exposer)),
      port_(port),
      address_(std::move(address)) {
  exposer_->RegisterCollectable(registry_);
}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::Add(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

prometheus::ClientMetric& MetricFamilies::Add(const std::string& name, const std::string& help,
                                              prometheus::MetricType type, const Labels& labels) {
  prometheus::MetricFamily* family = nullptr;
  for (prometheus::MetricFamily& f : families_) {
    if (f.name == name) family = &f;
  }
  if (family == nullptr) {
    families_.push_back(prometheus::MetricFamily{name, help, type, {}});
    family = &families_.back();
  }
  prometheus::ClientMetric& metric = family->metric.emplace_back();
  for (const auto& [key, value] : labels) metric.label.push_back({key, value});
  return metric;
}

void MetricFamilies::Counter(const std::string& name, const std::string& help, double value,
                             const Labels& labels) {
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value = value;
}

void MetricFamilies::Gauge(const std::string& name, const std::string& help, double value,
                           const Labels& labels) {
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

std::vector<prometheus::MetricFamily> MetricFamilies::Take() { return std::move(families_); }

}  // namespace teleclaude::mesh
