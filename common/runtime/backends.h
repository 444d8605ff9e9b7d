// What a service's handlers stand on — database pool (migrated), cache, id generator — opened
// once from settings, the same way for every service.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/cache/cache.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "common/runtime/config.h"
#include "common/runtime/embedded_file.h"

namespace dj::runtime {

struct Backends {
  std::unique_ptr<db::Pool> pool;
  std::unique_ptr<cache::Cache> cache;  // null when no cache is configured
  std::unique_ptr<ids::IdGenerator> ids;
};

// mysql-url, redis-url, db-pool-size, db-wait-seconds, cache-ttl-seconds.
std::vector<Setting> BackendSettings();

// Connects (waiting up to db-wait-seconds for the database), applies `migrations`, and connects
// the cache; on failure prints one line naming the setting at fault and exits.
Backends OpenBackendsOrExit(std::string_view service, const Config& config,
                            std::span<const EmbeddedFile> migrations);

}  // namespace dj::runtime
