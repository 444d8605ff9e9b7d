// Transfers (组织关系接转) on MariaDB and SQLite, through the service's plain methods on a test
// clock, with real member records: the lifecycle (the record moves on acceptance, with its
// event), rejection, cancellation, expiry at its edge, transfers out of and into the system with
// their receipts, the lists (overdue, paged, a member's own), scope, and bad input that writes
// nothing.
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/auth/principal.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "common/testing/service_database_test.h"
#include "dangjian/member/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/member/src/id_number.h"
#include "services/member/src/member_records.h"
#include "services/member/src/schema.h"
#include "services/member/src/transfer_service.h"
#include "services/member/tests/member_fixture.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;

using fixture::At;

class TransferServiceTest : public fixture::MemberServiceTestBase {
 protected:
  void SetUp() override {
    MemberServiceTestBase::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    transfers_ = std::make_unique<TransferService>(*pool_, *ids_, *auth_, kAuditKey, OrgPaths(),
                                                   records_->rules(), Clock());
  }

  static void SetDate(google::type::Date* d, const time::CivilDate& date) {
    *d = time::ToProto(date);
  }
  static time::CivilDate DateOf(const google::type::Date& d) {
    return {d.year(), d.month(), d.day()};
  }

  // A full member of `org`, ID sequence `seq` (unique per test).
  std::string Member(const std::string& name, int seq, const std::string& org = "organizations/5") {
    pb::Member m;
    m.set_display_name(name);
    m.set_id_number(MakeIdNumber("320681", {1980, 1, 1}, seq));
    m.set_organization(org);
    m.set_category(pb::IN_SERVICE);
    m.set_stage(pb::FULL);
    SetDate(m.mutable_join_date(), {2004, 7, 1});
    SetDate(m.mutable_full_member_date(), {2005, 7, 1});
    pb::CreateMemberRequest r;
    *r.mutable_member() = m;
    auto out = records_->Create(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->name() : "";
  }

  static pb::CreateTransferRequest To(const std::string& member, const std::string& org,
                                      std::optional<time::CivilDate> issued = std::nullopt) {
    pb::CreateTransferRequest r;
    r.mutable_transfer()->set_member(member);
    r.mutable_transfer()->set_to_organization(org);
    r.mutable_transfer()->set_note("工作调动");
    if (issued.has_value()) {
      SetDate(r.mutable_transfer()->mutable_issue_date(), *issued);
    }
    return r;
  }
  absl::StatusOr<pb::Transfer> Create(const auth::Principal& who,
                                      const pb::CreateTransferRequest& r) {
    return transfers_->Create(who, r);
  }
  absl::StatusOr<pb::Transfer> Get(const auth::Principal& who, const std::string& name) {
    pb::GetTransferRequest r;
    r.set_name(name);
    return transfers_->Get(who, r);
  }
  absl::StatusOr<pb::Transfer> Accept(const auth::Principal& who, const std::string& name) {
    pb::AcceptTransferRequest r;
    r.set_name(name);
    return transfers_->Accept(who, r);
  }
  absl::StatusOr<pb::Transfer> Reject(const auth::Principal& who, const std::string& name,
                                      const std::string& reason) {
    pb::RejectTransferRequest r;
    r.set_name(name);
    r.set_reason(reason);
    return transfers_->Reject(who, r);
  }
  absl::StatusOr<pb::Transfer> Cancel(const auth::Principal& who, const std::string& name) {
    pb::CancelTransferRequest r;
    r.set_name(name);
    return transfers_->Cancel(who, r);
  }
  absl::StatusOr<pb::Transfer> Receipt(const auth::Principal& who, const std::string& name,
                                       const time::CivilDate& date) {
    pb::ConfirmTransferReceiptRequest r;
    r.set_name(name);
    SetDate(r.mutable_receipt_date(), date);
    return transfers_->ConfirmReceipt(who, r);
  }
  // Whether `who` can read member `name` (the record's organization decides).
  bool SeesMember(const auth::Principal& who, const std::string& name) {
    pb::GetMemberRequest r;
    r.set_name(name);
    return records_->Get(who, r).ok();
  }

  int64_t AuditRows(std::string_view action, std::string_view outcome = "OK") {
    audit::Recorder::FlushAll();
    auto n = pool_->Run([&](db::Connection& c) {
      return c.Exec("SELECT COUNT(*) FROM audit_log WHERE action = ? AND outcome = ?",
                    {std::string(action), std::string(outcome)});
    });
    return n.ok() ? n->rows[0].Int(0) : -1;
  }
  // The MemberTransferred events in the outbox, oldest first.
  std::vector<pb::MemberTransferred> Transferred() {
    auto rows = pool_->Run([&](db::Connection& c) {
      return c.Exec("SELECT payload FROM outbox WHERE type = ? ORDER BY id",
                    {std::string("dangjian.member.v1.MemberTransferred")});
    });
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<pb::MemberTransferred> out;
    for (const db::Row& r : rows.ok() ? rows->rows : std::vector<db::Row>{}) {
      std::string payload;
      EXPECT_TRUE(absl::Base64Unescape(r.Text(0), &payload));
      out.emplace_back();
      EXPECT_TRUE(out.back().ParseFromString(payload));
    }
    return out;
  }
  std::vector<std::string> Names(const pb::ListTransfersResponse& page) {
    std::vector<std::string> out;
    for (const pb::Transfer& t : page.transfers()) {
      out.push_back(t.name());
    }
    return out;
  }
  absl::StatusOr<pb::ListTransfersResponse> List(const auth::Principal& who, const std::string& org,
                                                 pb::TransferDirection direction,
                                                 pb::TransferState state = {},
                                                 bool overdue = false) {
    pb::ListTransfersRequest r;
    r.set_organization(org);
    r.set_direction(direction);
    r.set_state(state);
    r.set_overdue_only(overdue);
    return transfers_->List(who, r);
  }

  std::unique_ptr<TransferService> transfers_;
};

TEST_P(TransferServiceTest, AcceptanceMovesTheMemberWithItsEvent) {
  const std::string m = Member("王五", 11);
  // The destination lies outside the secretary's scope: sending a member there is normal.
  auto t = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->state(), pb::TRANSFER_PENDING);
  EXPECT_EQ(t->kind(), pb::TRANSFER_WITHIN);
  EXPECT_EQ(t->letter_number(), "2026-000001");
  EXPECT_EQ(DateOf(t->issue_date()), (time::CivilDate{2026, 12, 7}));
  EXPECT_EQ(DateOf(t->expire_date()), (time::CivilDate{2027, 3, 7}));
  EXPECT_EQ(t->from_organization(), "organizations/5");
  EXPECT_EQ(t->to_organization(), "organizations/6");
  EXPECT_EQ(t->member_display_name(), "王五");
  EXPECT_EQ(t->creator(), "accounts/3");
  EXPECT_EQ(AuditRows("transfers.create"), 1);

