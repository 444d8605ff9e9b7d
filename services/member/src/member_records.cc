// Member handlers: validate, authorize at the member's organization path, write with the audit
// row and the outbox event in one transaction, answer masked unless read_pii is granted.
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

// --- gRPC adapters: who is calling, then the operation, then the reply ---

#define DJ_MEMBER_RPC(Method, Request, Response, Call) \
  DJ_GRPC_HANDLER(MemberRecords, Method, pb::Request, Response, Call)

DJ_MEMBER_RPC(CreateMember, CreateMemberRequest, Pb, Create(who, *req))
DJ_MEMBER_RPC(GetMember, GetMemberRequest, Pb, Get(who, *req))
DJ_MEMBER_RPC(GetMyMember, GetMyMemberRequest, Pb, GetMine(who))
DJ_MEMBER_RPC(ListMembers, ListMembersRequest, pb::ListMembersResponse, List(who, *req))
DJ_MEMBER_RPC(SearchMembers, SearchMembersRequest, pb::SearchMembersResponse, Search(who, *req))
DJ_MEMBER_RPC(UpdateMember, UpdateMemberRequest, Pb, Update(who, *req))
DJ_MEMBER_RPC(AdmitActivist, AdmitActivistRequest, Pb, AdmitActivistOp(who, *req))
DJ_MEMBER_RPC(ApproveCandidate, ApproveCandidateRequest, Pb, ApproveCandidateOp(who, *req))
DJ_MEMBER_RPC(AdmitProbationary, AdmitProbationaryRequest, Pb, AdmitProbationaryOp(who, *req))
DJ_MEMBER_RPC(ExtendProbation, ExtendProbationRequest, Pb, ExtendProbationOp(who, *req))
DJ_MEMBER_RPC(ConvertToFull, ConvertToFullRequest, Pb, ConvertToFullOp(who, *req))
DJ_MEMBER_RPC(ListStages, ListStagesRequest, pb::ListStagesResponse, Stages(who, *req))
DJ_MEMBER_RPC(ListDueConversions, ListDueConversionsRequest, pb::ListDueConversionsResponse,
              DueConversions(who, *req))
DJ_MEMBER_RPC(ChangeMemberStatus, ChangeMemberStatusRequest, Pb, ChangeStatus(who, *req))
DJ_MEMBER_RPC(ImportMembers, ImportMembersRequest, pb::ImportMembersResponse, Import(who, *req))
DJ_MEMBER_RPC(ExportMembers, ExportMembersRequest, pb::ExportedFile, Export(who, *req))
DJ_MEMBER_RPC(ListStandingMilestones, ListStandingMilestonesRequest,
              pb::ListStandingMilestonesResponse, Milestones(who, *req))
DJ_MEMBER_RPC(GetMemberRules, GetMemberRulesRequest, pb::MemberRuleSet, RulesInForce(who, *req))
DJ_MEMBER_RPC(ListMemberRuleSets, ListMemberRuleSetsRequest, pb::ListMemberRuleSetsResponse,
              RuleSets(who))
DJ_MEMBER_RPC(CreateMemberRuleSet, CreateMemberRuleSetRequest, pb::MemberRuleSet,
              AddRuleSet(who, *req))

#undef DJ_MEMBER_RPC

MemberRecords::MemberRecords(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                             std::string audit_key, auth::OrgPathLookup org_paths,
                             const crypto::PiiVault& vault, std::function<int64_t()> now_us)
    : MemberHandlers(pool, ids, auth, std::move(audit_key), std::move(org_paths),
                     std::move(now_us)),
      vault_(vault),
      rules_(NewMemberRuleBook(pool, now_us_)) {}

MemberRecords::~MemberRecords() = default;

absl::StatusOr<int64_t> MemberRecords::FollowMove(db::Connection& c, std::string_view old_path,
                                                  std::string_view new_path) {
  return MemberStore::RewritePaths(c, old_path, new_path);
}

absl::StatusOr<std::string> MemberRecords::MembersAt(const auth::Principal& who,
                                                     std::string_view organization,
                                                     std::string_view action,
                                                     std::string_view audit_action) {
  if (organization.empty()) {
    return rpc::InvalidArgument({{"organization", "required: organizations/{id}"}});
  }
  RETURN_IF_ERROR(rpc::ParseName(organization, kOrganizations, "organization").status());
  ASSIGN_OR_RETURN(std::string path,
                   OrganizationPath(org_paths_, who, organization, "organization"));
  audit::Entry entry =
      audit::Recorder::For(who, std::string(audit_action), std::string(organization), path);
  absl::Status allowed =
      auth::AuthorizeOrHide(who, action, {std::string(kMembers), path, ""},
                            rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                                       absl::StrCat(AV(organization), " does not exist")),
                            &entry.detail);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  return path;
}

