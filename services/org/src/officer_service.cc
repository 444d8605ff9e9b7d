// Officer and term handlers.
#include "services/org/src/officer_service.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/requests.h"
#include "services/org/src/term_rules.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kOrganizations = "organizations";
constexpr std::string_view kOfficers = "officers";
constexpr std::string_view kTerms = "terms";
// Characters, as the columns' VARCHAR sizes.
constexpr int kMaxDisplayNameChars = 200;
constexpr int kMaxNoteChars = 400;
constexpr int kMaxApprovalChars = 200;
constexpr int32_t kMaxWithinDays = 3660;

std::string ChildName(int64_t org_id, std::string_view collection, int64_t id) {
  return absl::StrCat(rpc::FormatName(kOrganizations, org_id), "/", AV(collection), "/", id);
}

absl::Status OfficerNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "OFFICER_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

absl::Status Dissolved(std::string_view name, std::string_view what) {
  return rpc::Error(
      absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED",
      absl::StrCat(AV(name), " is dissolved; it keeps its history but takes no new ", AV(what)));
}

// What every create's request is checked for first: the parent organization's id, the resource
// present (`body_field`), a well-formed request_id.
absl::StatusOr<int64_t> ParseCreate(std::string_view parent, bool has_body,
                                    std::string_view body_field, std::string_view request_id) {
  auto org_id = rpc::ParseName(parent, kOrganizations, "parent");
  if (!org_id.ok()) {
    return org_id.status();
  }
  if (!has_body) {
    return rpc::InvalidArgument({{std::string(body_field), "required"}});
  }
  RETURN_IF_ERROR(rpc::ValidateRequestId(request_id));
  return *org_id;
}

// A required date field.
absl::StatusOr<time::CivilDate> RequiredDate(bool has, const google::type::Date& date,
                                             std::string_view field) {
  if (!has) {
    return rpc::InvalidArgument({{std::string(field), "required"}});
  }
  return time::FromProto(date, field);
}

absl::Status EndBeforeStart(std::string_view field, const time::CivilDate& start) {
  return rpc::InvalidArgument(
      {{std::string(field),
        absl::StrCat("must not be before the start date ", time::ToIso(start))}},
      "END_BEFORE_START");
}

// "organizations/1/officers/2" -> {1, 2}.
absl::StatusOr<std::pair<int64_t, int64_t>> ParseChildName(std::string_view name,
                                                           std::string_view collection,
                                                           std::string_view field) {
  const std::string marker = absl::StrCat("/", AV(collection), "/");
  const size_t at = name.find(marker);
  if (at == std::string_view::npos) {
    return rpc::InvalidArgument(
        {{std::string(field),
          absl::StrCat("must look like organizations/{id}/", AV(collection), "/{id}")}});
  }
  auto org = rpc::ParseName(name.substr(0, at), kOrganizations, field);
  if (!org.ok()) {
    return org.status();
  }
  auto id = rpc::ParseName(name.substr(at + 1), collection, field);
  if (!id.ok()) {
    return id.status();
  }
  return std::make_pair(*org, *id);
}

// What every list's request is checked for first: the organization named in `field`, the page
// size.
struct ListArgs {
  int64_t org_id = 0;
  int32_t size = 0;
};
absl::StatusOr<ListArgs> ParseList(std::string_view name, std::string_view field,
                                   int32_t page_size) {
  auto org_id = rpc::ParseName(name, kOrganizations, field);
  if (!org_id.ok()) {
    return org_id.status();
  }
  auto size = rpc::PageSize(page_size);
  if (!size.ok()) {
    return size.status();
  }
  return ListArgs{*org_id, *size};
}

// Page cursors: the keyset of the last row, '|'-separated, inside rpc's opaque token.
absl::Status BadToken() {
  return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
}

