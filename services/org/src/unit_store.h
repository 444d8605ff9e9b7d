// Repository for units (机关单位): the only place with unit SQL. A unit's place in the tree is its
// parent organization's current path, joined in on every read (never copied into units), so it
// follows the organization when it moves. Every call runs on the connection it is given: the
// caller's transaction, or one connection for a read (db::Pool::Run).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "dangjian/org/v1/unit.pb.h"

namespace dj::org {

struct UnitRow {
  int64_t id = 0;
  int64_t parent_id = 0;  // the organization within whose subtree the unit is managed
  std::string display_name;
  std::string credit_code;  // upper case, checked
  dangjian::org::v1::UnitKind kind = dangjian::org::v1::UNIT_KIND_UNSPECIFIED;
  dangjian::org::v1::LeadershipMode leadership_mode =
      dangjian::org::v1::LEADERSHIP_MODE_UNSPECIFIED;
  std::string vertical_leading_body;  // set exactly when DUAL
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
  std::string parent_path;  // read only: organizations.path of parent_id, for authorization
};

// The unique indexes the handlers answer with reasons of their own (db::DuplicateKeyOn).
inline constexpr std::string_view kUnitCreditCodeIndex = "uk_units_credit_code";
inline constexpr std::string_view kUnitRequestIdIndex = "uk_units_request_id";

class UnitStore final {
 public:
  UnitStore() = delete;

  // --- inside a transaction ---
  // `for_update` locks the unit's row until the transaction ends.
  static absl::StatusOr<std::optional<UnitRow>> Find(db::Connection& c, int64_t id,
                                                     bool for_update);
  static absl::StatusOr<std::optional<UnitRow>> FindByRequestId(db::Connection& c,
                                                                std::string_view request_id);
  // The id of the unit holding `credit_code`, other than `except_id`.
  static absl::StatusOr<std::optional<int64_t>> CreditCodeHolder(db::Connection& c,
                                                                 std::string_view credit_code,
                                                                 int64_t except_id);
  static absl::Status Insert(db::Connection& c, const UnitRow& row, std::string_view request_id);
  // Writes the mutable columns if the stored version is still `expected_version`; false when it
  // is not (a concurrent change).
  static absl::StatusOr<bool> Update(db::Connection& c, const UnitRow& row,
                                     int64_t expected_version);
  // The parent organization's path of each of `ids` that exists (one query); missing ids are
  // absent from the map.
  static absl::StatusOr<std::map<int64_t, std::string>> ParentPaths(
      db::Connection& c, const std::vector<int64_t>& ids);
  // Whether any unit is managed by organization `org_id`.
  static absl::StatusOr<bool> AnyManagedBy(db::Connection& c, int64_t org_id);

  // --- reads ---
  // Units whose parent organization lies in the subtree at `path` (itself included) or is one of
  // `also_parents` (the ancestors of a scoped caller), with id > after_id, by id.
  static absl::StatusOr<std::vector<UnitRow>> ListInSubtree(
      db::Connection& c, const std::string& path, const std::vector<int64_t>& also_parents,
      int64_t after_id, int limit);
};

}  // namespace dj::org
