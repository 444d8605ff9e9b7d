// MemberRecords' development pipeline (one method per step, the stage history, conversions due)
// and membership status: each change locked, checked against the member rule set in force on
// its date, written with its stage or status row, audit row and event in one transaction.
#include "services/member/src/member_records.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/rpc/requests.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/member/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/development.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_validation.h"

namespace dj::member {

namespace pb = dangjian::member::v1;
using google::protobuf::util::TimeUtil;

// --- the pipeline ---

struct MemberRecords::Step {
  std::string_view action;  // audit action
  std::string_view name;
  std::string_view etag;
  Stage next = Stage::kUnspecified;  // kUnspecified: an extension
  const google::type::Date* date = nullptr;
  bool has_date = false;
  std::string_view approving_organization;
  const google::protobuf::RepeatedPtrField<std::string>* sponsors = nullptr;
  const google::protobuf::RepeatedPtrField<std::string>* contacts = nullptr;
  int32_t extension_months = 0;
  std::string_view reason;
};

absl::StatusOr<pb::Member> MemberRecords::Advance(const auth::Principal& who, const Step& step) {
  if (!step.has_date) {
    return rpc::InvalidArgument({{"date", "required: the date of the decision"}});
  }
  ASSIGN_OR_RETURN(const time::CivilDate date, time::FromProto(*step.date, "date"));
  const time::CivilDate today = Today();
  std::vector<int64_t> sponsor_ids;
  std::vector<std::string> sponsor_names, contact_names;
  for (const auto& [list, field, ids, names] :
       {std::tuple{step.sponsors, "sponsors", &sponsor_ids, &sponsor_names},
        std::tuple{step.contacts, "contacts", static_cast<std::vector<int64_t>*>(nullptr),
                   &contact_names}}) {
    if (list == nullptr) {
      continue;
    }
    for (int i = 0; i < list->size(); ++i) {
      const std::string f = absl::StrCat(field, "[", i, "]");
      ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(list->Get(i), kMembers, f));
      const std::string n = rpc::FormatName(kMembers, id);
      if (std::find(names->begin(), names->end(), n) != names->end()) {
        return rpc::InvalidArgument({{f, "is named twice"}});
      }
      names->push_back(n);
      if (ids != nullptr) {
        ids->push_back(id);
      }
    }
  }
  int64_t approving = 0;
  if (!step.approving_organization.empty()) {
    ASSIGN_OR_RETURN(approving, rpc::ParseName(step.approving_organization, kOrganizations,
                                               "approving_organization"));
    RETURN_IF_ERROR(
        OrganizationPath(org_paths_, who, step.approving_organization, "approving_organization")
            .status());
  }
  if (step.next == Stage::kUnspecified) {
    std::string reason;
    RETURN_IF_ERROR(TakeText(step.reason, "reason", 200, true, reason));
  }
  audit::Entry entry =
      audit::Recorder::For(who, std::string(step.action), std::string(step.name), "/");
  MemberRow changed;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(MemberRow row, LockMember(c, who, step.name, step.etag, "develop", entry));
    if (MembershipEnded(row.status)) {
      return rpc::WithViolation(
          rpc::Error(
              absl::StatusCode::kFailedPrecondition, "MEMBERSHIP_ENDED",
              absl::StrCat(AV(step.name), " is no longer a member (status ",
                           pb::MembershipStatus_Name(static_cast<pb::MembershipStatus>(row.status)),
                           ")")),
          {"name", "the membership has ended"});
    }
    ASSIGN_OR_RETURN(const MemberRules rules, rules_->InForce(date, &c));
    const PipelineState state = StateOf(row);
    if (step.next == Stage::kUnspecified) {
      RETURN_IF_ERROR(
          CheckExtension(rules.development, state, step.extension_months, date, today, ""));
      row.extensions += 1;
      row.extension_months += step.extension_months;
    } else {
      RETURN_IF_ERROR(CheckAdvance(rules.development, state, step.next, date,
                                   std::span<const std::string>(sponsor_names), today, ""));
      // Sponsors: full members in good standing of the same organization, not the person.
      for (size_t i = 0; i < sponsor_ids.size(); ++i) {
        const std::string f = absl::StrCat("sponsors[", i, "]");
        if (sponsor_ids[i] == row.id) {
          return rpc::InvalidArgument({{f, "cannot be the person themself"}});
        }
        ASSIGN_OR_RETURN(const std::optional<MemberRow> sponsor,
                         MemberStore::Find(c, sponsor_ids[i], false));
        if (!sponsor.has_value() || sponsor->organization_id != row.organization_id) {
          return rpc::InvalidArgument({{f, "must be a member of the same organization"}});
        }
        if (sponsor->stage != pb::FULL || sponsor->status != pb::NORMAL) {
          return rpc::InvalidArgument({{f, "must be a full member (正式党员) in good standing"}});
        }
      }
      switch (step.next) {
        case Stage::kActivist:
          row.activist_date = date;
          break;
        case Stage::kCandidate:
          row.candidate_date = date;
          break;
        case Stage::kProbationary:
          row.join_date = date;
          break;
        case Stage::kFull:
          row.full_member_date = date;
          break;
        default:
          break;
      }
      row.stage = static_cast<int32_t>(step.next);
    }
    row.probation_end_date = row.stage == pb::PROBATIONARY
                                 ? ProbationEnds(rules.development, StateOf(row))
                                 : std::nullopt;
    const int32_t from = static_cast<int32_t>(state.history.empty() ? Stage::kUnspecified
                                                                    : state.history.back().stage);
    row.version += 1;
    row.update_time_us = std::max(NowUs(), row.update_time_us + 1);
    ASSIGN_OR_RETURN(const bool written, MemberStore::Update(c, row, row.version - 1));
    if (!written) {
      return EtagMismatch(step.name);
    }
    RETURN_IF_ERROR(MemberStore::AppendStage(
        c, {.member_id = row.id,
            .stage = row.stage,
            .date = date,
            .approving_org_id = approving != 0 ? approving : row.organization_id,
            .sponsors = sponsor_names,
            .contacts = contact_names,
            .extension_months = step.extension_months,
            .reason = std::string(step.reason),
            .recorded_by = who.subject,
            .record_time_us = row.update_time_us}));
    pb::MemberStageChanged event;
    *event.mutable_member() = Snapshot(row);
    event.set_from_stage(static_cast<pb::Stage>(from));
    event.set_to_stage(static_cast<pb::Stage>(row.stage));
    *event.mutable_date() = time::ToProto(date);
    RETURN_IF_ERROR(PublishMemberEvent(c, ids_, row, NowUs(), event));
    changed = std::move(row);
    return absl::OkStatus();
  }));
  return Answer(who, changed, step.action);
}

