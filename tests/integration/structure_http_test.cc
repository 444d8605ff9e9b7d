// End to end, Step 4's structure through the gateway in both topologies: units with credit codes,
// joint branches, officers and terms (换届), communities (1+N+X), pairings, stations, subtree
// statistics and expiring terms; each refusal of the issue answers 400 naming its field and
// writes nothing.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dangjian/org/v1/community.pb.h"
#include "dangjian/org/v1/officer.pb.h"
#include "dangjian/org/v1/statistics.pb.h"
#include "dangjian/org/v1/unit.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

template <typename M>
M Parse(const HttpResponse& r) {
  M m;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &m).ok()) << r.body;
  return m;
}

// Valid 统一社会信用代码 (GB 32100-2015), computed independently of the service.
constexpr const char* kFinance = "113206810140123457";
constexpr const char* kTax = "11320681014012346A";
constexpr const char* kAudit = "11320681014012347D";

class Structure : public Suite {
 protected:
  pb::Unit MustUnit(const std::string& parent, const std::string& name, const std::string& code,
                    const std::string& mode = "DIRECT", const std::string& vertical = "") {
    HttpResponse r =
        Post("/v1/units", absl::StrCat(R"({"displayName":")", name, R"(","creditCode":")", code,
                                       R"(","kind":"GOVERNMENT","leadershipMode":")", mode,
                                       R"(","verticalLeadingBody":")", vertical, R"(","parent":")",
                                       parent, R"("})"));
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse<pb::Unit>(r);
  }
  // The count of `path`'s collection as listed (one page is enough here).
  int Listed(const std::string& target, const std::string& field) {
    HttpResponse r = Http(http_port_, "GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    auto s = ParseStruct(r.body);
    return s.fields().contains(field) ? s.fields().at(field).list_value().values_size() : 0;
  }
};

