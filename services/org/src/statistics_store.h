// Reads for subtree statistics: the only SQL behind StatisticsService. Everything is read in one
// snapshot-free pass per table, on the connection given; the counting itself is plain C++ in
// statistics_service.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/time/civil_date.h"
#include "services/org/src/org_store.h"

namespace dj::org {

// One organization of a subtree, as much as counting needs.
struct StatRow {
  int64_t id = 0;
  std::string path;
  Kind kind = dangjian::org::v1::ORGANIZATION_KIND_UNSPECIFIED;
  bool active = true;
  std::string unit;  // "units/{id}" or ""
};

struct CommunityMembership {
  int64_t community_id = 0;
  std::string community_display_name;
};

struct PlacementCounts {
  int64_t pairings = 0;
  int64_t stations = 0;
  int64_t residential_communities = 0;
};

class StatisticsStore final {
 public:
  StatisticsStore() = delete;

  // Every organization whose path starts with `path` (the subtree, its root included).
  static absl::StatusOr<std::vector<StatRow>> Subtree(db::Connection& c, const std::string& path);
  // organization id -> its community, for the organizations in a community that lie in the
  // subtree at `path` or above it (an organization counts for its nearest one).
  static absl::StatusOr<std::map<int64_t, CommunityMembership>> Memberships(
      db::Connection& c, const std::string& path);
  // unit id -> leadership mode name ("DIRECT", "DUAL") for `unit_ids`.
  static absl::StatusOr<std::map<int64_t, std::string>> LeadershipModes(
      db::Connection& c, const std::vector<int64_t>& unit_ids);
  // Pairings and stations of organizations in the subtree in force on `date`.
  static absl::StatusOr<PlacementCounts> Placements(db::Connection& c, const std::string& path,
                                                    const time::CivilDate& date);
};

}  // namespace dj::org
