// OfficerService on MariaDB and SQLite: appointments (one secretary at a time, end dates), terms
// and elections under the structure rules in force (an injected clock and a committee version),
// the expiring-terms list over a subtree, scope, idempotency; and one call over gRPC.
#include "services/org/src/officer_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/runtime/service_main.h"
#include "gtest/gtest.h"
#include "services/org/src/org_server.h"
#include "services/org/tests/org_test_db.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using time::CivilDate;

google::type::Date Day(int y, int m, int d) { return time::ToProto({y, m, d}); }

class OfficerServiceTest : public OrgDatabaseTest {
 protected:
  void SetUp() override {
    OrgDatabaseTest::SetUp();
    cache_ = cache::NewMemoryCache();
    ids_ = std::make_unique<ids::IdGenerator>(9);
    auth_ = std::make_unique<auth::InternalAuth>(*auth::InternalAuth::Create(std::string(32, 's')));
    OrgServiceOptions options;
    options.now_us = [this] { return now_us_; };
    server_ = std::make_unique<OrgServer>(*pool_, cache_.get(), *ids_, *auth_, std::string(32, 'k'),
                                          options);
    officers_ = std::make_unique<OfficerService>(*pool_, *ids_, *auth_, std::string(32, 'k'),
                                                 server_->organizations().rules(),
                                                 [this] { return now_us_; });
  }

  std::string Org(const std::string& parent, pb::OrganizationKind kind, const std::string& name) {
    pb::CreateOrganizationRequest req;
    req.mutable_organization()->set_parent(parent);
    req.mutable_organization()->set_kind(kind);
    req.mutable_organization()->set_display_name(name);
    auto o = server_->organizations().Create(auth::SystemPrincipal(), req);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? o->name() : "";
  }

  // Root work committee, party committee under it, branch under that.
  void Tree() {
    root_ = Org("", pb::WORK_COMMITTEE, "工委");
    committee_ = Org(root_, pb::PARTY_COMMITTEE, "机关党委");
    branch_ = Org(committee_, pb::BRANCH, "第一支部");
  }

  absl::StatusOr<pb::Officer> Appoint(const std::string& org, pb::OfficerRole role,
                                      const std::string& member, CivilDate start,
                                      std::optional<CivilDate> end = std::nullopt,
                                      const std::string& request_id = "",
                                      const auth::Principal& who = auth::SystemPrincipal()) {
    pb::CreateOfficerRequest req;
    req.set_parent(org);
    req.set_request_id(request_id);
    req.mutable_officer()->set_member(member);
    req.mutable_officer()->set_member_display_name("张三");
    req.mutable_officer()->set_role(role);
    *req.mutable_officer()->mutable_start_date() = time::ToProto(start);
    if (end.has_value()) {
      *req.mutable_officer()->mutable_end_date() = time::ToProto(*end);
    }
    return officers_->Create(who, req);
  }

  absl::StatusOr<pb::Officer> End(const std::string& name, CivilDate end) {
    pb::EndOfficerRequest req;
    req.set_name(name);
    *req.mutable_end_date() = time::ToProto(end);
    req.set_reason("任期届满");
    return officers_->End(auth::SystemPrincipal(), req);
  }

  absl::StatusOr<pb::ListOfficersResponse> Officers(const std::string& org, bool include_ended,
                                                    int32_t page_size = 0,
                                                    const std::string& token = "") {
    pb::ListOfficersRequest req;
    req.set_parent(org);
    req.set_include_ended(include_ended);
    req.set_page_size(page_size);
    req.set_page_token(token);
    return officers_->List(auth::SystemPrincipal(), req);
  }

  absl::StatusOr<pb::Term> Elect(const std::string& org, CivilDate start,
                                 const std::string& request_id = "") {
    pb::CreateTermRequest req;
    req.set_parent(org);
    req.set_request_id(request_id);
    *req.mutable_term()->mutable_start_date() = time::ToProto(start);
    req.mutable_term()->set_note("党员大会选举");
    req.mutable_term()->set_approval("工委〔2026〕3号");
    return officers_->CreateTerm(auth::SystemPrincipal(), req);
  }

  std::vector<pb::Term> Terms(const std::string& org) {
    pb::ListTermsRequest req;
    req.set_parent(org);
    auto out = officers_->ListTerms(auth::SystemPrincipal(), req);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::vector<pb::Term>(out->terms().begin(), out->terms().end())
                    : std::vector<pb::Term>{};
  }