  // Until acceptance the old organization keeps the member; the new one sees the transfer only.
  EXPECT_TRUE(SeesMember(Secretary5(), m));
  EXPECT_FALSE(SeesMember(Secretary6(), m));
  EXPECT_TRUE(Get(Secretary6(), t->name()).ok());
  EXPECT_TRUE(Transferred().empty());

  auto accepted = Accept(Secretary6(), t->name());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->state(), pb::TRANSFER_ACCEPTED);
  EXPECT_EQ(DateOf(accepted->decision_date()), (time::CivilDate{2026, 12, 7}));
  EXPECT_NE(accepted->etag(), t->etag());
  EXPECT_EQ(AuditRows("transfers.accept"), 1);

  EXPECT_FALSE(SeesMember(Secretary5(), m));
  EXPECT_TRUE(SeesMember(Secretary6(), m));
  pb::GetMemberRequest get;
  get.set_name(m);
  EXPECT_EQ(records_->Get(Admin(), get)->organization(), "organizations/6");
  const std::vector<pb::MemberTransferred> events = Transferred();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].member().member(), m);
  EXPECT_EQ(events[0].from_organization(), "organizations/5");
  EXPECT_EQ(events[0].to_organization(), "organizations/6");
  EXPECT_EQ(events[0].member().organization_path(), "/1/6/");
  EXPECT_EQ(DateOf(events[0].date()), (time::CivilDate{2026, 12, 7}));

  // Decided once; the old side still reads the transfer it issued.
  EXPECT_EQ(Accept(Secretary6(), t->name()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Get(Secretary5(), t->name()).ok());
  // From the new organization the member can be sent on; the numbers run on in the year.
  auto next = Create(Secretary6(), To(m, "organizations/7"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->letter_number(), "2026-000002");
}

TEST_P(TransferServiceTest, RejectionNeedsAReasonAndLeavesTheMember) {
  const std::string m = Member("赵六", 13);
  auto t = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(t.ok()) << t.status();
  for (const char* reason : {"", "  　"}) {
    auto refused = Reject(Secretary6(), t->name(), reason);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Fields(refused.status()).contains("reason")) << refused.status();
  }
  EXPECT_EQ(Get(Admin(), t->name())->etag(), t->etag());
  auto rejected = Reject(Secretary6(), t->name(), "本单位无此人员调入计划");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->state(), pb::TRANSFER_REJECTED);
  EXPECT_EQ(rejected->decision_reason(), "本单位无此人员调入计划");
  EXPECT_TRUE(SeesMember(Secretary5(), m));
  EXPECT_TRUE(Transferred().empty());
  EXPECT_EQ(AuditRows("transfers.reject"), 1);
  // A rejected transfer is closed: a new one may be issued.
  EXPECT_TRUE(Create(Secretary5(), To(m, "organizations/7")).ok());
}

