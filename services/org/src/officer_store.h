// Repository for officers and terms: all their SQL. Every call runs on the connection it is
// given: the caller's transaction, or one connection for a read (db::Pool::Run). The organization
// row itself (existence, path, status) comes from OrgStore::Find in the same transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/time/civil_date.h"
#include "dangjian/org/v1/officer.pb.h"

namespace dj::org {

struct OfficerRow {
  int64_t id = 0;
  int64_t organization_id = 0;
  std::string member;  // "members/{id}"
  std::string member_display_name;
  dangjian::org::v1::OfficerRole role = dangjian::org::v1::OFFICER_ROLE_UNSPECIFIED;
  time::CivilDate start_date;
  std::optional<time::CivilDate> end_date;  // the last day; unset: open-ended
  std::string note;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

struct TermRow {
  int64_t id = 0;
  int64_t organization_id = 0;
  time::CivilDate start_date;
  int32_t term_years = 0;
  time::CivilDate planned_end_date;
  std::optional<time::CivilDate> end_date;  // unset: the current term
  int32_t shift_days = 0;
  std::string approval;
  std::string note;
  int32_t rule_set_version = 0;
  int64_t create_time_us = 0;
};

// A current term with the organization it belongs to, for the expiring-terms list.
struct ExpiringTermRow {
  TermRow term;
  std::string organization_display_name;
};

// Keyset positions for paging (the last row of the previous page).
struct OfficerCursor {
  int32_t role = 0;
  time::CivilDate start_date;
  int64_t id = 0;
};
struct DateCursor {
  time::CivilDate date;
  int64_t id = 0;
};

// The unique indexes on request_id, for a concurrent twin (db::DuplicateKeyOn).
inline constexpr std::string_view kOfficerRequestIdIndex = "uk_officers_request_id";
inline constexpr std::string_view kTermRequestIdIndex = "uk_terms_request_id";

class OfficerStore final {
 public:
  OfficerStore() = delete;

  // --- inside a transaction ---
  // The officer `id` of organization `organization_id` (nullopt when it has no such officer).
  static absl::StatusOr<std::optional<OfficerRow>> FindOfficer(db::Connection& c,
                                                               int64_t organization_id, int64_t id,
                                                               bool for_update);
  static absl::StatusOr<std::optional<OfficerRow>> FindOfficerByRequestId(
      db::Connection& c, std::string_view request_id);
  static absl::Status InsertOfficer(db::Connection& c, const OfficerRow& row,
                                    std::string_view request_id);
  // Writes end_date, version and update time if the stored version is still `expected_version`.
  static absl::StatusOr<bool> UpdateOfficer(db::Connection& c, const OfficerRow& row,
                                            int64_t expected_version);
  // Officers of `organization_id` in `role` whose period [start, end] (end unset: open) shares a
  // day with [from, to] (to unset: open), by start date.
  static absl::StatusOr<std::vector<OfficerRow>> Overlapping(
      db::Connection& c, int64_t organization_id, dangjian::org::v1::OfficerRole role,
      const time::CivilDate& from, const std::optional<time::CivilDate>& to);

  static absl::StatusOr<std::optional<TermRow>> CurrentTerm(db::Connection& c,
                                                            int64_t organization_id);
  static absl::StatusOr<std::optional<TermRow>> FindTermByRequestId(db::Connection& c,
                                                                    std::string_view request_id);
  static absl::Status InsertTerm(db::Connection& c, const TermRow& row,
                                 std::string_view request_id);
  // Ends the current term `id` on `end_date`, recording how far the election shifted it.
  static absl::Status CloseTerm(db::Connection& c, int64_t id, const time::CivilDate& end_date,
                                int32_t shift_days);

  // --- reads ---
  // Officers of an organization by role, start date and id, after `after`; only those current
  // on `today` (no end date, or one not before it) unless `include_ended`.
  static absl::StatusOr<std::vector<OfficerRow>> ListOfficers(
      db::Connection& c, int64_t organization_id, bool include_ended, const time::CivilDate& today,
      const std::optional<OfficerCursor>& after, int limit);
  // Terms of an organization, newest start first, after `after`.
  static absl::StatusOr<std::vector<TermRow>> ListTerms(db::Connection& c, int64_t organization_id,
                                                        const std::optional<DateCursor>& after,
                                                        int limit);
  // Current terms of ACTIVE organizations at or below `path` planned to end on or before
  // `until`, by planned end and id, after `after`.
  static absl::StatusOr<std::vector<ExpiringTermRow>> ListExpiring(
      db::Connection& c, const std::string& path, const time::CivilDate& until,
      const std::optional<DateCursor>& after, int limit);

  // --- what an organization's dissolution (or deletion) meets, inside its transaction ---
  // Ends the officers of `organization_id` still in office after `date` (no end date, or a later
  // one): they end on `date`, or on their start when that is later; a new version each. Returns
  // how many.
  static absl::StatusOr<int64_t> EndOfficersOf(db::Connection& c, int64_t organization_id,
                                               const time::CivilDate& date, int64_t update_time_us);
  // Ends the appointments of `member` ("members/{id}") still in office after `date`, in every
  // organization but `except_organization_id` (0: none excepted), as EndOfficersOf does. Returns
  // how many.
  static absl::StatusOr<int64_t> EndOfficersOfMember(db::Connection& c, std::string_view member,
                                                     int64_t except_organization_id,
                                                     const time::CivilDate& date,
                                                     int64_t update_time_us);
  // Ends the current term of `organization_id` on `date` (on its start when that is later).
  // Returns how many terms ended (0 or 1).
  static absl::StatusOr<int64_t> EndCurrentTermOf(db::Connection& c, int64_t organization_id,
                                                  const time::CivilDate& date);
  // How many officers and terms `organization_id` has, ended ones included.
  static absl::StatusOr<int64_t> CountOfficersOf(db::Connection& c, int64_t organization_id);
  static absl::StatusOr<int64_t> CountTermsOf(db::Connection& c, int64_t organization_id);
};

}  // namespace dj::org