  absl::StatusOr<pb::ListExpiringTermsResponse> Expiring(
      const std::string& org, int32_t within_days,
      const auth::Principal& who = auth::SystemPrincipal(), int32_t page_size = 0,
      const std::string& token = "", std::optional<CivilDate> as_of = CivilDate{2026, 6, 30}) {
    pb::ListExpiringTermsRequest req;
    req.set_name(org);
    req.set_within_days(within_days);
    if (as_of.has_value()) {
      *req.mutable_as_of() = time::ToProto(*as_of);
    }
    req.set_page_size(page_size);
    req.set_page_token(token);
    return officers_->ListExpiring(who, req);
  }

  int64_t Count(const std::string& table) {
    auto lease = pool_->Acquire();
    return (*lease)->Exec(absl::StrCat("SELECT COUNT(*) FROM ", table), {})->rows[0].Int(0);
  }

  static int64_t IdOf(const std::string& name) {
    return std::stoll(name.substr(name.rfind('/') + 1));
  }

  static void ExpectRefused(const absl::Status& s, absl::StatusCode code, const std::string& reason,
                            const std::string& field) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_EQ(rpc::Reason(s), reason) << s;
    if (!field.empty()) {
      auto v = rpc::Violations(s);
      ASSERT_FALSE(v.empty()) << s;
      EXPECT_EQ(v[0].field, field) << s;
    }
  }

  int64_t now_us_ = time::ShanghaiMidnightMicros({2026, 6, 30}) + 3600'000'000LL * 10;  // 30 June, 10:00
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ids::IdGenerator> ids_;
  std::unique_ptr<auth::InternalAuth> auth_;
  std::unique_ptr<OrgServer> server_;
  std::unique_ptr<OfficerService> officers_;
  std::string root_, committee_, branch_;
};

TEST_P(OfficerServiceTest, AppointListAndEnd) {
  Tree();
  auto deputy = Appoint(branch_, pb::DEPUTY_SECRETARY, "members/12", {2024, 1, 1});
  auto secretary = Appoint(branch_, pb::SECRETARY, "members/11", {2024, 1, 1});
  auto member =
      Appoint(branch_, pb::COMMITTEE_MEMBER, "members/13", {2024, 2, 29}, CivilDate{2026, 12, 31});
  ASSERT_TRUE(deputy.ok() && secretary.ok() && member.ok()) << deputy.status();
  EXPECT_TRUE(absl::StartsWith(secretary->name(), branch_ + "/officers/"));
  EXPECT_EQ(secretary->member(), "members/11");
  EXPECT_EQ(secretary->etag(), "v1");

  pb::GetOfficerRequest get;
  get.set_name(secretary->name());
  auto got = officers_->Get(auth::SystemPrincipal(), get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->role(), pb::SECRETARY);
  EXPECT_EQ(got->start_date().year(), 2024);

  // By role: secretary, deputy, committee member; pages of two.
  auto page = Officers(branch_, false, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->officers_size(), 2);
  EXPECT_EQ(page->officers(0).role(), pb::SECRETARY);
  EXPECT_EQ(page->officers(1).role(), pb::DEPUTY_SECRETARY);
  ASSERT_FALSE(page->next_page_token().empty());
  auto rest = Officers(branch_, false, 2, page->next_page_token());
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->officers_size(), 1);
  EXPECT_EQ(rest->officers(0).role(), pb::COMMITTEE_MEMBER);
  EXPECT_TRUE(rest->next_page_token().empty());
  EXPECT_EQ(Officers(branch_, true, 2, page->next_page_token()).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "a token is bound to its filter";

  // The deputy's appointment ended yesterday: no longer current, still in the history.
  auto ended = End(deputy->name(), {2026, 6, 29});
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->end_date().day(), 29);
  EXPECT_EQ(ended->etag(), "v2");
  EXPECT_EQ(Officers(branch_, false)->officers_size(), 2);
  EXPECT_EQ(Officers(branch_, true)->officers_size(), 3);
  ExpectRefused(End(deputy->name(), {2026, 6, 30}).status(), absl::StatusCode::kFailedPrecondition,
                "OFFICER_ENDED", "end_date");
  // Bringing a planned end forward is allowed.
  EXPECT_TRUE(End(member->name(), {2026, 6, 30}).ok());
  EXPECT_EQ(Officers(branch_, false)->officers_size(), 2) << "ends today: still current today";

  auto log = server_->organizations().audit().log().List(*pool_, 0, 0, 1);
  ASSERT_TRUE(log.ok() && !log->empty());
  EXPECT_EQ(log->front().action, "officers.end");
  EXPECT_EQ(log->front().resource, member->name());
}

