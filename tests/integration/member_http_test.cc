// End to end, Step 7's member records over HTTP/JSON in both topologies: a branch's members
// created and read through the gateway, masked for a secretary and in clear (and audited) for
// the administrator and the member themself, found by ID number through a POST, refused with the
// field named, the pipeline, and a member who leaves ending their appointment in the org service
// (org consumes the member service's events). Afterwards every process's log is searched for the
// ID and phone numbers used: personal data never reaches a log line.
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dangjian/member/v1/dues.pb.h"
#include "dangjian/member/v1/member.pb.h"
#include "dangjian/org/v1/officer.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

namespace mpb = dangjian::member::v1;

// Valid GB 11643 numbers (check characters computed independently) and phones, used only here.
constexpr char kId1[] = "32068119850309059X";
constexpr char kId2[] = "320681197001010014";
constexpr char kId3[] = "320681199203150022";
constexpr char kPhone1[] = "13912345678";
constexpr char kPhone2[] = "13787654321";

mpb::Member ParseMember(const std::string& json) {
  mpb::Member m;
  auto st = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return m;
}

class MemberSuite : public Suite {
 protected:
  std::string MemberJson(const std::string& name, const std::string& id, const std::string& phone,
                         const std::string& org, const std::string& stage_and_dates) {
    return absl::StrCat(R"({"displayName":")", name, R"(","idNumber":")", id, R"(","phone":")",
                        phone, R"(","organization":")", org,
                        R"(","category":"IN_SERVICE","ethnicity":"汉族",)", stage_and_dates, "}");
  }
  // Everything every process of the suite logged so far.
  std::string AllLogs() {
    std::string all = gateway_ ? gateway_->Log() : "";
    for (const ServiceProcess& s : services_) {
      all += s.process->Log();
    }
    return all;
  }
};

TEST_P(MemberSuite, MembersThroughTheGatewayWithTheirPersonalDataProtected) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "启东市级机关工委");
  pb::Organization branch = MustCreate(root.name(), "BRANCH", "财政局第一党支部");
  pb::Organization other = MustCreate(root.name(), "BRANCH", "教育局第一党支部");

  HttpResponse created =
      Post("/v1/members?requestId=member-create-000001",
           MemberJson("张三", kId1, kPhone1, branch.name(),
                      R"("stage":"FULL","joinDate":{"year":2010,"month":7,"day":1},)"
                      R"("fullMemberDate":{"year":2011,"month":7,"day":1})"));
  ASSERT_EQ(created.status, 200) << created.body;
  const mpb::Member zhang = ParseMember(created.body);
  EXPECT_EQ(zhang.id_number(), kId1);  // the administrator may read personal data
  EXPECT_FALSE(zhang.pii_masked());
  EXPECT_EQ(zhang.gender(), mpb::MALE);
  EXPECT_EQ(zhang.birth_date().year(), 1985);

  HttpResponse li =
      Post("/v1/members", MemberJson("李四", kId2, kPhone2, branch.name(),
                                     R"("stage":"FULL","joinDate":{"year":1995,"month":7,"day":1},)"
                                     R"("fullMemberDate":{"year":1996,"month":7,"day":1})"));
  ASSERT_EQ(li.status, 200) << li.body;
  const mpb::Member lisi = ParseMember(li.body);

  // Bad input: a check character that does not match, a birth date against the number.
  std::string bad_id = kId3;
  bad_id.back() = '5';
  HttpResponse refused =
      Post("/v1/members",
           MemberJson("王五", bad_id, kPhone1, branch.name(),
                      R"("stage":"APPLICANT","applicationDate":{"year":2026,"month":1,"day":5})"));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(ViolationField(refused.body), "member.id_number");
  EXPECT_FALSE(absl::StrContains(refused.body, bad_id.substr(0, 14)));
  HttpResponse contradicts =
      Post("/v1/members",
           MemberJson("王五", kId3, kPhone1, branch.name(),
                      R"("birthDate":{"year":1992,"month":3,"day":16},"stage":"APPLICANT",)"
                      R"("applicationDate":{"year":2026,"month":1,"day":5})"));
  EXPECT_EQ(contradicts.status, 400) << contradicts.body;
  EXPECT_EQ(ViolationField(contradicts.body), "member.birth_date");

  // A secretary of the branch sees the records masked; of another branch, not at all.
  CreateAccount("sec.caizheng", "SECRETARY", branch);
  CreateAccount("sec.jiaoyu", "SECRETARY", other);
  const std::string secretary = SignInAs("sec.caizheng");
  const std::string stranger = SignInAs("sec.jiaoyu");
  HttpResponse masked = As(secretary, "GET", "/v1/" + zhang.name());
  ASSERT_EQ(masked.status, 200) << masked.body;
  EXPECT_EQ(ParseMember(masked.body).id_number(), "320681********059X");
  EXPECT_EQ(ParseMember(masked.body).phone(), "139****5678");
  EXPECT_TRUE(ParseMember(masked.body).pii_masked());
  EXPECT_EQ(As(stranger, "GET", "/v1/" + zhang.name()).status, 404);

  // The list of the branch, and a search by ID number as a POST (never in a URL).
  HttpResponse list = As(secretary, "GET", "/v1/members?organization=" + branch.name());
  ASSERT_EQ(list.status, 200) << list.body;
  mpb::ListMembersResponse page;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(list.body, &page).ok());
  EXPECT_EQ(page.members_size(), 2);
  HttpResponse found =
      As(secretary, "POST", "/v1/members:search", absl::StrCat(R"({"idNumber":")", kId2, R"("})"));
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_TRUE(absl::StrContains(found.body, lisi.name()));
  EXPECT_FALSE(absl::StrContains(
      As(stranger, "POST", "/v1/members:search", absl::StrCat(R"({"idNumber":")", kId2, R"("})"))
          .body,
      lisi.name()));

  // The member's own account reads their record in clear.
  CreateAccount("zhangsan", "MEMBER", branch, zhang.name());
  const std::string self = SignInAs("zhangsan");
  HttpResponse mine = As(self, "GET", "/v1/members/me");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(ParseMember(mine.body).id_number(), kId1);
  EXPECT_EQ(As(self, "GET", "/v1/" + lisi.name()).status, 404);

  // Every read in clear is in the audit log, without the numbers.
  HttpResponse audit = Http(http_port_, "GET", "/v1/auditLogs/member/entries?pageSize=100");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_TRUE(absl::StrContains(audit.body, "members.read_pii"));
  EXPECT_TRUE(absl::StrContains(audit.body, "members.search"));
  EXPECT_FALSE(absl::StrContains(audit.body, kId1));

  // 李四 is the branch's secretary; when he leaves, the org service ends the appointment.
  HttpResponse officer = Post(
      "/v1/" + branch.name() + "/officers",
      absl::StrCat(
          R"({"member":")", lisi.name(),
          R"(","memberDisplayName":"李四","role":"SECRETARY","startDate":{"year":2024,"month":1,"day":1}})"));
  ASSERT_EQ(officer.status, 200) << officer.body;
  HttpResponse left =
      As(secretary, "POST", "/v1/" + lisi.name() + ":changeStatus",
         R"({"status":"LEFT","date":{"year":2026,"month":11,"day":30},"reason":"本人申请退党"})");
  ASSERT_EQ(left.status, 200) << left.body;
  EXPECT_EQ(ParseMember(left.body).status(), mpb::LEFT);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        HttpResponse officers = Http(http_port_, "GET", "/v1/" + branch.name() + "/officers");
        return officers.status == 200 && !absl::StrContains(officers.body, lisi.name());
      },
      std::chrono::seconds(20)))
      << Http(http_port_, "GET", "/v1/" + branch.name() + "/officers?includeEnded=true").body;

  // No process logged an ID or phone number.
  const std::string logs = AllLogs();
  for (const char* secret : {kId1, kId2, kId3, kPhone1, kPhone2}) {
    EXPECT_FALSE(absl::StrContains(logs, secret)) << secret;
  }
  EXPECT_FALSE(absl::StrContains(logs, bad_id));
}