absl::StatusOr<pb::Member> MemberRecords::AdmitActivistOp(const auth::Principal& who,
                                                          const pb::AdmitActivistRequest& r) {
  return Advance(who, {.action = "members.admit_activist",
                       .name = r.name(),
                       .etag = r.etag(),
                       .next = Stage::kActivist,
                       .date = &r.date(),
                       .has_date = r.has_date(),
                       .approving_organization = r.approving_organization(),
                       .contacts = &r.contacts()});
}

absl::StatusOr<pb::Member> MemberRecords::ApproveCandidateOp(const auth::Principal& who,
                                                             const pb::ApproveCandidateRequest& r) {
  return Advance(who, {.action = "members.approve_candidate",
                       .name = r.name(),
                       .etag = r.etag(),
                       .next = Stage::kCandidate,
                       .date = &r.date(),
                       .has_date = r.has_date(),
                       .approving_organization = r.approving_organization(),
                       .sponsors = &r.sponsors()});
}

absl::StatusOr<pb::Member> MemberRecords::AdmitProbationaryOp(
    const auth::Principal& who, const pb::AdmitProbationaryRequest& r) {
  return Advance(who, {.action = "members.admit_probationary",
                       .name = r.name(),
                       .etag = r.etag(),
                       .next = Stage::kProbationary,
                       .date = &r.date(),
                       .has_date = r.has_date(),
                       .approving_organization = r.approving_organization(),
                       .sponsors = &r.sponsors()});
}

