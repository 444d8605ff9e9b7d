// What a service's handlers stand on — database pool (migrated), cache, id generator — opened
// once from settings, the same way for every service.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "common/cache/cache.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "common/runtime/config.h"
#include "common/runtime/embedded_file.h"

namespace dj::runtime {

struct Backends {
  std::unique_ptr<db::Pool> pool;
  std::unique_ptr<cache::Cache> cache;  // null when no cache is configured
  std::unique_ptr<ids::IdGenerator> ids;
  // Redis Streams when a Redis URL is given (and events are not kept in-process), else
  // in-process.
  std::unique_ptr<events::EventBus> bus;
  std::unique_ptr<events::OutboxRelay> relay;  // running (unless start_relay was false)
};

// A service's migrations for a dialect (services/<svc>/schema/<dialect>/).
using SchemaFn = std::span<const EmbeddedFile> (*)(db::Dialect);

struct BackendChoice {
  std::string service;      // "org": names its migration series, so services can share a database
  std::string mysql_url;    // set: MySQL/MariaDB
  std::string sqlite_path;  // else: this SQLite file
  std::string redis_url;    // set: Redis cache and Redis Streams events; else in-process ones
  // Events stay in-process even with a Redis URL: the embedded topology, whose services share
  // one process and need no broker between them.
  bool in_process_events = false;
  // False: the caller starts `relay` itself, after subscribing its consumers to an in-process
  // bus (which delivers only to those subscribed when it publishes).
  bool start_relay = true;
  int pool_size = 8;
  std::chrono::seconds db_wait{30};
};

// Connects (waiting up to db_wait for a MySQL server), applies the service's and the events'
// migrations, makes the cache, the id generator and the event bus (its consumers started), and
// starts the outbox relay. Errors say which part failed.
absl::StatusOr<Backends> OpenBackends(const BackendChoice& choice, SchemaFn schema);

// mysql-url, redis-url, db-pool-size, db-wait-seconds, cache-ttl-seconds. `required`: the
// distributed topology, where MySQL and Redis must be given; otherwise they are optional
// (the embedded topology's SQLite and in-process cache are used without them).
std::vector<Setting> BackendSettings(bool required = true);

// OpenBackends from those settings; on failure prints one line naming the setting at fault and
// exits.
Backends OpenBackendsOrExit(std::string_view service, const Config& config, SchemaFn schema);

}  // namespace dj::runtime