TEST_P(Structure, UnitsOfficersTermsCommunitiesAndStatistics) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "启东市级机关工委");
  pb::Unit finance = MustUnit(root.name(), "启东市财政局", kFinance);
  pb::Unit tax =
      MustUnit(root.name(), "国家税务总局启东市税务局", kTax, "DUAL", "国家税务总局南通市税务局");

  // A credit code with a bad check character: 400 naming the field, nothing written.
  HttpResponse bad_code = Post(
      "/v1/units", absl::StrCat(R"({"displayName":"审计局","creditCode":")", "113206810140123458",
                                R"(","kind":"GOVERNMENT","leadershipMode":"DIRECT","parent":")",
                                root.name(), R"("})"));
  EXPECT_EQ(bad_code.status, 400) << bad_code.body;
  EXPECT_EQ(ViolationField(bad_code.body), "unit.credit_code") << bad_code.body;
  EXPECT_EQ(Listed("/v1/units?parent=" + root.name(), "units"), 2);

  // Organizations belong to units; a joint branch covers several.
  HttpResponse committee =
      Post("/v1/organizations",
           absl::StrCat(R"({"displayName":"财政局机关党委","kind":"PARTY_COMMITTEE","parent":")",
                        root.name(), R"(","unit":")", finance.name(), R"("})"));
  ASSERT_EQ(committee.status, 200) << committee.body;
  pb::Organization finance_org = ParseOrg(committee.body);
  pb::Organization tax_org = MustCreate(root.name(), "PARTY_COMMITTEE", "税务局机关党委");
  ASSERT_EQ(Http(http_port_, "PATCH", "/v1/" + tax_org.name() + "?updateMask=unit",
                 absl::StrCat(R"({"unit":")", tax.name(), R"("})"))
                .status,
            200);
  pb::Unit audit = MustUnit(root.name(), "启东市审计局", kAudit);
  HttpResponse joint =
      Post("/v1/organizations",
           absl::StrCat(R"({"displayName":"财审联合党支部","kind":"BRANCH","parent":")",
                        finance_org.name(), R"(","unit":")", finance.name(), R"(","jointUnits":[")",
                        audit.name(), R"("]})"));
  ASSERT_EQ(joint.status, 200) << joint.body;
  pb::Organization branch = ParseOrg(joint.body);
  EXPECT_EQ(branch.joint_units_size(), 1);
  pb::Organization group = MustCreate(branch.name(), "PARTY_GROUP", "第一党小组");

  // A move under a party group: 400, the tree unchanged.
  pb::Organization other_branch = MustCreate(tax_org.name(), "BRANCH", "第一党支部");
  HttpResponse under_group =
      Post("/v1/" + other_branch.name() + ":move", R"({"newParent":")" + group.name() + R"("})");
  EXPECT_EQ(under_group.status, 400) << under_group.body;
  EXPECT_EQ(ViolationField(under_group.body), "new_parent") << under_group.body;
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + other_branch.name()).body).parent(),
            tax_org.name());

  // Officers: an end date before the start is refused and writes nothing.
  HttpResponse backwards = Post(
      "/v1/" + branch.name() + "/officers",
      R"({"member":"members/1","memberDisplayName":"张三","role":"SECRETARY",)"
      R"("startDate":{"year":2024,"month":3,"day":1},"endDate":{"year":2024,"month":2,"day":29}})");
  EXPECT_EQ(backwards.status, 400) << backwards.body;
  EXPECT_EQ(ViolationField(backwards.body), "officer.end_date") << backwards.body;
  EXPECT_EQ(Listed("/v1/" + branch.name() + "/officers?includeEnded=true", "officers"), 0);
  HttpResponse secretary =
      Post("/v1/" + branch.name() + "/officers",
           R"({"member":"members/1","memberDisplayName":"张三","role":"SECRETARY",)"
           R"("startDate":{"year":2024,"month":2,"day":29}})");
  ASSERT_EQ(secretary.status, 200) << secretary.body;
  EXPECT_EQ(Listed("/v1/" + branch.name() + "/officers", "officers"), 1);

  // Terms: a branch elected on 29 Feb 2024 serves until 28 Feb 2027; an election more than a
  // year off the planned end is refused.
  HttpResponse first =
      Post("/v1/" + branch.name() + "/terms", R"({"startDate":{"year":2024,"month":2,"day":29}})");
  ASSERT_EQ(first.status, 200) << first.body;
  pb::Term term = Parse<pb::Term>(first);
  EXPECT_EQ(term.term_years(), 3);
  EXPECT_EQ(term.planned_end_date().year(), 2027);
  EXPECT_EQ(term.planned_end_date().month(), 2);
  EXPECT_EQ(term.planned_end_date().day(), 28);
  HttpResponse shifted =
      Post("/v1/" + branch.name() + "/terms", R"({"startDate":{"year":2028,"month":3,"day":1}})");
  EXPECT_EQ(shifted.status, 400) << shifted.body;
  EXPECT_EQ(ErrorReason(shifted.body), "TERM_SHIFT_TOO_LARGE") << shifted.body;
  EXPECT_EQ(ViolationField(shifted.body), "term.start_date") << shifted.body;
  EXPECT_EQ(Listed("/v1/" + branch.name() + "/terms", "terms"), 1);
  HttpResponse expiring =
      Http(http_port_, "GET",
           "/v1/" + root.name() +
               ":listExpiringTerms?withinDays=30&asOf.year=2027&asOf.month=2&asOf.day=1");
  ASSERT_EQ(expiring.status, 200) << expiring.body;
  auto soon = Parse<pb::ListExpiringTermsResponse>(expiring);
  ASSERT_EQ(soon.terms_size(), 1) << expiring.body;
  EXPECT_EQ(soon.terms(0).organization(), branch.name());
  EXPECT_EQ(soon.terms(0).days_left(), 27);

  // Communities: one lead, N members, X partners; never an organization in two.
  HttpResponse community =
      Post("/v1/communities",
           absl::StrCat(R"({"displayName":"第一党建共同体","leadOrganization":")",
                        finance_org.name(), R"(","memberOrganizations":[")", tax_org.name(),
                        R"("],"partners":[{"displayName":"汇龙镇城北村","kind":"VILLAGE"}],)",
                        R"("liaison":{"displayName":"李四","title":"工委委员"},)",
                        R"("mechanisms":["JOINT_MEETING","JOINT_BRAND"],)",
                        R"("brands":[{"displayName":"红色代办"}]})"));
  ASSERT_EQ(community.status, 200) << community.body;
  pb::Community first_community = Parse<pb::Community>(community);
  EXPECT_EQ(first_community.scope_organization(), root.name());
  HttpResponse twice = Post(
      "/v1/communities",
      absl::StrCat(R"({"displayName":"第二党建共同体","leadOrganization":")", other_branch.name(),
                   R"(","memberOrganizations":[")", finance_org.name(), R"("]})"));
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_EQ(ErrorReason(twice.body), "ORGANIZATION_IN_ANOTHER_COMMUNITY") << twice.body;
  EXPECT_EQ(ViolationField(twice.body), "community.member_organizations[0]") << twice.body;
  HttpResponse leaderless = Post("/v1/communities", R"({"displayName":"无牵头共同体"})");
  EXPECT_EQ(leaderless.status, 400) << leaderless.body;
  EXPECT_EQ(ViolationField(leaderless.body), "community.lead_organization") << leaderless.body;
  EXPECT_EQ(Listed("/v1/communities", "communities"), 1);

  // Pairings and stations.
  HttpResponse pairing =
      Post("/v1/pairings",
           absl::StrCat(R"({"organization":")", branch.name(),
                        R"(","partner":{"displayName":"江苏某科技有限公司","kind":"ENTERPRISE"},)",
                        R"("startDate":{"year":2024,"month":7,"day":1}})"));
  ASSERT_EQ(pairing.status, 200) << pairing.body;
  HttpResponse station =
      Post("/v1/stations", absl::StrCat(R"({"organization":")", finance_org.name(),
                                        R"(","residentialCommunity":"汇龙镇紫薇社区",)",
                                        R"("startDate":{"year":2024,"month":7,"day":1}})"));
  ASSERT_EQ(station.status, 200) << station.body;

  // Statistics over the whole tree and over one organ.
  HttpResponse stats = Http(http_port_, "GET", "/v1/" + root.name() + ":statistics");
  ASSERT_EQ(stats.status, 200) << stats.body;
  auto all = Parse<pb::OrganizationStatistics>(stats);
  EXPECT_EQ(all.total(), 6);  // root, 2 committees, 2 branches, 1 group
  EXPECT_EQ(all.pairings(), 1);
  EXPECT_EQ(all.stations(), 1);
  EXPECT_EQ(all.residential_communities(), 1);
  std::map<int, int64_t> kinds;
  for (const auto& k : all.by_kind()) {
    kinds[k.kind()] = k.count();
  }
  EXPECT_EQ(kinds[pb::PARTY_COMMITTEE], 2);
  EXPECT_EQ(kinds[pb::BRANCH], 2);
  ASSERT_GE(all.by_community_size(), 2);
  EXPECT_EQ(all.by_community(0).community(), first_community.name());
  EXPECT_EQ(all.by_community(0).organizations(), 2);  // the lead and its member
  EXPECT_EQ(all.by_community(0).descendants(), 3);    // both branches and the group
  std::map<int, int64_t> modes;
  for (const auto& m : all.by_leadership_mode()) {
    modes[m.leadership_mode()] = m.count();
  }
  EXPECT_EQ(modes[pb::DUAL], 1);
  EXPECT_EQ(modes[pb::DIRECT], 2);  // the finance committee and the joint branch
  HttpResponse organ = Http(http_port_, "GET", "/v1/" + finance_org.name() + ":statistics");
  ASSERT_EQ(organ.status, 200) << organ.body;
  EXPECT_EQ(Parse<pb::OrganizationStatistics>(organ).total(), 3);
}

INSTANTIATE_TEST_SUITE_P(Topologies, Structure,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

}  // namespace
}  // namespace dj
