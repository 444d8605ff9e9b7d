// Party dues on MariaDB and SQLite, through the service's plain methods on a test clock: the
// bracket edges and the retiree table through the API, a salary change and a rule set version
// taking effect mid-year, payments refused (paid already, future, beyond the back-payment limit,
// wrong amount) and negative income writing nothing, a branch's month paid all or nothing,
// reductions needing approval one level up, arrears and the committee's 6-month list at its
// edge, the monthly sheet, a member reading only their own, and the turn of the year.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/auth/principal.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "common/testing/service_database_test.h"
#include "dangjian/member/v1/dues.pb.h"
#include "gtest/gtest.h"
#include "services/member/src/dues_service.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_records.h"
#include "services/member/src/schema.h"
#include "services/member/tests/member_fixture.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;

using fixture::At;

class DuesServiceTest : public fixture::MemberServiceTestBase {
 protected:
  void SetUp() override {
    MemberServiceTestBase::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    dues_ = std::make_unique<DuesService>(*pool_, *ids_, *auth_, kAuditKey, OrgPaths(),
                                          records_->rules(), Clock());
  }

  static void SetDate(google::type::Date* d, const time::CivilDate& date) {
    d->set_year(date.year);
    d->set_month(date.month);
    d->set_day(date.day);
  }

  // A full member (joined 2010-07-01) of `org` in `category`; returns "members/{id}".
  std::string Member(const std::string& name, pb::MemberCategory category,
                     const std::string& org = "organizations/5") {
    pb::Member m;
    m.set_display_name(name);
    m.set_id_number(MakeIdNumber("320681", {1980, 1, 1}, seq_));
    seq_ += 2;
    m.set_organization(org);
    m.set_category(category);
    m.set_stage(pb::FULL);
    SetDate(m.mutable_join_date(), {2010, 7, 1});
    SetDate(m.mutable_full_member_date(), {2011, 7, 1});
    pb::CreateMemberRequest r;
    *r.mutable_member() = m;
    auto created = records_->Create(Admin(), r);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->name() : "";
  }

