// Parses the connection URLs in settings: mysql://user:pass@host:port/db and
// redis://[:pass@]host:port/n.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace dj::db {

struct MySqlUrl {
  std::string user;
  std::string password;
  std::string host;
  int port = 3306;
  std::string database;  // may be empty (an admin URL)
};

struct RedisUrl {
  std::string password;
  std::string host;
  int port = 6379;
  int db = 0;
};

absl::StatusOr<MySqlUrl> ParseMySqlUrl(std::string_view url);
absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url);

// Validators for runtime::Setting.
absl::Status ValidateMySqlUrl(std::string_view url);
absl::Status ValidateRedisUrl(std::string_view url);

}  // namespace dj::db
