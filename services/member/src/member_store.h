// Repository for member records, their stage history and status changes: all their SQL. Every
// call runs on the connection it is given (the caller's transaction, or one connection from
// db::Pool::Run for a read). Personal data arrives and leaves sealed (common/crypto/pii.h): the
// store never sees an ID number or a phone number in clear.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/db.h"
#include "common/time/civil_date.h"

namespace dj::member {

// A sealed personal identifier: the ciphertext, its blind index and its masked form.
struct SealedField {
  std::string sealed;  // "" when absent
  std::string index;
  std::string masked;
};

struct MemberRow {
  int64_t id = 0;
  int64_t organization_id = 0;
  std::string org_path;
  std::string display_name;
  int32_t gender = 0;
  std::string ethnicity;
  std::optional<time::CivilDate> birth_date;
  SealedField id_number;
  SealedField phone;
  std::string pii_key_id;
  int32_t education = 0;
  std::string work_unit;
  std::string job_title;
  int32_t category = 0;
  int32_t stage = 0;
  int32_t status = 0;
  std::optional<time::CivilDate> status_date;
  std::optional<time::CivilDate> application_date;
  std::optional<time::CivilDate> activist_date;
  std::optional<time::CivilDate> candidate_date;
  std::optional<time::CivilDate> join_date;
  std::optional<time::CivilDate> full_member_date;
  std::optional<time::CivilDate> probation_end_date;
  int32_t extensions = 0;
  int32_t extension_months = 0;
  bool party_affairs_cadre = false;
  std::string residence_community;
  std::optional<time::CivilDate> community_report_date;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

struct StageRow {
  int64_t member_id = 0;
  int32_t seq = 0;
  int32_t stage = 0;
  time::CivilDate date;
  int64_t approving_org_id = 0;
  std::vector<std::string> sponsors;  // "members/{id}"
  std::vector<std::string> contacts;
  int32_t extension_months = 0;
  std::string reason;
  std::string recorded_by;
  int64_t record_time_us = 0;
};

struct StatusChangeRow {
  int64_t member_id = 0;
  int32_t from_status = 0;
  int32_t to_status = 0;
  time::CivilDate date;
  std::string reason;
  std::string recorded_by;
  int64_t record_time_us = 0;
};

// What a list selects: an organization alone or its subtree, and optional filters (0/"": any).
struct MemberFilter {
  int64_t organization_id = 0;
  std::string org_path;  // the organization's path, for the subtree
  bool direct_only = false;
  std::string name_prefix;
  int32_t stage = 0;
  int32_t status = 0;
  int32_t category = 0;
};

// Keyset position: the last row of the previous page, by (display_name, id).
struct NameCursor {
  std::string display_name;
  int64_t id = 0;
};

// The unique indexes a duplicate key names (db::DuplicateKeyOn).
inline constexpr std::string_view kMemberRequestIdIndex = "uk_members_request_id";
inline constexpr std::string_view kIdNumberIndex = "uk_members_id_number";

class MemberStore final {
 public:
  MemberStore() = delete;

  static absl::StatusOr<std::optional<MemberRow>> Find(db::Connection& c, int64_t id,
                                                       bool for_update);
  static absl::StatusOr<std::optional<MemberRow>> FindByRequestId(db::Connection& c,
                                                                  std::string_view request_id);
  static absl::Status Insert(db::Connection& c, const MemberRow& row, std::string_view request_id);
  // Many new rows in a few multi-row statements (a spreadsheet import).
  static absl::Status InsertMany(db::Connection& c, const std::vector<MemberRow>& rows);
  // Which of the blind indexes `indexes` are registered already.
  static absl::StatusOr<std::set<std::string>> RegisteredIdNumbers(
      db::Connection& c, const std::vector<std::string>& indexes);
  // Writes every column but id, organization and request id if the stored version is still
  // `expected_version` (the row's version is the new one). False when it was not.
  static absl::StatusOr<bool> Update(db::Connection& c, const MemberRow& row,
                                     int64_t expected_version);

