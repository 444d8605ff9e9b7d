// Versioned schema migrations, applied at start: files named NNN_description.sql, each applied
// once, in order, and recorded with a checksum in schema_migrations. A file changed after it was
// applied stops the start-up instead of leaving two databases with different schemas.
#pragma once

#include <span>

#include "absl/status/status.h"
#include "common/db/pool.h"
#include "common/runtime/embedded_file.h"

namespace dj::db {

// `set` names the series the files belong to ("service" for a service's own schema, "events" for
// the shared outbox tables), so several series can live in one database.
absl::Status Migrate(Pool& pool, std::span<const EmbeddedFile> files,
                     std::string_view set = "service");

// Splits a migration script into statements (on ';' at the end of a line; `--` comment lines
// dropped). Exposed for tests.
std::vector<std::string> SplitStatements(std::string_view script);

}  // namespace dj::db