TEST_P(MemberSuite, ThePipelineAndItsListsThroughTheGateway) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "市级机关工委");
  pb::Organization branch = MustCreate(root.name(), "BRANCH", "第一党支部");
  HttpResponse applicant =
      Post("/v1/members",
           MemberJson("申请人", kId3, kPhone1, branch.name(),
                      R"("stage":"APPLICANT","applicationDate":{"year":2024,"month":3,"day":1})"));
  ASSERT_EQ(applicant.status, 200) << applicant.body;
  const std::string name = ParseMember(applicant.body).name();
  HttpResponse activist =
      Post("/v1/" + name + ":admitActivist", R"({"date":{"year":2024,"month":4,"day":1}})");
  ASSERT_EQ(activist.status, 200) << activist.body;
  EXPECT_EQ(ParseMember(activist.body).stage(), mpb::ACTIVIST);
  // Straight to full membership: refused, the stage order named.
  HttpResponse skipped =
      Post("/v1/" + name + ":convertToFull", R"({"date":{"year":2024,"month":5,"day":1}})");
  EXPECT_EQ(skipped.status, 400) << skipped.body;
  EXPECT_EQ(ErrorReason(skipped.body), "STAGE_ORDER");
  HttpResponse stages = Http(http_port_, "GET", "/v1/" + name + "/stages");
  ASSERT_EQ(stages.status, 200) << stages.body;
  mpb::ListStagesResponse history;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(stages.body, &history).ok());
  EXPECT_EQ(history.stages_size(), 2);
  HttpResponse rules = Http(http_port_, "GET", "/v1/ruleSets/member:inForce");
  ASSERT_EQ(rules.status, 200) << rules.body;
  EXPECT_TRUE(absl::StrContains(rules.body, "\"probationMonths\":12")) << rules.body;
  HttpResponse due = Http(http_port_, "GET", "/v1/" + branch.name() + ":listDueConversions");
  EXPECT_EQ(due.status, 200) << due.body;
}

