#include "tests/support/local_auth.h"

#include <system_error>

#include "common/grpc/channel.h"
#include "glog/logging.h"

namespace teleclaude::mesh::testing {

LocalTokens TokensIn(const std::filesystem::path& auth_dir) {
  std::error_code ec;
  std::filesystem::create_directories(auth_dir, ec);
  absl::StatusOr<LocalTokens> tokens = LocalTokens::LoadOrCreate(auth_dir);
  CHECK(tokens.ok()) << tokens.status();
  return *std::move(tokens);
}

std::shared_ptr<grpc::Channel> OwnerChannel(const std::string& addr,
                                            const std::filesystem::path& auth_dir,
                                            int max_message_bytes) {
  ChannelOptions options;
  options.max_message_bytes = max_message_bytes;
  options.auth_token = std::string(TokensIn(auth_dir).owner());
  return MakeChannel(addr, options);
}

std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& addr,
                                              const std::filesystem::path& auth_dir,
                                              int max_message_bytes) {
  return MakeChannel(addr, TokensIn(auth_dir).ServiceChannel(max_message_bytes));
}

}  // namespace teleclaude::mesh::testing