  absl::StatusOr<pb::DuesDeclaration> Declare(const std::string& member, const std::string& from,
                                              int64_t base_fen,
                                              const auth::Principal& who = Secretary5()) {
    pb::DeclareDuesBaseRequest r;
    r.set_parent(member + "/dues");
    r.mutable_declaration()->set_from_month(from);
    r.mutable_declaration()->set_base_fen(base_fen);
    return dues_->Declare(who, r);
  }
  absl::StatusOr<pb::DuesPayment> Pay(const std::string& member,
                                      const std::vector<std::string>& months, int64_t amount_fen,
                                      const std::string& request_id = "",
                                      const auth::Principal& who = Secretary5()) {
    pb::PayDuesRequest r;
    r.set_parent(member + "/dues");
    for (const std::string& m : months) {
      r.mutable_payment()->add_months(m);
    }
    r.mutable_payment()->set_amount_fen(amount_fen);
    r.set_request_id(request_id);
    return dues_->Pay(who, r);
  }
  absl::StatusOr<pb::MemberDues> Dues(const std::string& member,
                                      const auth::Principal& who = Secretary5()) {
    pb::GetMemberDuesRequest r;
    r.set_name(member + "/dues");
    return dues_->MemberDuesOf(who, r);
  }
  // What month `month` owes according to the member's history (-1: not listed).
  int64_t DueIn(const std::string& member, const std::string& month) {
    auto d = Dues(member);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) {
      return -1;
    }
    for (const pb::DuesMonth& m : d->months()) {
      if (m.month() == month) {
        return m.due_fen();
      }
    }
    return -1;
  }
  absl::StatusOr<pb::DuesReduction> Reduce(const std::string& member, const std::string& from,
                                           const std::string& to, int64_t amount_fen,
                                           const auth::Principal& who) {
    pb::CreateDuesReductionRequest r;
    r.set_parent(member + "/dues");
    r.mutable_reduction()->set_from_month(from);
    r.mutable_reduction()->set_to_month(to);
    r.mutable_reduction()->set_amount_fen(amount_fen);
    r.mutable_reduction()->set_reason("重病住院");
    return dues_->Reduce(who, r);
  }
  absl::StatusOr<pb::PayDuesMonthResponse> PayMonth(const std::string& org,
                                                    const std::string& month, int64_t amount_fen,
                                                    const std::string& request_id = "",
                                                    const auth::Principal& who = Secretary5()) {
    pb::PayDuesMonthRequest r;
    r.set_organization(org);
    r.set_month(month);
    r.set_amount_fen(amount_fen);
    r.set_payer("党小组长 王五");
    r.set_request_id(request_id);
    return dues_->PayMonth(who, r);
  }
  absl::StatusOr<pb::ListArrearsResponse> ListArrears(const std::string& org, int32_t min,
                                                      bool alert = false,
                                                      const auth::Principal& who = Admin(),
                                                      int32_t page_size = 0,
                                                      const std::string& token = "") {
    pb::ListArrearsRequest r;
    r.set_organization(org);
    r.set_min_consecutive_months(min);
    r.set_alert(alert);
    r.set_page_size(page_size);
    r.set_page_token(token);
    return dues_->Arrears(who, r);
  }
  static std::vector<std::string> Names(const pb::ListArrearsResponse& list) {
    std::vector<std::string> out;
    for (const pb::MemberArrears& m : list.members()) {
      out.push_back(m.display_name());
    }
    return out;
  }

  // Rows of every dues table and the outbox, to see that a refusal wrote nothing.
  std::vector<int64_t> Written() {
    return {Count("dues_declarations"), Count("dues_payments"), Count("dues_payment_months"),
            Count("dues_reductions"),   Count("dues_batches"),  Count("outbox")};
  }

  int32_t seq_ = 11;
  std::unique_ptr<DuesService> dues_;
};

TEST_P(DuesServiceTest, BracketEdgesAndTheRetireeTableThroughTheApi) {
  struct Case {
    pb::MemberCategory category;
    int64_t base_fen;
    int64_t monthly_fen;
  };
  const Case cases[] = {
      {pb::IN_SERVICE, 300000, 1500},    // 3000.00: 0.5%
      {pb::IN_SERVICE, 300001, 3000},    // 3000.01: 1% (30.0001 rounds to 30.00)
      {pb::IN_SERVICE, 500000, 5000},    // 5000.00: still 1%
      {pb::IN_SERVICE, 1000000, 15000},  // 10000.00: 1.5%
      {pb::IN_SERVICE, 1000001, 20000},  // 10000.01: 2%
      {pb::IN_SERVICE, 123457, 617},     // 6.17285 rounds half-up to the fen
      {pb::IN_SERVICE, 0, 0},           {pb::RETIRED, 500000, 2500},  // pension 5000.00: 0.5%
      {pb::RETIRED, 500001, 5000},                                    // 5000.01: 1%
      {pb::RETIRED, 300000, 1500},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(pb::MemberCategory_Name(c.category), " ", c.base_fen));
    const std::string m = Member(absl::StrCat("Member", i++), c.category);
    auto declared = Declare(m, "2026-12", c.base_fen);
    ASSERT_TRUE(declared.ok()) << declared.status();
    EXPECT_EQ(declared->monthly_fen(), c.monthly_fen);
    EXPECT_EQ(declared->category(), c.category);
    EXPECT_EQ(declared->name(), m + "/dues/declarations/2026-12");
    EXPECT_EQ(DueIn(m, "2026-12"), c.monthly_fen);
    if (c.monthly_fen > 0) {
      auto paid = Pay(m, {"2026-12"}, c.monthly_fen);
      ASSERT_TRUE(paid.ok()) << paid.status();
      EXPECT_EQ(paid->amount_fen(), c.monthly_fen);
    }
  }
  // Students and others pay the fixed amount without declaring a base.
  const std::string student = Member("Student", pb::STUDENT);
  const std::string other = Member("Other", pb::OTHER);
  EXPECT_EQ(DueIn(student, "2026-12"), 20);
  EXPECT_EQ(DueIn(other, "2026-12"), 20);
  // In service with no base yet: nothing computable, and not arrears.
  const std::string undeclared = Member("Undeclared", pb::IN_SERVICE);
  auto d = Dues(undeclared);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->months_size(), 1);
  EXPECT_TRUE(d->months(0).base_missing());
  EXPECT_EQ(d->arrears().unpaid_fen(), 0);
}

