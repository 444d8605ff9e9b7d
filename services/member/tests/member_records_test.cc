// Member records on MariaDB and SQLite, through the service's plain methods on a test clock:
// personal data sealed at rest and masked unless read_pii (every clear read audited), the
// national ID checks, scope, the development pipeline with its rules and edges, membership
// status, rule set versions, organization moves, and bad input that writes nothing.
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
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
#include "services/member/src/member_store.h"
#include "services/member/src/pii_reseal.h"
#include "services/member/src/schema.h"
#include "services/member/tests/member_fixture.h"

namespace dj::member {
namespace {

namespace pb = dangjian::member::v1;

using fixture::At;

class MemberRecordsTest : public fixture::MemberServiceTestBase {
 protected:
  // A person born on `birth` (sequence odd: male) with a valid ID number.
  static std::string Id(const time::CivilDate& birth, int seq = 11) {
    return MakeIdNumber("320681", birth, seq);
  }

  pb::Member Person(const std::string& name, const std::string& id_number, pb::Stage stage,
                    const std::string& org = "organizations/5") {
    pb::Member m;
    m.set_display_name(name);
    m.set_id_number(id_number);
    m.set_phone("138 1234 5678");
    m.set_ethnicity("汉族");
    m.set_organization(org);
    m.set_category(pb::IN_SERVICE);
    m.set_stage(stage);
    return m;
  }
  static void SetDate(google::type::Date* d, int y, int m, int day) {
    d->set_year(y);
    d->set_month(m);
    d->set_day(day);
  }