// The cursor of a page token as "[lead|]YYYY-MM-DD|id"; `lead`, when given, takes the leading
// part (officers page by role first; expiring terms carry the as_of of their first page).
absl::StatusOr<std::optional<DateCursor>> DecodeDateCursor(std::string_view token,
                                                           std::string_view filter,
                                                           std::string* lead = nullptr) {
  auto cursor = rpc::DecodePageToken(token, filter);
  if (!cursor.ok()) {
    return cursor.status();
  }
  if (cursor->empty()) {
    return std::optional<DateCursor>();
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(AV(*cursor), '|');
  const size_t skip = lead != nullptr ? 1 : 0;
  if (parts.size() != skip + 2) {
    return BadToken();
  }
  if (lead != nullptr) {
    *lead = std::string(parts[0]);
  }
  DateCursor out;
  auto date = time::ParseIso(std::string_view(parts[skip].data(), parts[skip].size()));
  if (!date.ok() || !absl::SimpleAtoi(parts[skip + 1], &out.id)) {
    return BadToken();
  }
  out.date = *date;
  return std::optional<DateCursor>(out);
}

std::string DateCursorText(const time::CivilDate& date, int64_t id) {
  return absl::StrCat(time::ToIso(date), "|", id);
}

// What an idempotent create of an organization's `kind` ("officers", "terms") needs beyond the
// shape CreateInOrganization gives it.
template <typename RowT>
struct CreateOp {
  std::string_view kind;
  std::string_view request_id_index;  // the table's unique index on request_id
  absl::StatusOr<std::optional<RowT>> (*find_by_request_id)(db::Connection&, std::string_view);
  // Whether an earlier create with the same request_id asked for the same thing.
  std::function<bool(const RowT&)> same;
  // Checks and inserts the new row; the organization is locked, authorized and active.
  std::function<absl::Status(db::Connection&, const OrgRow&, audit::Entry&)> write;
};

// An officer's or a term's create (requests.h CreateOnce): the organization is locked until
// commit (so checks across its rows, one secretary and one current term, see every concurrent
// writer's result), authorized and must be active; then `write`. `request` names the parent and
// the request_id; `row` is the new row, its id and organization set. Returns the earlier row on
// a replay, nullopt when `write` wrote.
template <typename Request, typename RowT>
absl::StatusOr<std::optional<RowT>> CreateInOrganization(audit::Recorder& audit, db::Pool& pool,
                                                         const auth::Principal& who,
                                                         const Request& request, const RowT& row,
                                                         const CreateOp<RowT>& op) {
  const std::string& parent = request.parent();
  const absl::Status missing = OrganizationNotFound(parent);
  const absl::Status dissolved = Dissolved(parent, op.kind);
  const std::string request_key = auth::IdempotencyKey(who, request.request_id());
  return CreateOnce(
      audit, pool, audit::Recorder::For(who, absl::StrCat(AV(op.kind), ".create"), parent, "/"),
      IdempotentCreate<RowT>{
          .request_id = request_key,
          .what = op.kind.substr(0, op.kind.size() - 1),
          .request_id_index = op.request_id_index,
          .find = op.find_by_request_id,
          .replay = [&](db::Connection& c, const RowT& earlier,
                        audit::Entry& entry) -> absl::Status {
            entry.resource = ChildName(earlier.organization_id, op.kind, earlier.id);
            return LockOrganization(c, who, op.kind, earlier.organization_id, missing, entry,
                                    /*dissolved=*/nullptr)
                .status();
          },
          .write = [&](db::Connection& c, audit::Entry& entry) -> absl::Status {
            entry.resource = ChildName(row.organization_id, op.kind, row.id);
            auto org =
                LockOrganization(c, who, op.kind, row.organization_id, missing, entry, &dissolved);
            if (!org.ok()) {
              return org.status();
            }
            return op.write(c, *org, entry);
          },
          .same = op.same});
}

// An organization has one secretary at a time: refuses `row` when another secretary's period
// shares a day with its own.
absl::Status CheckNoOtherSecretary(db::Connection& c, const OfficerRow& row) {
  auto others = OfficerStore::Overlapping(c, row.organization_id, pb::SECRETARY, row.start_date,
                                          row.end_date);
  if (!others.ok()) {
    return others.status();
  }
  if (others->empty()) {
    return absl::OkStatus();
  }
  const OfficerRow& other = others->front();
  return rpc::WithViolation(
      rpc::Error(
          absl::StatusCode::kFailedPrecondition, "SECRETARY_EXISTS",
          absl::StrCat(
              ChildName(other.organization_id, kOfficers, other.id), " (", other.member, ", from ",
              time::ToIso(other.start_date),
              other.end_date.has_value() ? absl::StrCat(" to ", time::ToIso(*other.end_date)) : "",
              ") is the secretary in that period; end that appointment first")),
      {"officer.start_date", "an organization has one secretary at a time"});
}

// Prepares `row` as the organization's new term under `rules` (in force on its start): its
// length and planned end; when a term is current, checks the election against that term's
// planned end and closes it on the new start. The caller inserts `row`.
absl::Status Elect(db::Connection& c, const StructureRules& rules, const OrgRow& org, TermRow& row,
                   audit::Entry& entry) {
  auto years = TermYears(rules, org.kind);
  if (!years.ok()) {
    return years.status();
  }
  row.term_years = *years;
  auto planned = PlannedEnd(row.start_date, row.term_years, "term.start_date");
  if (!planned.ok()) {
    return planned.status();
  }
  row.planned_end_date = *planned;
  auto current = OfficerStore::CurrentTerm(c, row.organization_id);
  if (!current.ok()) {
    return current.status();
  }
  if (!current->has_value()) {
    if (org.established_date.has_value() && row.start_date < *org.established_date) {
      return rpc::InvalidArgument(
          {{"term.start_date", absl::StrCat("must not be before the organization was "
                                            "established, ",
                                            time::ToIso(*org.established_date))}},
          "TERM_BEFORE_ESTABLISHMENT");
    }
    return absl::OkStatus();
  }
  const TermRow& cur = **current;
  auto shift =
      CheckElection(rules, cur.start_date, cur.planned_end_date, row.start_date, "term.start_date");
  if (!shift.ok()) {
    return shift.status();
  }
  RETURN_IF_ERROR(OfficerStore::CloseTerm(c, cur.id, row.start_date, *shift));
  entry.detail = absl::StrCat("closes ", ChildName(cur.organization_id, kTerms, cur.id), ", shift ",
                              *shift, " days");
  return absl::OkStatus();
}

// Drops the probe row (lists read one more than a page) and answers the next page's token:
// `cursor` of the last row kept, or "" on the last page.
template <typename RowT, typename CursorFn>
std::string NextPageToken(std::vector<RowT>& rows, int32_t size, std::string_view filter,
                          CursorFn cursor) {
  return rpc::TrimPage(rows, size) ? rpc::EncodePageToken(filter, cursor(rows.back())) : "";
}

}  // namespace

