// The structure rules in force on a date: the versions the work committee added (table
// rule_sets, kind "structure") over the shipped national default, through the suite's one
// versioned rule book (common/rules/rule_book.h).
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/rules/rule_book.h"
#include "services/org/src/structure_rule_set.h"

namespace dj::org {

class RuleBook final {
 public:
  RuleBook(db::Pool& pool, std::function<int64_t()> now_us,
           std::chrono::seconds refresh = std::chrono::seconds(5));

  // The rules in force on `date` (read on `c` when given and due, as Versions).
  absl::StatusOr<StructureRules> InForce(const time::CivilDate& date, db::Connection* c = nullptr) {
    return book_.InForce(date, c);
  }
  // Today's rules (Asia/Shanghai).
  absl::StatusOr<StructureRules> Today() { return book_.Today(); }
  // The same inside a transaction (the versions read on `c` when due).
  absl::StatusOr<StructureRules> Today(db::Connection& c) { return book_.Today(c); }
  time::CivilDate TodayDate() const { return book_.TodayDate(); }

  // Every version, newest first, version 0 last; read on `c` when given and due.
  absl::StatusOr<std::vector<RuleSetVersion>> Versions(db::Connection* c = nullptr) {
    return book_.Versions(c);
  }

  // In the caller's transaction: adds `in` as the next version, by `creator`. INVALID_ARGUMENT
  // naming the field for bad rules, an effective date before today or one already taken.
  absl::StatusOr<RuleSetVersion> Add(db::Connection& c,
                                     const dangjian::org::v1::StructureRuleSet& in,
                                     const std::string& creator);
  // Drops what was read, so the next call reads again (after a committed Add).
  void Forget() { book_.Forget(); }

 private:
  rules::RuleBook<StructureRules> book_;
};

}  // namespace dj::org
