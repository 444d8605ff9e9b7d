// SQL for subtree statistics (organizations, community_organizations, units, pairings, stations).
#include "services/org/src/statistics_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dj::org {

absl::StatusOr<std::vector<StatRow>> StatisticsStore::Subtree(db::Connection& c,
                                                              const std::string& path) {
  auto result =
      c.Exec("SELECT id, path, kind, status, unit FROM organizations WHERE path >= ? AND path < ?",
             {path, SubtreeUpperBound(path)});
  if (!result.ok()) {
    return result.status();
  }
  std::vector<StatRow> out;
  out.reserve(result->rows.size());
  for (const db::Row& r : result->rows) {
    StatRow s;
    s.id = r.Int(0);
    s.path = r.Text(1);
    Kind kind;
    s.kind = dangjian::org::v1::OrganizationKind_Parse(r.Text(2), &kind)
                 ? kind
                 : dangjian::org::v1::ORGANIZATION_KIND_UNSPECIFIED;
    s.active = r.Text(3) == "ACTIVE";
    s.unit = r.Text(4);
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::map<int64_t, CommunityMembership>> StatisticsStore::Memberships(
    db::Connection& c, const std::string& path) {
  std::vector<db::Value> params = {path, SubtreeUpperBound(path)};
  std::vector<int64_t> ids = PathIds(path);
  for (int64_t id : ids) {
    params.emplace_back(id);  // the root and its ancestors
  }
  auto result = c.Execute(absl::StrCat("SELECT co.organization_id, co.community_id, c.display_name "
                                       "FROM community_organizations co "
                                       "JOIN communities c ON c.id = co.community_id "
                                       "JOIN organizations o ON o.id = co.organization_id "
                                       "WHERE (o.path >= ? AND o.path < ?) OR o.id IN (",
                                       db::Placeholders(ids.size()), ")"),
                          params);
  if (!result.ok()) {
    return result.status();
  }
  std::map<int64_t, CommunityMembership> out;
  for (const db::Row& r : result->rows) {
    out[r.Int(0)] = {r.Int(1), r.Text(2)};
  }
  return out;
}

absl::StatusOr<std::map<int64_t, std::string>> StatisticsStore::LeadershipModes(
    db::Connection& c, const std::vector<int64_t>& unit_ids) {
  std::map<int64_t, std::string> out;
  if (unit_ids.empty()) {
    return out;
  }
  // Ids are integers we parsed ourselves, so they are safe to inline; batches keep the
  // statement short.
  constexpr size_t kBatch = 500;
  for (size_t i = 0; i < unit_ids.size(); i += kBatch) {
    std::vector<int64_t> batch(
        unit_ids.begin() + static_cast<std::ptrdiff_t>(i),
        unit_ids.begin() + static_cast<std::ptrdiff_t>(std::min(unit_ids.size(), i + kBatch)));
    auto result = c.Exec(absl::StrCat("SELECT id, leadership_mode FROM units WHERE id IN (",
                                      absl::StrJoin(batch, ","), ")"),
                         {});
    if (!result.ok()) {
      return result.status();
    }
    for (const db::Row& r : result->rows) {
      out[r.Int(0)] = r.Text(1);
    }
  }
  return out;
}

absl::StatusOr<PlacementCounts> StatisticsStore::Placements(db::Connection& c,
                                                            const std::string& path,
                                                            const time::CivilDate& date) {
  const std::string day = time::ToIso(date);
  const std::string upper = SubtreeUpperBound(path);
  // A dissolved organization's ties may run until its dissolution date, which can lie ahead;
  // only active organizations count.
  const std::string active = dangjian::org::v1::OrganizationStatus_Name(dangjian::org::v1::ACTIVE);
  PlacementCounts out;
  auto pairings = c.Exec(
      "SELECT COUNT(*) FROM pairings p JOIN organizations o ON o.id = p.organization_id "
      "WHERE o.path >= ? AND o.path < ? AND o.status = ? AND p.start_date <= ? "
      "AND (p.end_date IS NULL OR p.end_date >= ?)",
      {path, upper, active, day, day});
  if (!pairings.ok()) {
    return pairings.status();
  }
  out.pairings = pairings->rows.empty() ? 0 : pairings->rows[0].Int(0);
  auto stations = c.Exec(
      "SELECT COUNT(*), COUNT(DISTINCT s.residential_community) FROM stations s "
      "JOIN organizations o ON o.id = s.organization_id "
      "WHERE o.path >= ? AND o.path < ? AND o.status = ? AND s.start_date <= ? "
      "AND (s.end_date IS NULL OR s.end_date >= ?)",
      {path, upper, active, day, day});
  if (!stations.ok()) {
    return stations.status();
  }
  if (!stations->rows.empty()) {
    out.stations = stations->rows[0].Int(0);
    out.residential_communities = stations->rows[0].Int(1);
  }
  return out;
}

}  // namespace dj::org
