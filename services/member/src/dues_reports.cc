// DuesService's views of an organization: a branch's monthly sheet (and its .xlsx/CSV export)
// and the arrears over a subtree, with the committee's six-month list.
#include "services/member/src/dues_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/rpc/requests.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/member/v1/dues.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/member/src/dues_ledger.h"
#include "services/member/src/member_access.h"
#include "services/member/src/member_export.h"
#include "services/member/src/member_validation.h"

namespace dj::member {

namespace pb = dangjian::member::v1;

// --- an organization's dues ---

absl::StatusOr<pb::DuesSheet> DuesService::Sheet(const auth::Principal& who,
                                                 const pb::GetDuesSheetRequest& r) {
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(r.organization(), kOrganizations, "organization"));
  std::vector<rpc::FieldViolation> violations;
  const std::optional<YearMonth> month = Month(r.month(), "month", violations);
  if (!violations.empty()) {
    return rpc::InvalidArgument(std::move(violations));
  }
  if (*month > MonthOf(Today())) {
    return rpc::InvalidArgument({{"month", "must not be after the current month"}});
  }
  RETURN_IF_ERROR(AuthorizeOrganization(who, r.organization(), "read", "dues.sheet").status());
  ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions());
  const RulesByDate rules(versions);
  pb::DuesSheet out;
  out.set_organization(rpc::FormatName(kOrganizations, org));
  out.set_month(ToText(*month));
  std::optional<std::pair<std::string, int64_t>> after;
  while (true) {
    DuesStore::MemberPage page;
    std::vector<DuesRecord> records;
    RETURN_IF_ERROR(pool_.Run([&](db::Connection& c) -> absl::Status {
      ASSIGN_OR_RETURN(page, DuesStore::Members(c, {.organization_id = org, .direct_only = true},
                                                after, std::nullopt, kChunk, false));
      std::vector<int64_t> ids;
      for (const MemberRow& m : page.rows) {
        ids.push_back(m.id);
      }
      ASSIGN_OR_RETURN(records, DuesStore::Records(c, ids));
      return absl::OkStatus();
    }));
    for (size_t i = 0; i < page.rows.size(); ++i) {
      const MemberRow& m = page.rows[i];
      const Ledger ledger(m, records[i]);
      const std::vector<MonthDue> due = ledger.Due(*month, *month, rules);
      const PaidMonthRow* paid = ledger.PaidRow(*month);
      if (due.empty() && paid == nullptr) {
        continue;
      }
      pb::DuesSheetRow* row = out.add_rows();
      row->set_member(rpc::FormatName(kMembers, m.id));
      row->set_display_name(m.display_name);
      row->set_category(static_cast<pb::MemberCategory>(m.category));
      *row->mutable_dues() =
          due.empty() ? PaidOnlyProto(ledger, *month) : MonthProto(ledger, due.front());
      out.set_total_due_fen(out.total_due_fen() + row->dues().due_fen());
      out.set_total_paid_fen(out.total_paid_fen() + row->dues().paid_fen());
      out.set_member_count(out.member_count() + 1);
      out.set_paid_count(out.paid_count() + (paid != nullptr ? 1 : 0));
    }
    if (page.rows.size() < static_cast<size_t>(kChunk)) {
      break;
    }
    after = std::make_pair(page.rows.back().display_name, page.rows.back().id);
  }
  return out;
}

