// Connector/C++ 1.1 behind db::Connection.
#include "common/db/mysql_driver.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/db/errors.h"
#include "common/runtime/strings.h"
#include "cppconn/connection.h"
#include "cppconn/datatype.h"
#include "cppconn/exception.h"
#include "cppconn/prepared_statement.h"
#include "cppconn/resultset.h"
#include "cppconn/resultset_metadata.h"
#include "cppconn/statement.h"
#include <mysql_driver.h>  // Connector/C++, not common/db/mysql_driver.h

namespace dj::db {
namespace {

bool ReturnsRows(std::string_view sql) {
  size_t i = sql.find_first_not_of(" \t\r\n(");
  if (i == std::string_view::npos) {
    return false;
  }
  std::string head = absl::AsciiStrToUpper(AV(sql.substr(i, 8)));
  return head.starts_with("SELECT") || head.starts_with("SHOW") || head.starts_with("WITH") ||
         head.starts_with("DESCRIBE") || head.starts_with("EXPLAIN");
}

// The key of "Duplicate entry '<value>' for key '<key>'": MariaDB names the key ('uk_x'), MySQL
// 8.0.19+ qualifies it with the table ('t.uk_x'); both become "uk_x". Searched from the end, as
// the value may contain anything.
std::string DuplicateKeyName(std::string_view message) {
  constexpr std::string_view kForKey = " for key '";
  const size_t at = message.rfind(kForKey);
  if (at == std::string_view::npos) {
    return "";
  }
  std::string_view key = message.substr(at + kForKey.size());
  if (const size_t end = key.rfind('\''); end != std::string_view::npos) {
    key = key.substr(0, end);
  }
  if (const size_t dot = key.rfind('.'); dot != std::string_view::npos) {
    key = key.substr(dot + 1);
  }
  return std::string(key);
}

// The constraint of "... a foreign key constraint fails (`db`.`t`, CONSTRAINT `fk_x` FOREIGN KEY
// ...)", or "" (ER_ROW_IS_REFERENCED and ER_NO_REFERENCED_ROW name none).
std::string ForeignKeyName(std::string_view message) {
  constexpr std::string_view kConstraint = "CONSTRAINT `";
  const size_t at = message.find(kConstraint);
  if (at == std::string_view::npos) {
    return "";
  }
  std::string_view name = message.substr(at + kConstraint.size());
  return std::string(name.substr(0, name.find('`')));
}

class MySqlConnection final : public Connection {
 public:
  explicit MySqlConnection(std::unique_ptr<sql::Connection> conn) : conn_(std::move(conn)) {}

  ~MySqlConnection() override {
    statements_.clear();
    try {
      conn_->close();
    } catch (const sql::SQLException&) {
      // Closing a dead connection: nothing to do.
    }
  }

  absl::StatusOr<Result> Execute(std::string_view sql, std::span<const Value> params) override {
    try {
      sql::PreparedStatement* stmt = Prepare(sql);
      for (size_t i = 0; i < params.size(); ++i) {
        const unsigned int index = static_cast<unsigned int>(i + 1);
        const Value& v = params[i];
        if (std::holds_alternative<std::monostate>(v)) {
          stmt->setNull(index, sql::DataType::VARCHAR);
        } else if (const auto* n = std::get_if<int64_t>(&v)) {
          stmt->setInt64(index, *n);
        } else if (const auto* d = std::get_if<double>(&v)) {
          stmt->setDouble(index, *d);
        } else {
          stmt->setString(index, std::get<std::string>(v));
        }
      }
      Result result;
      if (ReturnsRows(sql)) {
        std::unique_ptr<sql::ResultSet> rs(stmt->executeQuery());
        sql::ResultSetMetaData* meta = rs->getMetaData();
        const unsigned int columns = meta->getColumnCount();
        std::vector<int> types(columns);
        for (unsigned int c = 0; c < columns; ++c) {
          types[c] = meta->getColumnType(c + 1);
        }
        while (rs->next()) {
          Row row;
          row.values.reserve(columns);
          for (unsigned int c = 1; c <= columns; ++c) {
            if (rs->isNull(c)) {
              row.values.emplace_back(std::monostate{});
              continue;
            }
            switch (types[c - 1]) {
              case sql::DataType::BIT:
              case sql::DataType::TINYINT:
              case sql::DataType::SMALLINT:
              case sql::DataType::MEDIUMINT:
              case sql::DataType::INTEGER:
              case sql::DataType::BIGINT:
                row.values.emplace_back(static_cast<int64_t>(rs->getInt64(c)));
                break;
              case sql::DataType::REAL:
              case sql::DataType::DOUBLE:
                row.values.emplace_back(static_cast<double>(rs->getDouble(c)));
                break;
              default:
                row.values.emplace_back(std::string(rs->getString(c)));
            }
          }
          result.rows.push_back(std::move(row));
        }
      } else {
        result.affected_rows = stmt->executeUpdate();
      }
      return result;
    } catch (const sql::SQLException& e) {
      return Fail(e);
    }
  }

  absl::Status Begin() override {
    try {
      conn_->setAutoCommit(false);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return Fail(e);
    }
  }

  absl::Status Commit() override {
    try {
      conn_->commit();
      conn_->setAutoCommit(true);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return Fail(e);
    }
  }