TEST_P(DuesServiceTest, ASalaryChangeMidYearAppliesFromItsMonthAndACorrectionReplaces) {
  const std::string m = Member("Salary", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(m, "2026-01", 800000).ok());
  ASSERT_TRUE(Declare(m, "2026-07", 1200000).ok());
  auto d = Dues(m);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->start_month(), "2026-01");  // the first declaration, before the record existed
  EXPECT_EQ(d->current_month(), "2026-12");
  ASSERT_EQ(d->months_size(), 12);
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(d->months(i).month());
    EXPECT_EQ(d->months(i).due_fen(), i < 6 ? 12000 : 24000);  // 8000 x 1.5%, 12000 x 2%
    EXPECT_EQ(d->months(i).base_fen(), i < 6 ? 800000 : 1200000);
  }
  // Arrears: January to November (December is not over yet).
  EXPECT_EQ(d->arrears().months_size(), 11);
  EXPECT_EQ(d->arrears().unpaid_fen(), 6 * 12000 + 5 * 24000);
  EXPECT_EQ(d->arrears().consecutive_months(), 11);

  // A correction of July replaces it.
  ASSERT_TRUE(Declare(m, "2026-07", 1000000).ok());
  d = Dues(m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->declarations_size(), 2);
  EXPECT_EQ(d->months(6).due_fen(), 15000);  // 10000.00 x 1.5%
  EXPECT_EQ(d->months(11).due_fen(), 15000);
}

TEST_P(DuesServiceTest, ARuleSetVersionTakesEffectFromItsMonth) {
  const std::string m = Member("Rules", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(m, "2026-12", 1200000).ok());
  pb::CreateMemberRuleSetRequest r;
  *r.mutable_rule_set() = ToProto(NationalMemberRules());
  pb::DuesRuleSet* dues = r.mutable_rule_set()->mutable_dues();
  dues->mutable_in_service(dues->in_service_size() - 1)->set_rate_basis_points(300);  // 3%
  r.mutable_rule_set()->set_note("某市党费细则");
  SetDate(r.mutable_rule_set()->mutable_effective_date(), {2027, 7, 1});
  ASSERT_TRUE(records_->AddRuleSet(Root(), r).ok());

  now_ = At({2027, 8, 10});
  EXPECT_EQ(DueIn(m, "2027-06"), 24000);
  EXPECT_EQ(DueIn(m, "2027-07"), 36000);
  EXPECT_EQ(DueIn(m, "2027-08"), 36000);
  // A payment spanning the change owes each month under its own rules.
  EXPECT_TRUE(
      Fields(Pay(m, {"2027-06", "2027-07"}, 48000).status()).contains("payment.amount_fen"));
  EXPECT_TRUE(Pay(m, {"2027-06", "2027-07"}, 60000).ok());
}