TEST_P(OfficerServiceTest, OneSecretaryAtATime) {
  Tree();
  auto first = Appoint(branch_, pb::SECRETARY, "members/1", {2024, 1, 1});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Appoint(branch_, pb::SECRETARY, "members/2", {2025, 1, 1});
  ExpectRefused(second.status(), absl::StatusCode::kFailedPrecondition, "SECRETARY_EXISTS",
                "officer.start_date");
  EXPECT_NE(second.status().message().find(first->name()), std::string::npos)
      << "names the existing secretary: " << second.status();
  // A past secretary whose period ended before the current one began is no conflict; one
  // whose period reaches into it is.
  EXPECT_TRUE(
      Appoint(branch_, pb::SECRETARY, "members/3", {2020, 1, 1}, CivilDate{2023, 12, 31}).ok());
  ExpectRefused(
      Appoint(branch_, pb::SECRETARY, "members/4", {2020, 1, 1}, CivilDate{2024, 1, 1}).status(),
      absl::StatusCode::kFailedPrecondition, "SECRETARY_EXISTS", "officer.start_date");
  EXPECT_EQ(Count("officers"), 2);
  // Deputies are not limited; another organization has its own secretary.
  EXPECT_TRUE(Appoint(branch_, pb::DEPUTY_SECRETARY, "members/5", {2025, 1, 1}).ok());
  EXPECT_TRUE(Appoint(committee_, pb::SECRETARY, "members/6", {2025, 1, 1}).ok());
  // Once the first ends, the next may start the day after.
  ASSERT_TRUE(End(first->name(), {2024, 12, 31}).ok());
  EXPECT_TRUE(Appoint(branch_, pb::SECRETARY, "members/2", {2025, 1, 1}).ok());
}

TEST_P(OfficerServiceTest, BadAppointmentsNameTheirFieldAndWriteNothing) {
  Tree();
  ExpectRefused(
      Appoint(branch_, pb::SECRETARY, "members/1", {2024, 3, 1}, CivilDate{2024, 2, 29}).status(),
      absl::StatusCode::kInvalidArgument, "END_BEFORE_START", "officer.end_date");
  ExpectRefused(Appoint(branch_, pb::SECRETARY, "", {2024, 3, 1}).status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "officer.member");
  ExpectRefused(Appoint(branch_, pb::SECRETARY, "accounts/1", {2024, 3, 1}).status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "officer.member");
  ExpectRefused(Appoint(branch_, pb::OFFICER_ROLE_UNSPECIFIED, "members/1", {2024, 3, 1}).status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "officer.role");
  pb::CreateOfficerRequest no_start;
  no_start.set_parent(branch_);
  no_start.mutable_officer()->set_member("members/1");
  no_start.mutable_officer()->set_role(pb::SECRETARY);
  ExpectRefused(officers_->Create(auth::SystemPrincipal(), no_start).status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "officer.start_date");
  EXPECT_EQ(Count("officers"), 0);

  // Ending before the start is refused and leaves the appointment as it was.
  auto officer = Appoint(branch_, pb::SECRETARY, "members/1", {2024, 3, 1});
  ASSERT_TRUE(officer.ok()) << officer.status();
  ExpectRefused(End(officer->name(), {2024, 2, 29}).status(), absl::StatusCode::kInvalidArgument,
                "END_BEFORE_START", "end_date");
  pb::GetOfficerRequest get;
  get.set_name(officer->name());
  auto after = officers_->Get(auth::SystemPrincipal(), get);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_end_date());
  EXPECT_EQ(after->etag(), "v1");
  // An officer of another organization is not found under this one.
  get.set_name(absl::StrCat(committee_, "/officers/", IdOf(officer->name())));
  ExpectRefused(officers_->Get(auth::SystemPrincipal(), get).status(), absl::StatusCode::kNotFound,
                "OFFICER_NOT_FOUND", "");
}