pb::Officer ToProto(const OfficerRow& row) {
  pb::Officer o;
  o.set_name(ChildName(row.organization_id, kOfficers, row.id));
  o.set_member(row.member);
  o.set_member_display_name(row.member_display_name);
  o.set_role(row.role);
  *o.mutable_start_date() = time::ToProto(row.start_date);
  if (row.end_date.has_value()) {
    *o.mutable_end_date() = time::ToProto(*row.end_date);
  }
  o.set_note(row.note);
  o.set_etag(Etag(row.version));
  *o.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *o.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return o;
}

pb::Term ToProto(const TermRow& row) {
  pb::Term t;
  t.set_name(ChildName(row.organization_id, kTerms, row.id));
  *t.mutable_start_date() = time::ToProto(row.start_date);
  t.set_term_years(row.term_years);
  *t.mutable_planned_end_date() = time::ToProto(row.planned_end_date);
  if (row.end_date.has_value()) {
    *t.mutable_end_date() = time::ToProto(*row.end_date);
  }
  t.set_shift_days(row.shift_days);
  t.set_approval(row.approval);
  t.set_note(row.note);
  *t.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  t.set_rule_set_version(row.rule_set_version);
  return t;
}

OfficerService::OfficerService(db::Pool& pool, ids::IdGenerator& ids,
                               const auth::InternalAuth& auth, std::string audit_key,
                               RuleBook& rules, std::function<int64_t()> now_us)
    : pool_(pool),
      ids_(ids),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      rules_(rules),
      now_us_(now_us ? std::move(now_us) : time::NowMicros) {}

