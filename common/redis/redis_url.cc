#include "common/redis/redis_url.h"

#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {

constexpr std::string_view kExpected =
    "expected redis[s]://[user:password@]host:port/db or unix:///path";

absl::Status Bad(std::string_view problem) {
  return absl::InvalidArgumentError(Cat("redis_url: ", problem, "; ", kExpected));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || HexValue(in[i + 1]) < 0 || HexValue(in[i + 2]) < 0) {
      return Bad(Cat("bad percent escape in ", what));
    }
    out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
    i += 2;
  }
  return out;
}

absl::StatusOr<int> ParseDb(std::string_view text) {
  int db = 0;
  if (!ParseInt(text, &db) || db < 0 || db > 65535) {
    return Bad(Cat("database \"", text, "\" is not a number 0..65535"));
  }
  return db;
}

}  // namespace

std::string RedisEndpoint::ToString() const {
  if (!unix_path.empty()) return Cat("unix://", unix_path, "?db=", db);
  return Cat(use_tls ? "rediss://" : "redis://", user.empty() ? "" : Cat(user, "@"), host, ":",
             port, "/", db);
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  RedisEndpoint ep;
  std::string_view rest = url;
  if (rest.starts_with("unix://") && (rest.remove_prefix(7), true)) {
    std::string_view path = rest;
    size_t q = rest.find('?');
    if (q != std::string_view::npos) {
      path = rest.substr(0, q);
      std::string_view query = rest.substr(q + 1);
      if (!(query.starts_with("db=") && (query.remove_prefix(3), true))) {
        return Bad(Cat("unknown query \"", rest.substr(q + 1), "\" (only db=N)"));
      }
      auto db = ParseDb(query);
      if (!db.ok()) return db.status();
      ep.db = *db;
    }
    if (path.empty() || path[0] != '/') return Bad("unix socket path must be absolute");
    ep.unix_path = std::string(path);
    ep.host.clear();
    return ep;
  }
  if (rest.starts_with("rediss://")) {
    rest.remove_prefix(9);
    ep.use_tls = true;
  } else if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
  } else {
    return Bad(Cat("\"", url, "\" does not start with redis://, rediss:// or unix://"));
  }
  // userinfo
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    auto u = PercentDecode(user, "user");
    if (!u.ok()) return u.status();
    ep.user = *u;
    if (colon != std::string_view::npos) {
      auto p = PercentDecode(userinfo.substr(colon + 1), "password");
      if (!p.ok()) return p.status();
      ep.password = *p;
    }
  }
  std::string_view hostport = rest;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto parsed = ParseDb(db);
      if (!parsed.ok()) return parsed.status();
      ep.db = *parsed;
    }
  }
  std::string_view host = hostport;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Bad("unterminated [ipv6] host");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad("expected :port after [ipv6]");
      std::string_view port = after.substr(1);
      if (!ParseInt(port, &ep.port) || ep.port <= 0 || ep.port > 65535) {
        return Bad(Cat("port \"", port, "\" is not a number 1..65535"));
      }
    }
  } else {
    size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      std::string_view port = hostport.substr(colon + 1);
      if (!ParseInt(port, &ep.port) || ep.port <= 0 || ep.port > 65535) {
        return Bad(Cat("port \"", port, "\" is not a number 1..65535"));
      }
    }
  }
  if (host.empty()) return Bad("host is empty");
  ep.host = std::string(host);
  return ep;
}

}  // namespace teleclaude::mesh
