// Binds the embedded migration files to the org service.
#include "services/org/src/schema.h"

namespace dj::org::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::org::schema_mysql

namespace dj::org::schema_sqlite {
std::span<const EmbeddedFile> Files();
}  // namespace dj::org::schema_sqlite

namespace dj::org {

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

}  // namespace dj::org