TEST_P(OfficerServiceTest, TermsFollowTheElections) {
  Tree();
  // A branch elected on 29 February 2020 serves until 28 February 2023 (民法典 art. 201).
  auto first = Elect(branch_, {2020, 2, 29});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->term_years(), 3);
  EXPECT_EQ(time::ToIso({first->planned_end_date().year(), first->planned_end_date().month(),
                         first->planned_end_date().day()}),
            "2023-02-28");
  EXPECT_EQ(first->rule_set_version(), 0);
  EXPECT_FALSE(first->has_end_date());

  // On time: the planned end day itself.
  auto second = Elect(branch_, {2023, 2, 28});
  ASSERT_TRUE(second.ok()) << second.status();
  // Eleven months early (planned end 2026-02-28): allowed, the shift kept on the closed term.
  auto third = Elect(branch_, {2025, 3, 28});
  ASSERT_TRUE(third.ok()) << third.status();
  const std::vector<pb::Term> terms = Terms(branch_);
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].name(), third->name()) << "newest first";
  EXPECT_FALSE(terms[0].has_end_date());
  EXPECT_EQ(terms[1].name(), second->name());
  EXPECT_EQ(terms[1].end_date().year(), 2025);
  EXPECT_EQ(terms[1].shift_days(), -337);
  EXPECT_EQ(terms[2].end_date().month(), 2);
  EXPECT_EQ(terms[2].end_date().day(), 28);
  EXPECT_EQ(terms[2].shift_days(), 0);

  // A party committee serves five years.
  auto committee = Elect(committee_, {2021, 9, 1});
  ASSERT_TRUE(committee.ok()) << committee.status();
  EXPECT_EQ(committee->term_years(), 5);
  EXPECT_EQ(committee->planned_end_date().year(), 2026);
}

TEST_P(OfficerServiceTest, AnElectionTooFarFromThePlannedEndIsRefused) {
  Tree();
  ASSERT_TRUE(Elect(branch_, {2020, 1, 10}).ok());  // planned end 2023-01-10
  // Thirteen months late.
  auto late = Elect(branch_, {2024, 2, 10});
  ExpectRefused(late.status(), absl::StatusCode::kInvalidArgument, "TERM_SHIFT_TOO_LARGE",
                "term.start_date");
  EXPECT_NE(late.status().message().find("2022-01-10 to 2024-01-10"), std::string::npos)
      << late.status();
  // Not after the current term's start.
  ExpectRefused(Elect(branch_, {2020, 1, 10}).status(), absl::StatusCode::kInvalidArgument,
                "ELECTION_BEFORE_CURRENT_TERM", "term.start_date");
  EXPECT_EQ(Count("terms"), 1);
  ASSERT_EQ(Terms(branch_).size(), 1u);
  EXPECT_FALSE(Terms(branch_)[0].has_end_date()) << "the current term was not closed";
  EXPECT_TRUE(Elect(branch_, {2024, 1, 10}).ok()) << "twelve months late is the limit";

  // A first term never starts before the organization was established.
  pb::UpdateOrganizationRequest update;
  update.mutable_organization()->set_name(committee_);
  *update.mutable_organization()->mutable_established_date() = Day(2021, 3, 1);
  update.mutable_update_mask()->add_paths("established_date");
  ASSERT_TRUE(server_->organizations().Update(auth::SystemPrincipal(), update).ok());
  ExpectRefused(Elect(committee_, {2021, 2, 28}).status(), absl::StatusCode::kInvalidArgument,
                "TERM_BEFORE_ESTABLISHMENT", "term.start_date");
  EXPECT_TRUE(Elect(committee_, {2021, 3, 1}).ok());
}

