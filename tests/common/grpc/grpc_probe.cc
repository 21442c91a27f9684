#include "tests/common/grpc/grpc_probe.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc/channel.h"

namespace teleclaude::mesh::testing {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// A length-delimited field: tag, varint length, bytes (length < 128 here).
std::string LengthDelimited(int field, const std::string& bytes) {
  std::string out;
  out.push_back(static_cast<char>(field << 3 | 2));
  out.push_back(static_cast<char>(bytes.size()));
  out += bytes;
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

}  // namespace

absl::StatusOr<HealthStatus> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                         const std::string& service, absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::ByteBuffer request =
      ToBuffer(service.empty() ? std::string() : LengthDelimited(1, service));
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return FromGrpcStatus(status, "Health.Check");
  UnknownFieldSet fields;
  if (!fields.ParseFromString(FromBuffer(response))) {
    return absl::DataLossError("Health.Check: unparsable response");
  }
  int value = 0;  // proto3 default: UNKNOWN
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() == 1 && f.type() == UnknownField::TYPE_VARINT) {
      value = static_cast<int>(f.varint());
    }
  }
  return static_cast<HealthStatus>(value);
}

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  // Every step is one tag; steps run strictly one after another.
  auto step = [&](auto&& start) -> bool {
    start(reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  // ServerReflectionRequest{list_services (7): ""}.
  grpc::ByteBuffer request = ToBuffer(LengthDelimited(7, ""));
  grpc::ByteBuffer response;
  grpc::Status status;
  bool ok = step([&](void* t) { call->StartCall(t); }) &&
            step([&](void* t) { call->Write(request, t); }) &&
            step([&](void* t) { call->WritesDone(t); }) &&
            step([&](void* t) { call->Read(&response, t); });
  step([&](void* t) { call->Finish(&status, t); });
  cq.Shutdown();
  void* tag;
  bool drained_ok;
  while (cq.Next(&tag, &drained_ok)) {
  }
  if (!status.ok()) return FromGrpcStatus(status, "ServerReflectionInfo");
  if (!ok) return absl::UnavailableError("ServerReflectionInfo: no response");

  // ServerReflectionResponse.list_services_response (6)
  //   .service (1, repeated ServiceResponse) .name (1).
  UnknownFieldSet top;
  if (!top.ParseFromString(FromBuffer(response))) {
    return absl::DataLossError("ServerReflectionInfo: unparsable response");
  }
  std::vector<std::string> names;
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() == 7) {
      return absl::InternalError("ServerReflectionInfo: error_response");
    }
    if (top.field(i).number() != 6) continue;
    UnknownFieldSet list;
    if (!list.ParseFromString(top.field(i).length_delimited())) continue;
    for (int j = 0; j < list.field_count(); ++j) {
      if (list.field(j).number() != 1) continue;
      UnknownFieldSet service;
      if (!service.ParseFromString(list.field(j).length_delimited())) continue;
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) {
          names.push_back(service.field(k).length_delimited());
        }
      }
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace teleclaude::mesh::testing
