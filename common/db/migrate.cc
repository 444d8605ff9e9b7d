// Applies embedded migration files under a cross-process lock.
#include "common/db/migrate.h"
#include "common/time/clock.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "openssl/evp.h"

namespace dj::db {
namespace {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

struct Migration {
  int64_t version = 0;
  std::string name;
  std::string_view script;
};

absl::StatusOr<std::vector<Migration>> Parse(std::span<const EmbeddedFile> files) {
  std::vector<Migration> out;
  for (const EmbeddedFile& f : files) {
    std::string_view base = f.path.substr(f.path.rfind('/') + 1);
    size_t underscore = base.find('_');
    Migration m;
    if (underscore == std::string_view::npos ||
        !absl::SimpleAtoi(AV(base.substr(0, underscore)), &m.version) || m.version <= 0) {
      return absl::InternalError(
          absl::StrCat("migration file '", AV(f.path), "' is not named NNN_description.sql"));
    }
    m.name = std::string(base);
    m.script = f.data;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      return absl::InternalError(absl::StrCat("two migrations numbered ", out[i].version));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> SplitStatements(std::string_view script) {
  std::vector<std::string> out;
  std::string current;
  for (absl::string_view line : absl::StrSplit(AV(script), '\n')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || absl::StartsWith(trimmed, "--")) {
      continue;
    }
    current.append(line.data(), line.size());
    current.push_back('\n');
    if (absl::EndsWith(trimmed, ";")) {
      std::string stmt(absl::StripAsciiWhitespace(current));
      stmt.pop_back();
      out.push_back(std::move(stmt));
      current.clear();
    }
  }
  if (std::string rest(absl::StripAsciiWhitespace(current)); !rest.empty()) {
    out.push_back(std::move(rest));
  }
  return out;
}

namespace {

// Applies one migration and records it: atomically on SQLite; on MySQL, which commits DDL
// implicitly, each file is written to be safe to re-run (CREATE ... IF NOT EXISTS) and the
// record is written last.
absl::Status ApplyOne(Connection& conn, const Migration& m, std::string_view set,
                      const std::string& checksum) {
  const bool mysql = conn.dialect() == Dialect::kMySql;
  if (!mysql) {
    RETURN_IF_ERROR(conn.Begin());
  }
  absl::Status applied_ok = absl::OkStatus();
  for (const std::string& stmt : SplitStatements(m.script)) {
    if (auto r = conn.Execute(stmt); !r.ok()) {
      applied_ok = absl::Status(r.status().code(),
                                absl::StrCat("migration ", m.name, ": ", r.status().message()));
      break;
    }
  }
  if (applied_ok.ok()) {
    applied_ok = conn.Exec(
                         "INSERT INTO schema_migrations (set_name, version, name, "
                         "checksum, applied_at) VALUES (?,?,?,?,?)",
                         {std::string(set), m.version, m.name, checksum, time::NowMicros()})
                     .status();
  }
  if (!mysql) {
    if (applied_ok.ok()) {
      applied_ok = conn.Commit();
    } else {
      conn.Rollback().IgnoreError();  // the failure being reported matters more
    }
  }
  return applied_ok;
}

// Every migration of `set` not yet recorded, in order; a recorded one that changed since is an
// error.
absl::Status ApplyPending(Connection& conn, const std::vector<Migration>& migrations,
                          std::string_view set) {
  auto created = conn.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " set_name VARCHAR(64) NOT NULL,"
      " version BIGINT NOT NULL,"
      " name VARCHAR(255) NOT NULL,"
      " checksum CHAR(64) NOT NULL,"
      " applied_at BIGINT NOT NULL,"
      " PRIMARY KEY (set_name, version))",
      {});
  if (!created.ok()) {
    return created.status();
  }
  auto applied = conn.Exec("SELECT version, checksum, name FROM schema_migrations WHERE set_name = ?",
                           {std::string(set)});
  if (!applied.ok()) {
    return applied.status();
  }
  for (const Migration& m : migrations) {
    const std::string checksum = Sha256Hex(m.script);
    auto it = std::find_if(applied->rows.begin(), applied->rows.end(),
                           [&](const Row& r) { return r.Int(0) == m.version; });
    if (it != applied->rows.end()) {
      if (it->Text(1) != checksum) {
        return absl::FailedPreconditionError(absl::StrCat(
            "migration ", m.name, " was changed after it was applied; add a new migration"));
      }
      continue;
    }
    RETURN_IF_ERROR(ApplyOne(conn, m, set, checksum));
    log::Info("applied migration", {{"set", set}, {"migration", m.name}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Migrate(Pool& pool, std::span<const EmbeddedFile> files, std::string_view set) {
  auto migrations = Parse(files);
  if (!migrations.ok()) {
    return migrations.status();
  }
  auto lease = pool.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  Connection& conn = **lease;
  const bool mysql = conn.dialect() == Dialect::kMySql;
  // Several replicas may start at once: one applies, the others wait and then find it done.
  if (mysql) {
    auto locked = conn.Exec("SELECT GET_LOCK('dj_schema_migrations', 120)", {});
    if (!locked.ok()) {
      return locked.status();
    }
    if (locked->rows.empty() || locked->rows[0].Int(0) != 1) {
      return absl::UnavailableError("timed out waiting for another process's migrations");
    }
  }
  absl::Status status = ApplyPending(conn, *migrations, set);
  if (mysql) {
    (void)conn.Exec("SELECT RELEASE_LOCK('dj_schema_migrations')", {});
  }
  return status;
}

}  // namespace dj::db