TEST_P(OfficerServiceTest, TheRulesInForceOnTheElectionDayApply) {
  Tree();
  const std::string other = Org(committee_, pb::BRANCH, "第二支部");
  ASSERT_TRUE(Elect(branch_, {2024, 1, 15}).ok());  // planned end 2027-01-15
  ASSERT_TRUE(Elect(other, {2024, 1, 15}).ok());
  // From 1 July 2026 the committee allows six months' shift and elects branches for 4 years.
  pb::StructureRuleSet v1 = ToProto(NationalDefaultVersion());
  v1.set_max_term_shift_months(6);
  for (pb::KindRule& k : *v1.mutable_kinds()) {
    if (k.kind() == pb::BRANCH) {
      k.set_term_years(4);
    }
  }
  *v1.mutable_effective_date() = Day(2026, 7, 1);
  v1.set_note("工委〔2026〕12号");
  pb::CreateStructureRuleSetRequest add;
  *add.mutable_rule_set() = v1;
  ASSERT_TRUE(server_->rule_sets().Create(auth::SystemPrincipal(), add).ok());

  // 20 June: version 0, a year's shift allowed, three-year terms.
  auto early = Elect(other, {2026, 6, 20});
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->rule_set_version(), 0);
  EXPECT_EQ(early->term_years(), 3);
  // 10 July: version 1's window opens on 15 July.
  auto refused = Elect(branch_, {2026, 7, 10});
  ExpectRefused(refused.status(), absl::StatusCode::kInvalidArgument, "TERM_SHIFT_TOO_LARGE",
                "term.start_date");
  EXPECT_NE(refused.status().message().find("2026-07-15"), std::string::npos) << refused.status();
  auto later = Elect(branch_, {2026, 7, 20});
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->rule_set_version(), 1);
  EXPECT_EQ(later->term_years(), 4);
  EXPECT_EQ(later->planned_end_date().year(), 2030);
}

TEST_P(OfficerServiceTest, KindsWithoutTermsAndDissolvedOrganizationsAreRefused) {
  Tree();
  const std::string group = Org(branch_, pb::PARTY_GROUP, "第一党小组");
  ExpectRefused(Elect(group, {2024, 1, 1}).status(), absl::StatusCode::kFailedPrecondition,
                "TERMS_NOT_ELECTED", "");
  ExpectRefused(Elect(root_, {2024, 1, 1}).status(), absl::StatusCode::kFailedPrecondition,
                "TERMS_NOT_ELECTED", "");
  EXPECT_EQ(Count("terms"), 0);

  const std::string gone = Org(committee_, pb::BRANCH, "撤销支部");
  ASSERT_TRUE(Appoint(gone, pb::SECRETARY, "members/1", {2024, 1, 1}).ok());
  pb::DissolveOrganizationRequest dissolve;
  dissolve.set_name(gone);
  dissolve.set_reason("机构改革");
  ASSERT_TRUE(server_->organizations().Dissolve(auth::SystemPrincipal(), dissolve).ok());
  ExpectRefused(Appoint(gone, pb::DEPUTY_SECRETARY, "members/2", {2026, 1, 1}).status(),
                absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED", "");
  ExpectRefused(Elect(gone, {2026, 1, 1}).status(), absl::StatusCode::kFailedPrecondition,
                "ORGANIZATION_DISSOLVED", "");
  EXPECT_EQ(Count("officers"), 1);
  EXPECT_EQ(Count("terms"), 0);
  EXPECT_EQ(Officers(gone, true)->officers_size(), 1) << "its history stays readable";
}

TEST_P(OfficerServiceTest, ExpiringTermsOverASubtree) {
  root_ = Org("", pb::WORK_COMMITTEE, "工委");
  const std::string a = Org(root_, pb::PARTY_COMMITTEE, "甲机关党委");
  const std::string a1 = Org(a, pb::BRANCH, "甲一支部");
  const std::string a2 = Org(a, pb::BRANCH, "甲二支部");
  const std::string b = Org(root_, pb::PARTY_COMMITTEE, "乙机关党委");
  const std::string b1 = Org(b, pb::BRANCH, "乙一支部");
  ASSERT_TRUE(Elect(a, {2021, 9, 1}).ok());    // ends 2026-09-01, in 63 days
  ASSERT_TRUE(Elect(a1, {2023, 7, 10}).ok());  // ends 2026-07-10, in 10 days
  ASSERT_TRUE(Elect(a2, {2023, 1, 5}).ok());   // ended 2026-01-05: overdue by 176 days
  ASSERT_TRUE(Elect(b1, {2023, 7, 1}).ok());   // ends 2026-07-01, outside a's subtree

  auto within60 = Expiring(a, 60);
  ASSERT_TRUE(within60.ok()) << within60.status();
  ASSERT_EQ(within60->terms_size(), 2);
  EXPECT_EQ(within60->terms(0).organization(), a2);
  EXPECT_EQ(within60->terms(0).organization_display_name(), "甲二支部");
  EXPECT_EQ(within60->terms(0).days_left(), -176);
  EXPECT_EQ(within60->terms(1).organization(), a1);
  EXPECT_EQ(within60->terms(1).days_left(), 10);
  EXPECT_FALSE(within60->terms(1).term().has_end_date());

  // The edge: 63 days reaches a's own planned end; 62 does not.
  EXPECT_EQ(Expiring(a, 62)->terms_size(), 2);
  auto within63 = Expiring(a, 63);
  ASSERT_EQ(within63->terms_size(), 3);
  EXPECT_EQ(within63->terms(2).organization(), a);
  EXPECT_EQ(within63->terms(2).days_left(), 63);
  // 0: overdue or ending today only.
  EXPECT_EQ(Expiring(a, 0)->terms_size(), 1);

  // The whole tree, a page at a time.
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = Expiring(root_, 63, auth::SystemPrincipal(), 1, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& t : page->terms()) {
      seen.push_back(t.organization());
    }
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{a2, b1, a1, a}));

  // A caller scoped to b does not learn that a exists; one scoped to a reads it.
  const auth::Principal in_b{.subject = "accounts/7", .roles = {"org_admin"}, .scope_org = IdOf(b)};
  ExpectRefused(Expiring(a, 60, in_b).status(), absl::StatusCode::kNotFound,
                "ORGANIZATION_NOT_FOUND", "");
  const auth::Principal member_of_a{
      .subject = "accounts/8", .roles = {"member"}, .scope_org = IdOf(a)};
  EXPECT_EQ(Expiring(a, 60, member_of_a)->terms_size(), 2);
  ExpectRefused(Expiring(a, 3661).status(), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                "within_days");
}