TEST_P(DuesServiceTest, RefusedPaymentsAndNegativeIncomeWriteNothing) {
  const std::string m = Member("Payer", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(m, "2026-01", 500000).ok());  // 50.00 a month
  auto first = Pay(m, {"2026-11"}, 5000);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->receipt_number().empty());
  EXPECT_EQ(first->pay_date().year(), 2026);
  EXPECT_EQ(first->months(0), "2026-11");

  struct Case {
    std::string what;
    std::function<absl::Status()> call;
    std::string field;
  };
  const Case cases[] = {
      {"a month already paid", [&] { return Pay(m, {"2026-11"}, 5000).status(); },
       "payment.months"},
      {"a future month", [&] { return Pay(m, {"2027-01"}, 5000).status(); }, "payment.months"},
      {"7 months back", [&] { return Pay(m, {"2026-05"}, 5000).status(); }, "payment.months"},
      {"a month given twice",
       [&] {
         return Pay(m, {"2026-10", "2026-10"}, 10000).status();
       },
       "payment.months"},
      {"a paid month among others",
       [&] {
         return Pay(m, {"2026-10", "2026-11"}, 10000).status();
       },
       "payment.months"},
      {"a wrong amount", [&] { return Pay(m, {"2026-10"}, 4999).status(); }, "payment.amount_fen"},
      {"a negative amount", [&] { return Pay(m, {"2026-10"}, -5000).status(); },
       "payment.amount_fen"},
      {"no months", [&] { return Pay(m, {}, 5000).status(); }, "payment.months"},
      {"a malformed month", [&] { return Pay(m, {"2026-7"}, 5000).status(); }, "payment.months"},
      {"negative income", [&] { return Declare(m, "2026-12", -1).status(); },
       "declaration.base_fen"},
      {"a malformed declaration month", [&] { return Declare(m, "2026-13", 100).status(); },
       "declaration.from_month"},
  };
  const std::vector<int64_t> before = Written();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const absl::Status s = c.call();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(Fields(s).contains(c.field)) << s;
    EXPECT_EQ(Written(), before);
  }
  // Exactly six months back is allowed; several months at once owe their sum.
  EXPECT_TRUE(Pay(m, {"2026-06"}, 5000).ok());
  auto two = Pay(m, {"2026-10", "2026-09"}, 10000, "pay-2026-09-10-abc");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->months_size(), 2);
  // Replayed by its request id: the same payment, nothing more written.
  const std::vector<int64_t> after = Written();
  auto again = Pay(m, {"2026-10", "2026-09"}, 10000, "pay-2026-09-10-abc");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->receipt_number(), two->receipt_number());
  EXPECT_EQ(Written(), after);
  EXPECT_EQ(Pay(m, {"2026-08"}, 5000, "pay-2026-09-10-abc").status().code(),
            absl::StatusCode::kAlreadyExists);
  // One DuesPaid event per payment.
  auto events = pool_->Run([&](db::Connection& c) {
    return c.Exec("SELECT COUNT(*) FROM outbox WHERE type = ?",
                  {std::string("dangjian.member.v1.DuesPaid")});
  });
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->rows[0].Int(0), 3);
}

TEST_P(DuesServiceTest, TheTurnOfTheYear) {
  const std::string m = Member("NewYear", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(m, "2026-07", 300000).ok());
  now_ = At({2027, 1, 5});
  EXPECT_TRUE(Fields(Pay(m, {"2027-02"}, 1500).status()).contains("payment.months"));
  EXPECT_TRUE(Pay(m, {"2026-12"}, 1500).ok());  // December, from January
  EXPECT_TRUE(Pay(m, {"2026-07"}, 1500).ok());  // exactly six months back across the year
  EXPECT_TRUE(Pay(m, {"2027-01"}, 1500).ok());  // the current month
  auto list = ListArrears("organizations/5", 0);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->through_month(), "2026-12");
  ASSERT_EQ(list->members_size(), 1);
  EXPECT_EQ(list->members(0).arrears().months_size(), 4);         // August to November
  EXPECT_EQ(list->members(0).arrears().consecutive_months(), 0);  // December is paid
  // The year turns at midnight in Shanghai (16:00 UTC on 31 December).
  now_ = time::ShanghaiMidnightMicros({2027, 1, 1}) - 1;
  EXPECT_EQ(ListArrears("organizations/5", 0)->through_month(), "2026-11");
  EXPECT_EQ(Dues(m)->current_month(), "2026-12");
  now_ += 1;
  EXPECT_EQ(ListArrears("organizations/5", 0)->through_month(), "2026-12");
  EXPECT_EQ(Dues(m)->current_month(), "2027-01");
}

