// What a service's handlers stand on — database pool (migrated), cache, id generator — opened
// once from settings, the same way for every service.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache/cache.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "common/ids/node_lease.h"
#include "common/runtime/config.h"
#include "common/runtime/embedded_file.h"

namespace dj::runtime {

struct Backends {
  // The node id the ids are made under, held while the process runs (distributed topology);
  // null when the process is alone on its databases and uses a fixed one (embedded). First, so
  // it is given back last.
  std::unique_ptr<ids::NodeLease> node_lease;
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
  // Set: ids are made under this lease's node id and stop when it is lost (the caller keeps it
  // alive, usually in Backends::node_lease). Else a fixed node id, IdGenerator::DefaultNodeId().
  ids::NodeLease* node_lease = nullptr;
};

// Connects (waiting up to db_wait for a MySQL server), applies the service's and the events'
// migrations, makes the cache, the id generator and the event bus (its consumers started), and
// starts the outbox relay. Errors say which part failed.
absl::StatusOr<Backends> OpenBackends(const BackendChoice& choice, SchemaFn schema);

// mysql-url, redis-url, db-pool-size, db-wait-seconds, cache-ttl-seconds. `required`: the
// distributed topology, where MySQL and Redis must be given, and also node-id and
// node-lease-seconds; otherwise they are optional (the embedded topology's SQLite and
// in-process cache are used without them, and its node id is fixed).
std::vector<Setting> BackendSettings(bool required = true);

// Leases the node id (node-id, or a free one) in Redis, then OpenBackends from those settings;
// on failure prints one line naming the setting at fault (DJ_NODE_ID when that id is held by
// another process) and exits.
Backends OpenBackendsOrExit(std::string_view service, const Config& config, SchemaFn schema);

}  // namespace dj::runtime
