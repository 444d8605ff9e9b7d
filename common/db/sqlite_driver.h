// The SQLite driver for the embedded topology: one file per service, WAL (readers never block
// the writer), foreign keys on, a busy timeout, synchronous=FULL (an acknowledged commit survives
// a crash or power loss), and BEGIN IMMEDIATE so writers queue instead of deadlocking.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/db/db.h"

namespace dj::db {

struct SqliteOptions {
  std::string path;  // the database file; created if missing
  std::chrono::milliseconds busy_timeout{5000};
};

std::unique_ptr<Driver> NewSqliteDriver(SqliteOptions options);

// The status for an extended SQLite result code (exposed for tests of the mapping), with the
// unique index the connection resolved from the columns in `message` (db/errors.h).
absl::Status SqliteErrorStatus(int extended_code, std::string_view message,
                               std::string_view unique_index = {});

}  // namespace dj::db