TEST_P(OfficerServiceTest, ExpiringPagesWithoutAsOfContinueAcrossMidnight) {
  Tree();
  const std::string x = Org(committee_, pb::BRANCH, "第二支部");
  const std::string y = Org(committee_, pb::BRANCH, "第三支部");
  ASSERT_TRUE(Elect(branch_, {2023, 7, 1}).ok());  // ends 2026-07-01
  ASSERT_TRUE(Elect(x, {2023, 7, 5}).ok());        // ends 2026-07-05
  ASSERT_TRUE(Elect(y, {2023, 7, 10}).ok());       // ends 2026-07-10
  constexpr int64_t kMinuteUs = 60'000'000;
  now_us_ = time::ShanghaiMidnightMicros({2026, 7, 1}) - kMinuteUs;  // 30 June, 23:59 in Shanghai

  // The first page answers as of 30 June; the rest, read after midnight, continue that list:
  // the same days left, the same end of the window (10 days from 30 June).
  auto first = Expiring(committee_, 10, auth::SystemPrincipal(), 1, "", std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->terms_size(), 1);
  EXPECT_EQ(first->terms(0).organization(), branch_);
  EXPECT_EQ(first->terms(0).days_left(), 1);
  now_us_ += 2 * kMinuteUs;  // 1 July, 00:01
  std::vector<std::pair<std::string, int32_t>> rest;
  std::string token = first->next_page_token();
  while (!token.empty()) {
    auto page = Expiring(committee_, 10, auth::SystemPrincipal(), 1, token, std::nullopt);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& t : page->terms()) {
      rest.emplace_back(t.organization(), t.days_left());
    }
    token = page->next_page_token();
  }
  EXPECT_EQ(rest, (std::vector<std::pair<std::string, int32_t>>{{x, 5}, {y, 10}}));

  // A new list after midnight is as of 1 July.
  auto fresh = Expiring(committee_, 10, auth::SystemPrincipal(), 1, "", std::nullopt);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->terms(0).days_left(), 0);
  // A token of the "today" question does not continue an explicit as_of, nor the reverse.
  ExpectRefused(Expiring(committee_, 10, auth::SystemPrincipal(), 1, first->next_page_token(),
                         CivilDate{2026, 6, 30})
                    .status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "page_token");
  auto explicit_first = Expiring(committee_, 10, auth::SystemPrincipal(), 1);
  ASSERT_TRUE(explicit_first.ok()) << explicit_first.status();
  ExpectRefused(Expiring(committee_, 10, auth::SystemPrincipal(), 1,
                         explicit_first->next_page_token(), std::nullopt)
                    .status(),
                absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT", "page_token");
  // With an explicit as_of, later pages keep it too.
  auto explicit_second =
      Expiring(committee_, 10, auth::SystemPrincipal(), 1, explicit_first->next_page_token());
  ASSERT_TRUE(explicit_second.ok()) << explicit_second.status();
  ASSERT_EQ(explicit_second->terms_size(), 1);
  EXPECT_EQ(explicit_second->terms(0).organization(), x);
  EXPECT_EQ(explicit_second->terms(0).days_left(), 5);
}