TEST_P(DuesServiceTest, ABranchMonthIsPaidAllOrNothing) {
  const std::string a = Member("Alpha", pb::IN_SERVICE);
  const std::string b = Member("Bravo", pb::RETIRED);
  const std::string c = Member("Charlie", pb::STUDENT);
  const std::string e = Member("Echo", pb::IN_SERVICE);
  const std::string elsewhere = Member("Foxtrot", pb::STUDENT, "organizations/6");
  ASSERT_TRUE(Declare(a, "2026-11", 300000).ok());  // 15.00
  ASSERT_TRUE(Declare(b, "2026-11", 600000).ok());  // 60.00
  ASSERT_TRUE(Pay(a, {"2026-12"}, 1500).ok());      // paid alone already

  // Echo has no base for December: the batch cannot be complete, so nothing is paid.
  std::vector<int64_t> before = Written();
  auto refused = PayMonth("organizations/5", "2026-12", 6020, "batch-2026-12-0001");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_EQ(rpc::Reason(refused.status()), "DUES_BASE_MISSING");
  EXPECT_EQ(Written(), before);

  ASSERT_TRUE(Declare(e, "2026-12", 300000).ok());
  before = Written();
  for (const auto& [month, amount, field] :
       {std::tuple<std::string, int64_t, std::string>{"2026-12", 7519, "amount_fen"},
        {"2027-01", 7520, "month"},
        {"2026-05", 7520, "month"},
        {"12/2026", 7520, "month"}}) {
    SCOPED_TRACE(month);
    auto s = PayMonth("organizations/5", month, amount).status();
    EXPECT_TRUE(Fields(s).contains(field)) << s;
    EXPECT_EQ(Written(), before);
  }
  EXPECT_EQ(PayMonth("organizations/5", "2026-12", 7520, "", Secretary6()).status().code(),
            absl::StatusCode::kNotFound);

  // Bravo 60.00 + Charlie 0.20 + Echo 15.00; Alpha has paid; Foxtrot is in another branch.
  auto paid = PayMonth("organizations/5", "2026-12", 7520, "batch-2026-12-0001");
  ASSERT_TRUE(paid.ok()) << paid.status();
  ASSERT_EQ(paid->payments_size(), 3);
  std::set<std::string> receipts;
  for (const pb::DuesPayment& p : paid->payments()) {
    receipts.insert(p.receipt_number());
    EXPECT_EQ(p.batch(), paid->batch());
    EXPECT_EQ(p.payer(), "党小组长 王五");
  }
  EXPECT_EQ(receipts.size(), 3u);
  EXPECT_EQ(paid->amount_fen(), 7520);
  auto foxtrot = Dues(elsewhere, Admin());
  ASSERT_TRUE(foxtrot.ok());
  EXPECT_FALSE(foxtrot->months(0).paid());

  // The same request again answers with the same batch and writes nothing.
  before = Written();
  auto replay = PayMonth("organizations/5", "2026-12", 7520, "batch-2026-12-0001");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->batch(), paid->batch());
  EXPECT_EQ(replay->payments_size(), 3);
  EXPECT_EQ(Written(), before);
  // A new request finds nothing left to pay.
  EXPECT_EQ(rpc::Reason(PayMonth("organizations/5", "2026-12", 1).status()), "NOTHING_DUE");
}

