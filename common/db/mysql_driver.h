// The MySQL/MariaDB driver (Connector/C++ 1.1): prepared statements cached per connection,
// vendor error codes classified into statuses the rest of the suite understands.
#pragma once

#include <chrono>
#include <memory>

#include "common/db/db.h"
#include "common/db/url.h"

namespace dj::db {

struct MySqlOptions {
  MySqlUrl url;
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds io_timeout{30};  // read and write timeouts per statement
};

std::unique_ptr<Driver> NewMySqlDriver(MySqlOptions options);

// The status for a MySQL error number (exposed for tests of the mapping).
absl::Status MySqlErrorStatus(int error_code, std::string_view message);

}  // namespace dj::db
