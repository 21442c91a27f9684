#include "common/grpc/redis_probe.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace teleclaude::mesh {
namespace {

RedisClientOptions ProbeOptions(RedisClientOptions options, absl::Duration timeout) {
  options.connect_timeout = timeout;
  options.command_timeout = timeout;
  // Retry at the next check (about a second later), not after a long backoff.
  options.reconnect_backoff_min = absl::Milliseconds(10);
  options.reconnect_backoff_max = absl::Milliseconds(100);
  if (!options.client_name.empty())
    options.client_name = absl::StrCat(options.client_name, ":probe");
  return options;
}

}  // namespace

RedisProbe::RedisProbe(RedisClientOptions options, absl::Duration timeout)
    : target_(options.endpoint.ToString()), client_(ProbeOptions(std::move(options), timeout)) {}

absl::Status RedisProbe::Check() { return client_.Ping(); }

}  // namespace teleclaude::mesh
