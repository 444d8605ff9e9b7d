// MemberRecords' spreadsheet import and export, and the committee's standing lists (光荣在党50年,
// lost contact). An import is all or nothing: every row checked as CreateMember checks one record
// (and against the rows before it and the records already registered), then one transaction of
// multi-row statements with one audit row and one MemberCreated event per member.
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "services/member/src/development.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_export.h"
#include "services/member/src/member_import.h"
#include "services/member/src/member_records.h"
#include "services/member/src/member_validation.h"

namespace dj::member {

namespace pb = dangjian::member::v1;

namespace {

// At most this many problems are listed; the last violation says how many more there were.
constexpr size_t kMaxReportedProblems = 1000;
// The largest subtree one export writes.
constexpr int kMaxExportRows = 100'000;

std::string RowField(int32_t row, std::string_view column) {
  return absl::StrCat("rows[", row, "].", AV(column));
}

absl::Status Problems(std::vector<rpc::FieldViolation> violations) {
  const size_t total = violations.size();
  if (total > kMaxReportedProblems) {
    violations.resize(kMaxReportedProblems);
    violations.push_back({"rows", absl::StrCat("and ", total - kMaxReportedProblems,
                                               " more problems; nothing was imported")});
  }
  return rpc::InvalidArgument(std::move(violations), "IMPORT_REJECTED");
}

}  // namespace

absl::StatusOr<pb::ImportMembersResponse> MemberRecords::Import(
    const auth::Principal& who, const pb::ImportMembersRequest& request) {
  if (request.request_id().empty()) {
    return rpc::InvalidArgument(
        {{"request_id", "required: a retried import must not register the rows twice"}});
  }
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  if (request.file().empty()) {
    return rpc::InvalidArgument({{"file", "required: the spreadsheet's bytes (CSV or .xlsx)"}});
  }
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(request.organization(), kOrganizations, "organization"));
  ASSIGN_OR_RETURN(const std::string path,
                   MembersAt(who, request.organization(), "create", "members.import"));
  ASSIGN_OR_RETURN(const ParsedImport parsed, ParseMemberFile(request.file(), request.file_name()));
  const time::CivilDate today = Today();
  ASSIGN_OR_RETURN(const MemberRules rules, rules_->InForce(today));

  // Every row checked before anything is written; each problem once per (row, column).
  std::vector<rpc::FieldViolation> problems;
  std::set<std::pair<int32_t, std::string>> reported;
  for (const ImportError& e : parsed.errors) {
    if (reported.insert({e.row, e.column}).second) {
      problems.push_back({RowField(e.row, e.column), e.reason});
    }
  }
  std::vector<Details> rows;
  std::vector<int32_t> row_numbers;
  std::map<std::string, int32_t> first_row_of;  // blind index -> the row that has it
  const std::string id_column = ImportColumnFor(parsed, "id_number");
  for (const ImportRow& in : parsed.rows) {
    pb::Member m = in.member;
    m.set_organization(request.organization());
    if (m.category() == pb::MEMBER_CATEGORY_UNSPECIFIED) {
      m.set_category(request.default_category());
    }
    if (m.stage() == pb::STAGE_UNSPECIFIED) {
      m.set_stage(request.default_stage());
    }
    auto details = NewMemberDetails(m, rules, today);
    if (!details.ok()) {
      std::vector<rpc::FieldViolation> found = rpc::Violations(details.status());
      if (found.empty()) {
        found.push_back({"member", std::string(SV(details.status().message()))});
      }
      for (const rpc::FieldViolation& v : found) {
        std::string field = v.field;
        if (field.starts_with("member.")) {
          field = field.substr(7);
        }
        std::string column = ImportColumnFor(parsed, field);
        if (column.empty()) {
          column = field;
        }
        if (reported.insert({in.row, column}).second) {
          problems.push_back({RowField(in.row, column), v.description});
        }
      }
      continue;
    }
    const std::string index = vault_.BlindIndex("id_number", details->id_number);
    if (auto [at, fresh] = first_row_of.emplace(index, in.row); !fresh) {
      problems.push_back(
          {RowField(in.row, id_column), absl::StrCat("the same ID number as row ", at->second)});
      continue;
    }
    details->row.id_number.index = index;
    rows.push_back(*std::move(details));
    row_numbers.push_back(in.row);
  }
  if (!problems.empty()) {
    return Problems(std::move(problems));
  }
  if (rows.empty()) {
    return rpc::InvalidArgument({{"file", "has no member rows under its header"}});
  }

