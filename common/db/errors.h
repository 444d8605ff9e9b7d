// Typed database failures: which kind of failure a driver saw (duplicate key, foreign key,
// deadlock, lost connection) and on which constraint, attached to the absl::Status as a payload.
// A handler maps "its" unique index to its reason (DuplicateKeyOn) and answers anything else with
// the generic code (Generic), so an id collision is never taken for a name already in use.
//
// Constraint names are the same in both dialects when the schema names them: a unique index is
// `UNIQUE KEY uk_x (...)` in MySQL and `CREATE UNIQUE INDEX uk_x ON ...` in SQLite, and every
// primary key is kPrimaryKey. MySQL reports the key name itself (MariaDB 'uk_x', MySQL 8
// 'table.uk_x'); SQLite reports the columns ("UNIQUE constraint failed: t.a, t.b"), which the
// driver maps back to the unique index over exactly those columns with PRAGMA index_list and
// index_info. A SQLite foreign-key failure names no constraint (SQLite cannot tell which).
//
// The status's message stays internal detail (rpc::DatabaseError): it is logged, never shown to a
// caller, and never carries the duplicate value (which may be personal data).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace dj::db {

enum class ErrorKind {
  kOther,           // anything else, or a status that does not come from a database
  kDuplicateKey,    // a unique index or the primary key (ALREADY_EXISTS)
  kForeignKey,      // a missing parent or a referenced row (FAILED_PRECONDITION)
  kDeadlock,        // a deadlock, a lock wait timeout, SQLITE_BUSY/LOCKED (ABORTED: retry)
  kConnectionLost,  // the server went away or could not be reached (UNAVAILABLE)
};

// The name every primary key has in a duplicate-key error, in both dialects (MySQL's own name).
inline constexpr std::string_view kPrimaryKey = "PRIMARY";

// A database error (rpc::DatabaseError: `detail` is internal) with `code`, of `kind`, on
// `constraint` ("" when the driver cannot tell).
absl::Status DatabaseFailure(absl::StatusCode code, ErrorKind kind, std::string_view constraint,
                             std::string_view detail);

// The kind of database failure `status` carries; kOther for any other status.
ErrorKind KindOf(const absl::Status& status);
// The constraint or index the failure names ("" when none or unknown).
std::string ConstraintName(const absl::Status& status);
// Whether `status` is a duplicate key on the unique index (or kPrimaryKey) named `index`.
bool DuplicateKeyOn(const absl::Status& status, std::string_view index);
// Whether `status` is a duplicate key on any index.
inline bool IsDuplicateKey(const absl::Status& status) {
  return KindOf(status) == ErrorKind::kDuplicateKey;
}

// The answer for a database failure a handler did not map to a reason of its own: a duplicate
// key on an index it did not claim (an id or path collision, drawn afresh on a retry) becomes
// ABORTED, "retry", instead of ALREADY_EXISTS; every other status is returned as it is.
absl::Status Generic(absl::Status status);

}  // namespace dj::db
