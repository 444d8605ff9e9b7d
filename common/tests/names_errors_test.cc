// Resource names, page sizes and tokens, and the error mapping to google.rpc.Status.
#include "common/db/mysql_driver.h"
#include "common/db/url.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace dj::rpc {
namespace {

TEST(NamesTest, ParseName) {
  struct Case {
    std::string name;
    bool ok;
    int64_t id;
  };
  const std::vector<Case> cases = {
      {"organizations/1", true, 1},
      {"organizations/7251034963021824", true, 7251034963021824},
      {"organizations/9223372036854775807", true, 9223372036854775807},
      {"organizations/9223372036854775808", false, 0},  // overflows int64
      {"organizations/0", false, 0},
      // One name per resource: leading zeros are not another spelling (Step 5).
      {"organizations/07", false, 0},
      {"organizations/0000000000000000000386376021188198401", false, 0},
      {"organizations/10", true, 10},
      {"organizations/-5", false, 0},
      {"organizations/+5", false, 0},
      {"organizations/ 5", false, 0},
      {"organizations/5/", false, 0},
      {"organizations/", false, 0},
      {"organizations", false, 0},
      {"members/5", false, 0},
      {"organizationsX/5", false, 0},
      {"", false, 0},
  };
  for (const Case& c : cases) {
    auto id = ParseName(c.name, "organizations", "name");
    EXPECT_EQ(id.ok(), c.ok) << c.name;
    if (c.ok && id.ok()) {
      EXPECT_EQ(*id, c.id);
    }
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
      ASSERT_EQ(Violations(id.status()).size(), 1u);
      EXPECT_EQ(Violations(id.status())[0].field, "name");
    }
  }
  EXPECT_EQ(FormatName("organizations", 42), "organizations/42");
}

TEST(NamesTest, PageSize) {
  EXPECT_EQ(*PageSize(0), 50);
  EXPECT_EQ(*PageSize(1), 1);
  EXPECT_EQ(*PageSize(500), 500);
  EXPECT_EQ(*PageSize(501), 500);
  EXPECT_EQ(PageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NamesTest, RequestId) {
  EXPECT_TRUE(ValidateRequestId("").ok()) << "optional";
  EXPECT_TRUE(ValidateRequestId("0f8c2d1e-6b7a-4c3d-9e8f-1a2b3c4d5e6f").ok());
  EXPECT_TRUE(ValidateRequestId(std::string(64, 'a')).ok());
  for (const std::string& bad : {std::string(65, 'a'), std::string("a b"), std::string("ü")}) {
    auto s = ValidateRequestId(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(Violations(s).at(0).field, "request_id") << bad;
  }
}

TEST(NamesTest, PageTokenIsBoundToItsFilter) {
  const std::string token = EncodePageToken("list|organizations/1", "12345");
  EXPECT_EQ(*DecodePageToken(token, "list|organizations/1"), "12345");
  EXPECT_EQ(*DecodePageToken("", "anything"), "");
  auto other = DecodePageToken(token, "list|organizations/2");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Violations(other.status())[0].field, "page_token");
  EXPECT_FALSE(DecodePageToken("not base64 !!", "x").ok());
  EXPECT_FALSE(DecodePageToken("AAAA", "x").ok());
}

TEST(NamesTest, SnakeCase) {
  EXPECT_EQ(ToSnakeCase("displayName"), "display_name");
  EXPECT_EQ(ToSnakeCase("established_date"), "established_date");
  EXPECT_EQ(ToSnakeCase("*"), "*");
}

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status d;
  EXPECT_TRUE(d.ParseFromString(s.error_details()));
  return d;
}

TEST(ErrorsTest, InvalidArgumentCarriesReasonDomainAndViolations) {
  grpc::Status s = ToGrpcStatus(
      InvalidArgument({{"organization.kind", "required"}, {"organization.parent", "bad"}},
                      "ILLEGAL_NESTING"),
      "org.dangjian");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "organization.kind: required");
  google::rpc::Status d = Details(s);
  ASSERT_EQ(d.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(d.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "ILLEGAL_NESTING");
  EXPECT_EQ(info.domain(), "org.dangjian");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(d.details(1).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(1).field(), "organization.parent");
}

TEST(ErrorsTest, InternalAndDatabaseDetailNeverReachTheCaller) {
  grpc::Status internal =
      ToGrpcStatus(absl::InternalError("secret table xyz broke"), "org.dangjian");
  EXPECT_EQ(internal.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(internal.error_message(), "internal error");

  struct Case {
    int mysql_code;
    grpc::StatusCode expected;
  };
  const std::vector<Case> cases = {
      {1062, grpc::StatusCode::ALREADY_EXISTS},   {1451, grpc::StatusCode::FAILED_PRECONDITION},
      {1452, grpc::StatusCode::FAILED_PRECONDITION}, {1213, grpc::StatusCode::ABORTED},
      {1205, grpc::StatusCode::ABORTED},          {2006, grpc::StatusCode::UNAVAILABLE},
      {2013, grpc::StatusCode::UNAVAILABLE},      {1064, grpc::StatusCode::INTERNAL},
  };
  for (const Case& c : cases) {
    grpc::Status s = ToGrpcStatus(
        db::MySqlErrorStatus(c.mysql_code, "Duplicate entry 'x' for key 'uk_secret'"),
        "org.dangjian");
    EXPECT_EQ(s.error_code(), c.expected) << c.mysql_code;
    EXPECT_EQ(s.error_message().find("uk_secret"), std::string::npos) << c.mysql_code;
  }
}

TEST(ErrorsTest, RoundTripThroughTheWire) {
  absl::Status original =
      WithViolation(Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "gone"),
                    {"parent", "no such organization"});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original, "org.dangjian"));
  EXPECT_EQ(back.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Reason(back), "ORGANIZATION_NOT_FOUND");
  ASSERT_EQ(Violations(back).size(), 1u);
  EXPECT_EQ(Violations(back)[0].field, "parent");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), "x").ok());
}

TEST(UrlTest, MySqlAndRedis) {
  auto m = db::ParseMySqlUrl("mysql://dj_org:p%40ss%3Aw@db.local:3307/dj_org");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->user, "dj_org");
  EXPECT_EQ(m->password, "p@ss:w");
  EXPECT_EQ(m->host, "db.local");
  EXPECT_EQ(m->port, 3307);
  EXPECT_EQ(m->database, "dj_org");
  EXPECT_EQ(db::ParseMySqlUrl("mysql://u@h")->port, 3306);
  EXPECT_FALSE(db::ParseMySqlUrl("postgres://u@h/d").ok());
  EXPECT_FALSE(db::ParseMySqlUrl("mysql://h/d").ok());  // no user
  EXPECT_FALSE(db::ParseMySqlUrl("mysql://u@h:0/d").ok());
  EXPECT_FALSE(db::ValidateMySqlUrl("mysql://u@h:3306/").ok());  // services need a database

  auto r = db::ParseRedisUrl("redis://:secret@cache:6380/2");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->password, "secret");
  EXPECT_EQ(r->port, 6380);
  EXPECT_EQ(r->db, 2);
  EXPECT_FALSE(db::ParseRedisUrl("redis://cache:6379/16").ok());
  EXPECT_FALSE(db::ParseRedisUrl("redis://:6379/0").ok());
}

}  // namespace
}  // namespace dj::rpc
