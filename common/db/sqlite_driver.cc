// libsqlite3 behind db::Connection.
#include "common/db/sqlite_driver.h"

#include <sqlite3.h>

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::db {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    statements_.clear();
    sqlite3_close_v2(db_);
  }

  absl::StatusOr<Result> Execute(std::string_view sql, std::span<const Value> params) override {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
        return Fail();
      }
      it = statements_.emplace(std::string(sql), StmtPtr(raw)).first;
    }
    sqlite3_stmt* stmt = it->second.get();
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const std::string& s = std::get<std::string>(v);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        return Fail();
      }
    }
    Result result;
    const int columns = sqlite3_column_count(stmt);
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        absl::Status s = Fail();
        sqlite3_reset(stmt);
        return s;
      }
      Row row;
      row.values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            row.values.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            row.values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          default: {
            const auto* text = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            row.values.emplace_back(
                std::string(text == nullptr ? "" : text,
                            static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
      result.rows.push_back(std::move(row));
    }
    result.affected_rows = columns == 0 ? sqlite3_changes64(db_) : 0;
    sqlite3_reset(stmt);
    return result;
  }

  absl::Status Begin() override { return Simple("BEGIN IMMEDIATE"); }
  absl::Status Commit() override { return Simple("COMMIT"); }
  absl::Status Rollback() override {
    if (sqlite3_get_autocommit(db_) != 0) {
      return absl::OkStatus();  // SQLite already rolled back (e.g. after SQLITE_FULL)
    }
    return Simple("ROLLBACK");
  }

  bool Healthy() const override { return healthy_; }
  bool Ping() override { return healthy_; }
  Dialect dialect() const override { return Dialect::kSqlite; }

  absl::Status Simple(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      sqlite3_free(err);
      return Fail();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Fail() {
    const int code = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);  // before another statement replaces it
    absl::Status s = SqliteErrorStatus(
        code, message, code == SQLITE_CONSTRAINT_UNIQUE ? UniqueIndexName(message) : "");
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB ||
        (code & 0xff) == SQLITE_IOERR) {
      healthy_ = false;
    }
    return s;
  }

  // The unique index a "UNIQUE constraint failed: t.a, t.b" names by its columns: the one of
  // table t over exactly (a, b), in that order, as PRAGMA index_list and index_info describe it
  // (so the schema's name, as MySQL reports it). "" when none matches or the lookup fails.
  std::string UniqueIndexName(std::string_view message) {
    constexpr std::string_view kFailed = "UNIQUE constraint failed: ";
    const size_t at = message.find(kFailed);
    if (at == std::string_view::npos) {
      return "";
    }
    std::string table;
    std::vector<std::string> columns;
    for (absl::string_view part : absl::StrSplit(AV(message.substr(at + kFailed.size())), ", ")) {
      const size_t dot = part.find('.');
      if (dot == absl::string_view::npos) {
        return "";
      }
      table = std::string(part.substr(0, dot));
      columns.emplace_back(part.substr(dot + 1));
    }
    constexpr std::string_view kSql =
        "SELECT il.name, ii.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS "
        "ii WHERE il.\"unique\" = 1 ORDER BY il.seq, ii.seqno";
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, kSql.data(), static_cast<int>(kSql.size()), &raw, nullptr) !=
        SQLITE_OK) {
      sqlite3_finalize(raw);
      return "";
    }
    StmtPtr stmt(raw);
    sqlite3_bind_text64(stmt.get(), 1, table.data(), table.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    std::vector<std::pair<std::string, std::vector<std::string>>> indexes;
    while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
      auto text = [&](int c) {
        const unsigned char* t = sqlite3_column_text(stmt.get(), c);
        return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
      };
      std::string index = text(0);
      if (indexes.empty() || indexes.back().first != index) {
        indexes.emplace_back(std::move(index), std::vector<std::string>{});
      }
      indexes.back().second.push_back(text(1));
    }
    for (const auto& [index, index_columns] : indexes) {
      if (index_columns == columns) {
        return index;
      }
    }
    return "";
  }

  sqlite3* db_;
  std::map<std::string, StmtPtr, std::less<>> statements_;
  bool healthy_ = true;
};

class SqliteDriver final : public Driver {
 public:
  explicit SqliteDriver(SqliteOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<Connection>> Connect() override {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(options_.path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      return rpc::DatabaseError(absl::StatusCode::kUnavailable,
                                absl::StrCat("cannot open ", options_.path, ": ", msg));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options_.busy_timeout.count()));
    auto conn = std::make_unique<SqliteConnection>(db);
    // The first statement reads the header: a file that is not a database fails here.
    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
          "PRAGMA temp_store = MEMORY"}) {
      auto r = conn->Execute(pragma, {});
      if (!r.ok()) {
        return rpc::DatabaseError(r.status().code() == absl::StatusCode::kDataLoss
                                      ? absl::StatusCode::kDataLoss
                                      : absl::StatusCode::kUnavailable,
                                  absl::StrCat(options_.path, ": ", r.status().message()));
      }
    }
    return std::unique_ptr<Connection>(std::move(conn));
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string Describe() const override { return absl::StrCat("sqlite:", options_.path); }

 private:
  SqliteOptions options_;
};

}  // namespace

absl::Status SqliteErrorStatus(int extended_code, std::string_view message,
                               std::string_view unique_index) {
  const std::string detail = absl::StrCat("sqlite error ", extended_code, ": ", AV(message));
  switch (extended_code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return DatabaseFailure(absl::StatusCode::kAlreadyExists, ErrorKind::kDuplicateKey,
                             kPrimaryKey, detail);
    case SQLITE_CONSTRAINT_UNIQUE: {
      // An index on an expression is reported by name: "UNIQUE constraint failed: index 'x'".
      std::string_view index = unique_index;
      constexpr std::string_view kIndex = "index '";
      if (const size_t at = message.find(kIndex); index.empty() && at != std::string_view::npos) {
        index = message.substr(at + kIndex.size());
        index = index.substr(0, index.find('\''));
      }
      return DatabaseFailure(absl::StatusCode::kAlreadyExists, ErrorKind::kDuplicateKey, index,
                             detail);
    }
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      // SQLite does not say which constraint failed.
      return DatabaseFailure(absl::StatusCode::kFailedPrecondition, ErrorKind::kForeignKey, "",
                             detail);
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return DatabaseFailure(absl::StatusCode::kAborted, ErrorKind::kDeadlock, "", detail);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DatabaseFailure(absl::StatusCode::kDataLoss, ErrorKind::kOther, "", detail);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      // The file, not a connection: unavailable, but no connection was lost.
      return DatabaseFailure(absl::StatusCode::kUnavailable, ErrorKind::kOther, "", detail);
    default:
      return DatabaseFailure(absl::StatusCode::kInternal, ErrorKind::kOther, "", detail);
  }
}

std::unique_ptr<Driver> NewSqliteDriver(SqliteOptions options) {
  return std::make_unique<SqliteDriver>(std::move(options));
}

}  // namespace dj::db
