// SQL for dues: declarations, payments with their months, reductions, batches, and the light
// member selection the dues lists page through.
#include "services/member/src/dues_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr std::string_view kMemberColumns =
    "id, organization_id, org_path, display_name, category, stage, status, status_date, "
    "join_date, full_member_date, party_affairs_cadre, version, create_time_us, update_time_us";

MemberRow MemberFromDb(const db::Row& r) {
  MemberRow m;
  m.id = r.Int(0);
  m.organization_id = r.Int(1);
  m.org_path = r.Text(2);
  m.display_name = r.Text(3);
  m.category = static_cast<int32_t>(r.Int(4));
  m.stage = static_cast<int32_t>(r.Int(5));
  m.status = static_cast<int32_t>(r.Int(6));
  m.status_date = r.OptionalDate(7);
  m.join_date = r.OptionalDate(8);
  m.full_member_date = r.OptionalDate(9);
  m.party_affairs_cadre = r.Int(10) != 0;
  m.version = r.Int(11);
  m.create_time_us = r.Int(12);
  m.update_time_us = r.Int(13);
  return m;
}

constexpr std::string_view kPaymentColumns =
    "id, member_id, organization_id, org_path, amount_fen, payer, receipt_number, pay_date, "
    "batch_id, recorded_by, create_time_us";

PaymentRow PaymentFromDb(const db::Row& r) {
  PaymentRow p;
  p.id = r.Int(0);
  p.member_id = r.Int(1);
  p.organization_id = r.Int(2);
  p.org_path = r.Text(3);
  p.amount_fen = r.Int(4);
  p.payer = r.Text(5);
  p.receipt_number = r.Text(6);
  p.pay_date = r.OptionalDate(7).value_or(time::CivilDate{});
  p.batch_id = r.Int(8);
  p.recorded_by = r.Text(9);
  p.create_time_us = r.Int(10);
  return p;
}

constexpr std::string_view kReductionColumns =
    "id, member_id, from_month, to_month, amount_fen, reason, approved_by, create_time_us";

ReductionRow ReductionFromDb(const db::Row& r) {
  return {.id = r.Int(0),
          .member_id = r.Int(1),
          .from = MonthFromKey(r.Int(2)),
          .to = MonthFromKey(r.Int(3)),
          .amount_fen = r.Int(4),
          .reason = r.Text(5),
          .approved_by = r.Text(6),
          .create_time_us = r.Int(7)};
}

constexpr std::string_view kBatchColumns =
    "id, organization_id, org_path, month, amount_fen, member_count, payer, recorded_by, "
    "create_time_us";

BatchRow BatchFromDb(const db::Row& r) {
  return {.id = r.Int(0),
          .organization_id = r.Int(1),
          .org_path = r.Text(2),
          .month = MonthFromKey(r.Int(3)),
          .amount_fen = r.Int(4),
          .member_count = static_cast<int32_t>(r.Int(5)),
          .payer = r.Text(6),
          .recorded_by = r.Text(7),
          .create_time_us = r.Int(8)};
}

std::vector<db::Value> IdValues(const std::vector<int64_t>& ids) {
  std::vector<db::Value> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    out.emplace_back(id);
  }
  return out;
}