  absl::StatusOr<pb::Member> Create(const auth::Principal& who, const pb::Member& m,
                                    const std::string& request_id = "") {
    pb::CreateMemberRequest r;
    *r.mutable_member() = m;
    r.set_request_id(request_id);
    return records_->Create(who, r);
  }
  // A full member of organization 5 since `full` (joined a year before).
  pb::Member Full(const std::string& name, const time::CivilDate& birth,
                  const time::CivilDate& full, int seq = 11,
                  const std::string& org = "organizations/5") {
    pb::Member m = Person(name, Id(birth, seq), pb::FULL, org);
    SetDate(m.mutable_join_date(), full.year - 1, full.month, full.day);
    SetDate(m.mutable_full_member_date(), full.year, full.month, full.day);
    auto out = Create(Admin(), m);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : pb::Member();
  }
};

TEST_P(MemberRecordsTest, ARecordIsSealedAtRestMaskedByDefaultAndAuditedInClear) {
  const std::string id = Id({1985, 3, 9});
  pb::Member m = Person("张三", id, pb::FULL);
  SetDate(m.mutable_join_date(), 2010, 7, 1);
  SetDate(m.mutable_full_member_date(), 2011, 7, 1);
  auto created = Create(Secretary5(), m);
  ASSERT_TRUE(created.ok()) << created.status();
  // The secretary may manage records but not read personal data.
  EXPECT_TRUE(created->pii_masked());
  EXPECT_EQ(created->id_number(), "320681********" + id.substr(14));
  EXPECT_EQ(created->phone(), "138****5678");
  EXPECT_EQ(created->gender(), pb::MALE);  // from the ID number
  EXPECT_EQ(created->birth_date().year(), 1985);
  EXPECT_EQ(created->party_standing_years(), 15);  // 2011-07-01 to 2026-12-07
  EXPECT_EQ(created->status(), pb::NORMAL);
  EXPECT_EQ(AuditRows("members.create"), 1);

  // Never in clear in any table of the service.
  for (std::string_view table : {"members", "member_stages", "outbox", "audit_log"}) {
    const std::string dump = Dump(table);
    EXPECT_FALSE(absl::StrContains(dump, id)) << table;
    EXPECT_FALSE(absl::StrContains(dump, "13812345678")) << table;
  }

  pb::GetMemberRequest get;
  get.set_name(created->name());
  auto masked = records_->Get(Secretary5(), get);
  ASSERT_TRUE(masked.ok());
  EXPECT_TRUE(masked->pii_masked());
  EXPECT_EQ(AuditRows("members.read_pii"), 0);

  auto clear = records_->Get(OrgAdmin5(), get);
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_FALSE(clear->pii_masked());
  EXPECT_EQ(clear->id_number(), id);
  EXPECT_EQ(clear->phone(), "13812345678");
  EXPECT_EQ(AuditRows("members.read_pii"), 1);

  // The member reads their own record in clear, audited too.
  auto mine = records_->GetMine(Self(created->name()));
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->id_number(), id);
  EXPECT_EQ(AuditRows("members.read_pii"), 2);
  // ... and no one else's.
  pb::Member other = Full("李四", {1980, 1, 1}, {2005, 7, 1}, 13);
  pb::GetMemberRequest get_other;
  get_other.set_name(other.name());
  EXPECT_EQ(records_->Get(Self(created->name()), get_other).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(records_->GetMine(Self("")).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(MemberRecordsTest, OutsideTheScopeAMemberIsNotFound) {
  pb::Member m = Full("王五", {1970, 5, 5}, {1995, 7, 1});
  pb::GetMemberRequest get;
  get.set_name(m.name());
  EXPECT_EQ(records_->Get(Secretary6(), get).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(records_->Get(Secretary5(), get).status().code(), absl::StatusCode::kOk);
  get.set_name("members/999");
  EXPECT_EQ(records_->Get(Admin(), get).status().code(), absl::StatusCode::kNotFound);
  // Creating in an organization out of scope is refused as missing, and writes nothing.
  pb::Member applicant = Person("赵六", Id({1990, 1, 1}), pb::APPLICANT);
  SetDate(applicant.mutable_application_date(), 2026, 1, 1);
  auto refused = Create(Secretary6(), applicant);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("members"), 1);
}

TEST_P(MemberRecordsTest, BadInputNamesTheFieldAndWritesNothing) {
  const std::string good = Id({1990, 6, 15});
  std::string bad_check = good;
  bad_check[17] = bad_check[17] == '0' ? '1' : '0';
  struct Case {
    std::string what;
    std::function<void(pb::Member&)> spoil;
    std::string field;
  };
  const Case cases[] = {
      {"bad check character", [&](pb::Member& m) { m.set_id_number(bad_check); },
       "member.id_number"},
      {"no id number", [](pb::Member& m) { m.clear_id_number(); }, "member.id_number"},
      {"birth date contradicts",
       [](pb::Member& m) { SetDate(m.mutable_birth_date(), 1990, 6, 16); }, "member.birth_date"},
      {"gender contradicts", [](pb::Member& m) { m.set_gender(pb::FEMALE); }, "member.gender"},
      {"no name", [](pb::Member& m) { m.clear_display_name(); }, "member.display_name"},
      {"no category", [](pb::Member& m) { m.clear_category(); }, "member.category"},
      {"no organization", [](pb::Member& m) { m.clear_organization(); }, "member.organization"},
      {"bad phone", [](pb::Member& m) { m.set_phone("12345"); }, "member.phone"},
      {"no stage", [](pb::Member& m) { m.clear_stage(); }, "member.stage"},
      {"applicant without date", [](pb::Member& m) { m.clear_application_date(); },
       "member.application_date"},
      {"under 18 at application",
       [](pb::Member& m) { SetDate(m.mutable_application_date(), 2008, 6, 14); },
       "member.application_date"},
      {"application in the future",
       [](pb::Member& m) { SetDate(m.mutable_application_date(), 2026, 12, 8); },
       "member.application_date"},
      {"a later stage's date", [](pb::Member& m) { SetDate(m.mutable_join_date(), 2020, 1, 1); },
       "member.join_date"},
      {"status other than normal", [](pb::Member& m) { m.set_status(pb::LEFT); }, "member.status"},
  };
  for (const Case& c : cases) {
    pb::Member m = Person("钱七", good, pb::APPLICANT);
    SetDate(m.mutable_application_date(), 2026, 1, 5);
    c.spoil(m);
    auto out = Create(Admin(), m);
    ASSERT_FALSE(out.ok()) << c.what;
    EXPECT_TRUE(Fields(out.status()).contains(c.field)) << c.what << ": " << out.status();
    EXPECT_FALSE(absl::StrContains(out.status().ToString(), good.substr(0, 12))) << c.what;
  }
  // A full member whose dates go backwards, or who is converted before joining.
  pb::Member backwards = Person("孙八", good, pb::FULL);
  SetDate(backwards.mutable_join_date(), 2015, 7, 1);
  SetDate(backwards.mutable_full_member_date(), 2015, 7, 1);
  EXPECT_TRUE(Fields(Create(Admin(), backwards).status()).contains("member.full_member_date"));
  pb::Member no_join = Person("孙八", good, pb::FULL);
  SetDate(no_join.mutable_full_member_date(), 2015, 7, 1);
  EXPECT_TRUE(Fields(Create(Admin(), no_join).status()).contains("member.join_date"));

  EXPECT_EQ(Count("members"), 0);
  EXPECT_EQ(Count("member_stages"), 0);
  EXPECT_EQ(Count("outbox"), 0);
}

TEST_P(MemberRecordsTest, AnIdNumberIsRegisteredOnceAndARetryAnswersTheSame) {
  const std::string id = Id({1975, 2, 28});
  pb::Member m = Person("周九", id, pb::APPLICANT);
  SetDate(m.mutable_application_date(), 2026, 3, 1);
  auto first = Create(Secretary5(), m, "req-0123456789abcdef");
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = Create(Secretary5(), m, "req-0123456789abcdef");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first->name());
  // The same number again, from anyone (even out of the first record's scope): refused without
  // saying where it is registered.
  pb::Member twin = Person("吴十", id, pb::APPLICANT, "organizations/6");
  SetDate(twin.mutable_application_date(), 2026, 3, 2);
  auto dup = Create(Secretary6(), twin);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(absl::StrContains(dup.status().ToString(), "organizations/5"));
  EXPECT_EQ(Count("members"), 1);
}

TEST_P(MemberRecordsTest, SearchFindsByTheBlindIndexWithinTheScope) {
  const std::string id = Id({1988, 8, 8});
  pb::Member m = Full("郑一", {1988, 8, 8}, {2015, 7, 1});
  pb::SearchMembersRequest by_id;
  by_id.set_id_number(id);
  auto found = records_->Search(Secretary5(), by_id);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->members_size(), 1);
  EXPECT_EQ(found->members(0).name(), m.name());
  EXPECT_TRUE(found->members(0).pii_masked());
  // Lower-case x, spaces: normalized first. Out of scope: nothing.
  EXPECT_EQ(records_->Search(Secretary6(), by_id)->members_size(), 0);
  pb::SearchMembersRequest by_phone;
  by_phone.set_phone("+86 138-1234-5678");
  EXPECT_EQ(records_->Search(Admin(), by_phone)->members_size(), 1);
  pb::SearchMembersRequest both = by_id;
  both.set_phone("13812345678");
  EXPECT_EQ(records_->Search(Admin(), both).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuditRows("members.search"), 3);
}

TEST_P(MemberRecordsTest, ThePipelineFollowsTheRulesWithItsHistoryAndEvents) {
  pb::Member s1 = Full("党员甲", {1970, 1, 1}, {2000, 7, 1}, 13);
  pb::Member s2 = Full("党员乙", {1971, 1, 1}, {2001, 7, 1}, 15);
  pb::Member outsider = Full("党员丙", {1972, 1, 1}, {2002, 7, 1}, 17, "organizations/6");
  now_ = At({2023, 3, 1});
  pb::Member a = Person("申请人", Id({2000, 2, 29}), pb::APPLICANT);
  SetDate(a.mutable_application_date(), 2023, 3, 1);
  auto created = Create(Secretary5(), a);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = created->name();

  now_ = At({2023, 4, 1});
  pb::AdmitActivistRequest activist;
  activist.set_name(name);
  SetDate(activist.mutable_date(), 2023, 3, 1);  // not after the application
  EXPECT_TRUE(Fields(records_->AdmitActivistOp(Secretary5(), activist).status()).contains("date"));
  SetDate(activist.mutable_date(), 2023, 3, 15);
  activist.add_contacts(s1.name());
  auto act = records_->AdmitActivistOp(Secretary5(), activist);
  ASSERT_TRUE(act.ok()) << act.status();
  EXPECT_EQ(act->stage(), pb::ACTIVIST);

  // A year as activist: 2024-03-15 at the earliest, with two full members of the branch.
  now_ = At({2024, 6, 1});
  pb::ApproveCandidateRequest candidate;
  candidate.set_name(name);
  SetDate(candidate.mutable_date(), 2024, 3, 14);
  candidate.add_sponsors(s1.name());
  candidate.add_sponsors(s2.name());
  EXPECT_TRUE(
      Fields(records_->ApproveCandidateOp(Secretary5(), candidate).status()).contains("date"));
  SetDate(candidate.mutable_date(), 2024, 3, 15);
  pb::ApproveCandidateRequest one_sponsor = candidate;
  one_sponsor.mutable_sponsors()->RemoveLast();
  EXPECT_TRUE(Fields(records_->ApproveCandidateOp(Secretary5(), one_sponsor).status())
                  .contains("sponsors"));
  pb::ApproveCandidateRequest foreign = candidate;
  foreign.set_sponsors(1, outsider.name());
  EXPECT_TRUE(
      Fields(records_->ApproveCandidateOp(Secretary5(), foreign).status()).contains("sponsors[1]"));
  pb::ApproveCandidateRequest self_sponsor = candidate;
  self_sponsor.set_sponsors(1, name);
  EXPECT_FALSE(records_->ApproveCandidateOp(Secretary5(), self_sponsor).ok());
  auto cand = records_->ApproveCandidateOp(Secretary5(), candidate);
  ASSERT_TRUE(cand.ok()) << cand.status();

  // Admitted on 29 February 2024? No: on 2024-02-29 the candidacy had not begun. Admitted
  // 2024-04-01; a skipped stage (straight to FULL) is refused.
  pb::ConvertToFullRequest early;
  early.set_name(name);
  SetDate(early.mutable_date(), 2024, 5, 1);
  EXPECT_EQ(records_->ConvertToFullOp(Secretary5(), early).status().code(),
            absl::StatusCode::kFailedPrecondition);
  pb::AdmitProbationaryRequest admit;
  admit.set_name(name);
  SetDate(admit.mutable_date(), 2024, 4, 1);
  admit.add_sponsors(s1.name());
  admit.add_sponsors(s2.name());
  auto prob = records_->AdmitProbationaryOp(Secretary5(), admit);
  ASSERT_TRUE(prob.ok()) << prob.status();
  EXPECT_EQ(prob->stage(), pb::PROBATIONARY);
  EXPECT_EQ(prob->probation_end_date().year(), 2025);
  EXPECT_EQ(prob->probation_end_date().month(), 4);
  EXPECT_EQ(prob->probation_end_date().day(), 1);

  // Due for conversion within 30 days of 2025-03-10: yes.
  now_ = At({2025, 3, 10});
  pb::ListDueConversionsRequest due;
  due.set_organization("organizations/5");
  auto listed = records_->DueConversions(Secretary5(), due);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->conversions_size(), 1);
  EXPECT_EQ(listed->conversions(0).days_left(), 22);
  EXPECT_EQ(records_->DueConversions(Secretary6(), due).status().code(),
            absl::StatusCode::kNotFound);