TEST_P(TransferServiceTest, EachSideDoesOnlyItsOwnPart) {
  const std::string m = Member("钱七", 15);
  auto t = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(t.ok()) << t.status();
  // The old side neither accepts nor rejects; the new side does not cancel: 400 naming `name`.
  for (const absl::Status& s : {Accept(Secretary5(), t->name()).status(),
                                Reject(Secretary5(), t->name(), "不接收").status(),
                                Cancel(Secretary6(), t->name()).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(Fields(s).contains("name")) << s;
  }
  // Inside the scope but without the right: PERMISSION_DENIED.
  EXPECT_EQ(Cancel(Auditor5(), t->name()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Get(Auditor5(), t->name()).ok());
  // Neither side in scope: NOT_FOUND, like a transfer that does not exist.
  const auth::Principal secretary7{.subject = "accounts/7", .roles = {"secretary"}, .scope_org = 7};
  EXPECT_EQ(Get(secretary7, t->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Accept(secretary7, t->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(Admin(), "transfers/12345").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(Admin(), t->name())->state(), pb::TRANSFER_PENDING);

  auto cancelled = Cancel(Secretary5(), t->name());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), pb::TRANSFER_CANCELLED);
  EXPECT_EQ(AuditRows("transfers.cancel"), 1);
  EXPECT_EQ(Accept(Secretary6(), t->name()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(SeesMember(Secretary5(), m));
  EXPECT_TRUE(Create(Secretary5(), To(m, "organizations/6")).ok());
}

TEST_P(TransferServiceTest, ALetterExpiresTheDayAfterItsLastValidDay) {
  // Issued 2026-01-31, valid 3 months: to 2026-04-30 (the month has no 31st).
  const std::string a = Member("孙八", 17);
  const std::string b = Member("周九", 19);
  now_ = At({2026, 2, 2});
  auto ta = Create(Secretary5(), To(a, "organizations/6", time::CivilDate{2026, 1, 31}));
  auto tb = Create(Secretary5(), To(b, "organizations/6", time::CivilDate{2026, 1, 31}));
  ASSERT_TRUE(ta.ok()) << ta.status();
  ASSERT_TRUE(tb.ok()) << tb.status();
  EXPECT_EQ(DateOf(ta->expire_date()), (time::CivilDate{2026, 4, 30}));

  now_ = At({2026, 4, 30});
  EXPECT_EQ(Get(Secretary6(), ta->name())->state(), pb::TRANSFER_PENDING);
  ASSERT_TRUE(Accept(Secretary6(), ta->name()).ok());

  now_ = At({2026, 5, 1});
  EXPECT_EQ(Get(Secretary6(), tb->name())->state(), pb::TRANSFER_EXPIRED);
  const int64_t events = Count("outbox");
  auto late = Accept(Secretary6(), tb->name());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Fields(late.status()).contains("name")) << late.status();
  EXPECT_EQ(rpc::Reason(late.status()), "TRANSFER_EXPIRED");
  EXPECT_EQ(Reject(Secretary6(), tb->name(), "过期").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("outbox"), events);
  EXPECT_TRUE(SeesMember(Secretary5(), b));
  // An expired letter does not block a new one, and the old one can still be closed.
  EXPECT_TRUE(Create(Secretary5(), To(b, "organizations/6")).ok());
  auto closed = Cancel(Secretary5(), tb->name());
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state(), pb::TRANSFER_CANCELLED);
}

TEST_P(TransferServiceTest, BadInputWritesNothing) {
  const std::string m = Member("吴十", 21);
  const std::string left = Member("郑一", 23);
  const std::string dead = Member("王二", 25);
  for (const auto& [name, status] : {std::pair{left, pb::LEFT}, {dead, pb::DECEASED}}) {
    pb::ChangeMemberStatusRequest r;
    r.set_name(name);
    r.set_status(status);
    SetDate(r.mutable_date(), {2026, 6, 1});
    r.set_reason("测试");
    ASSERT_TRUE(records_->ChangeStatus(Admin(), r).ok());
  }
  auto open = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(open.ok()) << open.status();
  const int64_t transfers = Count("transfers");
  const int64_t outbox = Count("outbox");

  auto both = To(m, "organizations/7");
  both.mutable_transfer()->set_to_external_name("外省某单位党委");
  auto neither = To(m, "");
  auto nobody = To("", "organizations/6");
  auto generated = To(dead, "organizations/6");
  generated.mutable_transfer()->set_letter_number("2026-000009");
  auto future = To(m, "organizations/7", time::CivilDate{2026, 12, 8});
  auto named = To(m, "organizations/7");
  named.mutable_transfer()->set_name("transfers/1");
  auto outside_in = To("", "organizations/6");
  outside_in.mutable_transfer()->set_from_external_name("外省某单位党委");  // no display name
  struct Case {
    const char* what;
    pb::CreateTransferRequest request;
    absl::StatusCode code;
    const char* field;
  };
  const Case cases[] = {
      {"second open transfer", To(m, "organizations/7"), absl::StatusCode::kFailedPrecondition,
       "transfer.member"},
      {"left", To(left, "organizations/6"), absl::StatusCode::kFailedPrecondition,
       "transfer.member"},
      {"deceased", To(dead, "organizations/6"), absl::StatusCode::kFailedPrecondition,
       "transfer.member"},
      {"both destinations", both, absl::StatusCode::kInvalidArgument, "transfer.to_organization"},
      {"no destination", neither, absl::StatusCode::kInvalidArgument, "transfer.to_organization"},
      {"no member", nobody, absl::StatusCode::kInvalidArgument, "transfer.member"},
      {"unknown destination", To(m, "organizations/99"), absl::StatusCode::kInvalidArgument,
       "transfer.to_organization"},
      {"generated letter form", generated, absl::StatusCode::kInvalidArgument,
       "transfer.letter_number"},
      {"issued tomorrow", future, absl::StatusCode::kInvalidArgument, "transfer.issue_date"},
      {"named", named, absl::StatusCode::kInvalidArgument, "transfer.name"},
      {"from outside without a name", outside_in, absl::StatusCode::kInvalidArgument,
       "transfer.member_display_name"},
  };
  for (const Case& c : cases) {
    auto out = Create(Secretary5(), c.request);
    EXPECT_EQ(out.status().code(), c.code) << c.what << ": " << out.status();
    EXPECT_TRUE(Fields(out.status()).contains(c.field)) << c.what << ": " << out.status();
  }
  // To the member's own organization (a member without an open transfer).
  const std::string other = Member("冯三", 27);
  const int64_t outbox_after_member = Count("outbox");
  auto own = Create(Secretary5(), To(other, "organizations/5"));
  EXPECT_EQ(own.status().code(), absl::StatusCode::kInvalidArgument) << own.status();
  EXPECT_TRUE(Fields(own.status()).contains("transfer.to_organization")) << own.status();

  // Decisions refused: no reason, the wrong side, twice.
  EXPECT_TRUE(Fields(Reject(Secretary6(), open->name(), "").status()).contains("reason"));
  EXPECT_TRUE(Fields(Accept(Secretary5(), open->name()).status()).contains("name"));
  EXPECT_TRUE(Fields(Cancel(Secretary6(), open->name()).status()).contains("name"));
  EXPECT_TRUE(Fields(Receipt(Secretary5(), open->name(), {2026, 12, 7}).status()).contains("name"));

  EXPECT_EQ(Count("transfers"), transfers);
  EXPECT_EQ(outbox_after_member - outbox, 1);  // the record 冯三 itself
  EXPECT_EQ(Count("outbox"), outbox_after_member);
  EXPECT_EQ(Count("transfer_letter_sequences"), 1);
  EXPECT_EQ(Get(Admin(), open->name())->etag(), open->etag());
  EXPECT_EQ(AuditRows("transfers.create"), 1);
}

TEST_P(TransferServiceTest, OutOfTheSystemClosesByReceipt) {
  const std::string m = Member("陈四", 29);
  pb::CreateTransferRequest r;
  r.mutable_transfer()->set_member(m);
  r.mutable_transfer()->set_to_external_name("外省某单位党委");
  auto t = Create(Secretary5(), r);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind(), pb::TRANSFER_OUTBOUND);
  EXPECT_TRUE(t->to_organization().empty());
  EXPECT_EQ(t->to_external_name(), "外省某单位党委");

  // No receiving organization in the system: closed by the issuing side's receipt.
  EXPECT_TRUE(Fields(Accept(Secretary5(), t->name()).status()).contains("name"));
  for (const time::CivilDate& bad : {time::CivilDate{2026, 12, 8}, time::CivilDate{2026, 12, 6}}) {
    auto refused = Receipt(Secretary5(), t->name(), bad);
    EXPECT_TRUE(Fields(refused.status()).contains("receipt_date")) << refused.status();
  }
  EXPECT_EQ(Receipt(Secretary6(), t->name(), {2026, 12, 7}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Transferred().empty());

  now_ = At({2026, 12, 20});
  auto done = Receipt(Secretary5(), t->name(), {2026, 12, 15});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), pb::TRANSFER_ACCEPTED);
  EXPECT_TRUE(done->transferred_out());
  EXPECT_EQ(DateOf(done->receipt_date()), (time::CivilDate{2026, 12, 15}));
  EXPECT_EQ(AuditRows("transfers.confirm_receipt"), 1);
  const std::vector<pb::MemberTransferred> events = Transferred();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].to_external(), "外省某单位党委");
  EXPECT_TRUE(events[0].to_organization().empty());
  EXPECT_EQ(events[0].from_organization(), "organizations/5");
  EXPECT_EQ(DateOf(events[0].date()), (time::CivilDate{2026, 12, 15}));
  // The record stays where it was, for the history, marked TRANSFERRED_OUT from the date on the
  // receipt, and cannot go again.
  EXPECT_TRUE(SeesMember(Secretary5(), m));
  auto status = pool_->Run([&](db::Connection& c) {
    return c.Exec("SELECT status, status_date FROM members WHERE id = ?",
                  {static_cast<int64_t>(std::stoll(m.substr(std::string("members/").size())))});
  });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->rows[0].Int(0), pb::TRANSFERRED_OUT);
  EXPECT_EQ(status->rows[0].OptionalDate(1), (time::CivilDate{2026, 12, 15}));
  auto again = Create(Secretary5(), To(m, "organizations/6"));
  EXPECT_EQ(rpc::Reason(again.status()), "TRANSFERRED_OUT") << again.status();
  EXPECT_TRUE(Fields(again.status()).contains("transfer.member"));
}

