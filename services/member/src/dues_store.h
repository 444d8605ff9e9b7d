// Repository for party dues: declarations, payments and the months they cover, reductions, a
// branch's month batches, and the few columns of member records the dues arithmetic needs (the
// member store has no light or locked-by-organization selection). Every call runs on the
// connection it is given. Months are stored as integers YYYYMM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/db.h"
#include "common/time/civil_date.h"
#include "services/member/src/dues.h"
#include "services/member/src/member_store.h"

namespace dj::member {

int64_t MonthKey(YearMonth ym);  // 2026-07 -> 202607
YearMonth MonthFromKey(int64_t key);

struct DeclarationRow {
  int64_t member_id = 0;
  YearMonth from;
  int64_t base_fen = 0;
  int32_t category = 0;  // dangjian.member.v1.MemberCategory when declared
  std::string note;
  std::string declared_by;
  int64_t declare_time_us = 0;
};

struct PaymentRow {
  int64_t id = 0;
  int64_t member_id = 0;
  int64_t organization_id = 0;
  std::string org_path;
  int64_t amount_fen = 0;
  std::string payer;
  std::string receipt_number;
  time::CivilDate pay_date;
  int64_t batch_id = 0;  // 0: paid alone
  std::string recorded_by;
  int64_t create_time_us = 0;
  // The months it covers with what each owed, in month order (filled by Payments).
  std::vector<std::pair<YearMonth, int64_t>> months;
};

// A paid month of a member with the payment that paid it.
struct PaidMonthRow {
  int64_t member_id = 0;
  YearMonth month;
  int64_t due_fen = 0;
  int64_t payment_id = 0;
  std::string receipt_number;
  time::CivilDate pay_date;
  std::string payer;
};

struct ReductionRow {
  int64_t id = 0;
  int64_t member_id = 0;
  YearMonth from;
  YearMonth to;
  int64_t amount_fen = 0;
  std::string reason;
  std::string approved_by;
  int64_t create_time_us = 0;
};

struct BatchRow {
  int64_t id = 0;
  int64_t organization_id = 0;
  std::string org_path;
  YearMonth month;
  int64_t amount_fen = 0;
  int32_t member_count = 0;
  std::string payer;
  std::string recorded_by;
  int64_t create_time_us = 0;
};

// Everything about one member's dues that the arithmetic reads.
struct DuesRecord {
  std::vector<DeclarationRow> declarations;  // by from month
  std::vector<PaidMonthRow> paid;            // by month
  std::vector<ReductionRow> reductions;      // in the order recorded
};

// Unique indexes a duplicate key names (db::DuplicateKeyOn).
inline constexpr std::string_view kPaymentRequestIdIndex = "uk_dues_payments_request_id";
inline constexpr std::string_view kReductionRequestIdIndex = "uk_dues_reductions_request_id";
inline constexpr std::string_view kBatchRequestIdIndex = "uk_dues_batches_request_id";

// Which members a selection of member records covers: one organization's own, or a subtree.
struct DuesMemberScope {
  int64_t organization_id = 0;  // with direct_only
  std::string org_path;         // the subtree otherwise ("/": everything)
  bool direct_only = false;
};

class DuesStore final {
 public:
  DuesStore() = delete;

  // Member records (id, organization, path, name, category, stage, status and their dates,
  // cadre flag, version, times; no personal data) of `scope`, by display name then id, after
  // (name, id) when given, at most `limit`. `after_mark`, when set, adds to each row whether it
  // comes after that position in the same order, as the database collates names (so a page
  // token is compared as the database sorts). `for_update` locks them (MySQL).
  struct MemberPage {
    std::vector<MemberRow> rows;
    std::vector<bool> after_mark;  // parallel to rows, when a mark was asked for
  };
  static absl::StatusOr<MemberPage> Members(
      db::Connection& c, const DuesMemberScope& scope,
      const std::optional<std::pair<std::string, int64_t>>& after,
      const std::optional<std::pair<std::string, int64_t>>& mark, int limit, bool for_update);

  // The declarations, paid months and reductions of each of `member_ids` (one entry per id, in
  // the same order).
  static absl::StatusOr<std::vector<DuesRecord>> Records(db::Connection& c,
                                                         const std::vector<int64_t>& member_ids);

  // Replaces the declaration of (member, from month) if there is one.
  static absl::Status Declare(db::Connection& c, const DeclarationRow& row);

  // A payment and its months; the months' primary key refuses a month paid twice.
  static absl::Status InsertPayment(db::Connection& c, const PaymentRow& row,
                                    std::string_view request_id);
  static absl::StatusOr<std::optional<PaymentRow>> PaymentByRequestId(db::Connection& c,
                                                                      std::string_view request_id);
  // A member's payments (newest first), or a batch's (by id), with their months.
  static absl::StatusOr<std::vector<PaymentRow>> MemberPayments(db::Connection& c,
                                                                int64_t member_id);
  static absl::StatusOr<std::vector<PaymentRow>> BatchPayments(db::Connection& c, int64_t batch_id);

  static absl::Status InsertReduction(db::Connection& c, const ReductionRow& row,
                                      std::string_view request_id);
  static absl::StatusOr<std::optional<ReductionRow>> ReductionByRequestId(
      db::Connection& c, std::string_view request_id);

  static absl::Status InsertBatch(db::Connection& c, const BatchRow& row,
                                  std::string_view request_id);
  static absl::StatusOr<std::optional<BatchRow>> BatchByRequestId(db::Connection& c,
                                                                  std::string_view request_id);
};

}  // namespace dj::member