  // Extended once by 6 months (to 2025-10-01); a second extension is refused.
  pb::ExtendProbationRequest extend;
  extend.set_name(name);
  extend.set_months(6);
  extend.set_reason("支部大会决定延长预备期");
  SetDate(extend.mutable_date(), 2025, 3, 10);
  auto extended = records_->ExtendProbationOp(Secretary5(), extend);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->probation_end_date().month(), 10);
  SetDate(extend.mutable_date(), 2025, 3, 11);
  now_ = At({2025, 3, 11});
  EXPECT_FALSE(records_->ExtendProbationOp(Secretary5(), extend).ok());

  now_ = At({2025, 10, 9});
  pb::ConvertToFullRequest convert;
  convert.set_name(name);
  SetDate(convert.mutable_date(), 2025, 9, 30);  // before the end of probation
  EXPECT_FALSE(records_->ConvertToFullOp(Secretary5(), convert).ok());
  SetDate(convert.mutable_date(), 2025, 10, 1);
  convert.set_etag("v1");  // stale
  EXPECT_EQ(records_->ConvertToFullOp(Secretary5(), convert).status().code(),
            absl::StatusCode::kAborted);
  convert.clear_etag();
  auto full = records_->ConvertToFullOp(Secretary5(), convert);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->stage(), pb::FULL);
  EXPECT_EQ(full->party_standing_years(), 0);

  pb::ListStagesRequest stages;
  stages.set_parent(name);
  auto history = records_->Stages(Secretary5(), stages);
  ASSERT_TRUE(history.ok()) << history.status();
  std::vector<pb::Stage> seen;
  for (const pb::StageRecord& r : history->stages()) {
    seen.push_back(r.stage());
  }
  EXPECT_EQ(seen, (std::vector<pb::Stage>{pb::APPLICANT, pb::ACTIVIST, pb::CANDIDATE,
                                          pb::PROBATIONARY, pb::PROBATIONARY, pb::FULL}));
  EXPECT_EQ(history->stages(2).sponsors_size(), 2);
  EXPECT_EQ(history->stages(4).extension_months(), 6);

  // Events: created, then four stage changes (the extension is one too), in the outbox.
  auto types = pool_->Run([&](db::Connection& c) {
    return c.Exec("SELECT type FROM outbox WHERE event_key = ? ORDER BY id", {name});
  });
  ASSERT_TRUE(types.ok()) << types.status();
  ASSERT_EQ(types->rows.size(), 6u);
  EXPECT_EQ(types->rows[0].Text(0), "dangjian.member.v1.MemberCreated");
  EXPECT_EQ(types->rows[5].Text(0), "dangjian.member.v1.MemberStageChanged");
  // Someone without `develop` (an auditor) cannot move anyone along.
  EXPECT_EQ(records_
                ->AdmitActivistOp({.subject = "accounts/8", .roles = {"auditor"}, .scope_org = 5},
                                  activist)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(MemberRecordsTest, ProbationEndingOnTheLeapDay) {
  // Admitted 2023-02-28: due 2024-02-28. Admitted 2024-02-29: due 2025-02-28.
  for (const auto& [joined, due] :
       {std::pair<time::CivilDate, time::CivilDate>{{2023, 2, 28}, {2024, 2, 28}},
        {{2024, 2, 29}, {2025, 2, 28}},
        {{2023, 8, 31}, {2024, 8, 31}}}) {
    pb::Member m =
        Person(absl::StrCat("预备", joined.year, joined.month),
               Id({1990, 1, 1}, 100 + joined.year % 10 * 20 + joined.month), pb::PROBATIONARY);
    SetDate(m.mutable_join_date(), joined.year, joined.month, joined.day);
    auto created = Create(Admin(), m);
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(created->probation_end_date().year(), due.year);
    EXPECT_EQ(created->probation_end_date().month(), due.month);
    EXPECT_EQ(created->probation_end_date().day(), due.day);
  }
}

TEST_P(MemberRecordsTest, StatusChangesAreRecordedAndLeavingIsFinal) {
  pb::Member m = Full("老党员", {1940, 1, 1}, {1966, 7, 1});
  pb::ChangeMemberStatusRequest r;
  r.set_name(m.name());
  r.set_status(pb::LOST_CONTACT);
  SetDate(r.mutable_date(), 2026, 6, 1);
  EXPECT_TRUE(Fields(records_->ChangeStatus(Secretary5(), r).status()).contains("reason"))
      << records_->ChangeStatus(Secretary5(), r).status();
  r.set_reason("联系不上超过六个月");
  auto lost = records_->ChangeStatus(Secretary5(), r);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->status(), pb::LOST_CONTACT);
  r.set_status(pb::DECEASED);
  r.set_reason("病故");
  ASSERT_TRUE(records_->ChangeStatus(Secretary5(), r).ok());
  r.set_status(pb::NORMAL);
  EXPECT_EQ(records_->ChangeStatus(Secretary5(), r).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("member_status_changes"), 2);
  auto last = pool_->Run([&](db::Connection& c) {
    return c.Exec("SELECT payload FROM outbox WHERE type = ? ORDER BY id DESC",
                  {std::string("dangjian.member.v1.MemberStatusChanged")});
  });
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->rows.size(), 2u);
  pb::MemberStatusChanged event;
  std::string payload;
  ASSERT_TRUE(absl::Base64Unescape(last->rows[0].Text(0), &payload));
  ASSERT_TRUE(event.ParseFromString(payload));
  EXPECT_EQ(event.to_status(), pb::DECEASED);
  EXPECT_EQ(event.member().member(), m.name());
}

