// Path templates, query binding, status mapping, error bodies and the routes the descriptors give.
#include <fstream>
#include <optional>

#include "dangjian/org/v1/org.pb.h"
#include "gateway/src/gateway.h"
#include "gateway/src/json_cache.h"
#include "gateway/src/path_template.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

namespace pb = dangjian::org::v1;

TEST(PathTemplateTest, MatchesAndCaptures) {
  struct Case {
    std::string tmpl;
    std::string path;
    bool match;
    std::map<std::string, std::string> vars;
  };
  const std::vector<Case> cases = {
      {"/v1/organizations", "/v1/organizations", true, {}},
      {"/v1/organizations", "/v1/organizations/1", false, {}},
      {"/v1/{name=organizations/*}",
       "/v1/organizations/123",
       true,
       {{"name", "organizations/123"}}},
      {"/v1/{name=organizations/*}", "/v1/organizations", false, {}},
      {"/v1/{name=organizations/*}", "/v1/organizations/1/x", false, {}},
      {"/v1/{name=organizations/*}", "/v1/members/1", false, {}},
      {"/v1/{name=organizations/*}", "/v1/organizations/", false, {}},
      {"/v1/{name=organizations/*}", "/v1/organizations/1:listDescendants", false, {}},
      {"/v1/{name=organizations/*}:listDescendants",
       "/v1/organizations/9:listDescendants",
       true,
       {{"name", "organizations/9"}}},
      {"/v1/{name=organizations/*}:listDescendants", "/v1/organizations/9:move", false, {}},
      {"/v1/{name=organizations/*}:listDescendants", "/v1/organizations/9", false, {}},
      {"/v1/{organization.name=organizations/*}",
       "/v1/organizations/5",
       true,
       {{"organization.name", "organizations/5"}}},
      {"/v1/{parent=organizations/*}/activities/{id}",
       "/v1/organizations/5/activities/7",
       true,
       {{"parent", "organizations/5"}, {"id", "7"}}},
      {"/v1/files/{path=**}", "/v1/files/a/b/c", true, {{"path", "a/b/c"}}},
      {"/v1/files/{path=**}", "/v1/files", true, {{"path", ""}}},
      {"/v1/{name=organizations/*}",
       "/v1/organizations/%E5%85%9A",
       true,
       {{"name", "organizations/党"}}},
  };
  for (const Case& c : cases) {
    auto t = PathTemplate::Parse(c.tmpl);
    ASSERT_TRUE(t.ok()) << c.tmpl << ": " << t.status();
    auto m = t->Match(c.path);
    EXPECT_EQ(m.has_value(), c.match) << c.tmpl << " vs " << c.path;
    if (m.has_value() && c.match) {
      EXPECT_EQ(*m, c.vars) << c.tmpl << " vs " << c.path;
    }
  }
}

TEST(PathTemplateTest, RejectsMalformedTemplates) {
  for (std::string bad : {"v1/x", "/v1/{name", "/v1/{name=a}b", "/v1//x", "/v1/a{b}"}) {
    EXPECT_FALSE(PathTemplate::Parse(bad).ok()) << bad;
  }
  EXPECT_GT(PathTemplate::Parse("/v1/organizations")->literal_count(),
            PathTemplate::Parse("/v1/{name=organizations/*}")->literal_count() - 1);
}

