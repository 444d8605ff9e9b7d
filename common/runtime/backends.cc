// Opening the database, migrations, cache, ids and event bus from settings.
#include "common/runtime/backends.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/audit/audit_log.h"
#include "common/db/migrate.h"
#include "common/db/mysql_driver.h"
#include "common/db/sqlite_driver.h"
#include "common/db/url.h"
#include "common/events/redis_streams.h"
#include "common/runtime/log.h"
#include "common/runtime/service_main.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::runtime {

std::vector<Setting> BackendSettings(bool required) {
  std::vector<Setting> settings = {
      {"mysql-url", "", required,
       required ? "the service's database, mysql://user:pass@host:port/db"
                : "use MySQL instead of SQLite: mysql://user:pass@host:port/db",
       db::ValidateMySqlUrl},
      {"redis-url", "", required,
       required ? "the cache and event streams, redis://host:port/n"
                : "use Redis instead of the in-process cache: redis://host:port/n",
       db::ValidateRedisUrl},
      {"db-pool-size", "8", false, "most database connections open at once", ValidatePositiveInt},
      {"db-wait-seconds", "30", false, "how long start-up waits for the database",
       ValidatePositiveInt},
      {"cache-ttl-seconds", "300", false, "how long a cached entry lives", ValidatePositiveInt},
  };
  if (required) {
    Append(settings,
           {{"node-id", "", false,
             "this process's node id in the ids it makes, 0-1023, or a pod name ending in "
             "-<ordinal> (a StatefulSet's $(POD_NAME)); held in Redis while it runs, so a second "
             "process given it refuses to start. Empty: lease a free one",
             [](std::string_view v) { return ids::ParseNodeId(v).status(); }},
            {"node-lease-seconds", "30", false,
             "lifetime of the node id's lease in Redis, renewed every third of it; a process that "
             "cannot renew it in time exits",
             ValidatePositiveInt}});
  }
  return settings;
}

absl::StatusOr<Backends> OpenBackends(const BackendChoice& choice, SchemaFn schema) {
  Backends b;
  db::Dialect dialect = db::Dialect::kSqlite;
  if (!choice.mysql_url.empty()) {
    auto url = db::ParseMySqlUrl(choice.mysql_url);
    if (!url.ok()) {
      return url.status();
    }
    dialect = db::Dialect::kMySql;
    b.pool = std::make_unique<db::Pool>(db::NewMySqlDriver({.url = *url}),
                                        db::PoolOptions{.name = "main", .size = choice.pool_size});
    RETURN_IF_ERROR(b.pool->WaitUntilReachable(choice.db_wait));
  } else {
    b.pool = std::make_unique<db::Pool>(db::NewSqliteDriver({.path = choice.sqlite_path}),
                                        db::PoolOptions{.name = "main", .size = choice.pool_size});
    if (auto lease = b.pool->Acquire(); !lease.ok()) {
      return lease.status();
    }
  }
  // A service without tables of its own (schema null) still gets the outbox and the audit log.
  if (absl::Status s = schema == nullptr
                           ? absl::OkStatus()
                           : db::Migrate(*b.pool, schema(dialect),
                                         choice.service.empty() ? "service" : choice.service);
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("migrations: ", s.message()));
  }
  if (absl::Status s = db::Migrate(*b.pool, events::Schema(dialect), "events"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("events migrations: ", s.message()));
  }
  if (absl::Status s = db::Migrate(*b.pool, audit::Schema(dialect), "audit"); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("audit migrations: ", s.message()));
  }
  auto cache = cache::NewCache(choice.redis_url);
  if (!cache.ok()) {
    return cache.status();
  }
  b.cache = *std::move(cache);
  if (choice.node_lease != nullptr) {
    ids::NodeLease* lease = choice.node_lease;
    b.ids =
        std::make_unique<ids::IdGenerator>(lease->node_id(), nullptr, [lease] { lease->Check(); });
  } else {
    b.ids = std::make_unique<ids::IdGenerator>(ids::IdGenerator::DefaultNodeId());
  }
  const bool redis_events = !choice.redis_url.empty() && !choice.in_process_events;
  if (redis_events) {
    auto url = db::ParseRedisUrl(choice.redis_url);
    if (!url.ok()) {
      return url.status();
    }
    // Redis being down now is not an error: the relay keeps events in the outbox until it is up.
    auto bus = std::make_unique<events::RedisStreamsBus>(
        events::RedisStreamsOptions{.redis = {.url = *url}});
    bus->Start();
    b.bus = std::move(bus);
  } else {
    b.bus = events::NewInProcessBus();
  }
  b.relay = std::make_unique<events::OutboxRelay>(*b.pool, *b.bus);
  if (choice.start_relay) {
    b.relay->Start();
  }
  log::Info("backends ready", {{"database", b.pool->driver().Describe()},
                               {"cache", choice.redis_url.empty() ? "in-process" : "redis"},
                               {"events", redis_events ? "redis-streams" : "in-process"},
                               {"node_id", absl::StrCat(b.ids->node_id())}});
  return b;
}

Backends OpenBackendsOrExit(std::string_view service, const Config& config, SchemaFn schema) {
  const std::string name(absl::StripPrefix(AV(service), "dj-"));
  const auto db_wait = std::chrono::seconds(config.GetInt("db-wait-seconds"));
  // The node id first: a process refused one should not migrate anything.
  ids::NodeLeaseOptions lease_options{
      .service = std::string(service),
      .ttl = std::chrono::seconds(config.GetInt("node-lease-seconds")),
      .wait = db_wait};
  if (config.Has("node-id")) {
    lease_options.explicit_id = *ids::ParseNodeId(config.Get("node-id"));  // validated by Load
  }
  auto redis = cache::NewCache(config.Get("redis-url"));
  if (!redis.ok()) {
    ExitOnError(service, "DJ_REDIS_URL", redis.status());
  }
  auto lease = ids::NodeLease::Acquire(*std::move(redis), std::move(lease_options));
  if (!lease.ok()) {
    ExitOnError(
        service,
        lease.status().code() == absl::StatusCode::kUnavailable ? "DJ_REDIS_URL" : "DJ_NODE_ID",
        lease.status());
  }
  log::Info("node id held", {{"node_id", absl::StrCat((*lease)->node_id())},
                             {"source", config.Has("node-id") ? "DJ_NODE_ID" : "leased"}});
  auto b = OpenBackends({.service = name,
                         .mysql_url = config.Get("mysql-url"),
                         .redis_url = config.Get("redis-url"),
                         .pool_size = static_cast<int>(config.GetInt("db-pool-size")),
                         .db_wait = db_wait,
                         .node_lease = lease->get()},
                        schema);
  if (!b.ok()) {
    lease->reset();  // give the id back now, and stop its thread before exit
    ExitOnError(service, "DJ_MYSQL_URL", b.status());
  }
  b->node_lease = *std::move(lease);
  return *std::move(b);
}

}  // namespace dj::runtime