absl::StatusOr<std::string> MemberRecords::ScopePath(const auth::Principal& who) {
  if (who.scope_org == 0) {
    return std::string("/");
  }
  return org_paths_(who, rpc::FormatName(kOrganizations, who.scope_org));
}

bool MemberRecords::MayReadPii(const auth::Principal& who, const MemberRow& row) const {
  return auth::Authorize(who, "read_pii", MemberResource(row)).ok();
}

pb::Member MemberRecords::ToProto(const MemberRow& row) const {
  pb::Member m;
  m.set_name(rpc::FormatName(kMembers, row.id));
  m.set_display_name(row.display_name);
  m.set_gender(static_cast<pb::Gender>(row.gender));
  m.set_ethnicity(row.ethnicity);
  SetDate(row.birth_date, m.mutable_birth_date());
  m.set_id_number(row.id_number.masked);
  m.set_phone(row.phone.masked);
  m.set_pii_masked(true);
  m.set_education(static_cast<pb::Education>(row.education));
  m.set_work_unit(row.work_unit);
  m.set_job_title(row.job_title);
  m.set_organization(rpc::FormatName(kOrganizations, row.organization_id));
  m.set_category(static_cast<pb::MemberCategory>(row.category));
  m.set_stage(static_cast<pb::Stage>(row.stage));
  m.set_status(static_cast<pb::MembershipStatus>(row.status));
  SetDate(row.application_date, m.mutable_application_date());
  SetDate(row.activist_date, m.mutable_activist_date());
  SetDate(row.candidate_date, m.mutable_candidate_date());
  SetDate(row.join_date, m.mutable_join_date());
  SetDate(row.full_member_date, m.mutable_full_member_date());
  if (row.stage == pb::FULL && row.full_member_date.has_value()) {
    m.set_party_standing_years(PartyStandingYears(*row.full_member_date, Today()));
  }
  if (row.stage == pb::PROBATIONARY) {
    SetDate(row.probation_end_date, m.mutable_probation_end_date());
  }
  m.set_party_affairs_cadre(row.party_affairs_cadre);
  m.set_residence_community(row.residence_community);
  SetDate(row.community_report_date, m.mutable_community_report_date());
  m.set_etag(rpc::Etag(row.version));
  *m.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *m.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return m;
}

absl::StatusOr<pb::Member> MemberRecords::Answer(const auth::Principal& who, const MemberRow& row,
                                                 std::string_view action) {
  pb::Member m = ToProto(row);
  if (!MayReadPii(who, row)) {
    return m;
  }
  RETURN_IF_ERROR(InClear(row, m));
  const std::string& name = m.name();
  // A read of personal data in clear is recorded; if it cannot be, it is not served.
  audit::Entry entry = audit::Recorder::For(who, std::string(action), name, row.org_path);
  entry.detail = "id_number, phone in clear";
  RETURN_IF_ERROR(audit_.Record(entry, absl::OkStatus()));
  return m;
}

absl::Status MemberRecords::InClear(const MemberRow& row, pb::Member& m) const {
  const std::string name = rpc::FormatName(kMembers, row.id);
  if (!row.id_number.sealed.empty()) {
    ASSIGN_OR_RETURN(std::string id, vault_.Open(row.id_number.sealed, name + "/id_number"));
    m.set_id_number(std::move(id));
  }
  if (!row.phone.sealed.empty()) {
    ASSIGN_OR_RETURN(std::string phone, vault_.Open(row.phone.sealed, name + "/phone"));
    m.set_phone(std::move(phone));
  }
  m.set_pii_masked(false);
  return absl::OkStatus();
}