TEST(QueryBindingTest, CamelAndSnakeTypesAndErrors) {
  pb::ListOrganizationsRequest list;
  ASSERT_TRUE(BindQuery("parent=organizations%2F5&pageSize=20&page_token=abc", list, {}).ok());
  EXPECT_EQ(list.parent(), "organizations/5");
  EXPECT_EQ(list.page_size(), 20);
  EXPECT_EQ(list.page_token(), "abc");

  pb::UpdateOrganizationRequest update;
  ASSERT_TRUE(BindQuery("updateMask=displayName,establishedDate", update, {"organization"}).ok());
  ASSERT_EQ(update.update_mask().paths_size(), 2);
  EXPECT_EQ(update.update_mask().paths(0), "display_name");
  EXPECT_EQ(update.update_mask().paths(1), "established_date");

  pb::CreateOrganizationRequest create;
  ASSERT_TRUE(BindQuery("requestId=r-1", create, {"organization"}).ok());
  EXPECT_EQ(create.request_id(), "r-1");
  pb::Organization org;
  ASSERT_TRUE(BindQuery("kind=BRANCH&establishedDate.year=2024", org, {}).ok());
  EXPECT_EQ(org.kind(), pb::BRANCH);
  EXPECT_EQ(org.established_date().year(), 2024);

  struct Bad {
    std::string query;
    std::vector<std::string> bound;
    std::string mentions;
  };
  const std::vector<Bad> bad = {
      {"colour=red", {}, "colour"},
      {"pageSize=big", {}, "pageSize"},
      {"pageSize=99999999999", {}, "pageSize"},
      {"kind=SOVIET", {}, "kind"},
      {"organization.displayName=x", {"organization"}, "organization.displayName"},
      {"parent=x", {"*"}, "parent"},
  };
  for (const Bad& b : bad) {
    pb::ListOrganizationsRequest m1;
    pb::Organization m2;
    pb::UpdateOrganizationRequest m3;
    google::protobuf::Message* target = &m1;
    if (b.query.starts_with("kind")) target = &m2;
    if (b.query.starts_with("organization.")) target = &m3;
    absl::Status s = BindQuery(b.query, *target, b.bound);
    EXPECT_FALSE(s.ok()) << b.query;
    EXPECT_NE(std::string(s.message()).find(b.mentions), std::string::npos) << s.message();
  }
}

TEST(QueryBindingTest, PathVariablesCannotBeOverridden) {
  pb::GetOrganizationRequest get;
  get.set_name("organizations/1");
  absl::Status s = BindQuery("name=organizations/2", get, {"name"});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(get.name(), "organizations/1");
}

TEST(JsonErrorTest, FieldOfProtobufJsonErrors) {
  struct Case {
    std::string error;
    std::string prefix;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"(organization.kind): invalid value \"NOPE\" for type TYPE_ENUM", "", "organization.kind"},
      {"(kind): invalid value \"NOPE\" for type TYPE_ENUM", "organization", "organization.kind"},
      {"() colour: Cannot find field.", "organization", "organization.colour"},
      {"(establishedDate) yeer: Cannot find field.", "organization",
       "organization.establishedDate.yeer"},
      {"colour: Cannot find field.", "organization", "organization.colour"},
      {"colour: Cannot find field.", "", "colour"},
      {"Unexpected end of string. Expected a value.", "organization", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FieldOfJsonError(c.error, c.prefix), c.field) << c.error;
  }
}

TEST(StatusMappingTest, FollowsGrpcGateway) {
  const std::map<int, int> expected = {{0, 200},  {1, 499},  {2, 500},  {3, 400},  {4, 504},
                                       {5, 404},  {6, 409},  {7, 403},  {8, 429},  {9, 400},
                                       {10, 409}, {11, 400}, {12, 501}, {13, 500}, {14, 503},
                                       {15, 500}, {16, 401}};
  for (const auto& [grpc, http] : expected) {
    EXPECT_EQ(HttpStatusFromGrpc(grpc), http) << grpc;
  }
  EXPECT_EQ(GrpcCodeName(3), "INVALID_ARGUMENT");
  EXPECT_EQ(GrpcCodeName(99), "UNKNOWN");
}

TEST(ErrorBodyTest, Aip193Shape) {
  HttpResponse r = Gateway::ErrorResponse(3, "organization.kind: required", "organization.kind");
  EXPECT_EQ(r.status, 400);
  google::protobuf::Struct s;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &s).ok()) << r.body;
  const auto& error = s.fields().at("error").struct_value().fields();
  EXPECT_EQ(error.at("code").number_value(), 400);
  EXPECT_EQ(error.at("status").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(error.at("message").string_value(), "organization.kind: required");
  const auto& details = error.at("details").list_value();
  ASSERT_EQ(details.values_size(), 2);
  EXPECT_EQ(details.values(0).struct_value().fields().at("@type").string_value(),
            "type.googleapis.com/google.rpc.ErrorInfo");
  EXPECT_EQ(details.values(1)
                .struct_value()
                .fields()
                .at("fieldViolations")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("field")
                .string_value(),
            "organization.kind");
}