TEST_P(MemberRecordsTest, ListsPageByNameWithFiltersOverTheSubtree) {
  Full("甲一", {1970, 1, 1}, {2000, 7, 1}, 13);
  Full("甲二", {1971, 1, 1}, {2000, 7, 1}, 15);
  Full("乙一", {1972, 1, 1}, {2000, 7, 1}, 17);
  Full("丙一", {1973, 1, 1}, {2000, 7, 1}, 19, "organizations/6");
  pb::Member retired = Person("甲三", Id({1950, 1, 1}, 21), pb::FULL);
  retired.set_category(pb::RETIRED);
  SetDate(retired.mutable_join_date(), 1975, 1, 1);
  SetDate(retired.mutable_full_member_date(), 1976, 1, 1);
  ASSERT_TRUE(Create(Admin(), retired).ok());

  pb::ListMembersRequest r;
  r.set_organization("organizations/1");
  r.set_page_size(2);
  std::vector<std::string> names;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = records_->List(Admin(), r);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const pb::Member& m : page->members()) {
      names.push_back(m.display_name());
      EXPECT_FALSE(m.pii_masked());  // the committee's administrator reads in clear
    }
    if (page->next_page_token().empty()) {
      break;
    }
    r.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(names.size(), 5u);
  EXPECT_EQ(AuditRows("members.list_pii"), 3);

  pb::ListMembersRequest prefix;
  prefix.set_organization("organizations/5");
  prefix.set_name_prefix("甲");
  auto jia = records_->List(Secretary5(), prefix);
  ASSERT_TRUE(jia.ok()) << jia.status();
  EXPECT_EQ(jia->members_size(), 3);
  EXPECT_TRUE(jia->members(0).pii_masked());
  prefix.set_category(pb::RETIRED);
  EXPECT_EQ(records_->List(Secretary5(), prefix)->members_size(), 1);
  prefix.set_name_prefix("%");  // a wildcard is taken literally
  EXPECT_EQ(records_->List(Secretary5(), prefix)->members_size(), 0);

  pb::ListMembersRequest other;
  other.set_organization("organizations/6");
  EXPECT_EQ(records_->List(Secretary5(), other).status().code(), absl::StatusCode::kNotFound);
  pb::ListMembersRequest reused = r;
  reused.set_organization("organizations/5");
  EXPECT_EQ(records_->List(Admin(), reused).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(MemberRecordsTest, UpdatesResealAndCheckAgainstTheIdNumber) {
  pb::Member m = Full("改名前", {1980, 4, 4}, {2005, 7, 1});
  pb::UpdateMemberRequest r;
  r.mutable_member()->set_name(m.name());
  r.mutable_member()->set_etag(m.etag());
  r.mutable_member()->set_display_name("改名后");
  r.mutable_member()->set_phone("0513-87654321");
  r.mutable_update_mask()->add_paths("display_name");
  r.mutable_update_mask()->add_paths("phone");
  auto updated = records_->Update(Secretary5(), r);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "改名后");
  EXPECT_EQ(updated->phone(), "0513-******21");
  // The stale etag, a birth date against the ID number, an organization by update: refused.
  EXPECT_EQ(records_->Update(Secretary5(), r).status().code(), absl::StatusCode::kAborted);
  pb::UpdateMemberRequest birth;
  birth.mutable_member()->set_name(m.name());
  birth.mutable_member()->set_etag(updated->etag());
  SetDate(birth.mutable_member()->mutable_birth_date(), 1980, 4, 5);
  birth.mutable_update_mask()->add_paths("birth_date");
  EXPECT_TRUE(Fields(records_->Update(Secretary5(), birth).status()).contains("member.birth_date"));
  pb::UpdateMemberRequest move = birth;
  move.mutable_update_mask()->set_paths(0, "organization");
  EXPECT_TRUE(Fields(records_->Update(Secretary5(), move).status()).contains("update_mask"));
  pb::GetMemberRequest get;
  get.set_name(m.name());
  EXPECT_EQ(records_->Get(OrgAdmin5(), get)->phone(), "0513-87654321");
}