  pb::ImportMembersResponse out;
  for (const std::string& w : parsed.warnings) {
    out.add_warnings(w);
  }
  const std::string request_key = auth::IdempotencyKey(who, request.request_id());
  audit::Entry entry = audit::Recorder::For(who, "members.import", request.organization(), path);
  entry.detail =
      absl::StrCat(rows.size(), " rows", request.validate_only() ? ", checked only" : "");
  absl::Status written = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const std::optional<int64_t> earlier, MemberStore::FindImport(c, request_key));
    if (earlier.has_value()) {
      out.set_replayed(true);
      out.set_imported(static_cast<int32_t>(*earlier));
      entry.detail = "REPLAY";
      return absl::OkStatus();
    }
    // Numbers registered already (anywhere: the answer never says where).
    std::vector<std::string> indexes;
    for (const Details& d : rows) {
      indexes.push_back(d.row.id_number.index);
    }
    ASSIGN_OR_RETURN(const std::set<std::string> registered,
                     MemberStore::RegisteredIdNumbers(c, indexes));
    if (!registered.empty()) {
      std::vector<rpc::FieldViolation> taken;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (registered.contains(rows[i].row.id_number.index)) {
          taken.push_back({RowField(row_numbers[i], id_column),
                           "a member with this ID number is already registered (a transfer "
                           "moves a member between organizations)"});
        }
      }
      return Problems(std::move(taken));
    }
    if (request.validate_only()) {
      return absl::OkStatus();
    }
    const int64_t now = NowUs();
    std::vector<MemberRow> members;
    std::vector<StageRow> stages;
    std::vector<events::Event> created;
    members.reserve(rows.size());
    for (Details& d : rows) {
      MemberRow& row = d.row;
      row.id = ids_.Next();
      row.organization_id = org;
      row.org_path = path;
      row.status = pb::NORMAL;
      row.create_time_us = row.update_time_us = now;
      const std::string index = row.id_number.index;
      RETURN_IF_ERROR(Seal(row, d.id_number, d.phone));
      int32_t seq = 0;
      for (const StageEntry& s : HistoryOf(row)) {
        stages.push_back({.member_id = row.id,
                          .seq = ++seq,
                          .stage = static_cast<int32_t>(s.stage),
                          .date = s.date,
                          .approving_org_id = org,
                          .reason = "registered by import",
                          .recorded_by = who.subject,
                          .record_time_us = now});
      }
      pb::MemberCreated event;
      *event.mutable_member() = Snapshot(row);
      created.push_back({.stream = std::string(kMemberStream),
                         .type = pb::MemberCreated::descriptor()->full_name(),
                         .key = rpc::FormatName(kMembers, row.id),
                         .payload = event.SerializeAsString()});
      members.push_back(std::move(row));
    }
    RETURN_IF_ERROR(MemberStore::InsertMany(c, members));
    RETURN_IF_ERROR(MemberStore::InsertStages(c, stages));
    RETURN_IF_ERROR(events::AppendFirst(c, ids_, std::move(created), now).status());
    RETURN_IF_ERROR(
        MemberStore::InsertImport(c, request_key, org, static_cast<int64_t>(members.size()), now));
    for (const MemberRow& m : members) {
      out.add_members(rpc::FormatName(kMembers, m.id));
    }
    out.set_imported(static_cast<int32_t>(members.size()));
    return absl::OkStatus();
  });
  if (written.code() == absl::StatusCode::kAlreadyExists) {
    // A concurrent twin with the same request id (or number) won: answer as a retry would.
    auto earlier =
        pool_.Run([&](db::Connection& c) { return MemberStore::FindImport(c, request_key); });
    if (earlier.ok() && earlier->has_value()) {
      pb::ImportMembersResponse replay;
      replay.set_replayed(true);
      replay.set_imported(static_cast<int32_t>(**earlier));
      return replay;
    }
  }
  RETURN_IF_ERROR(db::Generic(written));
  return out;
}