TEST(RoutesTest, EveryAnnotatedOrgMethodIsRouted) {
  EXPECT_EQ(Gateway::BackendNames(), (std::vector<std::string>{"member", "org"}));
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  GatewayOptions options{.jwt_keys = {{"k", std::string(32, 'j')}},
                         .internal_secret = std::string(32, 's')};
  auto g = Gateway::Create({{"org", channel}, {"member", channel}}, options);
  ASSERT_TRUE(g.ok()) << g.status();
  std::set<std::string> routed;
  for (const Route& r : (*g)->routes()) {
    routed.insert(r.http_method + " " + r.path.text() + " -> " + r.method->name());
  }
  const std::set<std::string> expected = {
      "POST /v1/organizations -> CreateOrganization",
      "GET /v1/{name=organizations/*} -> GetOrganization",
      "GET /v1/organizations -> ListOrganizations",
      "PATCH /v1/{organization.name=organizations/*} -> UpdateOrganization",
      "DELETE /v1/{name=organizations/*} -> DeleteOrganization",
      "GET /v1/{name=organizations/*}:listDescendants -> ListDescendants",
      "POST /v1/{name=organizations/*}:move -> MoveOrganization",
      "POST /v1/{name=organizations/*}:dissolve -> DissolveOrganization",
      "POST /v1/{name=organizations/*}:merge -> MergeOrganization",
      "GET /v1/ruleSets/structure:inForce -> GetStructureRules",
      "GET /v1/ruleSets/structure/versions -> ListStructureRuleSets",
      "POST /v1/ruleSets/structure/versions -> CreateStructureRuleSet",
      "GET /v1/{parent=auditLogs/org}/entries -> ListAuditEntries",
      "GET /v1/{name=auditLogs/org}:verify -> VerifyAuditLog",
      "GET /v1/{name=organizations/*}:statistics -> GetOrganizationStatistics",
      "POST /v1/units -> CreateUnit",
      "GET /v1/{name=units/*} -> GetUnit",
      "GET /v1/units -> ListUnits",
      "PATCH /v1/{unit.name=units/*} -> UpdateUnit",
      "POST /v1/{parent=organizations/*}/officers -> CreateOfficer",
      "GET /v1/{name=organizations/*/officers/*} -> GetOfficer",
      "GET /v1/{parent=organizations/*}/officers -> ListOfficers",
      "POST /v1/{name=organizations/*/officers/*}:end -> EndOfficer",
      "POST /v1/{parent=organizations/*}/terms -> CreateTerm",
      "GET /v1/{parent=organizations/*}/terms -> ListTerms",
      "GET /v1/{name=organizations/*}:listExpiringTerms -> ListExpiringTerms",
      "POST /v1/communities -> CreateCommunity",
      "GET /v1/{name=communities/*} -> GetCommunity",
      "GET /v1/communities -> ListCommunities",
      "PATCH /v1/{community.name=communities/*} -> UpdateCommunity",
      "DELETE /v1/{name=communities/*} -> DeleteCommunity",
      "POST /v1/pairings -> CreatePairing",
      "GET /v1/{name=pairings/*} -> GetPairing",
      "GET /v1/pairings -> ListPairings",
      "POST /v1/{name=pairings/*}:end -> EndPairing",
      "POST /v1/stations -> CreateStation",
      "GET /v1/{name=stations/*} -> GetStation",
      "GET /v1/stations -> ListStations",
      "POST /v1/{name=stations/*}:end -> EndStation",
      "POST /v1/auth:login -> Login",
      "POST /v1/auth:refresh -> Refresh",
      "POST /v1/auth:logout -> Logout",
      "POST /v1/auth:changePassword -> ChangePassword",
      "POST /v1/accounts -> CreateAccount",
      "GET /v1/{name=accounts/*} -> GetAccount",
      "GET /v1/accounts -> ListAccounts",
      "POST /v1/{name=accounts/*}:resetPassword -> ResetPassword",
      "GET /v1/{parent=auditLogs/member}/entries -> ListAuditEntries",
      "GET /v1/{name=auditLogs/member}:verify -> VerifyAuditLog",
      // Step 7: member records, the pipeline, transfers, dues.
      "POST /v1/members -> CreateMember",
      "GET /v1/{name=members/*} -> GetMember",
      "GET /v1/members/me -> GetMyMember",
      "GET /v1/members -> ListMembers",
      "POST /v1/members:search -> SearchMembers",
      "PATCH /v1/{member.name=members/*} -> UpdateMember",
      "POST /v1/{organization=organizations/*}/members:import -> ImportMembers",
      "GET /v1/{organization=organizations/*}/members:export -> ExportMembers",
      "GET /v1/{organization=organizations/*}:listStandingMilestones -> ListStandingMilestones",
      "POST /v1/{name=members/*}:admitActivist -> AdmitActivist",
      "POST /v1/{name=members/*}:approveCandidate -> ApproveCandidate",
      "POST /v1/{name=members/*}:admitProbationary -> AdmitProbationary",
      "POST /v1/{name=members/*}:extendProbation -> ExtendProbation",
      "POST /v1/{name=members/*}:convertToFull -> ConvertToFull",
      "GET /v1/{parent=members/*}/stages -> ListStages",
      "GET /v1/{organization=organizations/*}:listDueConversions -> ListDueConversions",
      "POST /v1/{name=members/*}:changeStatus -> ChangeMemberStatus",
      "GET /v1/ruleSets/member:inForce -> GetMemberRules",
      "GET /v1/ruleSets/member/versions -> ListMemberRuleSets",
      "POST /v1/ruleSets/member/versions -> CreateMemberRuleSet",
      "POST /v1/transfers -> CreateTransfer",
      "GET /v1/{name=transfers/*} -> GetTransfer",
      "GET /v1/transfers -> ListTransfers",
      "GET /v1/{parent=members/*}/transfers -> ListMemberTransfers",
      "POST /v1/{name=transfers/*}:accept -> AcceptTransfer",
      "POST /v1/{name=transfers/*}:reject -> RejectTransfer",
      "POST /v1/{name=transfers/*}:cancel -> CancelTransfer",
      "POST /v1/{name=transfers/*}:confirmReceipt -> ConfirmTransferReceipt",
      "GET /v1/{name=members/*/dues} -> GetMemberDues",
      "POST /v1/{parent=members/*/dues}/declarations -> DeclareDuesBase",
      "POST /v1/{parent=members/*/dues}/payments -> PayDues",
      "POST /v1/{parent=members/*/dues}/reductions -> CreateDuesReduction",
      "POST /v1/{organization=organizations/*}:payDuesMonth -> PayDuesMonth",
      "GET /v1/{organization=organizations/*}:duesSheet -> GetDuesSheet",
      "GET /v1/{organization=organizations/*}:exportDuesSheet -> ExportDuesSheet",
      "GET /v1/{organization=organizations/*}:listDuesArrears -> ListArrears",
  };
  EXPECT_EQ(routed, expected);
  // Only sign-in needs no token.
  std::set<std::string> anonymous;
  for (const Route& r : (*g)->routes()) {
    if (r.allow_anonymous) {
      anonymous.insert(r.method->name());
    }
  }
  EXPECT_EQ(anonymous, (std::set<std::string>{"Login", "Refresh", "Logout", "ChangePassword"}));
  EXPECT_FALSE(Gateway::Create({}, options).ok());  // a backend without a channel
  // Without keys the gateway cannot check tokens: it does not start.
  EXPECT_FALSE(Gateway::Create({{"org", channel}, {"member", channel}}, {}).ok());
}