TEST_P(TransferServiceTest, IntoTheSystemFromOutsideIsTrackedByTheReceivingOrganization) {
  pb::CreateTransferRequest r;
  r.mutable_transfer()->set_from_external_name("外省某单位党委");
  r.mutable_transfer()->set_to_organization("organizations/6");
  r.mutable_transfer()->set_member_display_name("李四");
  r.mutable_transfer()->set_letter_number("苏组转〔2026〕12号");
  SetDate(r.mutable_transfer()->mutable_issue_date(), {2026, 11, 20});
  // Only the receiving organization enters it.
  EXPECT_EQ(Create(Secretary5(), r).status().code(), absl::StatusCode::kNotFound);
  auto t = Create(Secretary6(), r);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind(), pb::TRANSFER_INBOUND);
  EXPECT_EQ(t->letter_number(), "苏组转〔2026〕12号");
  EXPECT_TRUE(t->member().empty());
  EXPECT_TRUE(t->from_organization().empty());
  EXPECT_EQ(DateOf(t->expire_date()), (time::CivilDate{2027, 2, 20}));
  EXPECT_EQ(Get(Secretary5(), t->name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("transfer_letter_sequences"), 0);  // a given number takes none

  // The same letter number twice is refused, naming it.
  pb::CreateTransferRequest twin = r;
  twin.mutable_transfer()->set_member_display_name("李四四");
  auto dup = Create(Secretary6(), twin);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  EXPECT_TRUE(Fields(dup.status()).contains("transfer.letter_number"));

  // A record the receiving organization made may be named; one elsewhere may not.
  const std::string here = Member("李五", 31, "organizations/6");
  const std::string elsewhere = Member("李六", 33, "organizations/5");
  pb::CreateTransferRequest with = r;
  with.mutable_transfer()->set_letter_number("");
  with.mutable_transfer()->set_member(elsewhere);
  EXPECT_EQ(Create(Secretary6(), with).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Fields(Create(Admin(), with).status()).contains("transfer.member"));
  with.mutable_transfer()->set_member(here);
  auto named = Create(Secretary6(), with);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->member_display_name(), "李五");

  // Accepted (the receipt goes back) by the receiving side; nothing moves, no event.
  auto accepted = Accept(Secretary6(), t->name());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->state(), pb::TRANSFER_ACCEPTED);
  ASSERT_TRUE(Accept(Secretary6(), named->name()).ok());
  EXPECT_TRUE(Transferred().empty());
  EXPECT_TRUE(SeesMember(Secretary6(), here));
  // Entered by the receiving side, so withdrawn by it too.
  auto mistaken = Create(Secretary6(), [&] {
    pb::CreateTransferRequest c = r;
    c.mutable_transfer()->set_letter_number("另一封");
    return c;
  }());
  ASSERT_TRUE(mistaken.ok()) << mistaken.status();
  EXPECT_TRUE(Cancel(Secretary6(), mistaken->name()).ok());
}

