// URL parsing for database and cache settings (percent-decoding user and password).
#include "common/db/url.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"

namespace dj::db {
namespace {

struct Parts {
  std::string user;
  std::string password;
  std::string host;
  int port = 0;
  std::string path;
};

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int v = 0;
      if (i + 2 >= s.size() + 0 || !absl::SimpleHexAtoi(AV(s.substr(i + 1, 2)), &v)) {
        return absl::InvalidArgumentError("bad percent-escape");
      }
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

absl::StatusOr<Parts> Split(std::string_view url, std::string_view scheme, int default_port) {
  const std::string prefix = std::string(scheme) + "://";
  if (url.substr(0, prefix.size()) != prefix) {
    return absl::InvalidArgumentError(absl::StrCat("must start with ", prefix));
  }
  std::string_view rest = url.substr(prefix.size());
  Parts p;
  p.port = default_port;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto pass = PercentDecode(colon == std::string_view::npos ? "" : userinfo.substr(colon + 1));
    if (!user.ok() || !pass.ok()) {
      return absl::InvalidArgumentError("bad percent-escape in user or password");
    }
    p.user = *user;
    p.password = *pass;
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  p.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  size_t colon = hostport.rfind(':');
  p.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    if (!absl::SimpleAtoi(AV(hostport.substr(colon + 1)), &p.port) || p.port <= 0 ||
        p.port > 65535) {
      return absl::InvalidArgumentError("bad port");
    }
  }
  if (p.host.empty()) {
    return absl::InvalidArgumentError("missing host");
  }
  return p;
}

}  // namespace

absl::StatusOr<MySqlUrl> ParseMySqlUrl(std::string_view url) {
  auto p = Split(url, "mysql", 3306);
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.status().message(), "; expected mysql://user:pass@host:port/db"));
  }
  if (p->user.empty()) {
    return absl::InvalidArgumentError("missing user; expected mysql://user:pass@host:port/db");
  }
  if (p->path.find_first_of("/?") != std::string::npos) {
    return absl::InvalidArgumentError("database name must not contain '/' or '?'");
  }
  return MySqlUrl{p->user, p->password, p->host, p->port, p->path};
}

absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url) {
  auto p = Split(url, "redis", 6379);
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.status().message(), "; expected redis://host:port/n"));
  }
  RedisUrl r{p->password, p->host, p->port, 0};
  if (!p->path.empty() && (!absl::SimpleAtoi(p->path, &r.db) || r.db < 0 || r.db > 15)) {
    return absl::InvalidArgumentError("database must be a number 0-15; expected redis://host:port/n");
  }
  return r;
}

absl::Status ValidateMySqlUrl(std::string_view url) {
  auto p = ParseMySqlUrl(url);
  if (p.ok() && p->database.empty()) {
    return absl::InvalidArgumentError("missing database name; expected mysql://user:pass@host:port/db");
  }
  return p.status();
}

absl::Status ValidateRedisUrl(std::string_view url) { return ParseRedisUrl(url).status(); }

}  // namespace dj::db
