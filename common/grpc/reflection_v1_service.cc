#include "common/grpc/reflection_v1_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <utility>

namespace teleclaude::mesh {

namespace rv1 = grpc::reflection::v1;
using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

ReflectionV1Service::ReflectionV1Service() : pool_(DescriptorPool::generated_pool()) {}

void ReflectionV1Service::SetServiceNames(std::vector<std::string> names) {
  absl::MutexLock lock(&mu_);
  names_ = std::move(names);
}

void ReflectionV1Service::AddFile(const FileDescriptor* file, std::set<std::string>* sent,
                                  rv1::FileDescriptorResponse* out) {
  if (!sent->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) AddFile(file->dependency(i), sent, out);
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<rv1::ServerReflectionResponse, rv1::ServerReflectionRequest>* stream) {
  std::set<std::string> sent;
  rv1::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    rv1::ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    auto not_found = [&](const std::string& what) {
      response.mutable_error_response()->set_error_code(
          static_cast<int>(grpc::StatusCode::NOT_FOUND));
      response.mutable_error_response()->set_error_message(what);
    };
    switch (request.message_request_case()) {
      case rv1::ServerReflectionRequest::kListServices: {
        absl::MutexLock lock(&mu_);
        for (const std::string& name : names_) {
          response.mutable_list_services_response()->add_service()->set_name(name);
        }
        break;
      }
      case rv1::ServerReflectionRequest::kFileByFilename: {
        const FileDescriptor* file = pool_->FindFileByName(request.file_by_filename());
        if (file == nullptr) {
          not_found("file not found");
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case rv1::ServerReflectionRequest::kFileContainingSymbol: {
        const FileDescriptor* file =
            pool_->FindFileContainingSymbol(request.file_containing_symbol());
        if (file == nullptr) {
          not_found("symbol not found");
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case rv1::ServerReflectionRequest::kFileContainingExtension: {
        const rv1::ExtensionRequest& ext = request.file_containing_extension();
        const Descriptor* type = pool_->FindMessageTypeByName(ext.containing_type());
        const FieldDescriptor* field =
            type == nullptr ? nullptr : pool_->FindExtensionByNumber(type, ext.extension_number());
        if (field == nullptr) {
          not_found("extension not found");
        } else {
          AddFile(field->file(), &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case rv1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const Descriptor* type =
            pool_->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) {
          not_found("type not found");
        } else {
          std::vector<const FieldDescriptor*> extensions;
          pool_->FindAllExtensions(type, &extensions);
          rv1::ExtensionNumberResponse* out = response.mutable_all_extension_numbers_response();
          out->set_base_type_name(type->full_name());
          for (const FieldDescriptor* f : extensions) out->add_extension_number(f->number());
        }
        break;
      }
      default:
        response.mutable_error_response()->set_error_code(
            static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
        response.mutable_error_response()->set_error_message("request not understood");
        break;
    }
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace teleclaude::mesh