absl::Status MemberRecords::Seal(MemberRow& row, const std::string& id_number,
                                 const std::string& phone) const {
  const std::string name = rpc::FormatName(kMembers, row.id);
  row.pii_key_id = vault_.current_key_id();
  if (id_number.empty()) {
    row.id_number = {};
  } else {
    ASSIGN_OR_RETURN(row.id_number.sealed, vault_.Seal(id_number, name + "/id_number"));
    row.id_number.index = vault_.BlindIndex("id_number", id_number);
    row.id_number.masked = MaskIdNumber(id_number);
  }
  if (phone.empty()) {
    row.phone = {};
  } else {
    ASSIGN_OR_RETURN(row.phone.sealed, vault_.Seal(phone, name + "/phone"));
    row.phone.index = vault_.BlindIndex("phone", phone);
    row.phone.masked = MaskPhone(phone);
  }
  return absl::OkStatus();
}

// --- create ---

absl::StatusOr<pb::Member> MemberRecords::Create(const auth::Principal& who,
                                                 const pb::CreateMemberRequest& request) {
  if (!request.has_member()) {
    return rpc::InvalidArgument({{"member", "required"}});
  }
  const pb::Member& in = request.member();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"member.name", "is assigned by the service; leave it empty"}});
  }
  if (in.status() != pb::MEMBERSHIP_STATUS_UNSPECIFIED && in.status() != pb::NORMAL) {
    return rpc::InvalidArgument(
        {{"member.status", "a new record is NORMAL; change it afterwards with :changeStatus"}});
  }
  const time::CivilDate today = Today();
  ASSIGN_OR_RETURN(const MemberRules rules, rules_->InForce(today));
  ASSIGN_OR_RETURN(Details d, NewMemberDetails(in, rules, today));
  MemberRow& row = d.row;
  if (in.organization().empty()) {
    return rpc::InvalidArgument(
        {{"member.organization", "required: the organization the member belongs to"}});
  }
  ASSIGN_OR_RETURN(row.organization_id,
                   rpc::ParseName(in.organization(), kOrganizations, "member.organization"));
  ASSIGN_OR_RETURN(row.org_path,
                   OrganizationPath(org_paths_, who, in.organization(), "member.organization"));
  row.status = pb::NORMAL;
  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = NowUs();
  RETURN_IF_ERROR(Seal(row, d.id_number, d.phone));
  const std::string request_id = auth::IdempotencyKey(who, request.request_id());
  const std::string name = rpc::FormatName(kMembers, row.id);
  audit::Entry entry = audit::Recorder::For(who, "members.create", name, row.org_path);
  std::optional<MemberRow> earlier_row;
  ASSIGN_OR_RETURN(
      const std::optional<MemberRow> replay,
      rpc::CreateOnce<MemberRow>(
          audit_, pool_, entry,
          {.request_id = request_id,
           .what = "member",
           .request_id_index = kMemberRequestIdIndex,
           .find = MemberStore::FindByRequestId,
           .replay =
               [&](db::Connection&, const MemberRow& earlier, audit::Entry& e) {
                 e.resource = rpc::FormatName(kMembers, earlier.id);
                 e.org_path = earlier.org_path;
                 return auth::AuthorizeOrHide(who, "create", MemberResource(earlier),
                                              MemberNotFound(e.resource), &e.detail);
               },
           .write = [&](db::Connection& c, audit::Entry& e) -> absl::Status {
             RETURN_IF_ERROR(auth::AuthorizeOrHide(
                 who, "create", MemberResource(row),
                 rpc::WithViolation(
                     rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND",
                                absl::StrCat(in.organization(),
                                             " is outside your scope or does not exist")),
                     {"member.organization", "no such organization in your scope"}),
                 &e.detail));
             RETURN_IF_ERROR(MemberStore::Insert(c, row, request_id));
             for (const StageEntry& s : HistoryOf(row)) {
               RETURN_IF_ERROR(MemberStore::AppendStage(c, {.member_id = row.id,
                                                            .stage = static_cast<int32_t>(s.stage),
                                                            .date = s.date,
                                                            .approving_org_id = row.organization_id,
                                                            .reason = "registered with the record",
                                                            .recorded_by = who.subject,
                                                            .record_time_us = row.create_time_us}));
             }
             pb::MemberCreated created;
             *created.mutable_member() = Snapshot(row);
             return PublishMemberEvent(c, ids_, row, NowUs(), created);
           },
           .same =
               [&](const MemberRow& earlier) {
                 return earlier.display_name == row.display_name &&
                        earlier.organization_id == row.organization_id &&
                        earlier.id_number.index == row.id_number.index &&
                        earlier.stage == row.stage;
               },
           .explain = [&](absl::Status status) -> absl::Status {
             if (db::DuplicateKeyOn(status, kIdNumberIndex)) {
               // Says that the number is registered, never where: the record may be outside
               // the caller's scope.
               return rpc::WithViolation(
                   rpc::Error(absl::StatusCode::kAlreadyExists, "ID_NUMBER_REGISTERED",
                              "member.id_number: a member with this ID number is already "
                              "registered (a transfer moves a member between organizations)"),
                   {"member.id_number", "is already registered"});
             }
             return status;
           }}));
  return Answer(who, replay.has_value() ? *replay : row, "members.create");
}