TEST_P(MemberRecordsTest, RuleSetVersionsTakeEffectFromTheirDate) {
  pb::CreateMemberRuleSetRequest r;
  *r.mutable_rule_set() = ToProto(NationalMemberRules());
  r.mutable_rule_set()->mutable_development()->set_sponsors_required(3);
  r.mutable_rule_set()->set_note("某市细则");
  SetDate(r.mutable_rule_set()->mutable_effective_date(), 2026, 12, 6);
  EXPECT_TRUE(Fields(records_->AddRuleSet(Root(), r).status())
                  .contains("rule_set.effective_date"));  // the past
  SetDate(r.mutable_rule_set()->mutable_effective_date(), 2027, 1, 1);
  EXPECT_EQ(records_->AddRuleSet(Secretary5(), r).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(records_->AddRuleSet(Admin(), r).status().code(),
            absl::StatusCode::kPermissionDenied);  // below the whole tree
  auto added = records_->AddRuleSet(Root(), r);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->version(), 1);
  EXPECT_EQ(records_->RulesInForce(Secretary5(), {})->development().sponsors_required(), 2);
  pb::GetMemberRulesRequest next_year;
  SetDate(next_year.mutable_date(), 2027, 1, 1);
  EXPECT_EQ(records_->RulesInForce(Secretary5(), next_year)->development().sponsors_required(), 3);
  EXPECT_EQ(records_->RuleSets(Secretary5())->rule_sets_size(), 2);
}

