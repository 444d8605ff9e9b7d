// Opening the database, migrations, cache and ids from settings.
#include "common/runtime/backends.h"

#include "common/db/migrate.h"
#include "common/db/mysql_driver.h"
#include "common/db/url.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"

namespace dj::runtime {

std::vector<Setting> BackendSettings() {
  return {
      {"mysql-url", "", true, "the service's database, mysql://user:pass@host:port/db",
       db::ValidateMySqlUrl},
      {"redis-url", "", true, "the cache, redis://host:port/n", db::ValidateRedisUrl},
      {"db-pool-size", "8", false, "most database connections open at once",
       ValidatePositiveInt},
      {"db-wait-seconds", "30", false, "how long start-up waits for the database",
       ValidatePositiveInt},
      {"cache-ttl-seconds", "300", false, "how long a cached entry lives", ValidatePositiveInt},
  };
}

Backends OpenBackendsOrExit(std::string_view service, const Config& config,
                            std::span<const EmbeddedFile> migrations) {
  Backends b;
  auto url = db::ParseMySqlUrl(config.Get("mysql-url"));
  if (!url.ok()) {
    ExitOnError(service, "DJ_MYSQL_URL", url.status());
  }
  b.pool = std::make_unique<db::Pool>(
      db::NewMySqlDriver({.url = *url}),
      db::PoolOptions{.name = "main", .size = static_cast<int>(config.GetInt("db-pool-size"))});
  if (absl::Status s =
          b.pool->WaitUntilReachable(std::chrono::seconds(config.GetInt("db-wait-seconds")));
      !s.ok()) {
    ExitOnError(service, "DJ_MYSQL_URL", s);
  }
  if (absl::Status s = db::Migrate(*b.pool, migrations); !s.ok()) {
    ExitOnError(service, "migrations", s);
  }
  auto redis = db::ParseRedisUrl(config.Get("redis-url"));
  if (!redis.ok()) {
    ExitOnError(service, "DJ_REDIS_URL", redis.status());
  }
  // Redis being down at start is not fatal: reads go to the database until it is back.
  b.cache = cache::NewRedisCache({.url = *redis});
  b.ids = std::make_unique<ids::IdGenerator>(ids::IdGenerator::DefaultNodeId());
  log::Info("backends ready", {{"database", b.pool->driver().Describe()}});
  return b;
}

}  // namespace dj::runtime