// Fills in the months of `payments`.
absl::Status AddMonths(db::Connection& c, std::vector<PaymentRow>& payments) {
  if (payments.empty()) {
    return absl::OkStatus();
  }
  std::vector<int64_t> ids;
  std::map<int64_t, PaymentRow*> by_id;
  for (PaymentRow& p : payments) {
    ids.push_back(p.id);
    by_id[p.id] = &p;
  }
  ASSIGN_OR_RETURN(const db::Result months,
                   c.Execute(absl::StrCat("SELECT payment_id, month, due_fen FROM "
                                          "dues_payment_months WHERE payment_id IN (",
                                          db::Placeholders(ids.size()), ") ORDER BY month"),
                             IdValues(ids)));
  for (const db::Row& r : months.rows) {
    auto it = by_id.find(r.Int(0));
    if (it != by_id.end()) {
      it->second->months.emplace_back(MonthFromKey(r.Int(1)), r.Int(2));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t MonthKey(YearMonth ym) { return int64_t{ym.year} * 100 + ym.month; }
YearMonth MonthFromKey(int64_t key) {
  return {static_cast<int32_t>(key / 100), static_cast<int32_t>(key % 100)};
}

absl::StatusOr<DuesStore::MemberPage> DuesStore::Members(
    db::Connection& c, const DuesMemberScope& scope,
    const std::optional<std::pair<std::string, int64_t>>& after,
    const std::optional<std::pair<std::string, int64_t>>& mark, int limit, bool for_update) {
  std::vector<db::Value> params;
  std::string select = absl::StrCat("SELECT ", AV(kMemberColumns));
  if (mark.has_value()) {
    select += ", CASE WHEN display_name > ? OR (display_name = ? AND id > ?) THEN 1 ELSE 0 END";
    params.emplace_back(mark->first);
    params.emplace_back(mark->first);
    params.emplace_back(mark->second);
  }
  std::string where = " FROM members WHERE 1 = 1";
  if (scope.direct_only) {
    where += " AND organization_id = ?";
    params.emplace_back(scope.organization_id);
  } else if (!scope.org_path.empty() && scope.org_path != "/") {
    where += " AND org_path >= ? AND org_path < ?";
    params.emplace_back(scope.org_path);
    params.emplace_back(db::SubtreeUpperBound(scope.org_path));
  }
  if (after.has_value()) {
    where += " AND (display_name > ? OR (display_name = ? AND id > ?))";
    params.emplace_back(after->first);
    params.emplace_back(after->first);
    params.emplace_back(after->second);
  }
  params.emplace_back(int64_t{limit});
  ASSIGN_OR_RETURN(const db::Result result,
                   c.Execute(absl::StrCat(select, where, " ORDER BY display_name, id LIMIT ?",
                                          AV(for_update ? db::ForUpdate(c.dialect()) : "")),
                             params));
  MemberPage page;
  for (const db::Row& r : result.rows) {
    page.rows.push_back(MemberFromDb(r));
    if (mark.has_value()) {
      page.after_mark.push_back(r.Int(14) != 0);
    }
  }
  return page;
}

absl::StatusOr<std::vector<DuesRecord>> DuesStore::Records(db::Connection& c,
                                                           const std::vector<int64_t>& member_ids) {
  std::vector<DuesRecord> out(member_ids.size());
  if (member_ids.empty()) {
    return out;
  }
  std::map<int64_t, size_t> index;
  for (size_t i = 0; i < member_ids.size(); ++i) {
    index[member_ids[i]] = i;
  }
  const std::vector<db::Value> ids = IdValues(member_ids);
  const std::string in = absl::StrCat(" IN (", db::Placeholders(ids.size()), ")");
  ASSIGN_OR_RETURN(
      const db::Result declarations,
      c.Execute(absl::StrCat("SELECT member_id, from_month, base_fen, category, note, "
                             "declared_by, declare_time_us FROM dues_declarations WHERE member_id",
                             in, " ORDER BY member_id, from_month"),
                ids));
  for (const db::Row& r : declarations.rows) {
    out[index[r.Int(0)]].declarations.push_back({.member_id = r.Int(0),
                                                 .from = MonthFromKey(r.Int(1)),
                                                 .base_fen = r.Int(2),
                                                 .category = static_cast<int32_t>(r.Int(3)),
                                                 .note = r.Text(4),
                                                 .declared_by = r.Text(5),
                                                 .declare_time_us = r.Int(6)});
  }
  ASSIGN_OR_RETURN(
      const db::Result paid,
      c.Execute(absl::StrCat("SELECT m.member_id, m.month, m.due_fen, m.payment_id, "
                             "p.receipt_number, p.pay_date, p.payer FROM dues_payment_months m "
                             "JOIN dues_payments p ON p.id = m.payment_id WHERE m.member_id",
                             in, " ORDER BY m.member_id, m.month"),
                ids));
  for (const db::Row& r : paid.rows) {
    out[index[r.Int(0)]].paid.push_back({.member_id = r.Int(0),
                                         .month = MonthFromKey(r.Int(1)),
                                         .due_fen = r.Int(2),
                                         .payment_id = r.Int(3),
                                         .receipt_number = r.Text(4),
                                         .pay_date = r.OptionalDate(5).value_or(time::CivilDate{}),
                                         .payer = r.Text(6)});
  }
  ASSIGN_OR_RETURN(const db::Result reductions,
                   c.Execute(absl::StrCat("SELECT ", AV(kReductionColumns),
                                          " FROM dues_reductions WHERE member_id", in,
                                          " ORDER BY member_id, create_time_us, id"),
                             ids));
  for (const db::Row& r : reductions.rows) {
    out[index[r.Int(1)]].reductions.push_back(ReductionFromDb(r));
  }
  return out;
}

absl::Status DuesStore::Declare(db::Connection& c, const DeclarationRow& row) {
  RETURN_IF_ERROR(c.Exec("DELETE FROM dues_declarations WHERE member_id = ? AND from_month = ?",
                         {row.member_id, MonthKey(row.from)})
                      .status());
  return c
      .Exec(
          "INSERT INTO dues_declarations (member_id, from_month, base_fen, category, note, "
          "declared_by, declare_time_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {row.member_id, MonthKey(row.from), row.base_fen, int64_t{row.category}, row.note,
           row.declared_by, row.declare_time_us})
      .status();
}

absl::Status DuesStore::InsertPayment(db::Connection& c, const PaymentRow& row,
                                      std::string_view request_id) {
  RETURN_IF_ERROR(c.Exec(absl::StrCat("INSERT INTO dues_payments (", AV(kPaymentColumns),
                                      ", request_id) VALUES (", db::Placeholders(12), ")"),
                         {row.id, row.member_id, row.organization_id, row.org_path, row.amount_fen,
                          row.payer, row.receipt_number, db::DateOrNull(row.pay_date), row.batch_id,
                          row.recorded_by, row.create_time_us, db::TextOrNull(request_id)})
                      .status());
  for (const auto& [month, due_fen] : row.months) {
    RETURN_IF_ERROR(c.Exec("INSERT INTO dues_payment_months (member_id, month, payment_id, "
                           "due_fen) VALUES (?, ?, ?, ?)",
                           {row.member_id, MonthKey(month), row.id, due_fen})
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<PaymentRow>> DuesStore::PaymentByRequestId(
    db::Connection& c, std::string_view request_id) {
  ASSIGN_OR_RETURN(
      std::vector<PaymentRow> rows,
      db::MapRows<PaymentRow>(c.Exec(absl::StrCat("SELECT ", AV(kPaymentColumns),
                                                  " FROM dues_payments WHERE request_id = ?"),
                                     {std::string(request_id)}),
                              PaymentFromDb));
  RETURN_IF_ERROR(AddMonths(c, rows));
  if (rows.empty()) {
    return std::optional<PaymentRow>();
  }
  return std::optional<PaymentRow>(std::move(rows.front()));
}

absl::StatusOr<std::vector<PaymentRow>> DuesStore::MemberPayments(db::Connection& c,
                                                                  int64_t member_id) {
  ASSIGN_OR_RETURN(
      std::vector<PaymentRow> rows,
      db::MapRows<PaymentRow>(c.Exec(absl::StrCat("SELECT ", AV(kPaymentColumns),
                                                  " FROM dues_payments WHERE member_id = ? "
                                                  "ORDER BY id DESC"),
                                     {member_id}),
                              PaymentFromDb));
  RETURN_IF_ERROR(AddMonths(c, rows));
  return rows;
}

absl::StatusOr<std::vector<PaymentRow>> DuesStore::BatchPayments(db::Connection& c,
                                                                 int64_t batch_id) {
  ASSIGN_OR_RETURN(std::vector<PaymentRow> rows,
                   db::MapRows<PaymentRow>(
                       c.Exec(absl::StrCat("SELECT ", AV(kPaymentColumns),
                                           " FROM dues_payments WHERE batch_id = ? ORDER BY id"),
                              {batch_id}),
                       PaymentFromDb));
  RETURN_IF_ERROR(AddMonths(c, rows));
  return rows;
}

absl::Status DuesStore::InsertReduction(db::Connection& c, const ReductionRow& row,
                                        std::string_view request_id) {
  return c
      .Exec(absl::StrCat("INSERT INTO dues_reductions (", AV(kReductionColumns),
                         ", request_id) VALUES (", db::Placeholders(9), ")"),
            {row.id, row.member_id, MonthKey(row.from), MonthKey(row.to), row.amount_fen,
             row.reason, row.approved_by, row.create_time_us, db::TextOrNull(request_id)})
      .status();
}

absl::StatusOr<std::optional<ReductionRow>> DuesStore::ReductionByRequestId(
    db::Connection& c, std::string_view request_id) {
  return db::MapOne<ReductionRow>(c.Exec(absl::StrCat("SELECT ", AV(kReductionColumns),
                                                      " FROM dues_reductions WHERE request_id = ?"),
                                         {std::string(request_id)}),
                                  ReductionFromDb);
}

absl::Status DuesStore::InsertBatch(db::Connection& c, const BatchRow& row,
                                    std::string_view request_id) {
  return c
      .Exec(absl::StrCat("INSERT INTO dues_batches (", AV(kBatchColumns), ", request_id) VALUES (",
                         db::Placeholders(10), ")"),
            {row.id, row.organization_id, row.org_path, MonthKey(row.month), row.amount_fen,
             int64_t{row.member_count}, row.payer, row.recorded_by, row.create_time_us,
             db::TextOrNull(request_id)})
      .status();
}

absl::StatusOr<std::optional<BatchRow>> DuesStore::BatchByRequestId(db::Connection& c,
                                                                    std::string_view request_id) {
  return db::MapOne<BatchRow>(
      c.Exec(absl::StrCat("SELECT ", AV(kBatchColumns), " FROM dues_batches WHERE request_id = ?"),
             {std::string(request_id)}),
      BatchFromDb);
}

}  // namespace dj::member