absl::StatusOr<pb::ListArrearsResponse> DuesService::Arrears(const auth::Principal& who,
                                                             const pb::ListArrearsRequest& r) {
  ASSIGN_OR_RETURN(const int64_t org,
                   rpc::ParseName(r.organization(), kOrganizations, "organization"));
  if (r.min_consecutive_months() < 0 || r.min_consecutive_months() > kMaxThresholdMonths) {
    return rpc::InvalidArgument(
        {{"min_consecutive_months",
          absl::StrCat("must be 0 (any arrears) to ", kMaxThresholdMonths)}});
  }
  ASSIGN_OR_RETURN(const int32_t size, rpc::PageSize(r.page_size()));
  const std::string fingerprint = absl::StrCat("arrears|", org, "|", r.direct_only(), "|",
                                               r.min_consecutive_months(), "|", r.alert());
  ASSIGN_OR_RETURN(const std::string cursor, rpc::DecodePageToken(r.page_token(), fingerprint));
  std::optional<std::pair<std::string, int64_t>> mark;
  if (!cursor.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(cursor, absl::MaxSplits('\n', 1));
    int64_t id = 0;
    if (!absl::SimpleAtoi(parts.second, &id)) {
      return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
    }
    mark = std::make_pair(parts.first, id);
  }
  ASSIGN_OR_RETURN(const std::string path,
                   AuthorizeOrganization(who, r.organization(), "read", "dues.arrears"));
  ASSIGN_OR_RETURN(const std::vector<MemberRuleVersion> versions, rules_.Versions());
  const RulesByDate rules(versions);
  const time::CivilDate today = Today();
  const YearMonth last = AddMonths(MonthOf(today), -1);
  const int32_t threshold =
      r.alert() ? rules.On(today).arrears_alert_months : r.min_consecutive_months();

  pb::ListArrearsResponse out;
  out.set_min_consecutive_months(threshold);
  out.set_through_month(ToText(last));
  const DuesMemberScope scope{
      .organization_id = org, .org_path = path, .direct_only = r.direct_only()};
  std::optional<std::pair<std::string, int64_t>> after;
  bool more = false;
  std::string page_end;  // the cursor after the last member of a full page
  while (true) {
    DuesStore::MemberPage page;
    std::vector<DuesRecord> records;
    RETURN_IF_ERROR(pool_.Run([&](db::Connection& c) -> absl::Status {
      ASSIGN_OR_RETURN(page, DuesStore::Members(c, scope, after, mark, kChunk, false));
      std::vector<int64_t> ids;
      for (const MemberRow& m : page.rows) {
        ids.push_back(m.id);
      }
      ASSIGN_OR_RETURN(records, DuesStore::Records(c, ids));
      return absl::OkStatus();
    }));
    for (size_t i = 0; i < page.rows.size(); ++i) {
      const MemberRow& m = page.rows[i];
      if (MembershipEnded(m.status)) {
        continue;
      }
      const Ledger ledger(m, records[i]);
      if (!ledger.window().has_value()) {
        continue;
      }
      const std::vector<MonthDue> due = ledger.Due(ledger.window()->start, last, rules);
      const dj::member::Arrears a = ArrearsOf(due, ledger.paid());
      if (a.unpaid.empty() || a.trailing_unpaid_months < threshold) {
        continue;
      }
      out.set_total_members(out.total_members() + 1);
      out.set_total_unpaid_fen(out.total_unpaid_fen() + a.unpaid_fen);
      if (mark.has_value() && !page.after_mark[i]) {
        continue;
      }
      if (out.members_size() >= size) {
        more = true;
        continue;
      }
      pb::MemberArrears* entry = out.add_members();
      entry->set_member(rpc::FormatName(kMembers, m.id));
      entry->set_display_name(m.display_name);
      entry->set_organization(rpc::FormatName(kOrganizations, m.organization_id));
      entry->set_category(static_cast<pb::MemberCategory>(m.category));
      *entry->mutable_arrears() = ArrearsProto(a, due);
      if (out.members_size() == size) {
        page_end = absl::StrCat(m.display_name, "\n", m.id);
      }
    }
    if (page.rows.size() < static_cast<size_t>(kChunk)) {
      break;
    }
    after = std::make_pair(page.rows.back().display_name, page.rows.back().id);
  }
  if (more) {
    out.set_next_page_token(rpc::EncodePageToken(fingerprint, page_end));
  }
  return out;
}

namespace {
// 12345 fen -> "123.45" (yuan, as a dues sheet shows money).
std::string Yuan(int64_t fen) {
  return absl::StrCat(fen / 100, ".", absl::Dec(fen % 100, absl::kZeroPad2));
}
}  // namespace

absl::StatusOr<pb::ExportedFile> DuesService::ExportSheet(const auth::Principal& who,
                                                          const pb::ExportDuesSheetRequest& r) {
  if (!pb::FileFormat_IsValid(r.format())) {
    return rpc::InvalidArgument({{"format", "XLSX or CSV"}});
  }
  pb::GetDuesSheetRequest get;
  get.set_organization(r.organization());
  get.set_month(r.month());
  ASSIGN_OR_RETURN(const pb::DuesSheet sheet, Sheet(who, get));
  dj::member::Sheet table{.name = absl::StrCat("党费 ", sheet.month()),
                          .header = {"姓名", "人员类别", "缴费基数(元)", "应缴(元)", "已缴(元)",
                                     "缴费日期", "收据号", "代缴人"}};
  for (const pb::DuesSheetRow& row : sheet.rows()) {
    const pb::DuesMonth& d = row.dues();
    table.rows.push_back(
        {row.display_name(), CategoryWord(row.category()), d.has_base() ? Yuan(d.base_fen()) : "",
         Yuan(d.due_fen()), d.paid() ? Yuan(d.paid_fen()) : "",
         d.has_pay_date() ? time::ToIso(*time::FromProto(d.pay_date(), "pay_date")) : "",
         d.receipt_number(), d.payer()});
  }
  table.rows.push_back(
      {"合计", "", "", Yuan(sheet.total_due_fen()), Yuan(sheet.total_paid_fen()), "", "", ""});
  pb::ExportedFile out;
  out.set_rows(sheet.rows_size());
  const std::string stem = absl::StrCat("dues-", sheet.month());
  if (r.format() == pb::CSV) {
    out.set_content(WriteCsv(table));
    out.set_content_type("text/csv; charset=utf-8");
    out.set_file_name(stem + ".csv");
  } else {
    ASSIGN_OR_RETURN(std::string bytes, WriteXlsx(table));
    out.set_content(std::move(bytes));
    out.set_content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    out.set_file_name(stem + ".xlsx");
  }
  return out;
}

}  // namespace dj::member