TEST_P(TransferServiceTest, ListsByDirectionStateAndOverdue) {
  const std::string a = Member("甲", 35);
  const std::string b = Member("乙", 37);
  const std::string c = Member("丙", 39);
  const std::string d = Member("丁", 41, "organizations/6");
  auto valid = Create(Secretary5(), To(a, "organizations/6"));
  auto overdue = Create(Secretary5(), To(b, "organizations/7", time::CivilDate{2026, 8, 1}));
  auto accepted = Create(Secretary5(), To(c, "organizations/6"));
  auto incoming = Create(Secretary6(), To(d, "organizations/5"));
  ASSERT_TRUE(valid.ok() && overdue.ok() && accepted.ok() && incoming.ok());
  ASSERT_TRUE(Accept(Secretary6(), accepted->name()).ok());
  EXPECT_EQ(DateOf(overdue->expire_date()), (time::CivilDate{2026, 11, 1}));
  EXPECT_EQ(overdue->state(), pb::TRANSFER_EXPIRED);

  using V = std::vector<std::string>;
  EXPECT_EQ(Names(*List(Admin(), "organizations/1", pb::TRANSFER_DIRECTION_UNSPECIFIED, {}, true)),
            V{overdue->name()});
  EXPECT_EQ(Names(*List(Admin(), "organizations/1", pb::TRANSFER_BOTH, pb::TRANSFER_EXPIRED)),
            V{overdue->name()});
  EXPECT_EQ(Names(*List(Admin(), "organizations/1", pb::TRANSFER_BOTH, pb::TRANSFER_PENDING)),
            (V{incoming->name(), valid->name()}));
  EXPECT_EQ(Names(*List(Secretary5(), "organizations/5", pb::TRANSFER_OUT)),
            (V{accepted->name(), overdue->name(), valid->name()}));
  EXPECT_EQ(Names(*List(Secretary5(), "organizations/5", pb::TRANSFER_IN)), V{incoming->name()});
  EXPECT_EQ(Names(*List(Secretary6(), "organizations/6", pb::TRANSFER_IN, pb::TRANSFER_ACCEPTED)),
            V{accepted->name()});
  EXPECT_EQ(Names(*List(Secretary6(), "organizations/6", pb::TRANSFER_BOTH)),
            (V{incoming->name(), accepted->name(), valid->name()}));
  // Another branch's list is outside the scope: 404.
  EXPECT_EQ(List(Secretary5(), "organizations/6", pb::TRANSFER_IN).status().code(),
            absl::StatusCode::kNotFound);
  auto mixed = List(Admin(), "organizations/1", pb::TRANSFER_BOTH, pb::TRANSFER_ACCEPTED, true);
  EXPECT_TRUE(Fields(mixed.status()).contains("overdue_only")) << mixed.status();
}