// --- reads ---

absl::StatusOr<pb::Member> MemberRecords::Get(const auth::Principal& who,
                                              const pb::GetMemberRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.name(), kMembers, "name"));
  ASSIGN_OR_RETURN(const std::optional<MemberRow> row,
                   pool_.Run([&](db::Connection& c) { return MemberStore::Find(c, id, false); }));
  if (!row.has_value()) {
    return MemberNotFound(request.name());
  }
  audit::Entry entry = audit::Recorder::For(who, "members.read", request.name(), row->org_path);
  auth::CurrentPaths current(org_paths_);
  absl::Status allowed =
      auth::AuthorizeCopiedPath(who, "read", MemberResource(*row), row->organization_id,
                                MemberNotFound(request.name()), &entry.detail, &current);
  if (!allowed.ok()) {
    audit_.Refuse(std::move(entry), allowed);
    return allowed;
  }
  return Answer(who, *row, "members.read_pii");
}

absl::StatusOr<pb::Member> MemberRecords::GetMine(const auth::Principal& who) {
  if (who.member.empty()) {
    return rpc::Error(absl::StatusCode::kNotFound, "NO_MEMBER_RECORD",
                      "your account is not bound to a member record");
  }
  pb::GetMemberRequest request;
  request.set_name(who.member);
  return Get(who, request);
}

absl::StatusOr<pb::ListMembersResponse> MemberRecords::List(const auth::Principal& who,
                                                            const pb::ListMembersRequest& request) {
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(request.organization(), kOrganizations, "organization"));
  MemberFilter filter{.organization_id = org, .direct_only = request.direct_only()};
  RETURN_IF_ERROR(
      TakeText(request.name_prefix(), "name_prefix", kMaxNameChars, false, filter.name_prefix));
  for (const auto& [value, valid, field] :
       {std::tuple<int32_t, bool, const char*>{request.stage(), pb::Stage_IsValid(request.stage()),
                                               "stage"},
        {request.status(), pb::MembershipStatus_IsValid(request.status()), "status"},
        {request.category(), pb::MemberCategory_IsValid(request.category()), "category"}}) {
    if (!valid) {
      return rpc::InvalidArgument({{field, "must be a known value"}});
    }
  }
  filter.stage = request.stage();
  filter.status = request.status();
  filter.category = request.category();
  ASSIGN_OR_RETURN(const int32_t size, rpc::PageSize(request.page_size()));
  const std::string fingerprint =
      absl::StrCat("members|", org, "|", filter.direct_only, "|", filter.name_prefix, "|",
                   filter.stage, "|", filter.status, "|", filter.category);
  ASSIGN_OR_RETURN(const std::string cursor,
                   rpc::DecodePageToken(request.page_token(), fingerprint));
  std::optional<NameCursor> after;
  if (!cursor.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(cursor, absl::MaxSplits('\n', 1));
    int64_t id = 0;
    if (!absl::SimpleAtoi(parts.second, &id)) {
      return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
    }
    after = NameCursor{parts.first, id};
  }
  // The organization's current path, as the org service answers it for the caller (NOT_FOUND
  // outside their scope), and the right to read members there.
  ASSIGN_OR_RETURN(const std::string org_path,
                   MembersAt(who, request.organization(), "read", "members.list"));
  const std::string* path = &org_path;
  filter.org_path = org_path;
  ASSIGN_OR_RETURN(std::vector<MemberRow> rows, pool_.Run([&](db::Connection& c) {
    return MemberStore::List(c, filter, after, size + 1);
  }));
  const bool more = rpc::TrimPage(rows, size);
  pb::ListMembersResponse out;
  const bool pii = auth::Authorize(who, "read_pii", {std::string(kMembers), *path, ""}).ok();
  for (const MemberRow& r : rows) {
    if (pii) {
      // One audit row per page in clear, not per member.
      pb::Member m = ToProto(r);
      RETURN_IF_ERROR(InClear(r, m));
      *out.add_members() = std::move(m);
    } else {
      *out.add_members() = ToProto(r);
    }
  }
  if (more && !rows.empty()) {
    out.set_next_page_token(rpc::EncodePageToken(
        fingerprint, absl::StrCat(rows.back().display_name, "\n", rows.back().id)));
  }
  if (pii && !rows.empty()) {
    audit::Entry read =
        audit::Recorder::For(who, "members.list_pii", request.organization(), *path);
    read.detail = absl::StrCat(rows.size(), " members' id_number, phone in clear");
    RETURN_IF_ERROR(audit_.Record(read, absl::OkStatus()));
  }
  return out;
}

