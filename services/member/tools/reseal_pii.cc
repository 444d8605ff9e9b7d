// dj-member-reseal: after a new key was put first in DJ_PII_KEYS, re-seals every member's ID and
// phone number under it (the member service's database: DJ_MYSQL_URL, or the embedded topology's
// SQLite file with --sqlite-path), then prints what it did. Safe to run while the service runs
// and to run again: rows already under the current key are left alone.
#include <cstdio>

#include "common/db/mysql_driver.h"
#include "common/db/pool.h"
#include "common/db/sqlite_driver.h"
#include "common/db/url.h"
#include "common/runtime/service_main.h"
#include "services/member/src/pii_reseal.h"
#include "services/member/src/settings.h"

int main(int argc, char** argv) {
  using dj::runtime::Setting;
  std::vector<Setting> settings = {
      {"mysql-url", "", false, "the member service's database (distributed topology)",
       dj::db::ValidateMySqlUrl},
      {"sqlite-path", "", false, "or its SQLite file (embedded: <data-dir>/member.db)"},
      {"audit-key", "", false, "the audit key, when the PII keys are derived from it"},
      {"pii-keys", "", false, "id=secret[,id=secret]: the first is the one to seal under"},
      {"pii-index-key", "", false, "the blind-index key (unchanged)"},
      {"batch", "500", false, "rows per transaction", dj::runtime::ValidatePositiveInt},
  };
  const auto config = dj::runtime::Init("dj-member-reseal", std::move(settings), argc, argv);
  std::unique_ptr<dj::db::Driver> driver;
  if (config.Has("mysql-url")) {
    auto url = dj::db::ParseMySqlUrl(config.Get("mysql-url"));
    if (!url.ok()) {
      dj::runtime::ExitOnError("dj-member-reseal", "DJ_MYSQL_URL", url.status());
    }
    driver = dj::db::NewMySqlDriver({.url = *url});
  } else if (config.Has("sqlite-path")) {
    driver = dj::db::NewSqliteDriver({.path = config.Get("sqlite-path")});
  } else {
    dj::runtime::ExitOnError("dj-member-reseal", "DJ_MYSQL_URL",
                             absl::InvalidArgumentError("give it, or --sqlite-path"));
  }
  auto vault = dj::member::PiiVaultFrom(config, config.Get("audit-key"));
  if (!vault.ok()) {
    dj::runtime::ExitOnError("dj-member-reseal", "DJ_PII_KEYS", vault.status());
  }
  dj::db::Pool pool(std::move(driver), {.name = "reseal", .size = 1});
  auto done = dj::member::ResealPii(pool, *vault, static_cast<int>(config.GetInt("batch")));
  if (!done.ok()) {
    dj::runtime::ExitOnError("dj-member-reseal", "re-sealing", done.status());
  }
  std::printf("re-sealed %lld member rows under key %s in %lld transactions\n",
              static_cast<long long>(done->rows), vault->current_key_id().c_str(),
              static_cast<long long>(done->batches));
  return 0;
}