TEST_P(MemberRecordsTest, MemberPathsFollowAMovedSubtree) {
  pb::Member m = Full("搬家", {1980, 1, 1}, {2005, 7, 1});
  auto moved = pool_->Transact(
      [&](db::Connection& c) { return MemberRecords::FollowMove(c, "/1/5/", "/1/6/5/").status(); });
  ASSERT_TRUE(moved.ok()) << moved;
  orgs_["organizations/5"] = "/1/6/5/";
  pb::GetMemberRequest get;
  get.set_name(m.name());
  EXPECT_TRUE(records_->Get(Secretary6(), get).ok());
}

TEST_P(MemberRecordsTest, KeysRotateByResealingEveryRow) {
  const std::string id = Id({1979, 9, 9});
  pb::Member m = Full("旧钥匙", {1979, 9, 9}, {2004, 7, 1});
  Full("另一人", {1981, 1, 1}, {2006, 7, 1}, 13);
  // A new key first, the old one still there to open what it sealed.
  auto rotated = crypto::PiiVault::Create(
      {{"k2", std::string(40, 'b')}, {"k1", std::string(40, 'a')}}, std::string(40, 'i'));
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  auto resealed = ResealPii(*pool_, *rotated, /*batch=*/1);
  ASSERT_TRUE(resealed.ok()) << resealed.status();
  EXPECT_EQ(resealed->rows, 2);
  EXPECT_EQ(resealed->batches, 2);
  EXPECT_EQ(ResealPii(*pool_, *rotated)->rows, 0);  // nothing left: a second run does nothing
  EXPECT_FALSE(absl::StrContains(Dump("members"), "|k1|"));
  // The old key retired: everything still reads, and the blind index still finds.
  auto only_new = crypto::PiiVault::Create({{"k2", std::string(40, 'b')}}, std::string(40, 'i'));
  ASSERT_TRUE(only_new.ok());
  vault_ = std::make_unique<crypto::PiiVault>(*only_new);
  StartRecords();
  pb::GetMemberRequest get;
  get.set_name(m.name());
  auto clear = records_->Get(OrgAdmin5(), get);
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_EQ(clear->id_number(), id);
  pb::SearchMembersRequest search;
  search.set_id_number(id);
  EXPECT_EQ(records_->Search(Admin(), search)->members_size(), 1);
  // A vault that lacks the key a row names cannot read it (configuration, not a missing row).
  auto old_only = crypto::PiiVault::Create({{"k1", std::string(40, 'a')}}, std::string(40, 'i'));
  vault_ = std::make_unique<crypto::PiiVault>(*old_only);
  StartRecords();
  EXPECT_EQ(records_->Get(OrgAdmin5(), get).status().code(), absl::StatusCode::kInternal);
}

