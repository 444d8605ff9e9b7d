// The structure rules in force on a date: the versions the work committee added (table
// rule_sets) over the shipped national default. Every replica re-reads the versions at most
// every `refresh` (and at once after its own write), so a new version reaches all of them within
// that time; versions only take effect from today on, so no check ever ran under rules that
// changed afterwards.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "services/org/src/structure_rule_set.h"

namespace dj::org {

class RuleBook final {
 public:
  RuleBook(db::Pool& pool, std::function<int64_t()> now_us,
           std::chrono::seconds refresh = std::chrono::seconds(5));

  // The rules in force on `date` (read on `c` when given and due, as Versions).
  absl::StatusOr<StructureRules> InForce(const time::CivilDate& date, db::Connection* c = nullptr);
  // Today's rules (Asia/Shanghai).
  absl::StatusOr<StructureRules> Today();
  // The same inside a transaction: when the versions must be read again, they are read on `c`
  // (a second connection could wait behind the transactions that hold the others).
  absl::StatusOr<StructureRules> Today(db::Connection& c);
  time::CivilDate TodayDate() const;

  // Every version, newest first, version 0 last; read on `c` when given and due.
  absl::StatusOr<std::vector<RuleSetVersion>> Versions(db::Connection* c = nullptr);

  // In the caller's transaction: adds `in` as the next version, by `creator`. INVALID_ARGUMENT
  // naming the field for bad rules, an effective date before today or one already taken.
  absl::StatusOr<RuleSetVersion> Add(db::Connection& c,
                                     const dangjian::org::v1::StructureRuleSet& in,
                                     const std::string& creator);
  // Drops what was read, so the next call reads again (after a committed Add).
  void Forget();

 private:
  absl::StatusOr<std::vector<RuleSetVersion>> Load(db::Connection& c);

  db::Pool& pool_;
  std::function<int64_t()> now_us_;
  std::chrono::seconds refresh_;
  std::mutex mu_;
  std::optional<std::vector<RuleSetVersion>> versions_;  // guarded by mu_; stored ones only
  std::chrono::steady_clock::time_point loaded_at_;      // guarded by mu_
};

}  // namespace dj::org