absl::StatusOr<pb::Member> MemberRecords::ExtendProbationOp(const auth::Principal& who,
                                                            const pb::ExtendProbationRequest& r) {
  return Advance(who, {.action = "members.extend_probation",
                       .name = r.name(),
                       .etag = r.etag(),
                       .next = Stage::kUnspecified,
                       .date = &r.date(),
                       .has_date = r.has_date(),
                       .extension_months = r.months(),
                       .reason = r.reason()});
}

absl::StatusOr<pb::Member> MemberRecords::ConvertToFullOp(const auth::Principal& who,
                                                          const pb::ConvertToFullRequest& r) {
  return Advance(who, {.action = "members.convert_to_full",
                       .name = r.name(),
                       .etag = r.etag(),
                       .next = Stage::kFull,
                       .date = &r.date(),
                       .has_date = r.has_date(),
                       .approving_organization = r.approving_organization()});
}

absl::StatusOr<pb::ListStagesResponse> MemberRecords::Stages(const auth::Principal& who,
                                                             const pb::ListStagesRequest& request) {
  pb::GetMemberRequest get;
  get.set_name(request.parent());
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.parent(), kMembers, "parent"));
  ASSIGN_OR_RETURN(const std::optional<MemberRow> row,
                   pool_.Run([&](db::Connection& c) { return MemberStore::Find(c, id, false); }));
  if (!row.has_value()) {
    return MemberNotFound(request.parent());
  }
  audit::Entry entry = audit::Recorder::For(who, "members.stages", request.parent(), row->org_path);
  auth::CurrentPaths current(org_paths_);
  absl::Status allowed =
      auth::AuthorizeCopiedPath(who, "read", MemberResource(*row), row->organization_id,
                                MemberNotFound(request.parent()), &entry.detail, &current);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  ASSIGN_OR_RETURN(const std::vector<StageRow> stages,
                   pool_.Run([&](db::Connection& c) { return MemberStore::Stages(c, id); }));
  pb::ListStagesResponse out;
  for (const StageRow& s : stages) {
    pb::StageRecord* r = out.add_stages();
    r->set_stage(static_cast<pb::Stage>(s.stage));
    *r->mutable_date() = time::ToProto(s.date);
    r->set_approving_organization(rpc::FormatName(kOrganizations, s.approving_org_id));
    for (const std::string& n : s.sponsors) r->add_sponsors(n);
    for (const std::string& n : s.contacts) r->add_contacts(n);
    r->set_extension_months(s.extension_months);
    r->set_reason(s.reason);
    r->set_recorded_by(s.recorded_by);
    *r->mutable_record_time() = TimeUtil::MicrosecondsToTimestamp(s.record_time_us);
  }
  return out;
}

absl::StatusOr<pb::ListDueConversionsResponse> MemberRecords::DueConversions(
    const auth::Principal& who, const pb::ListDueConversionsRequest& request) {
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(request.organization(), kOrganizations, "organization"));
  if (request.within_days() < 0 || request.within_days() > 366) {
    return rpc::InvalidArgument({{"within_days", "must be 0-366 (30 when unset)"}});
  }
  const int32_t within = request.within_days() == 0 ? 30 : request.within_days();
  ASSIGN_OR_RETURN(const int32_t size, rpc::PageSize(request.page_size()));
  const std::string fingerprint = absl::StrCat("due|", org, "|", within);
  ASSIGN_OR_RETURN(const std::string cursor,
                   rpc::DecodePageToken(request.page_token(), fingerprint));
  std::optional<std::pair<time::CivilDate, int64_t>> after;
  if (!cursor.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(cursor, absl::MaxSplits('|', 1));
    auto d = time::ParseIso(parts.first);
    int64_t id = 0;
    if (!d.ok() || !absl::SimpleAtoi(parts.second, &id)) {
      return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
    }
    after = std::make_pair(*d, id);
  }
  ASSIGN_OR_RETURN(const std::string org_path,
                   MembersAt(who, request.organization(), "read", "members.due_conversions"));
  const std::string* path = &org_path;
  const time::CivilDate today = Today();
  ASSIGN_OR_RETURN(const time::CivilDate until, time::AddDays(today, within));
  ASSIGN_OR_RETURN(std::vector<MemberRow> rows, pool_.Run([&](db::Connection& c) {
    return MemberStore::DueConversions(c, *path, until, after, size + 1);
  }));
  const bool more = rpc::TrimPage(rows, size);
  pb::ListDueConversionsResponse out;
  for (const MemberRow& r : rows) {
    pb::DueConversion* d = out.add_conversions();
    *d->mutable_member() = ToProto(r);
    *d->mutable_probation_end_date() = time::ToProto(*r.probation_end_date);
    d->set_days_left(static_cast<int32_t>(time::DaysBetween(today, *r.probation_end_date)));
  }
  if (more && !rows.empty()) {
    out.set_next_page_token(rpc::EncodePageToken(
        fingerprint,
        absl::StrCat(time::ToIso(*rows.back().probation_end_date), "|", rows.back().id)));
  }
  return out;
}