TEST(ErrorBodyTest, ExplicitHttpStatusKeepsTheShape) {
  HttpResponse r = Gateway::ErrorResponse(12, "only GET", "", 405);
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.body.find("\"code\":405"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("gateway.dangjian"), std::string::npos) << r.body;
}

// A service in the descriptor set that does not run here is not a start-up failure: its routes
// answer 503 with a google.rpc.Status naming it, and nothing is sent anywhere.
TEST(RoutesTest, ServiceWithoutChannelAnswersUnavailable) {
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  GatewayOptions options{.jwt_keys = {{"k", std::string(32, 'j')}},
                         .internal_secret = std::string(32, 's'),
                         .background = false};
  auto g = Gateway::Create({{"member", channel}}, options);
  ASSERT_TRUE(g.ok()) << g.status();
  std::optional<HttpResponse> got;
  HttpRequest request;
  request.method = "GET";
  request.target = "/v1/organizations/1";
  request.remote = "127.0.0.1";
  (*g)->Handle(request, [&](HttpResponse r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 503);
  EXPECT_EQ(got->route, "/v1/{name=organizations/*}");
  EXPECT_NE(got->body.find("the org service is not running here"), std::string::npos) << got->body;
  EXPECT_NE(got->body.find("UNAVAILABLE"), std::string::npos) << got->body;
  (*g)->CancelAll();
  // Member is what the gateway itself needs (revocations): without it, it does not start.
  EXPECT_FALSE(Gateway::Create({{"org", channel}}, options).ok());
}

// A service outside proto/dangjian, given as an extra descriptor set: routed, its backend named,
// a file the gateway already has skipped rather than built twice.
TEST(RoutesTest, ExtraDescriptorSetsAddTheirServices) {
  namespace gpb = google::protobuf;
  gpb::FileDescriptorSet set;
  google::api::HttpRule::descriptor()->file()->CopyTo(set.add_file());  // already there
  gpb::FileDescriptorProto* file = set.add_file();
  file->set_name("dangjian/extra/v1/extra.proto");
  file->set_package("dangjian.extra.v1");
  file->set_syntax("proto3");
  file->add_dependency("google/api/annotations.proto");
  gpb::DescriptorProto* request = file->add_message_type();
  request->set_name("PingRequest");
  gpb::FieldDescriptorProto* text = request->add_field();
  text->set_name("text");
  text->set_json_name("text");
  text->set_number(1);
  text->set_type(gpb::FieldDescriptorProto::TYPE_STRING);
  text->set_label(gpb::FieldDescriptorProto::LABEL_OPTIONAL);
  file->add_message_type()->set_name("PingReply");
  gpb::ServiceDescriptorProto* service = file->add_service();
  service->set_name("ExtraService");
  gpb::MethodDescriptorProto* ping = service->add_method();
  ping->set_name("Ping");
  ping->set_input_type(".dangjian.extra.v1.PingRequest");
  ping->set_output_type(".dangjian.extra.v1.PingReply");
  ping->mutable_options()->MutableExtension(google::api::http)->set_get("/v1/pings/{text}");

  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  GatewayOptions options{.jwt_keys = {{"k", std::string(32, 'j')}},
                         .internal_secret = std::string(32, 's'),
                         .background = false,
                         .extra_descriptor_sets = {set}};
  EXPECT_EQ(Gateway::BackendNames(options), (std::vector<std::string>{"member", "org", "extra"}));
  EXPECT_EQ(Gateway::BackendNames(), (std::vector<std::string>{"member", "org"}));
  auto g = Gateway::Create({{"member", channel}}, options);
  ASSERT_TRUE(g.ok()) << g.status();
  const Route* found = nullptr;
  for (const Route& r : (*g)->routes()) {
    if (r.path.text() == "/v1/pings/{text}") {
      found = &r;
    }
  }
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->http_method, "GET");
  EXPECT_EQ(found->backend, "extra");
  EXPECT_EQ(found->method->full_name(), "dangjian.extra.v1.ExtraService.Ping");
  std::optional<HttpResponse> got;
  HttpRequest get{.method = "GET", .target = "/v1/pings/hi", .remote = "127.0.0.1"};
  (*g)->Handle(get, [&](HttpResponse r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->route, "/v1/pings/{text}");
  EXPECT_EQ(got->status, 503);  // no channel for extra
  (*g)->CancelAll();
}

TEST(RoutesTest, ReadDescriptorSetsNamesTheFileAtFault) {
  auto none = ReadDescriptorSets("");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  auto missing = ReadDescriptorSets("/nonexistent/extra.pb");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/extra.pb"), std::string::npos);
  const std::string junk = ::testing::TempDir() + "/not-a-descriptor-set.pb";
  {
    std::ofstream out(junk, std::ios::binary);
    out << "\xff\xff\xff not protobuf";
  }
  auto bad = ReadDescriptorSets(" " + junk + " ");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(junk), std::string::npos) << bad.status();
}

