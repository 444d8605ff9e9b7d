// Versioned rule sets, written once for every service: rules a city may set differently
// (structure limits, development periods, dues brackets, meeting frequencies, points) are data
// with an effective date. Version 0, the national default, ships with the service and is not
// stored; the work committee's versions are rows of the service's `rule_sets` table (kind,
// version, effective date, body as proto JSON). A version takes effect from today or later, so
// no decision ever ran under rules that changed afterwards. Every replica re-reads the versions
// at most every `refresh` (and at once after its own write).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authorize.h"
#include "common/db/pool.h"
#include "common/time/civil_date.h"
#include "google/type/date.pb.h"

namespace dj::rules {

// Rule sets apply to the whole tree. Reading them is allowed at the caller's own scope (the rules
// govern their subtree too); adding a version (action "create") needs the whole tree, and is
// refused as PERMISSION_DENIED below it. `why` gets the refusal's kind for the audit log.
absl::Status AuthorizeRuleSets(const auth::Principal& who, std::string_view action,
                               std::string* why = nullptr);

// One stored version as the table holds it: the body is the rule set's proto JSON.
struct StoredVersion {
  int32_t version = 0;
  time::CivilDate effective_date;
  std::string body;
  std::string note;
  std::string creator;
  int64_t create_time_us = 0;
};

// Every stored version of `kind`, newest effective date first.
absl::StatusOr<std::vector<StoredVersion>> LoadVersions(db::Connection& c, std::string_view kind);

// In the caller's transaction: stores `body` as the next version of `kind`, in force from
// `effective_date` (required, today or later, not a date another version has) with `note`
// (required, why: the document that sets them). Violations name "rule_set.effective_date" and
// "rule_set.note"; a concurrent add answers ABORTED CONCURRENT_CHANGE.
absl::StatusOr<StoredVersion> AddVersion(db::Connection& c, std::string_view kind,
                                         const google::type::Date* effective_date,
                                         std::string_view note, std::string body,
                                         std::string creator, const time::CivilDate& today,
                                         int64_t now_us);

template <typename Rules>
struct Version {
  int32_t version = 0;  // 0: the national default
  time::CivilDate effective_date;
  std::string note;
  Rules rules;
  int64_t create_time_us = 0;
  std::string creator;
};

// The version in force on `date` among `versions` (newest effective date first, as
// RuleBook::Versions gives them, the national default last); the last one when none is.
template <typename Rules>
const Version<Rules>& VersionOn(const std::vector<Version<Rules>>& versions,
                                const time::CivilDate& date) {
  for (const Version<Rules>& v : versions) {
    if (v.effective_date <= date) {
      return v;
    }
  }
  return versions.back();
}

// The rules of one kind in force on a date, over the stored versions and the national default.
template <typename Rules>
class RuleBook final {
 public:
  // Reads a stored body back into rules (a body that no longer parses is DATA_LOSS).
  using Parse = std::function<absl::StatusOr<Rules>(std::string_view body)>;

  RuleBook(db::Pool& pool, std::string kind, Version<Rules> national_default, Parse parse,
           std::function<int64_t()> now_us, std::chrono::seconds refresh = std::chrono::seconds(5))
      : pool_(pool),
        kind_(std::move(kind)),
        national_(std::move(national_default)),
        parse_(std::move(parse)),
        now_us_(std::move(now_us)),
        refresh_(refresh) {}

  const Version<Rules>& national_default() const { return national_; }

  time::CivilDate TodayDate() const { return time::ShanghaiDate(NowUs() / 1'000'000); }
  int64_t NowUs() const;

  // The rules in force on `date` (the versions read on `c` when given and due).
  absl::StatusOr<Rules> InForce(const time::CivilDate& date, db::Connection* c = nullptr) {
    auto versions = Versions(c);
    if (!versions.ok()) {
      return versions.status();
    }
    return VersionOn(*versions, date).rules;
  }
  absl::StatusOr<Rules> Today() { return InForce(TodayDate()); }
  // Inside a transaction: when the versions must be read again, they are read on `c` (a second
  // connection could wait behind the transactions that hold the others).
  absl::StatusOr<Rules> Today(db::Connection& c) { return InForce(TodayDate(), &c); }

  // Every version, newest first, version 0 last.
  absl::StatusOr<std::vector<Version<Rules>>> Versions(db::Connection* c = nullptr) {
    std::vector<Version<Rules>> stored;
    bool fresh = false;
    {
      std::lock_guard lock(mu_);
      if (versions_.has_value() && std::chrono::steady_clock::now() - loaded_at_ < refresh_) {
        stored = *versions_;
        fresh = true;
      }
    }
    if (!fresh) {
      auto loaded =
          c != nullptr ? Load(*c) : pool_.Run([&](db::Connection& own) { return Load(own); });
      if (!loaded.ok()) {
        return loaded.status();
      }
      std::lock_guard lock(mu_);
      versions_ = *loaded;
      loaded_at_ = std::chrono::steady_clock::now();
      stored = *std::move(loaded);
    }
    stored.push_back(national_);
    return stored;
  }

  // In the caller's transaction: adds `rules` (already validated; `body` is their JSON) as the
  // next version. Call Forget after the transaction commits.
  absl::StatusOr<Version<Rules>> Add(db::Connection& c, Rules rules, std::string body,
                                     const google::type::Date* effective_date,
                                     std::string_view note, std::string creator) {
    auto stored = AddVersion(c, kind_, effective_date, note, std::move(body), std::move(creator),
                             TodayDate(), NowUs());
    if (!stored.ok()) {
      return stored.status();
    }
    return Version<Rules>{.version = stored->version,
                          .effective_date = stored->effective_date,
                          .note = stored->note,
                          .rules = std::move(rules),
                          .create_time_us = stored->create_time_us,
                          .creator = stored->creator};
  }

  // Drops what was read, so the next call reads again (after a committed Add).
  void Forget() {
    std::lock_guard lock(mu_);
    versions_.reset();
  }

 private:
  absl::StatusOr<std::vector<Version<Rules>>> Load(db::Connection& c) {
    auto rows = LoadVersions(c, kind_);
    if (!rows.ok()) {
      return rows.status();
    }
    std::vector<Version<Rules>> out;
    for (StoredVersion& r : *rows) {
      auto rules = parse_(r.body);
      if (!rules.ok()) {
        return absl::DataLossError(std::string(kind_)
                                       .append(" rule set version ")
                                       .append(std::to_string(r.version))
                                       .append(" cannot be read"));
      }
      out.push_back({.version = r.version,
                     .effective_date = r.effective_date,
                     .note = std::move(r.note),
                     .rules = *std::move(rules),
                     .create_time_us = r.create_time_us,
                     .creator = std::move(r.creator)});
    }
    return out;
  }

  db::Pool& pool_;
  std::string kind_;
  Version<Rules> national_;
  Parse parse_;
  std::function<int64_t()> now_us_;
  std::chrono::seconds refresh_;
  std::mutex mu_;
  std::optional<std::vector<Version<Rules>>> versions_;  // guarded by mu_; stored ones only
  std::chrono::steady_clock::time_point loaded_at_;      // guarded by mu_
};

// The system clock unless `now_us` is set.
int64_t NowOr(const std::function<int64_t()>& now_us);

template <typename Rules>
int64_t RuleBook<Rules>::NowUs() const {
  return NowOr(now_us_);
}

}  // namespace dj::rules