absl::StatusOr<pb::SearchMembersResponse> MemberRecords::Search(
    const auth::Principal& who, const pb::SearchMembersRequest& request) {
  if (request.id_number().empty() == request.phone().empty()) {
    return rpc::InvalidArgument(
        {{"id_number", "give exactly one of id_number and phone, in full"}});
  }
  ASSIGN_OR_RETURN(const std::string scope, ScopePath(who));
  std::vector<MemberRow> rows;
  std::string by;
  if (!request.id_number().empty()) {
    ASSIGN_OR_RETURN(const std::string id,
                     NormalizeIdNumber(request.id_number(), "id_number", Today()));
    const std::string index = vault_.BlindIndex("id_number", id);
    ASSIGN_OR_RETURN(rows, pool_.Run([&](db::Connection& c) {
      return MemberStore::FindByIdNumberIndex(c, index, scope);
    }));
    by = "id_number";
  } else {
    ASSIGN_OR_RETURN(const std::string phone, NormalizePhone(request.phone(), "phone"));
    const std::string index = vault_.BlindIndex("phone", phone);
    ASSIGN_OR_RETURN(rows, pool_.Run([&](db::Connection& c) {
      return MemberStore::FindByPhoneIndex(c, index, scope, 50);
    }));
    by = "phone";
  }
  pb::SearchMembersResponse out;
  int in_clear = 0;
  auth::CurrentPaths current(org_paths_);
  for (const MemberRow& r : rows) {
    absl::Status seen = auth::AuthorizeCopiedPath(who, "read", MemberResource(r), r.organization_id,
                                                  MemberNotFound(""), nullptr, &current);
    if (seen.code() != absl::StatusCode::kOk && seen.code() != absl::StatusCode::kNotFound &&
        seen.code() != absl::StatusCode::kPermissionDenied) {
      return seen;
    }
    if (seen.ok()) {
      // In clear where read_pii is granted; the one audit row below says so (not a row each).
      pb::Member m = ToProto(r);
      if (MayReadPii(who, r)) {
        RETURN_IF_ERROR(InClear(r, m));
        ++in_clear;
      }
      *out.add_members() = std::move(m);
    }
  }
  // A look-up by personal data is recorded, found or not (never the number itself).
  audit::Entry entry = audit::Recorder::For(who, "members.search", "members", scope);
  entry.detail = absl::StrCat("by ", by, ": ", out.members_size(), " found, ", in_clear,
                              " with id_number and phone in clear");
  RETURN_IF_ERROR(audit_.Record(entry, absl::OkStatus()));
  return out;
}

// --- changes ---

