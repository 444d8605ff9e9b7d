// The tree's version: the number of moves it has had, which is the event sequence of the
// "organizations" key (every OrganizationMoved is an event of the whole tree, so moves are
// applied in one order by every consumer). A path copied out of the database — a cached
// organization — carries the version it was read at; it is trusted only while no move has
// happened since, as every replica sees it: the version is published to the shared cache
// inside the move's transaction, before it commits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/cache/cache.h"
#include "common/db/pool.h"

namespace dj::org {

class TreeVersion final {
 public:
  // The event key of OrganizationMoved.
  static constexpr std::string_view kEventKey = "organizations";

  // `cache` may be null (no cache: nothing is copied out, so nothing needs a version).
  TreeVersion(db::Pool& pool, cache::Cache* cache) : pool_(pool), cache_(cache) {}

  // The version in the database, read on `c`. Read it before the rows it stamps: they then
  // reflect at least that many moves, so a stamp errs on the side of "stale".
  static absl::StatusOr<int64_t> Read(db::Connection& c);

  // Inside a move's transaction, after its event was appended: tells every replica. Before the
  // commit, so no replica can read the moved paths and still trust an older copy; a move that
  // then rolls back only makes older copies look stale (they are reloaded).
  void Publish(int64_t version);

  // The version every replica goes by: the cache's, or the database's when the cache has none
  // (then put back, unless a move put a newer one first). An error when the cache cannot be
  // reached: callers then trust no copy.
  absl::StatusOr<int64_t> Current();
  // The same, given the cache's value of CacheKey() as read together with a cached copy (one
  // round trip for both): that value when it is one, else as Current().
  absl::StatusOr<int64_t> Current(const std::optional<std::string>& cached);
  static std::string_view CacheKey();
  // The version in the cache key's value `cached`; nullopt when absent or not a number.
  static std::optional<int64_t> Parse(const std::optional<std::string>& cached);

  // A copied value with the version it was read at, and back (the cache's format).
  static std::string Stamp(int64_t version, std::string_view value);
  static bool Unstamp(std::string_view stamped, int64_t* version, std::string* value);

 private:
  db::Pool& pool_;
  cache::Cache* cache_;
};

}  // namespace dj::org