absl::StatusOr<pb::ExportedFile> MemberRecords::Export(const auth::Principal& who,
                                                       const pb::ExportMembersRequest& request) {
  if (!pb::FileFormat_IsValid(request.format())) {
    return rpc::InvalidArgument({{"format", "XLSX or CSV"}});
  }
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(request.organization(), kOrganizations, "organization"));
  ASSIGN_OR_RETURN(const std::string path,
                   MembersAt(who, request.organization(), "read", "members.export"));
  const bool pii = auth::Authorize(who, "read_pii", {std::string(kMembers), path, ""}).ok();
  MemberFilter filter{
      .organization_id = org, .org_path = path, .direct_only = request.direct_only()};
  std::vector<pb::Member> members;
  std::optional<NameCursor> after;
  for (;;) {
    ASSIGN_OR_RETURN(const std::vector<MemberRow> rows, pool_.Run([&](db::Connection& c) {
      return MemberStore::List(c, filter, after, 500);
    }));
    for (const MemberRow& r : rows) {
      pb::Member m = ToProto(r);
      if (pii) {
        RETURN_IF_ERROR(InClear(r, m));
      }
      members.push_back(std::move(m));
    }
    if (rows.size() < 500) {
      break;
    }
    if (static_cast<int>(members.size()) >= kMaxExportRows) {
      return rpc::Error(absl::StatusCode::kFailedPrecondition, "EXPORT_TOO_LARGE",
                        absl::StrCat("more than ", kMaxExportRows,
                                     " members: export the organizations below one by one"));
    }
    after = NameCursor{rows.back().display_name, rows.back().id};
  }
  const Sheet sheet = MemberSheet(members);
  pb::ExportedFile out;
  out.set_rows(static_cast<int32_t>(members.size()));
  const std::string stem = absl::StrCat("members-", org);
  if (request.format() == pb::CSV) {
    out.set_content(WriteCsv(sheet));
    out.set_content_type("text/csv; charset=utf-8");
    out.set_file_name(stem + ".csv");
  } else {
    ASSIGN_OR_RETURN(std::string bytes, WriteXlsx(sheet));
    out.set_content(std::move(bytes));
    out.set_content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    out.set_file_name(stem + ".xlsx");
  }
  // An export is a read of every record in it; one in clear is personal data leaving.
  audit::Entry entry = audit::Recorder::For(who, pii ? "members.export_pii" : "members.export",
                                            request.organization(), path);
  entry.detail =
      absl::StrCat(members.size(), " members", pii ? ", id_number and phone in clear" : ", masked");
  RETURN_IF_ERROR(audit_.Record(entry, absl::OkStatus()));
  return out;
}

absl::StatusOr<pb::ListStandingMilestonesResponse> MemberRecords::Milestones(
    const auth::Principal& who, const pb::ListStandingMilestonesRequest& r) {
  if (r.years() < 0 || r.years() > 100) {
    return rpc::InvalidArgument({{"years", "must be 1-100 (50 when unset)"}});
  }
  const int32_t years = r.years() == 0 ? 50 : r.years();
  ASSIGN_OR_RETURN(const int32_t size, rpc::PageSize(r.page_size()));
  ASSIGN_OR_RETURN(const std::string path,
                   MembersAt(who, r.organization(), "read", "members.milestones"));
  const std::string fingerprint =
      absl::StrCat("milestones|", r.organization(), "|", years, "|", r.lost_contact());
  ASSIGN_OR_RETURN(const std::string cursor, rpc::DecodePageToken(r.page_token(), fingerprint));
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
  const time::CivilDate today = Today();
  const time::CivilDate july_first = ComingJulyFirst(today);
  std::vector<MemberRow> rows;
  if (r.lost_contact()) {
    ASSIGN_OR_RETURN(rows, pool_.Run([&](db::Connection& c) {
      return MemberStore::WithStatus(c, path, pb::LOST_CONTACT, after, size + 1);
    }));
  } else {
    // Those whose 党龄 is exactly `years` on the coming 1 July: full members from the day after
    // 1 July `years` + 1 years before it, to 1 July `years` years before it (this year's awards;
    // earlier years' were awarded then).
    const time::CivilDate to{july_first.year - years, 7, 1};
    ASSIGN_OR_RETURN(const time::CivilDate from, time::AddDays({to.year - 1, 7, 1}, 1));
    ASSIGN_OR_RETURN(rows, pool_.Run([&](db::Connection& c) {
      return MemberStore::FullMembersBetween(c, path, from, to, after, size + 1);
    }));
  }
  const bool more = rpc::TrimPage(rows, size);
  pb::ListStandingMilestonesResponse out;
  for (const MemberRow& row : rows) {
    pb::StandingMilestone* m = out.add_members();
    *m->mutable_member() = ToProto(row);
    *m->mutable_as_of() = time::ToProto(july_first);
    if (row.full_member_date.has_value()) {
      m->set_standing_years(PartyStandingYears(*row.full_member_date, july_first));
    }
  }
  if (more && !rows.empty()) {
    const MemberRow& last = rows.back();
    const std::optional<time::CivilDate>& key =
        r.lost_contact() ? last.status_date : last.full_member_date;
    out.set_next_page_token(
        rpc::EncodePageToken(fingerprint, absl::StrCat(time::ToIso(*key), "|", last.id)));
  }
  return out;
}

}  // namespace dj::member