TEST_P(DuesServiceTest, ReductionsNeedApprovalOneLevelUp) {
  const std::string m = Member("Reduced", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(m, "2026-06", 500000).ok());
  const std::vector<int64_t> before = Written();
  EXPECT_EQ(Reduce(m, "2026-10", "2026-11", 0, Secretary5()).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The member's own organization may not approve either.
  EXPECT_EQ(Reduce(m, "2026-10", "2026-11", 0, OrgAdmin5()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      Fields(Reduce(m, "2026-11", "2026-10", 0, Admin()).status()).contains("reduction.to_month"));
  EXPECT_TRUE(Fields(Reduce(m, "2026-10", "2026-11", -1, Admin()).status())
                  .contains("reduction.amount_fen"));
  EXPECT_EQ(Written(), before);

  auto exempt = Reduce(m, "2026-10", "2026-11", 0, Admin());
  ASSERT_TRUE(exempt.ok()) << exempt.status();
  EXPECT_EQ(exempt->approved_by(), "accounts/1");
  ASSERT_TRUE(Reduce(m, "2026-09", "2026-09", 100, Admin()).ok());  // 1.00 instead of 50.00
  EXPECT_EQ(DueIn(m, "2026-08"), 5000);
  EXPECT_EQ(DueIn(m, "2026-09"), 100);
  EXPECT_EQ(DueIn(m, "2026-10"), 0);
  auto d = Dues(m);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->months(4).reduced());  // October
  EXPECT_EQ(d->reductions_size(), 2);
  // June to August at 50.00, September at 1.00; October and November owe nothing.
  EXPECT_EQ(d->arrears().unpaid_fen(), 3 * 5000 + 100);
  EXPECT_EQ(d->arrears().consecutive_months(), 0);  // the exemption ends the run
  EXPECT_TRUE(Fields(Pay(m, {"2026-10"}, 5000).status()).contains("payment.months"));
  EXPECT_TRUE(Pay(m, {"2026-09"}, 100).ok());
}

TEST_P(DuesServiceTest, ArrearsAndTheSixMonthListAtItsEdge) {
  // Up to last month (November): Six has June-November unpaid, Five July-November.
  const std::string six = Member("Six", pb::IN_SERVICE);
  const std::string five = Member("Five", pb::IN_SERVICE);
  const std::string paid_up = Member("PaidUp", pb::IN_SERVICE);
  const std::string away = Member("Away", pb::IN_SERVICE, "organizations/6");
  const std::string gone = Member("Gone", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(six, "2026-06", 300000).ok());
  ASSERT_TRUE(Declare(five, "2026-07", 300000).ok());
  ASSERT_TRUE(Declare(paid_up, "2026-01", 300000).ok());
  ASSERT_TRUE(Declare(away, "2026-01", 300000, Admin()).ok());
  ASSERT_TRUE(Declare(gone, "2026-01", 300000).ok());
  ASSERT_TRUE(Pay(paid_up, {"2026-11"}, 1500).ok());
  pb::ChangeMemberStatusRequest leave;
  leave.set_name(gone);
  leave.set_status(pb::LEFT);
  SetDate(leave.mutable_date(), {2026, 11, 20});
  leave.set_reason("出党");
  ASSERT_TRUE(records_->ChangeStatus(Admin(), leave).ok());

  auto alert = ListArrears("organizations/5", 0, /*alert=*/true);
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->min_consecutive_months(), 6);
  EXPECT_EQ(Names(*alert), std::vector<std::string>({"Six"}));
  EXPECT_EQ(alert->members(0).arrears().consecutive_months(), 6);
  EXPECT_EQ(alert->members(0).arrears().unpaid_fen(), 6 * 1500);
  EXPECT_EQ(Names(*ListArrears("organizations/5", 5)), std::vector<std::string>({"Five", "Six"}));

  // Every member with arrears in the subtree, and their sum; the one who left is not listed.
  auto all = ListArrears("organizations/1", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), std::vector<std::string>({"Away", "Five", "PaidUp", "Six"}));
  EXPECT_EQ(all->total_members(), 4);
  EXPECT_EQ(all->total_unpaid_fen(), (11 + 5 + 10 + 6) * 1500);
  // Page by page, with the same totals on each page.
  std::vector<std::string> paged;
  std::string token;
  do {
    auto page = ListArrears("organizations/1", 0, false, Admin(), 1, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_members(), 4);
    for (const std::string& n : Names(*page)) {
      paged.push_back(n);
    }
    token = page->next_page_token();
  } while (!token.empty() && paged.size() < 10);
  EXPECT_EQ(paged, Names(*all));
  // A branch secretary sees their own subtree only.
  EXPECT_EQ(ListArrears("organizations/5", 0, false, Secretary6()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Names(*ListArrears("organizations/6", 0, false, Secretary6())),
            std::vector<std::string>({"Away"}));
  // The member who left owes through October only.
  auto left = Dues(gone, Admin());
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->end_month(), "2026-10");
  EXPECT_EQ(left->months_size(), 10);
}