absl::StatusOr<pb::Member> MemberRecords::ChangeStatus(const auth::Principal& who,
                                                       const pb::ChangeMemberStatusRequest& r) {
  if (r.status() == pb::MEMBERSHIP_STATUS_UNSPECIFIED ||
      !pb::MembershipStatus_IsValid(r.status())) {
    return rpc::InvalidArgument({{"status", "required: the new membership status"}});
  }
  if (!r.has_date()) {
    return rpc::InvalidArgument({{"date", "required: from when"}});
  }
  ASSIGN_OR_RETURN(const time::CivilDate date, time::FromProto(r.date(), "date"));
  if (date > Today()) {
    return rpc::InvalidArgument({{"date", "must not be in the future"}});
  }
  std::string reason;
  RETURN_IF_ERROR(TakeText(r.reason(), "reason", 200, true, reason));
  audit::Entry entry = audit::Recorder::For(who, "members.change_status", r.name(), "/");
  entry.detail = pb::MembershipStatus_Name(r.status());
  MemberRow changed;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(MemberRow row, LockMember(c, who, r.name(), r.etag(), "change_status", entry));
    if (MembershipEnded(row.status)) {
      return rpc::WithViolation(
          rpc::Error(
              absl::StatusCode::kFailedPrecondition, "STATUS_FINAL",
              absl::StrCat("the status ",
                           pb::MembershipStatus_Name(static_cast<pb::MembershipStatus>(row.status)),
                           " is final")),
          {"status", "cannot change after LEFT or DECEASED"});
    }
    if (r.status() == pb::TRANSFERRED_OUT) {
      return rpc::InvalidArgument(
          {{"status", "TRANSFERRED_OUT is set by a transfer out of the system (its receipt)"}});
    }
    if (row.status == r.status()) {
      return rpc::InvalidArgument({{"status", "is the member's status already"}});
    }
    if (row.status_date.has_value() && date < *row.status_date) {
      return rpc::InvalidArgument(
          {{"date", absl::StrCat("must not be before the last change of status (",
                                 time::ToIso(*row.status_date), ")")}});
    }
    const int32_t from = row.status;
    row.status = r.status();
    row.status_date = date;
    row.version += 1;
    row.update_time_us = std::max(NowUs(), row.update_time_us + 1);
    ASSIGN_OR_RETURN(const bool written, MemberStore::Update(c, row, row.version - 1));
    if (!written) {
      return EtagMismatch(r.name());
    }
    RETURN_IF_ERROR(MemberStore::AppendStatusChange(c, {.member_id = row.id,
                                                        .from_status = from,
                                                        .to_status = row.status,
                                                        .date = date,
                                                        .reason = reason,
                                                        .recorded_by = who.subject,
                                                        .record_time_us = row.update_time_us}));
    pb::MemberStatusChanged event;
    *event.mutable_member() = Snapshot(row);
    event.set_from_status(static_cast<pb::MembershipStatus>(from));
    event.set_to_status(static_cast<pb::MembershipStatus>(row.status));
    *event.mutable_date() = time::ToProto(date);
    RETURN_IF_ERROR(PublishMemberEvent(c, ids_, row, NowUs(), event));
    changed = std::move(row);
    return absl::OkStatus();
  }));
  return Answer(who, changed, "members.change_status");
}

}  // namespace dj::member