time::CivilDate OfficerService::Today() const { return time::ShanghaiDate(now_us_() / 1'000'000); }

absl::StatusOr<OrgRow> OfficerService::Readable(const auth::Principal& who, std::string_view kind,
                                                int64_t org_id, std::string_view resource,
                                                const absl::Status& missing) {
  auto org =
      pool_.Run([&](db::Connection& c) { return OrgStore::Find(c, org_id, /*for_update=*/false); });
  if (!org.ok()) {
    return org.status();
  }
  if (!org->has_value()) {
    return missing;
  }
  audit::Entry entry = audit::Recorder::For(who, absl::StrCat(AV(kind), ".read"),
                                            std::string(resource), (*org)->path);
  absl::Status s = auth::AuthorizeOrHide(who, "read", {std::string(kind), (*org)->path, ""},
                                         missing, &entry.detail);
  if (!s.ok()) {
    audit_.Refuse(std::move(entry), s);
    return s;
  }
  return **std::move(org);
}

absl::StatusOr<pb::Officer> OfficerService::Create(const auth::Principal& who,
                                                   const pb::CreateOfficerRequest& request) {
  auto org_id =
      ParseCreate(request.parent(), request.has_officer(), "officer", request.request_id());
  if (!org_id.ok()) {
    return org_id.status();
  }
  const pb::Officer& in = request.officer();
  OfficerRow row;
  row.organization_id = *org_id;
  auto member = rpc::ParseName(in.member(), "members", "officer.member");
  if (!member.ok()) {
    return member.status();
  }
  row.member = rpc::FormatName("members", *member);
  row.member_display_name = TrimDisplayName(in.member_display_name());
  if (in.role() == pb::OFFICER_ROLE_UNSPECIFIED || !pb::OfficerRole_IsValid(in.role())) {
    return rpc::InvalidArgument({{"officer.role", "required: one of the officer roles"}});
  }
  row.role = in.role();
  auto start = RequiredDate(in.has_start_date(), in.start_date(), "officer.start_date");
  if (!start.ok()) {
    return start.status();
  }
  row.start_date = *start;
  if (in.has_end_date()) {
    auto end = time::FromProto(in.end_date(), "officer.end_date");
    if (!end.ok()) {
      return end.status();
    }
    if (*end < row.start_date) {
      return EndBeforeStart("officer.end_date", row.start_date);
    }
    row.end_date = *end;
  }
  row.note = in.note();
  if (absl::Status s = ValidateText(row.member_display_name, "officer.member_display_name",
                                    kMaxDisplayNameChars, /*required=*/false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(row.note, "officer.note", kMaxNoteChars, /*required=*/false);
      !s.ok()) {
    return s;
  }

  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = now_us_();
  row.version = 1;
  auto replay = CreateInOrganization(
      audit_, pool_, who, request, row,
      CreateOp<OfficerRow>{
          .kind = kOfficers,
          .request_id_index = kOfficerRequestIdIndex,
          .find_by_request_id = &OfficerStore::FindOfficerByRequestId,
          .same =
              [&](const OfficerRow& earlier) {
                return earlier.organization_id == row.organization_id &&
                       earlier.member == row.member && earlier.role == row.role &&
                       earlier.start_date == row.start_date;
              },
          .write = [&](db::Connection& c, const OrgRow&, audit::Entry&) -> absl::Status {
            if (row.role == pb::SECRETARY) {
              RETURN_IF_ERROR(CheckNoOtherSecretary(c, row));
            }
            return OfficerStore::InsertOfficer(c, row,
                                               auth::IdempotencyKey(who, request.request_id()));
          }});
  if (!replay.ok()) {
    return replay.status();
  }
  return ToProto(replay->value_or(row));
}

absl::StatusOr<pb::Officer> OfficerService::Get(const auth::Principal& who,
                                                const pb::GetOfficerRequest& request) {
  auto ids = ParseChildName(request.name(), kOfficers, "name");
  if (!ids.ok()) {
    return ids.status();
  }
  auto org = Readable(who, kOfficers, ids->first, request.name(), OfficerNotFound(request.name()));
  if (!org.ok()) {
    return org.status();
  }
  auto row = pool_.Run([&](db::Connection& c) {
    return OfficerStore::FindOfficer(c, ids->first, ids->second, /*for_update=*/false);
  });
  if (!row.ok()) {
    return row.status();
  }
  if (!row->has_value()) {
    return OfficerNotFound(request.name());
  }
  return ToProto(**row);
}

absl::StatusOr<pb::ListOfficersResponse> OfficerService::List(
    const auth::Principal& who, const pb::ListOfficersRequest& request) {
  auto list = ParseList(request.parent(), "parent", request.page_size());
  if (!list.ok()) {
    return list.status();
  }
  const std::string filter =
      absl::StrCat("officers|", request.parent(), "|", request.include_ended());
  int32_t role = 0;
  std::string role_text;
  auto page = DecodeDateCursor(request.page_token(), filter, &role_text);
  if (!page.ok()) {
    return page.status();
  }
  if (page->has_value() && !absl::SimpleAtoi(role_text, &role)) {
    return BadToken();
  }
  std::optional<OfficerCursor> after;
  if (page->has_value()) {
    after = OfficerCursor{role, (*page)->date, (*page)->id};
  }
  auto org = Readable(who, kOfficers, list->org_id, request.parent(),
                      OrganizationNotFound(request.parent()));
  if (!org.ok()) {
    return org.status();
  }
  auto rows = pool_.Run([&](db::Connection& c) {
    return OfficerStore::ListOfficers(c, list->org_id, request.include_ended(), Today(), after,
                                      list->size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListOfficersResponse out;
  out.set_next_page_token(NextPageToken(*rows, list->size, filter, [](const OfficerRow& last) {
    return absl::StrCat(int32_t{last.role}, "|", DateCursorText(last.start_date, last.id));
  }));
  for (const OfficerRow& r : *rows) {
    *out.add_officers() = ToProto(r);
  }
  return out;
}

absl::StatusOr<pb::Officer> OfficerService::End(const auth::Principal& who,
                                                const pb::EndOfficerRequest& request) {
  auto ids = ParseChildName(request.name(), kOfficers, "name");
  if (!ids.ok()) {
    return ids.status();
  }
  auto end = RequiredDate(request.has_end_date(), request.end_date(), "end_date");
  if (!end.ok()) {
    return end.status();
  }
  if (absl::Status s = ValidateText(request.reason(), "reason", kMaxNoteChars, /*required=*/false);
      !s.ok()) {
    return s;
  }
  OfficerRow ended;
  audit::Entry entry = audit::Recorder::For(who, "officers.end", request.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto org = OrgStore::Find(c, ids->first, /*for_update=*/false);
    if (!org.ok()) {
      return org.status();
    }
    if (!org->has_value()) {
      return OfficerNotFound(request.name());
    }
    entry.org_path = (*org)->path;
    if (absl::Status s =
            auth::AuthorizeOrHide(who, "update", {std::string(kOfficers), (*org)->path, ""},
                                  OfficerNotFound(request.name()), &entry.detail);
        !s.ok()) {
      return s;
    }
    auto found = OfficerStore::FindOfficer(c, ids->first, ids->second, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OfficerNotFound(request.name());
    }
    OfficerRow row = **found;
    if (!request.etag().empty() && request.etag() != Etag(row.version)) {
      return EtagMismatch(request.name());
    }
    if (*end < row.start_date) {
      return EndBeforeStart("end_date", row.start_date);
    }
    // Bringing an end forward never overlaps another appointment; pushing it back could, so an
    // ended appointment stays ended (appoint again instead).
    if (row.end_date.has_value() && *row.end_date <= *end) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kFailedPrecondition, "OFFICER_ENDED",
                     absl::StrCat(request.name(), " already ends on ", time::ToIso(*row.end_date))),
          {"end_date", "must be before the appointment's current end date"});
    }
    const int64_t before = row.version;
    row.end_date = *end;
    row.version = before + 1;
    row.update_time_us = std::max(now_us_(), row.update_time_us);
    auto ok = OfficerStore::UpdateOfficer(c, row, before);
    if (!ok.ok()) {
      return ok.status();
    }
    if (!*ok) {
      return EtagMismatch(request.name());
    }
    entry.detail = absl::StrCat("ends ", time::ToIso(*end), request.reason().empty() ? "" : "; ",
                                request.reason());
    ended = row;
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return ToProto(ended);
}

absl::StatusOr<pb::Term> OfficerService::CreateTerm(const auth::Principal& who,
                                                    const pb::CreateTermRequest& request) {
  auto org_id = ParseCreate(request.parent(), request.has_term(), "term", request.request_id());
  if (!org_id.ok()) {
    return org_id.status();
  }
  const pb::Term& in = request.term();
  TermRow row;
  row.organization_id = *org_id;
  auto start = RequiredDate(in.has_start_date(), in.start_date(), "term.start_date");
  if (!start.ok()) {
    return start.status();
  }
  row.start_date = *start;
  row.approval = in.approval();
  row.note = in.note();
  if (absl::Status s =
          ValidateText(row.approval, "term.approval", kMaxApprovalChars, /*required=*/false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(row.note, "term.note", kMaxNoteChars, /*required=*/false);
      !s.ok()) {
    return s;
  }
  // The rules that govern a term are those in force on the day it begins: they set its length
  // and how far this election may stray from the current term's planned end.
  auto versions = rules_.Versions();
  if (!versions.ok()) {
    return versions.status();
  }
  const RuleSetVersion& rules = VersionInForce(*versions, row.start_date);
  row.rule_set_version = rules.version;

  row.id = ids_.Next();
  row.create_time_us = now_us_();
  auto replay = CreateInOrganization(
      audit_, pool_, who, request, row,
      CreateOp<TermRow>{
          .kind = kTerms,
          .request_id_index = kTermRequestIdIndex,
          .find_by_request_id = &OfficerStore::FindTermByRequestId,
          .same =
              [&](const TermRow& earlier) {
                return earlier.organization_id == row.organization_id &&
                       earlier.start_date == row.start_date;
              },
          .write = [&](db::Connection& c, const OrgRow& org, audit::Entry& entry) -> absl::Status {
            RETURN_IF_ERROR(Elect(c, rules.rules, org, row, entry));
            return OfficerStore::InsertTerm(c, row,
                                            auth::IdempotencyKey(who, request.request_id()));
          }});
  if (!replay.ok()) {
    return replay.status();
  }
  return ToProto(replay->value_or(row));
}

absl::StatusOr<pb::ListTermsResponse> OfficerService::ListTerms(
    const auth::Principal& who, const pb::ListTermsRequest& request) {
  auto list = ParseList(request.parent(), "parent", request.page_size());
  if (!list.ok()) {
    return list.status();
  }
  const std::string filter = absl::StrCat("terms|", request.parent());
  auto after = DecodeDateCursor(request.page_token(), filter);
  if (!after.ok()) {
    return after.status();
  }
  auto org =
      Readable(who, kTerms, list->org_id, request.parent(), OrganizationNotFound(request.parent()));
  if (!org.ok()) {
    return org.status();
  }
  auto rows = pool_.Run([&](db::Connection& c) {
    return OfficerStore::ListTerms(c, list->org_id, *after, list->size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListTermsResponse out;
  out.set_next_page_token(NextPageToken(*rows, list->size, filter, [](const TermRow& last) {
    return DateCursorText(last.start_date, last.id);
  }));
  for (const TermRow& r : *rows) {
    *out.add_terms() = ToProto(r);
  }
  return out;
}

absl::StatusOr<pb::ListExpiringTermsResponse> OfficerService::ListExpiring(
    const auth::Principal& who, const pb::ListExpiringTermsRequest& request) {
  auto list = ParseList(request.name(), "name", request.page_size());
  if (!list.ok()) {
    return list.status();
  }
  if (request.within_days() < 0 || request.within_days() > kMaxWithinDays) {
    return rpc::InvalidArgument(
        {{"within_days", absl::StrCat("must be between 0 and ", kMaxWithinDays)}});
  }
  std::optional<time::CivilDate> asked;
  if (request.has_as_of()) {
    auto d = time::FromProto(request.as_of(), "as_of");
    if (!d.ok()) {
      return d.status();
    }
    asked = *d;
  }
  // The token is bound to the question as asked: an explicit as_of, or "today". The day "today"
  // resolved to on the first page travels in the cursor, so a page read after midnight in
  // Shanghai still continues the first page's list instead of being refused or shifted.
  const std::string filter =
      absl::StrCat("expiring|", request.name(), "|", request.within_days(), "|",
                   asked.has_value() ? time::ToIso(*asked) : std::string("today"));
  std::string as_of_text;
  auto after = DecodeDateCursor(request.page_token(), filter, &as_of_text);
  if (!after.ok()) {
    return after.status();
  }
  time::CivilDate as_of = asked.value_or(Today());
  if (after->has_value()) {
    auto carried = time::ParseIso(as_of_text);
    if (!carried.ok()) {
      return BadToken();
    }
    as_of = *carried;
  }
  auto root =
      Readable(who, kTerms, list->org_id, request.name(), OrganizationNotFound(request.name()));
  if (!root.ok()) {
    return root.status();
  }
  auto until = time::AddDays(as_of, request.within_days());
  auto rows = pool_.Run([&](db::Connection& c) {
    return OfficerStore::ListExpiring(
        c, root->path, until.ok() ? *until : time::CivilDate{9999, 12, 31}, *after, list->size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListExpiringTermsResponse out;
  out.set_next_page_token(
      NextPageToken(*rows, list->size, filter, [&as_of](const ExpiringTermRow& last) {
        return absl::StrCat(time::ToIso(as_of), "|",
                            DateCursorText(last.term.planned_end_date, last.term.id));
      }));
  for (const ExpiringTermRow& r : *rows) {
    pb::ExpiringTerm* e = out.add_terms();
    e->set_organization(rpc::FormatName(kOrganizations, r.term.organization_id));
    e->set_organization_display_name(r.organization_display_name);
    *e->mutable_term() = ToProto(r.term);
    e->set_days_left(static_cast<int32_t>(time::DaysBetween(as_of, r.term.planned_end_date)));
  }
  return out;
}

grpc::Status OfficerService::CreateOfficer(grpc::ServerContext* context,
                                           const pb::CreateOfficerRequest* request,
                                           pb::Officer* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Create(who, *request), response);
  });
}

grpc::Status OfficerService::GetOfficer(grpc::ServerContext* context,
                                        const pb::GetOfficerRequest* request,
                                        pb::Officer* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Get(who, *request), response);
  });
}

grpc::Status OfficerService::ListOfficers(grpc::ServerContext* context,
                                          const pb::ListOfficersRequest* request,
                                          pb::ListOfficersResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, List(who, *request), response);
  });
}

grpc::Status OfficerService::EndOfficer(grpc::ServerContext* context,
                                        const pb::EndOfficerRequest* request,
                                        pb::Officer* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, End(who, *request), response);
  });
}

grpc::Status OfficerService::CreateTerm(grpc::ServerContext* context,
                                        const pb::CreateTermRequest* request, pb::Term* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, CreateTerm(who, *request), response);
  });
}

grpc::Status OfficerService::ListTerms(grpc::ServerContext* context,
                                       const pb::ListTermsRequest* request,
                                       pb::ListTermsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, ListTerms(who, *request), response);
  });
}

grpc::Status OfficerService::ListExpiringTerms(grpc::ServerContext* context,
                                               const pb::ListExpiringTermsRequest* request,
                                               pb::ListExpiringTermsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, ListExpiring(who, *request), response);
  });
}

}  // namespace dj::org
