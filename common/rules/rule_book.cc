// The stored half of versioned rule sets: the SQL of the `rule_sets` table, and the checks a new
// version's date and note pass, for every kind of rules.
#include "common/rules/rule_book.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"

namespace dj::rules {

int64_t NowOr(const std::function<int64_t()>& now_us) {
  return now_us ? now_us() : time::NowMicros();
}

absl::Status AuthorizeRuleSets(const auth::Principal& who, std::string_view action,
                               std::string* why) {
  const std::string path =
      action == "read" && who.scope_org != 0 ? absl::StrCat("/", who.scope_org, "/") : "/";
  return auth::AuthorizeOrHide(
      who, action, {"rule_sets", path, ""},
      rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                 "rule sets are changed for the whole tree, by a committee admin"),
      why);
}

absl::StatusOr<std::vector<StoredVersion>> LoadVersions(db::Connection& c, std::string_view kind) {
  auto rows = c.Exec(
      "SELECT version, effective_date, body, note, creator, create_time_us FROM rule_sets "
      "WHERE rule_kind = ? ORDER BY effective_date DESC",
      {std::string(kind)});
  if (!rows.ok()) {
    return rows.status();
  }
  std::vector<StoredVersion> out;
  for (const db::Row& r : rows->rows) {
    auto date = r.OptionalDate(1);
    if (!date.has_value()) {
      return absl::DataLossError(
          absl::StrCat(AV(kind), " rule set version ", r.Int(0), " has no effective date"));
    }
    out.push_back({.version = static_cast<int32_t>(r.Int(0)),
                   .effective_date = *date,
                   .body = r.Text(2),
                   .note = r.Text(3),
                   .creator = r.Text(4),
                   .create_time_us = r.Int(5)});
  }
  return out;
}

absl::StatusOr<StoredVersion> AddVersion(db::Connection& c, std::string_view kind,
                                         const google::type::Date* effective_date,
                                         std::string_view note, std::string body,
                                         std::string creator, const time::CivilDate& today,
                                         int64_t now_us) {
  if (effective_date == nullptr) {
    return rpc::InvalidArgument({{"rule_set.effective_date", "required: from when they apply"}});
  }
  auto date = time::FromProto(*effective_date, "rule_set.effective_date");
  if (!date.ok()) {
    return date.status();
  }
  if (*date < today) {
    return rpc::InvalidArgument(
        {{"rule_set.effective_date", absl::StrCat("must be today (", time::ToIso(today),
                                                  ") or later: rules do not change the past")}});
  }
  if (note.empty() || note.size() > 800) {
    return rpc::InvalidArgument({{"rule_set.note",
                                  "required: why (e.g. the document that sets them), at most 200 "
                                  "characters"}});
  }
  auto existing = LoadVersions(c, kind);
  if (!existing.ok()) {
    return existing.status();
  }
  int32_t version = 1;
  for (const StoredVersion& v : *existing) {
    if (v.effective_date == *date) {
      return rpc::InvalidArgument(
          {{"rule_set.effective_date",
            absl::StrCat("version ", v.version, " already takes effect on ", time::ToIso(*date))}});
    }
    version = std::max(version, v.version + 1);
  }
  StoredVersion added{.version = version,
                      .effective_date = *date,
                      .body = std::move(body),
                      .note = std::string(note),
                      .creator = std::move(creator),
                      .create_time_us = now_us};
  auto inserted = c.Exec(
      "INSERT INTO rule_sets (rule_kind, version, effective_date, body, note, creator, "
      "create_time_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {std::string(kind), int64_t{version}, time::ToIso(*date), added.body, added.note,
       added.creator, added.create_time_us});
  if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
    return rpc::Error(absl::StatusCode::kAborted, "CONCURRENT_CHANGE",
                      "another version was added at the same time; read the versions and retry");
  }
  if (!inserted.ok()) {
    return inserted.status();
  }
  return added;
}

}  // namespace dj::rules
