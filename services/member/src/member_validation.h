// Checks of a member record as a person enters it, shared by the single create and update and
// by the spreadsheet import: each field trimmed and checked (naming "member.<field>"), the birth
// date and gender against the ID number, the stage with its dates. Plain C++ over the protos:
// no SQL, no gRPC.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rpc/requests.h"
#include "common/time/civil_date.h"
#include "dangjian/member/v1/member.pb.h"
#include "services/member/src/development.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_rules.h"
#include "services/member/src/member_store.h"

namespace dj::member {

inline constexpr int kMaxNameChars = 50;

// What a create or update takes: the row's plain fields, and the ID number and phone normalized
// and in clear (to be sealed; never logged).
struct Details {
  MemberRow row;
  std::string id_number;
  std::string phone;
};

// An optional date field of the request: absent, or a valid date (else naming `field`).
absl::StatusOr<std::optional<time::CivilDate>> OptionalDate(bool has, const google::type::Date& d,
                                                            std::string_view field);
void SetDate(const std::optional<time::CivilDate>& d, google::type::Date* out);
Gender GenderOf(int32_t g);
int32_t GenderProto(Gender g);
// The stage dates a record holds, in pipeline order, and the pipeline's view of it.
std::vector<StageEntry> HistoryOf(const MemberRow& row);
PipelineState StateOf(const MemberRow& row);
// Free text trimmed into `out` and checked.
absl::Status TakeText(std::string_view in, std::string_view field, int max_chars, bool required,
                      std::string& out);

// The fields an update may change (and those it refuses, with why), and those set in `in`.
const rpc::UpdatableFields& UpdatableMemberFields();
std::set<std::string> SetMemberFields(const dangjian::member::v1::Member& in);

// The fields of `in` named in `paths`, checked, into `d`.
absl::Status TakeDetails(const dangjian::member::v1::Member& in, const std::set<std::string>& paths,
                         const time::CivilDate& today, Details& d);
// The ID number's birth date and gender fill in what the record leaves out, and must agree with
// what it states.
absl::Status AgreeWithIdNumber(Details& d);
// A record registered at a stage: the dates up to it, strictly increasing, none in the future,
// the one of the stage itself (and for a member the date of joining) required, and the person
// old enough at the first of them.
absl::Status TakeStageDates(const dangjian::member::v1::Member& in, const DevelopmentRules& rules,
                            const time::CivilDate& today, MemberRow& row);

// Everything a new record takes from `in` but its organization and status: every field checked,
// agreeing with the ID number, the stage and its dates, the end of probation.
absl::StatusOr<Details> NewMemberDetails(const dangjian::member::v1::Member& in,
                                         const MemberRules& rules, const time::CivilDate& today);

}  // namespace dj::member