// A branch roster as Chinese Excel saves it: UTF-8 here (the parser's own tests cover GB18030
// and .xlsx); `rows` after the header.
std::string Roster(const std::vector<std::string>& rows) {
  std::string csv = "姓名,身份证号,手机号,人员类别,党员类别,入党日期,转正日期\r\n";
  for (const std::string& r : rows) {
    csv += r + "\r\n";
  }
  return csv;
}

TEST_P(MemberRecordsTest, AnImportRegistersEveryRowOrNone) {
  const std::string a = Id({1980, 1, 1}, 11), b = Id({1950, 2, 2}, 13), c = Id({1982, 3, 3}, 15);
  pb::ImportMembersRequest r;
  r.set_organization("organizations/5");
  r.set_request_id("import-0123456789abcdef");
  r.set_file(Roster({"甲," + a + ",13800000001,在职,正式党员,2005-07-01,2006-07-01",
                     "乙," + b + ",,退休,正式党员,1970-07-01,1971-07-01",
                     "丙," + c + ",13800000003,在职,预备党员,2026-03-01,"}));
  r.set_file_name("roster.csv");

  // A bad check character in row 3, a row repeating row 2's number: nothing written, each named.
  pb::ImportMembersRequest bad = r;
  std::string wrong = c;
  wrong[17] = wrong[17] == '0' ? '1' : '0';
  bad.set_file(Roster({"甲," + a + ",13800000001,在职,正式党员,2005-07-01,2006-07-01",
                       "乙," + b + ",,退休,正式党员,1970-07-01,1971-07-01",
                       "丙," + wrong + ",13800000003,在职,预备党员,2026-03-01,",
                       "丁," + b + ",,在职,正式党员,2001-07-01,2002-07-01"}));
  auto refused = records_->Import(Secretary5(), bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(Fields(refused.status()),
            (std::set<std::string>{"rows[4].身份证号", "rows[5].身份证号"}))
      << refused.status();
  EXPECT_FALSE(absl::StrContains(refused.status().ToString(), b));
  EXPECT_EQ(Count("members"), 0);
  EXPECT_EQ(Count("outbox"), 0);
  EXPECT_EQ(Count("member_imports"), 0);

  // Checked only: nothing written either.
  pb::ImportMembersRequest check = r;
  check.set_validate_only(true);
  ASSERT_TRUE(records_->Import(Secretary5(), check).ok());
  EXPECT_EQ(Count("members"), 0);

  auto imported = records_->Import(Secretary5(), r);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->imported(), 3);
  EXPECT_EQ(Count("members"), 3);
  EXPECT_EQ(Count("outbox"), 3);
  EXPECT_EQ(Count("member_stages"), 5);  // joined and converted, twice; joined
  EXPECT_FALSE(absl::StrContains(Dump("members"), a));
  // A retry answers the first call; a second import of the same people is refused.
  auto again = records_->Import(Secretary5(), r);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(Count("members"), 3);
  pb::ImportMembersRequest twice = r;
  twice.set_request_id("import-fedcba9876543210");
  EXPECT_TRUE(Fields(records_->Import(Secretary5(), twice).status()).contains("rows[2].身份证号"));
  EXPECT_EQ(Count("members"), 3);

  // Out of scope, and without the right (an auditor): refused before the file is read.
  EXPECT_EQ(records_->Import(Secretary6(), r).status().code(), absl::StatusCode::kNotFound);
  pb::ListMembersRequest list;
  list.set_organization("organizations/5");
  auto listed = records_->List(Secretary5(), list);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->members_size(), 3);
  // The check, the import, the replay and the refused second import (the organization out of
  // scope is refused by the org service, in its own log).
  EXPECT_EQ(AuditRows("members.import"), 4);
}

// A failure in the middle of an import's writes (here a trigger refusing the third stage row,
// after every member row is in) leaves nothing: no member, no stage, no event, no import record.
TEST_P(MemberRecordsTest, AFailureBetweenImportRowsLeavesNothing) {
  auto trigger = pool_->Run([&](db::Connection& c) {
    return c
        .Exec(GetParam() == db::Dialect::kMySql
                  ? "CREATE TRIGGER crash_mid_import BEFORE INSERT ON member_stages FOR EACH ROW "
                    "BEGIN IF (SELECT COUNT(*) FROM member_stages) >= 2 THEN SIGNAL SQLSTATE "
                    "'45000' SET MESSAGE_TEXT = 'crash'; END IF; END"
                  : "CREATE TRIGGER crash_mid_import BEFORE INSERT ON member_stages WHEN "
                    "(SELECT COUNT(*) FROM member_stages) >= 2 BEGIN SELECT RAISE(ABORT, "
                    "'crash'); END",
              {})
        .status();
  });
  ASSERT_TRUE(trigger.ok()) << trigger;
  pb::ImportMembersRequest r;
  r.set_organization("organizations/5");
  r.set_request_id("import-crash-000000001");
  std::vector<std::string> rows;
  for (int i = 0; i < 3; ++i) {
    rows.push_back(absl::StrCat("成员", i, ",", Id({1980, 1, 1}, 11 + 2 * i),
                                ",,在职,正式党员,2005-07-01,2006-07-01"));
  }
  r.set_file(Roster(rows));
  // Triggers fire per row in both databases: the refusal comes inside the stage statement,
  // after every member row was written in the same transaction.
  auto out = records_->Import(Secretary5(), r);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(Count("members"), 0);
  EXPECT_EQ(Count("member_stages"), 0);
  EXPECT_EQ(Count("outbox"), 0);
  EXPECT_EQ(Count("member_imports"), 0);
}

