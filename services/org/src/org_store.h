// Repository for organizations and the units they cover: the only place in the org service with
// organization SQL. Writes take the caller's transaction connection; reads take their own
// connection from the pool. Rows come back with their joint units (one more query per call,
// however many rows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/time/civil_date.h"
#include "services/org/src/organization_rules.h"

namespace dj::org {

struct OrgRow {
  int64_t id = 0;
  std::optional<int64_t> parent_id;
  std::string path;  // "/root/.../id/"
  int32_t depth = 0;
  Kind kind = dangjian::org::v1::ORGANIZATION_KIND_UNSPECIFIED;
  std::string display_name;
  std::string unit;
  std::optional<time::CivilDate> established_date;
  dangjian::org::v1::OrganizationStatus status = dangjian::org::v1::ACTIVE;
  int64_t version = 1;
  std::optional<time::CivilDate> dissolved_date;  // set when DISSOLVED
  std::string dissolution_reason;
  std::optional<int64_t> merged_into;
  // Units a joint branch covers besides `unit`, in order (organization_joint_units); read with
  // the row, written by SetJointUnits.
  std::vector<int64_t> joint_units;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

// The path helpers every store of this service uses (common/db).
using db::PathIds;
using db::SubtreeUpperBound;

// The unique indexes the handlers answer with reasons of their own (db::DuplicateKeyOn); the
// schema names them alike in both dialects. A duplicate on any other (the primary key: an id
// collision) is answered generically (db::Generic).
inline constexpr std::string_view kOrgSiblingNameIndex = "uk_organizations_sibling_name";
inline constexpr std::string_view kOrgRequestIdIndex = "uk_organizations_request_id";

class OrgStore final {
 public:
  explicit OrgStore(db::Pool& pool) : pool_(pool) {}

  db::Pool& pool() { return pool_; }

  // What a read of one organization loads. kFull: every column and the joint units (for a
  // response, an event or a write). kPlace: the organization's columns without its joint units,
  // one query fewer, for callers that only place something in the tree (its path, kind, status)
  // — its joint_units are empty, so it must not become a response or an event.
  enum class Load { kFull, kPlace };

  // --- inside a transaction ---
  // `for_update` locks the row until the transaction ends.
  static absl::StatusOr<std::optional<OrgRow>> Find(db::Connection& c, int64_t id, bool for_update,
                                                    Load load = Load::kFull);
  static absl::StatusOr<std::optional<OrgRow>> FindByRequestId(db::Connection& c,
                                                               std::string_view request_id);
  static absl::Status Insert(db::Connection& c, const OrgRow& row, std::string_view request_id);
  // Writes every mutable column of `row` if the stored version is still `expected_version`;
  // false when it is not (a concurrent change).
  static absl::StatusOr<bool> Update(db::Connection& c, const OrgRow& row,
                                     int64_t expected_version);
  // Replaces the joint units of organization `id` with `unit_ids`, in that order.
  static absl::Status SetJointUnits(db::Connection& c, int64_t id,
                                    const std::vector<int64_t>& unit_ids);
  // Deletes the row and its joint units.
  static absl::Status Delete(db::Connection& c, int64_t id);
  static absl::StatusOr<std::vector<Kind>> ChildKinds(db::Connection& c, int64_t id);
  // Direct children that are still ACTIVE, by id.
  static absl::StatusOr<std::vector<OrgRow>> ActiveChildren(db::Connection& c, int64_t id);
  // Re-parents `row` under `new_parent` and rewrites the path and depth of its whole subtree
  // (the rows whose path starts with row.path) in one statement. Returns the subtree's ids.
  static absl::StatusOr<std::vector<int64_t>> MoveSubtree(db::Connection& c, const OrgRow& row,
                                                          const OrgRow& new_parent,
                                                          int64_t update_time_us);
  // Whether another organization under the same parent (or among the roots) has `name`.
  static absl::StatusOr<bool> SiblingNameTaken(db::Connection& c, std::optional<int64_t> parent,
                                               std::string_view name, int64_t except_id);

  // --- reads (on a connection of the caller's choosing: pool().Run, or its transaction's) ---
  // Children of `parent` (roots when nullopt) with id > after_id, by id.
  static absl::StatusOr<std::vector<OrgRow>> ListChildren(db::Connection& c,
                                                          std::optional<int64_t> parent,
                                                          int64_t after_id, int limit);
  // Every row strictly below `path`, depth first (by path), after `after_path`.
  static absl::StatusOr<std::vector<OrgRow>> ListDescendants(db::Connection& c,
                                                             const std::string& path,
                                                             const std::string& after_path,
                                                             int limit);
  // The same on a connection of the pool's own (tools and tests; handlers choose theirs).
  absl::StatusOr<std::optional<OrgRow>> Get(int64_t id, Load load = Load::kFull) {
    return pool_.Run([&](db::Connection& c) { return Find(c, id, /*for_update=*/false, load); });
  }
  absl::StatusOr<std::vector<OrgRow>> ListChildren(std::optional<int64_t> parent, int64_t after_id,
                                                   int limit) {
    return pool_.Run([&](db::Connection& c) { return ListChildren(c, parent, after_id, limit); });
  }
  absl::StatusOr<std::vector<OrgRow>> ListDescendants(const std::string& path,
                                                      const std::string& after_path, int limit) {
    return pool_.Run(
        [&](db::Connection& c) { return ListDescendants(c, path, after_path, limit); });
  }

 private:
  db::Pool& pool_;
};

}  // namespace dj::org