  absl::Status Rollback() override {
    try {
      conn_->rollback();
      conn_->setAutoCommit(true);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return Fail(e);
    }
  }

  bool Healthy() const override { return healthy_; }

  bool Ping() override {
    try {
      healthy_ = healthy_ && conn_->isValid();
    } catch (const sql::SQLException&) {
      healthy_ = false;
    }
    return healthy_;
  }

  Dialect dialect() const override { return Dialect::kMySql; }

 private:
  sql::PreparedStatement* Prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      std::unique_ptr<sql::PreparedStatement> stmt(conn_->prepareStatement(std::string(sql)));
      it = statements_.emplace(std::string(sql), std::move(stmt)).first;
    }
    it->second->clearParameters();
    return it->second.get();
  }

  absl::Status Fail(const sql::SQLException& e) {
    absl::Status status = MySqlErrorStatus(e.getErrorCode(), e.what());
    if (status.code() == absl::StatusCode::kUnavailable) {
      healthy_ = false;
    }
    return status;
  }

  std::unique_ptr<sql::Connection> conn_;
  std::map<std::string, std::unique_ptr<sql::PreparedStatement>, std::less<>> statements_;
  bool healthy_ = true;
};

class MySqlDriver final : public Driver {
 public:
  explicit MySqlDriver(MySqlOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<Connection>> Connect() override {
    try {
      sql::ConnectOptionsMap props;
      props["hostName"] = sql::SQLString(
          absl::StrCat("tcp://", options_.url.host, ":", options_.url.port));
      props["userName"] = sql::SQLString(options_.url.user);
      props["password"] = sql::SQLString(options_.url.password);
      if (!options_.url.database.empty()) {
        props["schema"] = sql::SQLString(options_.url.database);
      }
      props["OPT_CONNECT_TIMEOUT"] = static_cast<int>(options_.connect_timeout.count());
      props["OPT_READ_TIMEOUT"] = static_cast<int>(options_.io_timeout.count());
      props["OPT_WRITE_TIMEOUT"] = static_cast<int>(options_.io_timeout.count());
      props["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
      sql::mysql::MySQL_Driver* driver = sql::mysql::get_mysql_driver_instance();
      std::unique_ptr<sql::Connection> conn(driver->connect(props));
      std::unique_ptr<sql::Statement> stmt(conn->createStatement());
      // UTC timestamps, strict writes (no silent truncation), utf8mb4 everywhere.
      stmt->execute("SET time_zone = '+00:00'");
      stmt->execute(
          "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
          "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
      stmt->execute("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
      return std::unique_ptr<Connection>(std::make_unique<MySqlConnection>(std::move(conn)));
    } catch (const sql::SQLException& e) {
      // Failing to connect at all is "unavailable" unless the server said why (bad password,
      // unknown database): those are configuration errors worth their own message.
      const bool configuration = e.getErrorCode() == 1045 || e.getErrorCode() == 1049;
      return DatabaseFailure(
          configuration ? absl::StatusCode::kInternal : absl::StatusCode::kUnavailable,
          configuration ? ErrorKind::kOther : ErrorKind::kConnectionLost, "",
          absl::StrCat("connect to ", Describe(), ": ", e.what(), " (", e.getErrorCode(), ")"));
    }
  }

  Dialect dialect() const override { return Dialect::kMySql; }

  std::string Describe() const override {
    return absl::StrCat("mysql://", options_.url.user, "@", options_.url.host, ":",
                        options_.url.port, "/", options_.url.database);
  }

 private:
  MySqlOptions options_;
};

}  // namespace

absl::Status MySqlErrorStatus(int error_code, std::string_view message) {
  const std::string detail = absl::StrCat("mysql error ", error_code, ": ", AV(message));
  switch (error_code) {
    case 1062:    // ER_DUP_ENTRY
    case 1586: {  // ER_DUP_ENTRY_WITH_KEY_NAME
      // The message quotes the duplicate value, which may be personal data: keep only the key.
      const std::string key = DuplicateKeyName(message);
      return DatabaseFailure(
          absl::StatusCode::kAlreadyExists, ErrorKind::kDuplicateKey, key,
          absl::StrCat("mysql error ", error_code, ": duplicate entry for key '", key, "'"));
    }
    case 1216:  // ER_NO_REFERENCED_ROW
    case 1217:  // ER_ROW_IS_REFERENCED
    case 1451:  // ER_ROW_IS_REFERENCED_2
    case 1452:  // ER_NO_REFERENCED_ROW_2
      return DatabaseFailure(absl::StatusCode::kFailedPrecondition, ErrorKind::kForeignKey,
                             ForeignKeyName(message), detail);
    case 1213:  // ER_LOCK_DEADLOCK
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
      return DatabaseFailure(absl::StatusCode::kAborted, ErrorKind::kDeadlock, "", detail);
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
      return DatabaseFailure(absl::StatusCode::kUnavailable, ErrorKind::kConnectionLost, "",
                             detail);
    default:
      return DatabaseFailure(absl::StatusCode::kInternal, ErrorKind::kOther, "", detail);
  }
}

std::unique_ptr<Driver> NewMySqlDriver(MySqlOptions options) {
  return std::make_unique<MySqlDriver>(std::move(options));
}

}  // namespace dj::db
