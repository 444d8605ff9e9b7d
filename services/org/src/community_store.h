// Repository for communities (党建共同体), pairings (结对) and stations (进驻社区): the only place
// with SQL on their tables. Every call runs on the connection it is given: the caller's
// transaction, or one connection for a read (db::Pool::Run). Organizations themselves are read
// through OrgStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/time/civil_date.h"
#include "dangjian/org/v1/community.pb.h"

namespace dj::org {

struct CommunityRow {
  int64_t id = 0;
  std::string display_name;
  // The deepest organization containing all of its organizations (where it sits for scope).
  int64_t scope_org_id = 0;
  int64_t lead_org_id = 0;
  std::vector<int64_t> member_org_ids;  // in the order given
  std::vector<dangjian::org::v1::Partner> partners;
  dangjian::org::v1::Liaison liaison;
  std::vector<dangjian::org::v1::JointMechanism> mechanisms;  // by enum value
  std::vector<dangjian::org::v1::Brand> brands;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

// An organization that already belongs to a community.
struct Membership {
  int64_t organization_id = 0;
  int64_t community_id = 0;
  std::string community_display_name;
  // The path of that community's scope organization, to tell whether the caller may read it.
  std::string community_scope_path;
};

// Pairings and stations have the same shape: an organization tied to something outside it for a
// period. Only the columns describing the other side differ.
struct TieTable {
  std::string_view name;              // the table, also the collection: "pairings"
  std::string_view detail_columns;    // comma-separated, in the order of Tie::details
  std::string_view request_id_index;  // its unique index on request_id (db::DuplicateKeyOn)
};
inline constexpr TieTable kPairingsTable{
    "pairings", "partner_display_name,partner_kind,partner_contact", "uk_pairings_request_id"};
inline constexpr TieTable kStationsTable{"stations", "residential_community",
                                         "uk_stations_request_id"};

// The unique indexes the handlers answer with reasons of their own (db::DuplicateKeyOn).
inline constexpr std::string_view kCommunityNameIndex = "uk_communities_scope_display_name";
inline constexpr std::string_view kCommunityMembershipIndex =
    "uk_community_organizations_organization";
inline constexpr std::string_view kCommunityRequestIdIndex = "uk_communities_request_id";

struct Tie {
  int64_t id = 0;
  int64_t organization_id = 0;
  std::vector<std::string> details;  // one per TieTable::detail_columns
  time::CivilDate start_date;
  std::optional<time::CivilDate> end_date;
  std::string note;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

class CommunityStore final {
 public:
  CommunityStore() = delete;

  // --- communities, inside a transaction ---
  static absl::StatusOr<std::optional<CommunityRow>> Find(db::Connection& c, int64_t id,
                                                          bool for_update);
  static absl::StatusOr<std::optional<CommunityRow>> FindByRequestId(db::Connection& c,
                                                                     std::string_view request_id);
  // The id of another community (not `except_id`) placed at `scope_org_id` and called
  // `display_name`, if any (names are unique per scope organization).
  static absl::StatusOr<std::optional<int64_t>> NameTakenBy(db::Connection& c,
                                                            std::string_view display_name,
                                                            int64_t scope_org_id,
                                                            int64_t except_id);
  // Which of `org_ids` belong to a community other than `except_id`.
  static absl::StatusOr<std::vector<Membership>> Memberships(db::Connection& c,
                                                             const std::vector<int64_t>& org_ids,
                                                             int64_t except_id);
  static absl::Status Insert(db::Connection& c, const CommunityRow& row,
                             std::string_view request_id);
  // Writes `row` (its lists replaced whole) if the stored version is still `expected_version`;
  // false when it is not.
  static absl::StatusOr<bool> Update(db::Connection& c, const CommunityRow& row,
                                     int64_t expected_version);
  static absl::Status Delete(db::Connection& c, int64_t id);
  // Communities with an organization in the subtree at `path` (itself included), by id.
  static absl::StatusOr<std::vector<int64_t>> CommunitiesUnder(db::Connection& c,
                                                               const std::string& path);
  // The paths of community `id`'s organizations, as they are now.
  static absl::StatusOr<std::vector<std::string>> OrganizationPaths(db::Connection& c, int64_t id);
  // Places community `id` at `scope_org_id` (a new version) unless it is there already; whether
  // it moved.
  static absl::StatusOr<bool> SetScope(db::Connection& c, int64_t id, int64_t scope_org_id,
                                       int64_t update_time_us);

  // --- communities, reads ---
  // Communities whose scope organization lies in the subtree at `path` (itself included) and,
  // with `members_also` (the ancestors on `path`), those with an organization in that subtree
  // or among those ancestors; id > after_id, by id.
  static absl::StatusOr<std::vector<CommunityRow>> List(
      db::Connection& c, const std::string& path,
      const std::optional<std::vector<int64_t>>& members_also, int64_t after_id, int limit);

  // --- pairings and stations ---
  static absl::StatusOr<std::optional<Tie>> FindTie(db::Connection& c, const TieTable& table,
                                                    int64_t id, bool for_update);
  static absl::StatusOr<std::optional<Tie>> FindTieByRequestId(db::Connection& c,
                                                               const TieTable& table,
                                                               std::string_view request_id);
  static absl::Status InsertTie(db::Connection& c, const TieTable& table, const Tie& tie,
                                std::string_view request_id);
  // Writes end_date, version and update time if the stored version is still `expected_version`.
  static absl::StatusOr<bool> UpdateTieEnd(db::Connection& c, const TieTable& table, const Tie& tie,
                                           int64_t expected_version);
  // Ties of organizations in the subtree at `path` (itself included), with id > after_id, by
  // id; unless `include_ended`, only those current on `today` (no end date, or not yet passed).
  static absl::StatusOr<std::vector<Tie>> ListTies(db::Connection& c, const TieTable& table,
                                                   const std::string& path, time::CivilDate today,
                                                   bool include_ended, int64_t after_id, int limit);

  // --- what an organization's dissolution (or deletion) meets, inside its transaction ---
  // The community `organization_id` leads, if any (a locking read).
  static absl::StatusOr<std::optional<Membership>> LedBy(db::Connection& c,
                                                         int64_t organization_id);
  // Takes `organization_id` out of the community it is a MEMBER of, if any: the members after it
  // move up one position (members stay at 1..N), and the community gets a new version stamped
  // `update_time_us`. Returns that community's id.
  static absl::StatusOr<std::optional<int64_t>> LeaveAsMember(db::Connection& c,
                                                              int64_t organization_id,
                                                              int64_t update_time_us);
  // Ends the ties of `organization_id` still in force after `date` (no end date, or a later
  // one): they end on `date`, or on their start when that is later; a new version each. Returns
  // how many.
  static absl::StatusOr<int64_t> EndTiesOf(db::Connection& c, const TieTable& table,
                                           int64_t organization_id, const time::CivilDate& date,
                                           int64_t update_time_us);
  // How many ties `organization_id` has, ended ones included.
  static absl::StatusOr<int64_t> CountTiesOf(db::Connection& c, const TieTable& table,
                                             int64_t organization_id);
};

}  // namespace dj::org
