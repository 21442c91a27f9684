#include "services/installer/egress_client.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

EgressClient::EgressClient(std::string addr, absl::Duration timeout, const ChannelOptions& channel)
    : addr_(std::move(addr)),
      timeout_(timeout),
      stub_(v1::Pipeline::NewStub(MakeChannel(addr_, channel))) {}

std::unique_ptr<grpc::ClientContext> EgressClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

absl::StatusOr<std::vector<EgressClient::Outcome>> EgressClient::Submit(
    const std::vector<Event>& events) {
  v1::SubmitRequest request;
  for (const Event& e : events) {
    v1::SubmittedEvent* s = request.add_events();
    s->set_envelope_json(e.envelope_json);
    s->set_origin(v1::ORIGIN_LOCAL);
    s->set_message_id(e.message_id);
  }
  v1::SubmitResponse response;
  auto context = Context();
  grpc::Status status = stub_->Submit(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, absl::StrCat("Pipeline.Submit ", addr_));
  if (response.outcomes_size() != request.events_size()) {
    return absl::InternalError(absl::StrCat("Pipeline.Submit ", addr_, ": ",
                                            response.outcomes_size(), " outcomes for ",
                                            request.events_size(), " events"));
  }
  std::vector<Outcome> out;
  for (const v1::EventOutcome& o : response.outcomes()) {
    out.push_back({o.status(), o.notification_id(), o.error()});
  }
  return out;
}

absl::Status EgressClient::Resolve(int64_t notification_id, const std::string& resolution_json) {
  v1::ResolveNotificationRequest request;
  request.set_id(notification_id);
  request.set_resolution_json(resolution_json);
  v1::Notification response;
  auto context = Context();
  return FromGrpcStatus(stub_->ResolveNotification(context.get(), request, &response),
                        absl::StrCat("Pipeline.ResolveNotification ", addr_));
}

absl::StatusOr<v1::ReloadCartridgesResponse> EgressClient::Reload() {
  v1::ReloadCartridgesRequest request;
  v1::ReloadCartridgesResponse response;
  auto context = Context();
  grpc::Status status = stub_->ReloadCartridges(context.get(), request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("Pipeline.ReloadCartridges ", addr_));
  }
  return response;
}

absl::StatusOr<std::optional<int64_t>> EgressClient::FindCartridgeNotification(
    const std::string& event_type, const std::string& name, const std::string& sha256) {
  constexpr int kPage = 100;
  constexpr int kMaxScanned = 500;
  for (int offset = 0; offset < kMaxScanned; offset += kPage) {
    v1::ListNotificationsRequest request;
    request.set_event_type_prefix(event_type);
    request.set_limit(kPage);
    request.set_offset(offset);
    v1::ListNotificationsResponse response;
    auto context = Context();
    grpc::Status status = stub_->ListNotifications(context.get(), request, &response);
    if (!status.ok()) {
      return FromGrpcStatus(status, absl::StrCat("Pipeline.ListNotifications ", addr_));
    }
    std::optional<int64_t> best;
    for (const v1::Notification& n : response.notifications()) {
      if (n.event_type() != event_type) continue;
      if (json::GetMemberString(n.payload_json(), "name") == name &&
          json::GetMemberString(n.payload_json(), "sha256") == sha256) {
        if (!best || n.id() > *best) best = n.id();
      }
    }
    if (best) return best;
    if (response.notifications_size() < kPage) break;
  }
  return std::optional<int64_t>();
}

}  // namespace teleclaude::mesh
