// Binds the embedded migration files to the org service.
#include "services/org/src/schema.h"

namespace dj::org::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::org::schema_mysql

namespace dj::org {

std::span<const EmbeddedFile> MySqlSchema() { return schema_mysql::Files(); }

}  // namespace dj::org
