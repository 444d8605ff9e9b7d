// The database interface every store uses: parameterised statements over a Connection from a
// Pool, results as rows of Values. A driver (MySQL today, SQLite next) implements Connection;
// stores never see the driver.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time/civil_date.h"

namespace dj::db {

enum class Dialect { kMySql, kSqlite };

// NULL, an integer, a double or text/blob.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline Value Null() { return std::monostate{}; }

// " FOR UPDATE" where the dialect locks rows (MySQL); "" for SQLite, whose BEGIN IMMEDIATE
// already holds the only write lock.
inline std::string_view ForUpdate(Dialect dialect) {
  return dialect == Dialect::kMySql ? " FOR UPDATE" : "";
}
// The SQL that rewrites the materialized path in `column` from one prefix to another, with two
// placeholders: the new prefix, then the old prefix's length + 1 (where the kept tail starts).
// Used by every store that keeps organization paths, when a subtree moves.
inline std::string ReplacePrefixSql(Dialect dialect, std::string_view column) {
  return dialect == Dialect::kMySql
             ? std::string("CONCAT(?, SUBSTRING(").append(column).append(", ?))")
             : std::string("(? || substr(").append(column).append(", ?))");
}
// '/1/5/' -> '/1/50': the materialized paths in the subtree of '/1/5/' are exactly those
// >= '/1/5/' and below this bound ('0' follows '/'), a range any index on a path column serves,
// in either dialect. Every store that selects a subtree uses it.
std::string SubtreeUpperBound(std::string_view path);
// The organization ids on a materialized path, root first: "/1/5/23/" -> {1, 5, 23}.
std::vector<int64_t> PathIds(std::string_view path);
// "?, ?, ?" for `n` parameters (an IN list or a VALUES row).
std::string Placeholders(size_t n);

// A text value, or NULL when empty (for optional columns).
Value TextOrNull(std::string_view s);
// A civil date as both dialects store it (ISO text; a MySQL DATE column takes it), or NULL.
Value DateOrNull(const std::optional<time::CivilDate>& date);

struct Row {
  std::vector<Value> values;

  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;       // 0 for NULL; parses text
  std::string Text(size_t i) const;  // "" for NULL; formats numbers
  std::optional<std::string> OptionalText(size_t i) const;
  // The civil date in column i (MySQL answers DATE as "YYYY-MM-DD", SQLite holds the same text);
  // nullopt for NULL, and for text that is not a date (never written by a store).
  std::optional<time::CivilDate> OptionalDate(size_t i) const;
};

struct Result {
  std::vector<Row> rows;
  int64_t affected_rows = 0;
};

// Errors from Execute are statuses built with rpc::DatabaseError: ALREADY_EXISTS (duplicate key),
// FAILED_PRECONDITION (foreign key), ABORTED (deadlock, lock wait timeout), UNAVAILABLE (the
// connection is gone; the pool drops it), INTERNAL otherwise. Each carries its kind and the
// constraint or index it names (db/errors.h: KindOf, ConstraintName, DuplicateKeyOn).
class Connection {
 public:
  virtual ~Connection() = default;

  // Runs one statement with `?` placeholders bound to `params` in order.
  virtual absl::StatusOr<Result> Execute(std::string_view sql,
                                         std::span<const Value> params = {}) = 0;

  virtual absl::Status Begin() = 0;
  virtual absl::Status Commit() = 0;
  virtual absl::Status Rollback() = 0;

  // False once the connection has failed in a way that makes it unusable.
  virtual bool Healthy() const = 0;
  // Checks the server still answers (used for connections idle a while).
  virtual bool Ping() = 0;

  virtual Dialect dialect() const = 0;

  // Convenience: Execute with an initializer list of params.
  absl::StatusOr<Result> Exec(std::string_view sql, std::initializer_list<Value> params) {
    return Execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
};

// A result's rows as `T`s, through `from` (a store's row mapper); the error passed on.
template <typename T, typename From>
absl::StatusOr<std::vector<T>> MapRows(absl::StatusOr<Result> result, From&& from) {
  if (!result.ok()) {
    return result.status();
  }
  std::vector<T> out;
  out.reserve(result->rows.size());
  for (const Row& r : result->rows) {
    out.push_back(from(r));
  }
  return out;
}

// The first row as a `T`, or nullopt when there is none.
template <typename T, typename From>
absl::StatusOr<std::optional<T>> MapOne(absl::StatusOr<Result> result, From&& from) {
  if (!result.ok()) {
    return result.status();
  }
  if (result->rows.empty()) {
    return std::optional<T>();
  }
  return std::optional<T>(from(result->rows.front()));
}

class Driver {
 public:
  virtual ~Driver() = default;
  virtual absl::StatusOr<std::unique_ptr<Connection>> Connect() = 0;
  virtual Dialect dialect() const = 0;
  // Where it connects, without credentials, for logs and errors.
  virtual std::string Describe() const = 0;
};

}  // namespace dj::db
