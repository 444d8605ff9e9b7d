// Binds the embedded migration files to the member service.
#include "services/member/src/schema.h"

namespace dj::member::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::member::schema_mysql

namespace dj::member::schema_sqlite {
std::span<const EmbeddedFile> Files();
}  // namespace dj::member::schema_sqlite

namespace dj::member {

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

}  // namespace dj::member
