// Test helper for config_test: the start-up path of every service main
// (InitProcess), then the resulting Config printed as "key=value" lines and
// the positional arguments as "arg=..." lines.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/config/config.h"

int main(int argc, char** argv) {
  using teleclaude::mesh::Config;
  std::vector<std::string> positional;
  bool want_positional = argc > 1 && std::string(argv[1]) == "positional";
  Config c = teleclaude::mesh::InitProcess(argc, argv, "telec-egress", "config probe for tests",
                                           want_positional ? &positional : nullptr);
  auto sv = [](std::string_view s) { return std::string(s); };
  std::string out = absl::StrCat(
      "computer_name=", c.computer_name, "\n", "cluster=", c.cluster.value_or("<none>"), "\n",
      "redis_url=", c.redis_url, "\n", "local_stream=", c.local_stream, "\n",
      "egress_addr=", c.egress_addr, "\n", "ingress_addr=", c.ingress_addr, "\n",
      "installer_addr=", c.installer_addr, "\n", "data_dir=", c.data_dir.string(), "\n",
      "cartridge_install=", sv(SovereigntyLevelName(c.cartridge_install)), "\n",
      "promotion_threshold=", c.promotion_threshold, "\n", "stream_maxlen=", c.stream_maxlen, "\n",
      "heartbeat_interval=", absl::FormatDuration(c.heartbeat_interval), "\n",
      "heartbeat_ttl=", absl::FormatDuration(c.heartbeat_ttl), "\n",
      "peer_refresh=", absl::FormatDuration(c.peer_refresh), "\n",
      "trust_mode=", sv(TrustModeName(c.trust_mode)), "\n",
      "trusted_peers=", absl::StrJoin(c.trusted_peers, ","), "\n",
      "trust_strictness=", sv(TrustStrictnessName(c.trust_strictness)), "\n",
      "guardian_addr=", c.guardian_addr.value_or("<none>"), "\n",
      "max_message_bytes=", c.max_message_bytes, "\n",
      "max_cartridge_bytes=", c.max_cartridge_bytes, "\n", "log_level=", c.log_level, "\n",
      "redis_tls=", c.redis.use_tls ? "on" : "off", " ca=", c.redis.tls.ca_file,
      " cert=", c.redis.tls.cert_file, " insecure=", c.redis.tls.insecure ? 1 : 0, "\n");
  for (const std::string& arg : positional) absl::StrAppend(&out, "arg=", arg, "\n");
  std::fputs(out.c_str(), stdout);
  return 0;
}