TEST_P(TransferServiceTest, ListsPageNewestFirst) {
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    auto t =
        Create(Secretary5(), To(Member(absl::StrCat("成员", i), 43 + 2 * i), "organizations/6"));
    ASSERT_TRUE(t.ok()) << t.status();
    made.insert(made.begin(), t->name());
  }
  pb::ListTransfersRequest r;
  r.set_organization("organizations/5");
  r.set_page_size(2);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = transfers_->List(Secretary5(), r);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const pb::Transfer& t : page->transfers()) {
      seen.push_back(t.name());
    }
    r.set_page_token(page->next_page_token());
    ++pages;
  } while (!r.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, made);
  // A token is bound to its filter.
  r.set_page_size(2);
  r.set_page_token(transfers_->List(Secretary5(), r)->next_page_token());
  r.set_direction(pb::TRANSFER_IN);
  EXPECT_TRUE(Fields(transfers_->List(Secretary5(), r).status()).contains("page_token"));
}

TEST_P(TransferServiceTest, AMemberReadsTheirOwnTransfers) {
  const std::string m = Member("褚五", 53);
  const std::string other = Member("卫六", 55);
  auto t = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(Cancel(Secretary5(), t->name()).ok());
  auto t2 = Create(Secretary5(), To(m, "organizations/7"));
  ASSERT_TRUE(t2.ok()) << t2.status();
  auto theirs = Create(Secretary5(), To(other, "organizations/6"));
  ASSERT_TRUE(theirs.ok());

  pb::ListMemberTransfersRequest mine;
  mine.set_parent(m);
  auto own = transfers_->ListOfMember(Self(m), mine);
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->transfers_size(), 2);
  EXPECT_EQ(own->transfers(0).name(), t2->name());
  EXPECT_TRUE(Get(Self(m), t2->name()).ok());
  // Not another member's, and no list of the organization.
  EXPECT_EQ(Get(Self(m), theirs->name()).status().code(), absl::StatusCode::kNotFound);
  mine.set_parent(other);
  EXPECT_EQ(transfers_->ListOfMember(Self(m), mine).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(List(Self(m), "organizations/5", pb::TRANSFER_BOTH).ok());
  // Another branch's secretary cannot list this member's transfers (404); the branch's can.
  mine.set_parent(m);
  EXPECT_EQ(transfers_->ListOfMember(Secretary6(), mine).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(transfers_->ListOfMember(Secretary5(), mine)->transfers_size(), 2);
  EXPECT_GE(AuditRows("transfers.list_member", "NOT_FOUND"), 2);
}

TEST_P(TransferServiceTest, CreateIsIdempotentByRequestId) {
  const std::string m = Member("蒋七", 57);
  pb::CreateTransferRequest r = To(m, "organizations/6");
  r.set_request_id("6f1c2a8e-3b4d-4c5e-8f90-a1b2c3d4e5f6");
  auto first = Create(Secretary5(), r);
  auto second = Create(Secretary5(), r);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->name(), second->name());
  EXPECT_EQ(second->letter_number(), "2026-000001");
  EXPECT_EQ(Count("transfers"), 1);
  r.mutable_transfer()->set_to_organization("organizations/7");
  EXPECT_EQ(rpc::Reason(Create(Secretary5(), r).status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(Count("transfers"), 1);
}

TEST_P(TransferServiceTest, PathsFollowAMovedSubtree) {
  const std::string m = Member("沈八", 59);
  auto t = Create(Secretary5(), To(m, "organizations/6"));
  ASSERT_TRUE(t.ok()) << t.status();
  auto moved = pool_->Transact([&](db::Connection& c) {
    return TransferService::FollowMove(c, "/1/6/", "/1/7/6/").status();
  });
  ASSERT_TRUE(moved.ok()) << moved;
  const auth::Principal secretary7{.subject = "accounts/7", .roles = {"secretary"}, .scope_org = 7};
  EXPECT_TRUE(Get(secretary7, t->name()).ok());
}

INSTANTIATE_TEST_SUITE_P(Databases, TransferServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::member