TEST_P(OfficerServiceTest, OutOfScopeWritesAreNotFound) {
  Tree();
  const std::string other = Org(root_, pb::PARTY_COMMITTEE, "另一党委");
  const auth::Principal elsewhere{
      .subject = "accounts/9", .roles = {"secretary"}, .scope_org = IdOf(other)};
  ExpectRefused(
      Appoint(branch_, pb::SECRETARY, "members/1", {2024, 1, 1}, std::nullopt, "", elsewhere)
          .status(),
      absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "");
  const auth::Principal reader{
      .subject = "accounts/10", .roles = {"member"}, .scope_org = IdOf(committee_)};
  ExpectRefused(
      Appoint(branch_, pb::SECRETARY, "members/1", {2024, 1, 1}, std::nullopt, "", reader).status(),
      absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED", "");
  EXPECT_EQ(Count("officers"), 0);
  auto log = server_->organizations().audit().log().List(*pool_, 0, 0, 1);
  ASSERT_TRUE(log.ok() && !log->empty());
  EXPECT_EQ(log->front().action, "officers.create");
  EXPECT_EQ(log->front().outcome, "PERMISSION_DENIED");
}

TEST_P(OfficerServiceTest, CreatesAreIdempotentByRequestId) {
  Tree();
  auto once = Appoint(branch_, pb::SECRETARY, "members/1", {2024, 1, 1}, std::nullopt, "req-000000000001");
  auto twice = Appoint(branch_, pb::SECRETARY, "members/1", {2024, 1, 1}, std::nullopt, "req-000000000001");
  ASSERT_TRUE(once.ok() && twice.ok()) << twice.status();
  EXPECT_EQ(once->name(), twice->name());
  EXPECT_EQ(Count("officers"), 1);
  ExpectRefused(
      Appoint(branch_, pb::DEPUTY_SECRETARY, "members/1", {2024, 1, 1}, std::nullopt, "req-000000000001")
          .status(),
      absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED", "");

  auto term = Elect(branch_, {2024, 1, 1}, "req-000000000002");
  auto again = Elect(branch_, {2024, 1, 1}, "req-000000000002");
  ASSERT_TRUE(term.ok() && again.ok()) << again.status();
  EXPECT_EQ(term->name(), again->name());
  EXPECT_EQ(Count("terms"), 1);
  ExpectRefused(Elect(branch_, {2025, 1, 1}, "req-000000000002").status(), absl::StatusCode::kAlreadyExists,
                "REQUEST_ID_REUSED", "");
  EXPECT_EQ(Count("terms"), 1);
}

TEST_P(OfficerServiceTest, OverGrpcErrorsCarryReasonAndField) {
  Tree();
  grpc::Service* services[] = {officers_.get()};
  auto running = runtime::StartGrpcServer({}, services);
  ASSERT_TRUE(running.ok()) << running.status();
  auto stub =
      pb::OfficerService::NewStub(rpc::MakeChannel("127.0.0.1:" + std::to_string(running->port)));
  pb::CreateOfficerRequest req;
  req.set_parent(branch_);
  req.mutable_officer()->set_member("members/1");
  req.mutable_officer()->set_role(pb::SECRETARY);
  *req.mutable_officer()->mutable_start_date() = Day(2024, 3, 1);
  *req.mutable_officer()->mutable_end_date() = Day(2024, 2, 29);
  auto ctx = rpc::NewClientContext(std::chrono::seconds(10), "");
  auth_->Attach(*ctx, auth::SystemPrincipal());
  pb::Officer out;
  const absl::Status s = rpc::FromGrpcStatus(stub->CreateOfficer(ctx.get(), req, &out));
  ExpectRefused(s, absl::StatusCode::kInvalidArgument, "END_BEFORE_START", "officer.end_date");
  req.mutable_officer()->clear_end_date();
  auto ok_ctx = rpc::NewClientContext(std::chrono::seconds(10), "");
  auth_->Attach(*ok_ctx, auth::SystemPrincipal());
  EXPECT_TRUE(stub->CreateOfficer(ok_ctx.get(), req, &out).ok());
  EXPECT_EQ(out.member(), "members/1");
  running->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Databases, OfficerServiceTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::org