absl::StatusOr<pb::Member> MemberRecords::Update(const auth::Principal& who,
                                                 const pb::UpdateMemberRequest& request) {
  if (!request.has_member()) {
    return rpc::InvalidArgument({{"member", "required"}});
  }
  const pb::Member& in = request.member();
  if (in.etag().empty()) {
    return rpc::InvalidArgument({{"member.etag", "required: the etag you read"}});
  }
  ASSIGN_OR_RETURN(
      const std::set<std::string> paths,
      rpc::ResolveUpdateMask(request.update_mask(), SetMemberFields(in), UpdatableMemberFields()));
  const time::CivilDate today = Today();
  Details change;
  RETURN_IF_ERROR(TakeDetails(in, paths, today, change));
  audit::Entry entry = audit::Recorder::For(who, "members.update", in.name(), "/");
  entry.detail = absl::StrJoin(paths, ",");
  MemberRow updated;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(MemberRow row, LockMember(c, who, in.name(), in.etag(), "update", entry));
    const std::string name = in.name();
    // The clear values the row keeps unless changed, to check them together and reseal.
    Details d{.row = row};
    if (!row.id_number.sealed.empty()) {
      ASSIGN_OR_RETURN(d.id_number, vault_.Open(row.id_number.sealed, name + "/id_number"));
    }
    if (!row.phone.sealed.empty()) {
      ASSIGN_OR_RETURN(d.phone, vault_.Open(row.phone.sealed, name + "/phone"));
    }
    const MemberRow& n = change.row;
    if (paths.contains("display_name")) d.row.display_name = n.display_name;
    if (paths.contains("gender")) d.row.gender = n.gender;
    if (paths.contains("ethnicity")) d.row.ethnicity = n.ethnicity;
    if (paths.contains("birth_date")) d.row.birth_date = n.birth_date;
    if (paths.contains("id_number")) d.id_number = change.id_number;
    if (paths.contains("phone")) d.phone = change.phone;
    if (paths.contains("education")) d.row.education = n.education;
    if (paths.contains("work_unit")) d.row.work_unit = n.work_unit;
    if (paths.contains("job_title")) d.row.job_title = n.job_title;
    if (paths.contains("category")) d.row.category = n.category;
    if (paths.contains("party_affairs_cadre")) d.row.party_affairs_cadre = n.party_affairs_cadre;
    if (paths.contains("residence_community")) {
      d.row.residence_community = n.residence_community;
    }
    if (paths.contains("community_report_date")) {
      d.row.community_report_date = n.community_report_date;
    }
    RETURN_IF_ERROR(AgreeWithIdNumber(d));
    RETURN_IF_ERROR(Seal(d.row, d.id_number, d.phone));
    d.row.version = row.version + 1;
    d.row.update_time_us = std::max(NowUs(), row.update_time_us + 1);
    ASSIGN_OR_RETURN(const bool written, MemberStore::Update(c, d.row, row.version));
    if (!written) {
      return EtagMismatch(name);
    }
    pb::MemberUpdated event;
    *event.mutable_member() = Snapshot(d.row);
    RETURN_IF_ERROR(PublishMemberEvent(c, ids_, d.row, NowUs(), event));
    updated = std::move(d.row);
    return absl::OkStatus();
  }));
  return Answer(who, updated, "members.update");
}

// --- rule sets ---

absl::StatusOr<pb::MemberRuleSet> MemberRecords::RulesInForce(const auth::Principal& who,
                                                              const pb::GetMemberRulesRequest& r) {
  RETURN_IF_ERROR(rules::AuthorizeRuleSets(who, "read"));
  time::CivilDate date = Today();
  if (r.has_date()) {
    ASSIGN_OR_RETURN(date, time::FromProto(r.date(), "date"));
  }
  ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_->Versions());
  return dj::member::ToProto(rules::VersionOn(versions, date));
}

absl::StatusOr<pb::ListMemberRuleSetsResponse> MemberRecords::RuleSets(const auth::Principal& who) {
  RETURN_IF_ERROR(rules::AuthorizeRuleSets(who, "read"));
  ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_->Versions());
  pb::ListMemberRuleSetsResponse out;
  for (const MemberRuleVersion& v : versions) {
    *out.add_rule_sets() = dj::member::ToProto(v);
  }
  return out;
}

absl::StatusOr<pb::MemberRuleSet> MemberRecords::AddRuleSet(
    const auth::Principal& who, const pb::CreateMemberRuleSetRequest& request) {
  if (!request.has_rule_set()) {
    return rpc::InvalidArgument({{"rule_set", "required"}});
  }
  const pb::MemberRuleSet& in = request.rule_set();
  ASSIGN_OR_RETURN(MemberRules rules, MemberRulesFromProto(in));
  audit::Entry entry = audit::Recorder::For(who, "rule_sets.create", "ruleSets/member", "/");
  MemberRuleVersion added;
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    RETURN_IF_ERROR(rules::AuthorizeRuleSets(who, "create", &entry.detail));
    pb::MemberRuleSet body = in;
    body.clear_name();
    body.clear_version();
    body.clear_creator();
    body.clear_create_time();
    ASSIGN_OR_RETURN(added, rules_->Add(c, rules, MemberRuleSetJson(body),
                                        in.has_effective_date() ? &in.effective_date() : nullptr,
                                        in.note(), who.subject));
    entry.resource = absl::StrCat("ruleSets/member/versions/", added.version);
    return absl::OkStatus();
  }));
  rules_->Forget();
  return dj::member::ToProto(added);
}

}  // namespace dj::member
