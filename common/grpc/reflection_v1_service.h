// grpc.reflection.v1.ServerReflection (proto/grpc/reflection/v1/
// reflection.proto): gRPC 1.51 serves only v1alpha; this serves v1 from the
// same descriptors (the process's generated pool), so `grpcurl list /
// describe` work whichever version the client asks first. GrpcServer
// registers it on every server.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_REFLECTION_V1_SERVICE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_REFLECTION_V1_SERVICE_H_

#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace google::protobuf {
class DescriptorPool;
class FileDescriptor;
}  // namespace google::protobuf

namespace teleclaude::mesh {

// Thread-safe.
class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  ReflectionV1Service();

  // The services list_services answers (set once the server is built).
  void SetServiceNames(std::vector<std::string> names);

  // One response per request, as the protocol says: list_services,
  // file_by_filename, file_containing_symbol, file_containing_extension,
  // all_extension_numbers_of_type; unknown names get an error_response
  // NOT_FOUND and the stream goes on.
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  // Appends `file` and the files it depends on, each unless already in
  // `sent` (per stream, as v1alpha does).
  static void AddFile(const google::protobuf::FileDescriptor* file, std::set<std::string>* sent,
                      grpc::reflection::v1::FileDescriptorResponse* out);

  const google::protobuf::DescriptorPool* const pool_;
  absl::Mutex mu_;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_REFLECTION_V1_SERVICE_H_
