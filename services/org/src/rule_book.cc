#include "services/org/src/rule_book.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/time/clock.h"

namespace dj::org {

namespace pb = dangjian::org::v1;

namespace {
constexpr std::string_view kStructure = "structure";
}  // namespace

RuleBook::RuleBook(db::Pool& pool, std::function<int64_t()> now_us, std::chrono::seconds refresh)
    : pool_(pool), now_us_(std::move(now_us)), refresh_(refresh) {}

time::CivilDate RuleBook::TodayDate() const {
  return time::ShanghaiDate((now_us_ ? now_us_() : time::NowMicros()) / 1'000'000);
}

absl::StatusOr<std::vector<RuleSetVersion>> RuleBook::Load(db::Connection& c) {
  // SQL lives here rather than in a store of its own: one table, two statements.
  auto rows = c.Exec(
      "SELECT version, effective_date, body, note, creator, create_time_us FROM rule_sets "
      "WHERE rule_kind = ? ORDER BY effective_date DESC",
      {std::string(kStructure)});
  if (!rows.ok()) {
    return rows.status();
  }
  std::vector<RuleSetVersion> out;
  for (const db::Row& r : rows->rows) {
    auto body = RuleSetFromJson(r.Text(2));
    auto rules = body.ok() ? RulesFromProto(*body) : body.status();
    auto date = time::ParseIso(r.Text(1).substr(0, 10));
    if (!rules.ok() || !date.ok()) {
      return absl::DataLossError(
          absl::StrCat("structure rule set version ", r.Int(0), " cannot be read"));
    }
    out.push_back({.version = static_cast<int32_t>(r.Int(0)),
                   .effective_date = *date,
                   .note = r.Text(3),
                   .rules = *rules,
                   .create_time_us = r.Int(5),
                   .creator = r.Text(4)});
  }
  return out;
}

absl::StatusOr<std::vector<RuleSetVersion>> RuleBook::Versions(db::Connection* c) {
  std::vector<RuleSetVersion> stored;
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
  stored.push_back(NationalDefaultVersion());
  return stored;
}

absl::StatusOr<StructureRules> RuleBook::InForce(const time::CivilDate& date, db::Connection* c) {
  auto versions = Versions(c);
  if (!versions.ok()) {
    return versions.status();
  }
  for (const RuleSetVersion& v : *versions) {  // newest effective date first
    if (v.effective_date <= date) {
      return v.rules;
    }
  }
  return NationalDefaultVersion().rules;
}

absl::StatusOr<StructureRules> RuleBook::Today() { return InForce(TodayDate()); }

absl::StatusOr<StructureRules> RuleBook::Today(db::Connection& c) {
  return InForce(TodayDate(), &c);
}

absl::StatusOr<RuleSetVersion> RuleBook::Add(db::Connection& c, const pb::StructureRuleSet& in,
                                             const std::string& creator) {
  auto rules = RulesFromProto(in);
  if (!rules.ok()) {
    return rules.status();
  }
  auto date = time::FromProto(in.effective_date(), "rule_set.effective_date");
  if (!in.has_effective_date()) {
    return rpc::InvalidArgument({{"rule_set.effective_date", "required: from when they apply"}});
  }
  if (!date.ok()) {
    return date.status();
  }
  const time::CivilDate today = TodayDate();
  if (*date < today) {
    return rpc::InvalidArgument(
        {{"rule_set.effective_date", absl::StrCat("must be today (", time::ToIso(today),
                                                  ") or later: rules do not change the past")}});
  }
  if (in.note().empty() || in.note().size() > 800) {
    return rpc::InvalidArgument({{"rule_set.note",
                                  "required: why (e.g. the document that sets them), at most 200 "
                                  "characters"}});
  }
  auto existing = Load(c);
  if (!existing.ok()) {
    return existing.status();
  }
  int32_t version = 1;
  for (const RuleSetVersion& v : *existing) {
    if (v.effective_date == *date) {
      return rpc::InvalidArgument(
          {{"rule_set.effective_date",
            absl::StrCat("version ", v.version, " already takes effect on ", time::ToIso(*date))}});
    }
    version = std::max(version, v.version + 1);
  }
  RuleSetVersion added{.version = version,
                       .effective_date = *date,
                       .note = in.note(),
                       .rules = *rules,
                       .create_time_us = now_us_ ? now_us_() : time::NowMicros(),
                       .creator = creator};
  pb::StructureRuleSet body = ToProto(added);
  auto inserted = c.Exec(
      "INSERT INTO rule_sets (rule_kind, version, effective_date, body, note, creator, "
      "create_time_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {std::string(kStructure), int64_t{version}, time::ToIso(*date), RuleSetJson(body), in.note(),
       creator, added.create_time_us});
  if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
    return rpc::Error(absl::StatusCode::kAborted, "CONCURRENT_CHANGE",
                      "another version was added at the same time; read the versions and retry");
  }
  if (!inserted.ok()) {
    return inserted.status();
  }
  return added;
}

void RuleBook::Forget() {
  std::lock_guard lock(mu_);
  versions_.reset();
}

}  // namespace dj::org