// The transcoding memo serves only what the same bytes of the same type transcoded to.
TEST(JsonCacheTest, KeyedByTypeAndWholeAnswer) {
  JsonCache cache(/*max_entries=*/2, /*max_key_bytes=*/8);
  EXPECT_FALSE(cache.Find("a.Org", "\x0a\x01x").has_value());
  cache.Put("a.Org", "\x0a\x01x", R"({"name":"x"})");
  EXPECT_EQ(cache.Find("a.Org", "\x0a\x01x"), std::optional<std::string>(R"({"name":"x"})"));
  EXPECT_FALSE(cache.Find("a.Org", "\x0a\x01y").has_value());  // changed answer: a miss
  EXPECT_FALSE(cache.Find("b.Org", "\x0a\x01x").has_value());  // another type: a miss
  cache.Put("a.Org", "123456789", "{}");                       // too large: not kept
  EXPECT_FALSE(cache.Find("a.Org", "123456789").has_value());
  cache.Put("a.Org", "1", "{}");
  cache.Put("a.Org", "2", "{}");  // full: starts over
  EXPECT_FALSE(cache.Find("a.Org", "\x0a\x01x").has_value());
  EXPECT_TRUE(cache.Find("a.Org", "2").has_value());
}

}  // namespace
}  // namespace dj::gateway