TEST_P(DuesServiceTest, TheMonthlySheetTotalsDueAndPaid) {
  const std::string a = Member("Alpha", pb::IN_SERVICE);
  const std::string b = Member("Bravo", pb::RETIRED);
  const std::string c = Member("Charlie", pb::STUDENT);
  ASSERT_TRUE(Declare(a, "2026-11", 300000).ok());
  ASSERT_TRUE(Declare(b, "2026-11", 600000).ok());
  pb::PayDuesRequest on_behalf;
  on_behalf.set_parent(a + "/dues");
  on_behalf.mutable_payment()->add_months("2026-11");
  on_behalf.mutable_payment()->set_amount_fen(1500);
  on_behalf.mutable_payment()->set_payer("配偶代缴");
  auto paid = dues_->Pay(Secretary5(), on_behalf);
  ASSERT_TRUE(paid.ok()) << paid.status();

  pb::GetDuesSheetRequest r;
  r.set_organization("organizations/5");
  r.set_month("2026-11");
  auto sheet = dues_->Sheet(Secretary5(), r);
  ASSERT_TRUE(sheet.ok()) << sheet.status();
  // Charlie's record began in December: November is not on it for them.
  ASSERT_EQ(sheet->rows_size(), 2);
  EXPECT_EQ(sheet->rows(0).display_name(), "Alpha");
  EXPECT_EQ(sheet->rows(0).dues().base_fen(), 300000);
  EXPECT_TRUE(sheet->rows(0).dues().paid());
  EXPECT_EQ(sheet->rows(0).dues().receipt_number(), paid->receipt_number());
  EXPECT_EQ(sheet->rows(0).dues().payer(), "配偶代缴");
  EXPECT_EQ(sheet->rows(0).dues().pay_date().day(), 7);
  EXPECT_FALSE(sheet->rows(1).dues().paid());
  EXPECT_EQ(sheet->total_due_fen(), 1500 + 6000);
  EXPECT_EQ(sheet->total_paid_fen(), 1500);
  EXPECT_EQ(sheet->member_count(), 2);
  EXPECT_EQ(sheet->paid_count(), 1);
  // The same sheet as a file, amounts in yuan, a total line.
  pb::ExportDuesSheetRequest export_csv;
  export_csv.set_organization("organizations/5");
  export_csv.set_month("2026-11");
  export_csv.set_format(pb::CSV);
  auto csv = dues_->ExportSheet(Secretary5(), export_csv);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->rows(), 2);
  EXPECT_TRUE(absl::StrContains(csv->content(), "Alpha,在职,3000.00,15.00,15.00,2026-12-07"))
      << csv->content();
  EXPECT_TRUE(absl::StrContains(csv->content(), "合计,,,75.00,15.00")) << csv->content();
  export_csv.set_format(pb::XLSX);
  auto xlsx = dues_->ExportSheet(Secretary5(), export_csv);
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  EXPECT_EQ(xlsx->content().substr(0, 2), "PK");
  EXPECT_EQ(dues_->ExportSheet(Secretary6(), export_csv).status().code(),
            absl::StatusCode::kNotFound);

  r.set_month("2026-12");
  sheet = dues_->Sheet(Secretary5(), r);
  ASSERT_TRUE(sheet.ok());
  EXPECT_EQ(sheet->rows_size(), 3);
  EXPECT_EQ(sheet->total_due_fen(), 1500 + 6000 + 20);
  r.set_month("2027-01");
  EXPECT_TRUE(Fields(dues_->Sheet(Secretary5(), r).status()).contains("month"));
  r.set_month("2026-12");
  EXPECT_EQ(dues_->Sheet(Secretary6(), r).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(DuesServiceTest, AMemberReadsOnlyTheirOwnDues) {
  const std::string mine = Member("Mine", pb::IN_SERVICE);
  const std::string theirs = Member("Theirs", pb::IN_SERVICE);
  ASSERT_TRUE(Declare(mine, "2026-10", 300000).ok());
  ASSERT_TRUE(Pay(mine, {"2026-10"}, 1500).ok());
  auto own = Dues(mine, Self(mine));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->payments_size(), 1);
  EXPECT_EQ(own->declarations_size(), 1);
  EXPECT_EQ(own->arrears().months_size(), 1);  // November
  pb::GetMemberDuesRequest me;
  me.set_name("members/me/dues");
  auto via_me = dues_->MemberDuesOf(Self(mine), me);
  ASSERT_TRUE(via_me.ok()) << via_me.status();
  EXPECT_EQ(via_me->member(), mine);
  EXPECT_EQ(Dues(theirs, Self(mine)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Dues(mine, Secretary6()).status().code(), absl::StatusCode::kNotFound);
  // A member does not record payments, even their own.
  EXPECT_EQ(Pay(mine, {"2026-11"}, 1500, "", Self(mine)).status().code(),
            absl::StatusCode::kPermissionDenied);
  pb::GetDuesSheetRequest sheet;
  sheet.set_organization("organizations/5");
  sheet.set_month("2026-11");
  EXPECT_EQ(dues_->Sheet(Self(mine), sheet).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(DuesServiceTest, DuesStartAtJoiningAndNotBeforeMembership) {
  pb::Member p;
  p.set_display_name("Probation");
  p.set_id_number(MakeIdNumber("320681", {1995, 5, 5}, 21));
  p.set_organization("organizations/5");
  p.set_category(pb::IN_SERVICE);
  p.set_stage(pb::PROBATIONARY);
  SetDate(p.mutable_join_date(), {2026, 9, 15});
  pb::CreateMemberRequest create;
  *create.mutable_member() = p;
  auto probationary = records_->Create(Admin(), create);
  ASSERT_TRUE(probationary.ok()) << probationary.status();
  const std::string m = probationary->name();
  ASSERT_TRUE(Declare(m, "2026-01", 300000).ok());
  auto d = Dues(m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->start_month(), "2026-09");  // probationary members pay from joining
  EXPECT_EQ(d->months_size(), 4);
  EXPECT_TRUE(Fields(Pay(m, {"2026-08"}, 1500).status()).contains("payment.months"));
  EXPECT_TRUE(Pay(m, {"2026-09"}, 1500).ok());

  pb::Member a;
  a.set_display_name("Applicant");
  a.set_id_number(MakeIdNumber("320681", {1995, 5, 5}, 23));
  a.set_organization("organizations/5");
  a.set_category(pb::STUDENT);
  a.set_stage(pb::APPLICANT);
  SetDate(a.mutable_application_date(), {2026, 3, 1});
  *create.mutable_member() = a;
  auto applicant = records_->Create(Admin(), create);
  ASSERT_TRUE(applicant.ok()) << applicant.status();
  d = Dues(applicant->name());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->months_size(), 0);
  EXPECT_TRUE(d->start_month().empty());
  EXPECT_TRUE(Fields(Pay(applicant->name(), {"2026-12"}, 20).status()).contains("payment.months"));
}

INSTANTIATE_TEST_SUITE_P(Databases, DuesServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::member