TEST_P(MemberSuite, ARosterTransfersAndDuesThroughTheGateway) {
  pb::Organization root = MustCreate("", "WORK_COMMITTEE", "市级机关工委");
  pb::Organization a = MustCreate(root.name(), "BRANCH", "财政局党支部");
  pb::Organization b = MustCreate(root.name(), "BRANCH", "教育局党支部");
  // A branch's roster in one step (the file's bytes are base64 in JSON).
  const std::string roster = absl::StrCat(
      "姓名,身份证号,手机号,人员类别,党员类别,入党日期,转正日期\r\n",
      "张三,", kId1, ",", kPhone1, ",在职,正式党员,2010-07-01,2011-07-01\r\n",
      "李四,", kId2, ",", kPhone2, ",在职,正式党员,1995-07-01,1996-07-01\r\n");
  const std::string body = absl::StrCat(R"({"file":")", absl::Base64Escape(roster),
                                        R"(","fileName":"roster.csv","requestId":"roster-import-000001"})");
  HttpResponse imported = Post("/v1/" + a.name() + "/members:import", body);
  ASSERT_EQ(imported.status, 200) << imported.body;
  mpb::ImportMembersResponse result;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(imported.body, &result).ok());
  ASSERT_EQ(result.imported(), 2);
  HttpResponse again = Post("/v1/" + a.name() + "/members:import", body);
  EXPECT_TRUE(absl::StrContains(again.body, "\"replayed\":true")) << again.body;
  // A bad row: the whole file refused, the row and column named.
  const std::string bad = absl::StrCat(R"({"file":")",
                                       absl::Base64Escape(absl::StrCat(
                                           "姓名,身份证号,人员类别,党员类别,入党日期,转正日期\n",
                                           "王五,", std::string(kId3).substr(0, 17), "5",
                                           ",在职,正式党员,2001-07-01,2002-07-01\n")),
                                       R"(","requestId":"roster-import-000002"})");
  HttpResponse refused = Post("/v1/" + b.name() + "/members:import", bad);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(ViolationField(refused.body), "rows[2].身份证号");

  // The export, as CSV (the administrator may read the numbers).
  HttpResponse exported =
      Http(http_port_, "GET", "/v1/" + a.name() + "/members:export?format=CSV");
  ASSERT_EQ(exported.status, 200) << exported.body;
  mpb::ExportedFile file;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported.body, &file).ok());
  EXPECT_EQ(file.rows(), 2);
  EXPECT_TRUE(absl::StrContains(file.content(), kId1));

  // Dues: a base declared, last month paid, the sheet shows it.
  const std::string zhang = result.members(0);
  HttpResponse declared = Post("/v1/" + zhang + "/dues/declarations",
                               R"({"fromMonth":"2026-11","baseFen":"300001"})");
  ASSERT_EQ(declared.status, 200) << declared.body;
  EXPECT_TRUE(absl::StrContains(declared.body, "\"monthlyFen\":\"3000\"")) << declared.body;
  HttpResponse paid = Post("/v1/" + zhang + "/dues/payments",
                           R"({"months":["2026-11"],"amountFen":"3000"})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  HttpResponse twice = Post("/v1/" + zhang + "/dues/payments",
                            R"({"months":["2026-11"],"amountFen":"3000"})");
  EXPECT_EQ(twice.status, 400) << twice.body;
  HttpResponse sheet = Http(http_port_, "GET", "/v1/" + a.name() + ":duesSheet?month=2026-11");
  ASSERT_EQ(sheet.status, 200) << sheet.body;
  EXPECT_TRUE(absl::StrContains(sheet.body, "\"totalPaidFen\":\"3000\"")) << sheet.body;

  // A transfer to the other branch, accepted there: the record moves.
  HttpResponse transfer = Post(
      "/v1/transfers", absl::StrCat(R"({"member":")", zhang, R"(","toOrganization":")", b.name(),
                                    R"(","note":"工作调动"})"));
  ASSERT_EQ(transfer.status, 200) << transfer.body;
  HttpResponse accepted = Post("/v1/" + Field(transfer.body, "name") + ":accept", "{}");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  HttpResponse moved = Http(http_port_, "GET", "/v1/" + zhang);
  EXPECT_EQ(ParseMember(moved.body).organization(), b.name()) << moved.body;
  HttpResponse own = Post("/v1/transfers", absl::StrCat(R"({"member":")", zhang,
                                                        R"(","toOrganization":")", b.name(),
                                                        R"("})"));
  EXPECT_EQ(own.status, 400) << own.body;  // to its own organization
  const std::string logs = AllLogs();
  for (const char* secret : {kId1, kId2, kPhone1, kPhone2}) {
    EXPECT_FALSE(absl::StrContains(logs, secret)) << secret;
  }
}

INSTANTIATE_TEST_SUITE_P(Topologies, MemberSuite,
                         ::testing::Values(Topology::kDistributed, Topology::kEmbedded),
                         TopologyName);

}  // namespace
}  // namespace dj