TEST_P(MemberRecordsTest, ExportsAreMaskedUnlessPiiMayBeReadAndNeverRunFormulas) {
  pb::Member m = Person("=HYPERLINK(\"x\")", Id({1980, 1, 1}), pb::FULL);
  SetDate(m.mutable_join_date(), 2005, 7, 1);
  SetDate(m.mutable_full_member_date(), 2006, 7, 1);
  ASSERT_TRUE(Create(Admin(), m).ok());
  pb::ExportMembersRequest r;
  r.set_organization("organizations/5");
  r.set_format(pb::CSV);
  auto masked = records_->Export(Secretary5(), r);
  ASSERT_TRUE(masked.ok()) << masked.status();
  EXPECT_EQ(masked->rows(), 1);
  EXPECT_TRUE(absl::StrContains(masked->content(), "320681********"));
  EXPECT_TRUE(absl::StrContains(masked->content(), "'=HYPERLINK"));
  EXPECT_EQ(AuditRows("members.export"), 1);
  auto clear = records_->Export(OrgAdmin5(), r);
  ASSERT_TRUE(clear.ok());
  EXPECT_TRUE(absl::StrContains(clear->content(), Id({1980, 1, 1})));
  EXPECT_EQ(AuditRows("members.export_pii"), 1);
  r.set_format(pb::XLSX);
  auto xlsx = records_->Export(Secretary5(), r);
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  EXPECT_EQ(xlsx->content().substr(0, 2), "PK");
  // An export re-imports (masked numbers are refused, so from the one in clear).
  pb::ImportMembersRequest back;
  back.set_organization("organizations/6");
  back.set_request_id("reimport-0123456789ab");
  back.set_file(clear->content());
  auto reimport = records_->Import(Admin(), back);
  EXPECT_TRUE(Fields(reimport.status()).contains("rows[2].身份证号")) << reimport.status();
}

TEST_P(MemberRecordsTest, FiftyYearsByTheComingFirstOfJuly) {
  Full("一九七五", {1950, 1, 1}, {1975, 7, 1}, 11);
  const pb::Member m76 = Full("一九七六七一", {1951, 1, 1}, {1976, 7, 1}, 13);
  const pb::Member m762 = Full("一九七六七二", {1952, 1, 1}, {1976, 7, 2}, 15);
  pb::ListStandingMilestonesRequest r;
  r.set_organization("organizations/1");
  auto names = [&] {
    std::vector<std::string> out;
    auto listed = records_->Milestones(Admin(), r);
    EXPECT_TRUE(listed.ok()) << listed.status();
    for (const pb::StandingMilestone& s : listed->members()) {
      out.push_back(s.member().name());
      EXPECT_EQ(s.standing_years(), 50);
    }
    return out;
  };
  for (const time::CivilDate& today : {time::CivilDate{2026, 6, 30}, time::CivilDate{2026, 7, 1}}) {
    now_ = At(today);
    EXPECT_EQ(names(), (std::vector<std::string>{m76.name()})) << time::ToIso(today);
  }
  now_ = At({2026, 7, 2});  // the coming 1 July is 2027's
  EXPECT_EQ(names(), (std::vector<std::string>{m762.name()}));

  pb::ChangeMemberStatusRequest lost;
  lost.set_name(m76.name());
  lost.set_status(pb::LOST_CONTACT);
  SetDate(lost.mutable_date(), 2026, 1, 5);
  lost.set_reason("半年联系不上");
  ASSERT_TRUE(records_->ChangeStatus(Secretary5(), lost).ok());
  pb::ListStandingMilestonesRequest lost_list;
  lost_list.set_organization("organizations/5");
  lost_list.set_lost_contact(true);
  auto listed = records_->Milestones(Secretary5(), lost_list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->members_size(), 1);
  EXPECT_EQ(listed->members(0).member().name(), m76.name());
  EXPECT_EQ(records_->Milestones(Secretary6(), lost_list).status().code(),
            absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Databases, MemberRecordsTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::member
