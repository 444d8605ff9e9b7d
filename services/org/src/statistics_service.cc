// Subtree statistics: one read of the subtree's rows, then counting in memory. An organization
// counts for the community of its nearest ancestor-or-self that is a community's lead or member
// (its path lists every ancestor id), so branches and groups count with their organ's community
// and nothing is counted twice.
#include "services/org/src/statistics_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

constexpr std::string_view kCollection = "organizations";

// What a subtree's statistics are counted from, read on one connection.
struct SubtreeRows {
  std::vector<StatRow> rows;
  std::map<int64_t, CommunityMembership> memberships;
  PlacementCounts placements;
};

absl::StatusOr<SubtreeRows> ReadSubtree(db::Connection& c, const std::string& path,
                                        const time::CivilDate& today) {
  SubtreeRows out;
  ASSIGN_OR_RETURN(out.rows, StatisticsStore::Subtree(c, path));
  ASSIGN_OR_RETURN(out.memberships, StatisticsStore::Memberships(c, path));
  ASSIGN_OR_RETURN(out.placements, StatisticsStore::Placements(c, path, today));
  return out;
}

// Counts the active organizations of `in` by kind and by community into `out`; returns the
// active organizations per unit id (0: none).
std::map<int64_t, int64_t> CountOrganizations(const SubtreeRows& in,
                                              pb::OrganizationStatistics& out) {
  std::map<int, int64_t> by_kind;
  std::map<int64_t, int64_t> by_unit;  // unit id (0: none) -> active organizations
  struct Tally {
    std::string display_name;
    int64_t organizations = 0;
    int64_t descendants = 0;
  };
  std::map<int64_t, Tally> by_community;  // 0: in no community
  for (const StatRow& r : in.rows) {
    if (!r.active) {
      out.set_dissolved(out.dissolved() + 1);
      continue;
    }
    out.set_total(out.total() + 1);
    ++by_kind[r.kind];
    int64_t unit = 0;
    if (!r.unit.empty()) {
      auto parsed = rpc::ParseName(r.unit, "units", "unit");
      unit = parsed.ok() ? *parsed : 0;
    }
    ++by_unit[unit];
    // Nearest ancestor-or-self in a community.
    const std::vector<int64_t> ids = PathIds(r.path);
    int64_t community = 0;
    bool self = false;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      auto m = in.memberships.find(*it);
      if (m != in.memberships.end()) {
        community = m->second.community_id;
        self = it == ids.rbegin();
        by_community[community].display_name = m->second.community_display_name;
        break;
      }
    }
    Tally& t = by_community[community];
    ++(self ? t.organizations : t.descendants);
  }
  for (const auto& [kind, count] : by_kind) {
    pb::KindCount* k = out.add_by_kind();
    k->set_kind(static_cast<pb::OrganizationKind>(kind));
    k->set_count(count);
  }
  for (const auto& [community, t] : by_community) {
    if (community == 0) {
      continue;  // listed last
    }
    pb::CommunityCount* c = out.add_by_community();
    c->set_community(rpc::FormatName("communities", community));
    c->set_display_name(t.display_name);
    c->set_organizations(t.organizations);
    c->set_descendants(t.descendants);
  }
  if (auto none = by_community.find(0); none != by_community.end()) {
    pb::CommunityCount* c = out.add_by_community();
    c->set_organizations(none->second.descendants + none->second.organizations);
  }
  return by_unit;
}

// Adds the active organizations per unit (`by_unit`) by the units' leadership modes (`modes`).
void CountLeadershipModes(const std::map<int64_t, int64_t>& by_unit,
                          const std::map<int64_t, std::string>& modes,
                          pb::OrganizationStatistics& out) {
  std::map<int, int64_t> by_mode;
  for (const auto& [unit, count] : by_unit) {
    pb::LeadershipMode mode = pb::LEADERSHIP_MODE_UNSPECIFIED;
    if (auto m = modes.find(unit); m != modes.end()) {
      pb::LeadershipMode parsed;
      if (pb::LeadershipMode_Parse(m->second, &parsed)) {
        mode = parsed;
      }
    }
    by_mode[mode] += count;
  }
  for (const auto& [mode, count] : by_mode) {
    pb::LeadershipModeCount* m = out.add_by_leadership_mode();
    m->set_leadership_mode(static_cast<pb::LeadershipMode>(mode));
    m->set_count(count);
  }
}

}  // namespace

StatisticsService::StatisticsService(db::Pool& pool, const auth::InternalAuth& auth,
                                     std::string audit_key, std::function<int64_t()> now_us)
    : pool_(pool),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      now_us_(std::move(now_us)) {}

absl::StatusOr<pb::OrganizationStatistics> StatisticsService::Get(
    const auth::Principal& who, const pb::GetOrganizationStatisticsRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.name(), kCollection, "name"));
  auto root = pool_.Run([&](db::Connection& c) {
    return OrgStore::Find(c, id, /*for_update=*/false, OrgStore::Load::kPlace);
  });
  if (!root.ok()) {
    return root.status();
  }
  const std::string path = root->has_value() ? (*root)->path : "";
  audit::Entry entry = audit::Recorder::For(who, "organizations.statistics", request.name(), path);
  absl::Status allowed =
      root->has_value() ? auth::AuthorizeOrHide(who, "read", {"organizations", path, ""},
                                                OrganizationNotFound(request.name()), &entry.detail)
                        : OrganizationNotFound(request.name());
  if (!allowed.ok()) {
    if (root->has_value()) {
      audit_.Refuse(std::move(entry), allowed);
    }
    return allowed;
  }

  const int64_t now = now_us_ ? now_us_() : time::NowMicros();
  const time::CivilDate today = time::ShanghaiDate(now / 1'000'000);
  auto subtree = pool_.Run([&](db::Connection& c) { return ReadSubtree(c, path, today); });
  if (!subtree.ok()) {
    return subtree.status();
  }
  pb::OrganizationStatistics out;
  out.set_name(absl::StrCat(request.name(), "/statistics"));
  const std::map<int64_t, int64_t> by_unit = CountOrganizations(*subtree, out);

  std::vector<int64_t> unit_ids;
  for (const auto& [unit, count] : by_unit) {
    if (unit != 0) {
      unit_ids.push_back(unit);
    }
  }
  auto modes =
      pool_.Run([&](db::Connection& c) { return StatisticsStore::LeadershipModes(c, unit_ids); });
  if (!modes.ok()) {
    return modes.status();
  }
  CountLeadershipModes(by_unit, *modes, out);
  out.set_pairings(subtree->placements.pairings);
  out.set_stations(subtree->placements.stations);
  out.set_residential_communities(subtree->placements.residential_communities);
  return out;
}

grpc::Status StatisticsService::GetOrganizationStatistics(
    grpc::ServerContext* context, const pb::GetOrganizationStatisticsRequest* request,
    pb::OrganizationStatistics* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Get(who, *request), response);
  });
}

}  // namespace dj::org