  // The member now belongs to organization `organization_id` at `org_path` (a transfer was
  // accepted): writes those, the new version and update time if the stored version is still
  // `expected_version`. False when it was not.
  static absl::StatusOr<bool> Reassign(db::Connection& c, int64_t id, int64_t organization_id,
                                       std::string_view org_path, int64_t expected_version,
                                       int64_t update_time_us);

  // A page of members matching `filter`, by display name then id, after `after`.
  static absl::StatusOr<std::vector<MemberRow>> List(db::Connection& c, const MemberFilter& filter,
                                                     const std::optional<NameCursor>& after,
                                                     int limit);
  // Members whose id-number (or phone) blind index is `index`, in the subtree of `path`
  // ("" or "/": everywhere), at most `limit`.
  static absl::StatusOr<std::vector<MemberRow>> FindByIdNumberIndex(db::Connection& c,
                                                                    std::string_view index,
                                                                    std::string_view path);
  static absl::StatusOr<std::vector<MemberRow>> FindByPhoneIndex(db::Connection& c,
                                                                 std::string_view index,
                                                                 std::string_view path, int limit);
  // PROBATIONARY members with status NORMAL/MOBILE in the subtree of `path` whose probation ends
  // on or before `until`, by end date and id, after (date, id).
  static absl::StatusOr<std::vector<MemberRow>> DueConversions(
      db::Connection& c, std::string_view path, const time::CivilDate& until,
      const std::optional<std::pair<time::CivilDate, int64_t>>& after, int limit);

  // FULL members in good standing (NORMAL, MOBILE) in the subtree of `path` who became full
  // members in [from, to], by that date and id, after (date, id).
  static absl::StatusOr<std::vector<MemberRow>> FullMembersBetween(
      db::Connection& c, std::string_view path, const time::CivilDate& from,
      const time::CivilDate& to, const std::optional<std::pair<time::CivilDate, int64_t>>& after,
      int limit);
  // Members with `status` in the subtree of `path`, by the date of that status and id.
  static absl::StatusOr<std::vector<MemberRow>> WithStatus(
      db::Connection& c, std::string_view path, int32_t status,
      const std::optional<std::pair<time::CivilDate, int64_t>>& after, int limit);

  // Imports by request key: how many rows the first call registered, if there was one.
  static absl::StatusOr<std::optional<int64_t>> FindImport(db::Connection& c,
                                                           std::string_view request_key);
  static absl::Status InsertImport(db::Connection& c, std::string_view request_key,
                                   int64_t organization_id, int64_t imported, int64_t now_us);

  // Stages: the next seq is the count + 1 (the member's row is locked by the caller).
  static absl::Status AppendStage(db::Connection& c, StageRow row);
  // The first stages of new members (each row's seq as given), in multi-row statements.
  static absl::Status InsertStages(db::Connection& c, const std::vector<StageRow>& rows);
  static absl::StatusOr<std::vector<StageRow>> Stages(db::Connection& c, int64_t member_id);
  static absl::Status AppendStatusChange(db::Connection& c, const StatusChangeRow& row);

  // An organization's subtree moved: every member path starting with `old_prefix` starts with
  // `new_prefix` instead. Returns how many rows changed.
  static absl::StatusOr<int64_t> RewritePaths(db::Connection& c, std::string_view old_prefix,
                                              std::string_view new_prefix);

  // Rows sealed under another key than `current_key_id`, by id after `after_id` (re-encryption).
  static absl::StatusOr<std::vector<MemberRow>> SealedUnderOtherKeys(
      db::Connection& c, std::string_view current_key_id, int64_t after_id, int limit);
  // Writes the sealed fields and key id of `row` (re-encryption), whatever its version.
  static absl::Status UpdateSealed(db::Connection& c, const MemberRow& row);
};

}  // namespace dj::member
