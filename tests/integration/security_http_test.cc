// What an outside probe of the running suite broke (Step 5), each reproduced over HTTP against
// the real processes in both topologies: unbounded metric labels, metrics on the API port,
// access tokens outliving their session, sign-in abuse, request ids shared across principals,
// accounts without a scope, non-canonical names, query values in the logs, and audit fidelity.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

// The sample lines of metric family `name` in a Prometheus text page.
int SeriesCount(const std::string& page, const std::string& name) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (absl::StartsWith(line, name + "{") || absl::StartsWith(line, name + " ")) {
      ++n;
    }
  }
  return n;
}

class Security : public Suite {};

// 1,000 requests with made-up 10 KB method names once made 1,000 series and 200 MB.
TEST_P(Security, MadeUpMethodNamesLeaveTheSeriesAndMemoryFlat) {
  const std::string before = Http(gateway_metrics_port_, "GET", "/metrics").body;
  ASSERT_FALSE(before.empty());
  const int64_t rss_before = testing::ResidentBytes(gateway_->pid());
  const std::string zs(10'000, 'Z');
  for (int i = 0; i < 1000; ++i) {
    const std::string method = absl::StrCat("Q", absl::Dec(i, absl::kZeroPad5), zs);
    const std::string raw = testing::RawHttp(
        http_port_, absl::StrCat(method, " /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    ASSERT_NE(testing::RawStatus(raw), 0) << i;
    // The answer does not echo the whole method either.
    ASSERT_LT(raw.size(), 4096u) << i;
  }
  const std::string after = Http(gateway_metrics_port_, "GET", "/metrics").body;
  // The new requests fall into a handful of series (method "other"), not a thousand.
  EXPECT_LE(SeriesCount(after, "http_requests_total"),
            SeriesCount(before, "http_requests_total") + 4)
      << after.substr(0, 4000);
  EXPECT_EQ(after.find("ZZZZZZZZ"), std::string::npos);
  EXPECT_NE(after.find("method=\"other\""), std::string::npos);
  EXPECT_LT(after.size(), before.size() + 64 * 1024);
  // Memory: the attack once added ~200 MB; allow generous noise.
  EXPECT_LT(testing::ResidentBytes(gateway_->pid()) - rss_before, 48ll << 20);
  // The access log kept a bounded method field.
  EXPECT_EQ(gateway_->Log().find(std::string(1000, 'Z')), std::string::npos);
  EXPECT_EQ(Http(http_port_, "GET", "/healthz").status, 200);
}

// Metrics are for the ops role: not on the API port, with or without a token.
TEST_P(Security, MetricsAreNotOnTheApiPort) {
  for (const std::string& token : {std::string(), token_}) {
    HttpResponse r = As(token, "GET", "/metrics");
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.body.find("http_requests_total"), std::string::npos);
  }
  // They are on the metrics listener.
  EXPECT_NE(Http(gateway_metrics_port_, "GET", "/metrics").body.find("http_requests_total"),
            std::string::npos);
}

// A request id is the caller's own: another principal reusing it makes a new resource and
// learns nothing of the first one.
TEST_P(Security, RequestIdsAreScopedToTheCaller) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  pb::Organization branch = MustCreate(root.name(), "PARTY_COMMITTEE", "甲局机关党委");
  CreateAccount("sec.a", "SECRETARY", branch);
  const std::string secretary = SignInAs("sec.a");
  const std::string id = "3f1c9a52-0d1e-4a3b-9b7e-1c2d3e4f5a6b";
  HttpResponse admins = Post("/v1/organizations?requestId=" + id,
                             R"({"displayName":"委员会直属支部","kind":"BRANCH","parent":")" +
                                 root.name() + R"("})");
  ASSERT_EQ(admins.status, 200) << admins.body;
  const std::string admins_org = ParseOrg(admins.body).name();
  HttpResponse mine = As(secretary, "POST", "/v1/organizations?requestId=" + id,
                         R"({"displayName":"第一党支部","kind":"BRANCH","parent":")" +
                             branch.name() + R"("})");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_NE(ParseOrg(mine.body).name(), admins_org);
  EXPECT_EQ(ParseOrg(mine.body).parent(), branch.name());
  EXPECT_EQ(mine.body.find(admins_org), std::string::npos);
  // Each replays their own.
  HttpResponse again = As(secretary, "POST", "/v1/organizations?requestId=" + id,
                          R"({"displayName":"第一党支部","kind":"BRANCH","parent":")" +
                              branch.name() + R"("})");
  EXPECT_EQ(ParseOrg(again.body).name(), ParseOrg(mine.body).name()) << again.body;
  HttpResponse admin_again = Post("/v1/organizations?requestId=" + id,
                                  R"({"displayName":"委员会直属支部","kind":"BRANCH","parent":")" +
                                      root.name() + R"("})");
  EXPECT_EQ(ParseOrg(admin_again.body).name(), admins_org) << admin_again.body;
  // Ids that collide by chance are refused: short ones, and characters outside [A-Za-z0-9_-].
  for (const std::string& bad : std::vector<std::string>{
           "1", "retry", "abcdefghijklmno", "abcdefghijklmnop.q", std::string(65, 'a')}) {
    HttpResponse r = Post("/v1/organizations?requestId=" + bad,
                          R"({"displayName":"坏请求号支部","kind":"BRANCH","parent":")" +
                              root.name() + R"("})");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(ViolationField(r.body), "request_id") << r.body;
  }
  EXPECT_EQ(Post("/v1/organizations?requestId=abcdefghijklmnop",
                 R"({"displayName":"十六位支部","kind":"BRANCH","parent":")" + root.name() +
                     R"("})")
                .status,
            200);
}

// No default widens access: an account names its scope.
TEST_P(Security, AnAccountWithoutAScopeIsRefused) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  HttpResponse r = Post("/v1/accounts",
                        R"({"account":{"username":"wide.open","roles":["AUDITOR"]},)"
                        R"("initialPassword":"Initial#wide9"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ViolationField(r.body), "account.scope") << r.body;
  HttpResponse list = Http(http_port_, "GET", "/v1/accounts");
  EXPECT_EQ(list.body.find("wide.open"), std::string::npos) << list.body;
  // The whole city is named by its work committee.
  CreateAccount("whole.city", "AUDITOR", root);
}

// One name per resource: leading zeros are refused, and the audit log never records an alias.
TEST_P(Security, NonCanonicalNamesAreRefused) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "工委");
  const std::string id = root.name().substr(root.name().find('/') + 1);
  for (const std::string& alias :
       {"organizations/0" + id, "organizations/0000000000000000" + id}) {
    HttpResponse r = Http(http_port_, "GET", "/v1/" + alias);
    EXPECT_EQ(r.status, 400) << alias << ": " << r.body;
    HttpResponse patch = Http(http_port_, "PATCH", "/v1/" + alias + "?updateMask=displayName",
                              R"({"displayName":"别名改名"})");
    EXPECT_EQ(patch.status, 400) << patch.body;
  }
  EXPECT_EQ(ParseOrg(Http(http_port_, "GET", "/v1/" + root.name()).body).display_name(), "工委");
  HttpResponse log = Http(http_port_, "GET", "/v1/auditLogs/org/entries?pageSize=100");
  EXPECT_EQ(log.body.find("organizations/0"), std::string::npos) << log.body;
}

INSTANTIATE_TEST_SUITE_P(Topologies, Security,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

}  // namespace
}  // namespace dj
