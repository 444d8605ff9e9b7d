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
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

constexpr std::string_view kCollection = "organizations";

}  // namespace

StatisticsService::StatisticsService(db::Pool& pool, const auth::InternalAuth& auth,
                                     std::string audit_key, std::function<int64_t()> now_us)
    : orgs_(pool),
      store_(pool),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      now_us_(std::move(now_us)) {}

absl::StatusOr<pb::OrganizationStatistics> StatisticsService::Get(
    const auth::Principal& who, const pb::GetOrganizationStatisticsRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto root = orgs_.Get(*id, OrgStore::Load::kPlace);
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

  auto rows = store_.Subtree(path);
  if (!rows.ok()) {
    return rows.status();
  }
  auto memberships = store_.Memberships(path);
  if (!memberships.ok()) {
    return memberships.status();
  }
  const int64_t now = now_us_ ? now_us_() : time::NowMicros();
  auto placements = store_.Placements(path, time::ShanghaiDate(now / 1'000'000));
  if (!placements.ok()) {
    return placements.status();
  }

  pb::OrganizationStatistics out;
  out.set_name(absl::StrCat(request.name(), "/statistics"));
  std::map<int, int64_t> by_kind;
  std::map<int64_t, int64_t> by_unit;  // unit id (0: none) -> active organizations
  struct Tally {
    std::string display_name;
    int64_t organizations = 0;
    int64_t descendants = 0;
  };
  std::map<int64_t, Tally> by_community;  // 0: in no community
  for (const StatRow& r : *rows) {
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
      auto m = memberships->find(*it);
      if (m != memberships->end()) {
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

  std::vector<int64_t> unit_ids;
  for (const auto& [unit, count] : by_unit) {
    if (unit != 0) {
      unit_ids.push_back(unit);
    }
  }
  auto modes = store_.LeadershipModes(unit_ids);
  if (!modes.ok()) {
    return modes.status();
  }
  std::map<int, int64_t> by_mode;
  for (const auto& [unit, count] : by_unit) {
    pb::LeadershipMode mode = pb::LEADERSHIP_MODE_UNSPECIFIED;
    if (auto m = modes->find(unit); m != modes->end()) {
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
  out.set_pairings(placements->pairings);
  out.set_stations(placements->stations);
  out.set_residential_communities(placements->residential_communities);
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
