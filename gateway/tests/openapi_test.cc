// OpenAPI document tests: it is JSON, it has the routes' paths, parameters, bodies and security,
// the proto3 JSON type mappings, and it is deterministic.
#include "gateway/src/openapi.h"

#include <set>
#include <string>

#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

namespace gpb = google::protobuf;

const std::string& Document() {
  static const std::string doc = [] {
    auto d = DescriptorSetOpenApiDocument();
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : std::string();
  }();
  return doc;
}

const gpb::Struct& Parsed() {
  static const gpb::Struct parsed = [] {
    gpb::Struct s;
    const auto status = gpb::util::JsonStringToMessage(Document(), &s);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return s;
  }();
  return parsed;
}

bool Has(const gpb::Value& v, const std::string& key) {
  return v.has_struct_value() && v.struct_value().fields().count(key) > 0;
}

// The value at `path` (object keys), or a null value when it is missing.
const gpb::Value& At(std::initializer_list<std::string> path) {
  static const gpb::Value kNull;
  static const gpb::Value root = [] {
    gpb::Value v;
    *v.mutable_struct_value() = Parsed();
    return v;
  }();
  const gpb::Value* v = &root;
  for (const std::string& key : path) {
    if (!Has(*v, key)) {
      ADD_FAILURE() << "missing '" << key << "'";
      return kNull;
    }
    v = &v->struct_value().fields().at(key);
  }
  return *v;
}

// The operation's parameter named `name`, or null.
const gpb::Value* Parameter(const gpb::Value& op, const std::string& name) {
  if (!Has(op, "parameters")) {
    return nullptr;
  }
  for (const gpb::Value& p : op.struct_value().fields().at("parameters").list_value().values()) {
    if (p.struct_value().fields().at("name").string_value() == name) {
      return &p;
    }
  }
  return nullptr;
}

std::string Str(const gpb::Value& v, const std::string& key) {
  return Has(v, key) ? v.struct_value().fields().at(key).string_value() : "";
}

TEST(OpenApi, IsJsonWithTheTopLevelFields) {
  ASSERT_FALSE(Document().empty());
  EXPECT_EQ(At({"openapi"}).string_value(), "3.0.3");
  EXPECT_EQ(At({"info", "title"}).string_value(), "dangjian API");
  EXPECT_EQ(At({"info", "version"}).string_value(), "1.0.0");
  ASSERT_EQ(At({"servers"}).list_value().values_size(), 1);
  EXPECT_EQ(Str(At({"servers"}).list_value().values(0), "url"), "/");
  const gpb::Value& bearer = At({"components", "securitySchemes", "bearerAuth"});
  EXPECT_EQ(Str(bearer, "type"), "http");
  EXPECT_EQ(Str(bearer, "scheme"), "bearer");
  EXPECT_EQ(Str(bearer, "bearerFormat"), "JWT");
  ASSERT_EQ(At({"security"}).list_value().values_size(), 1);
  EXPECT_TRUE(Has(At({"security"}).list_value().values(0), "bearerAuth"));
  EXPECT_EQ(Document().back(), '\n');
  EXPECT_EQ(Document().substr(0, 4), "{\n  ");  // 2-space indent
}

TEST(OpenApi, VersionIsPassedThrough) {
  // Same routes, other version: only info.version changes.
  auto a = DescriptorSetOpenApiDocument("1.0.0");
  auto b = DescriptorSetOpenApiDocument("2.5.0");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(b->find("\"version\": \"2.5.0\""), std::string::npos);
  EXPECT_EQ(b->size(), a->size());
}

TEST(OpenApi, CollectionPath) {
  const gpb::Value& list = At({"paths", "/v1/organizations", "get"});
  EXPECT_EQ(Str(list, "operationId"), "ListOrganizations");
  ASSERT_EQ(At({"paths", "/v1/organizations", "get", "tags"}).list_value().values_size(), 1);
  EXPECT_EQ(At({"paths", "/v1/organizations", "get", "tags"}).list_value().values(0).string_value(),
            "OrganizationService");
  const gpb::Value* page_size = Parameter(list, "pageSize");
  ASSERT_NE(page_size, nullptr);
  EXPECT_EQ(Str(*page_size, "in"), "query");
  EXPECT_EQ(Str(page_size->struct_value().fields().at("schema"), "type"), "integer");
  EXPECT_NE(Parameter(list, "parent"), nullptr);

  const gpb::Value& create = At({"paths", "/v1/organizations", "post"});
  EXPECT_EQ(Str(create, "operationId"), "CreateOrganization");
  EXPECT_TRUE(At({"paths", "/v1/organizations", "post", "requestBody", "required"}).bool_value());
  EXPECT_EQ(Str(At({"paths", "/v1/organizations", "post", "requestBody", "content",
                    "application/json", "schema"}),
                "$ref"),
            "#/components/schemas/dangjian.org.v1.Organization");
  // body: "organization" -> the other fields are query parameters.
  EXPECT_NE(Parameter(create, "requestId"), nullptr);
  EXPECT_EQ(Parameter(create, "organization.displayName"), nullptr);
  EXPECT_EQ(Str(At({"paths", "/v1/organizations", "post", "responses", "200", "content",
                    "application/json", "schema"}),
                "$ref"),
            "#/components/schemas/dangjian.org.v1.Organization");
  EXPECT_EQ(Str(At({"paths", "/v1/organizations", "post", "responses", "default", "content",
                    "application/json", "schema"}),
                "$ref"),
            "#/components/schemas/Error");
}

TEST(OpenApi, ResourcePathWithItsParameter) {
  const gpb::Value& get = At({"paths", "/v1/organizations/{name}", "get"});
  EXPECT_EQ(Str(get, "operationId"), "GetOrganization");
  EXPECT_EQ(Str(get, "x-http-template"), "/v1/{name=organizations/*}");
  const gpb::Value* name = Parameter(get, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(Str(*name, "in"), "path");
  EXPECT_TRUE(name->struct_value().fields().at("required").bool_value());
  EXPECT_NE(Str(*name, "description").find("name = organizations/{name}"), std::string::npos);
  EXPECT_EQ(Str(name->struct_value().fields().at("schema"), "pattern"), "^[^/]+$");
  EXPECT_EQ(get.struct_value().fields().at("parameters").list_value().values_size(), 1);

  // The :verb suffix stays in the key.
  EXPECT_EQ(Str(At({"paths", "/v1/organizations/{name}:listDescendants", "get"}), "operationId"),
            "ListDescendants");

  // DELETE: the unbound etag is a query parameter, name is not.
  const gpb::Value& del = At({"paths", "/v1/organizations/{name}", "delete"});
  EXPECT_NE(Parameter(del, "etag"), nullptr);
  EXPECT_EQ(Str(*Parameter(del, "etag"), "in"), "query");
  EXPECT_EQ(Str(At({"paths", "/v1/organizations/{name}", "delete", "responses", "200", "content",
                    "application/json", "schema"}),
                "type"),
            "object");  // google.protobuf.Empty

  // PATCH {organization.name=organizations/*} is the same OpenAPI path: merged under {name},
  // the description saying which field it binds.
  EXPECT_FALSE(Has(At({"paths"}), "/v1/organizations/{organization.name}"));
  const gpb::Value& patch = At({"paths", "/v1/organizations/{name}", "patch"});
  EXPECT_EQ(Str(patch, "operationId"), "UpdateOrganization");
  const gpb::Value* bound = Parameter(patch, "name");
  ASSERT_NE(bound, nullptr);
  EXPECT_NE(Str(*bound, "description").find("organization.name = organizations/{name}"),
            std::string::npos);
  const gpb::Value* mask = Parameter(patch, "updateMask");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(Str(mask->struct_value().fields().at("schema"), "type"), "string");
}

TEST(OpenApi, LiteralOnlyVariable) {
  // {parent=auditLogs/org}: the literal is the path, nothing for the client to fill in.
  const gpb::Value& entries = At({"paths", "/v1/auditLogs/org/entries", "get"});
  EXPECT_EQ(Parameter(entries, "parent"), nullptr);
  EXPECT_NE(Parameter(entries, "pageSize"), nullptr);
}

TEST(OpenApi, Security) {
  const gpb::Value& login = At({"paths", "/v1/auth:login", "post"});
  ASSERT_TRUE(Has(login, "security"));
  EXPECT_EQ(login.struct_value().fields().at("security").list_value().values_size(), 0);
  EXPECT_TRUE(At({"paths", "/v1/auth:login", "post", "security"}).has_list_value());
  // A body of "*": no query parameters.
  EXPECT_FALSE(Has(login, "parameters"));
  EXPECT_EQ(Str(At({"paths", "/v1/auth:login", "post", "requestBody", "content",
                    "application/json", "schema"}),
                "$ref"),
            "#/components/schemas/dangjian.member.v1.LoginRequest");
  // Everything else inherits the top-level bearer requirement.
  EXPECT_FALSE(Has(At({"paths", "/v1/organizations/{name}", "get"}), "security"));
}

TEST(OpenApi, SchemaTypeMappings) {
  const gpb::Value& org = At({"components", "schemas", "dangjian.org.v1.Organization"});
  EXPECT_EQ(Str(org, "type"), "object");
  const gpb::Value& props = At({"components", "schemas", "dangjian.org.v1.Organization",
                                "properties"});
  auto prop = [&](const std::string& name) -> const gpb::Value& {
    return props.struct_value().fields().at(name);
  };
  EXPECT_EQ(Str(prop("displayName"), "type"), "string");
  EXPECT_FALSE(Has(props, "display_name"));
  EXPECT_EQ(Str(prop("depth"), "type"), "integer");
  EXPECT_EQ(Str(prop("depth"), "format"), "int32");
  // Enum: its value names.
  EXPECT_EQ(Str(prop("kind"), "type"), "string");
  std::set<std::string> kinds;
  for (const gpb::Value& v : prop("kind").struct_value().fields().at("enum").list_value().values()) {
    kinds.insert(v.string_value());
  }
  EXPECT_TRUE(kinds.count("BRANCH") && kinds.count("WORK_COMMITTEE"));
  // Timestamp and google.type.Date inline.
  EXPECT_EQ(Str(prop("createTime"), "type"), "string");
  EXPECT_EQ(Str(prop("createTime"), "format"), "date-time");
  EXPECT_EQ(Str(prop("establishedDate"), "type"), "object");
  EXPECT_TRUE(Has(prop("establishedDate").struct_value().fields().at("properties"), "year"));
  EXPECT_FALSE(Has(At({"components", "schemas"}), "google.protobuf.Timestamp"));

  // int64 is a string in proto3 JSON.
  const gpb::Value& seq =
      At({"components", "schemas", "dangjian.audit.v1.AuditEntry", "properties", "seq"});
  EXPECT_EQ(Str(seq, "type"), "string");
  EXPECT_EQ(Str(seq, "format"), "int64");

  // Repeated message: an array of $refs.
  const gpb::Value& list = At({"components", "schemas", "dangjian.org.v1.ListOrganizationsResponse",
                               "properties", "organizations"});
  EXPECT_EQ(Str(list, "type"), "array");
  EXPECT_EQ(Str(list.struct_value().fields().at("items"), "$ref"),
            "#/components/schemas/dangjian.org.v1.Organization");

  EXPECT_TRUE(Has(At({"components", "schemas", "Error", "properties", "error", "properties"}),
                  "status"));
}

TEST(OpenApi, OperationIdsAreUnique) {
  std::set<std::string> ids;
  int operations = 0;
  for (const auto& [path, item] : At({"paths"}).struct_value().fields()) {
    for (const auto& [method, op] : item.struct_value().fields()) {
      ++operations;
      EXPECT_TRUE(ids.insert(Str(op, "operationId")).second) << path << " " << method;
      EXPECT_TRUE(Has(op, "responses")) << path << " " << method;
    }
  }
  EXPECT_GT(operations, 5);
}

TEST(OpenApi, Deterministic) {
  auto again = DescriptorSetOpenApiDocument();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, Document());
}

// A made-up API exercising what the real protos do not (yet): several wildcards, "**",
// additional bindings, colliding routes, maps, self-reference, nested query parameters and
// comments that need escaping.
constexpr char kSyntheticProto[] = R"pb(
  name: "synthetic/v1/thing.proto"
  package: "synthetic.v1"
  syntax: "proto3"
  dependency: "google/api/annotations.proto"
  dependency: "google/protobuf/field_mask.proto"
  dependency: "google/protobuf/timestamp.proto"
  message_type {
    name: "Inner"
    field { name: "note" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "note" }
    field { name: "level" number: 2 type: TYPE_INT32 label: LABEL_OPTIONAL json_name: "level" }
    field {
      name: "deeper" number: 3 type: TYPE_MESSAGE label: LABEL_OPTIONAL
      type_name: ".synthetic.v1.Inner" json_name: "deeper"
    }
  }
  message_type {
    name: "Thing"
    field { name: "name" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "name" }
    field { name: "count" number: 2 type: TYPE_INT64 label: LABEL_OPTIONAL json_name: "count" }
    field { name: "small" number: 3 type: TYPE_UINT32 label: LABEL_OPTIONAL json_name: "small" }
    field {
      name: "labels" number: 4 type: TYPE_MESSAGE label: LABEL_REPEATED
      type_name: ".synthetic.v1.Thing.LabelsEntry" json_name: "labels"
    }
    field { name: "tags" number: 5 type: TYPE_STRING label: LABEL_REPEATED json_name: "tags" }
    field {
      name: "parent_thing" number: 6 type: TYPE_MESSAGE label: LABEL_OPTIONAL
      type_name: ".synthetic.v1.Thing" json_name: "parentThing"
    }
    field { name: "blob" number: 7 type: TYPE_BYTES label: LABEL_OPTIONAL json_name: "blob" }
    field { name: "ratio" number: 8 type: TYPE_DOUBLE label: LABEL_OPTIONAL json_name: "ratio" }
    field {
      name: "inners" number: 9 type: TYPE_MESSAGE label: LABEL_REPEATED
      type_name: ".synthetic.v1.Inner" json_name: "inners"
    }
    nested_type {
      name: "LabelsEntry"
      field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "key" }
      field { name: "value" number: 2 type: TYPE_INT32 label: LABEL_OPTIONAL json_name: "value" }
      options { map_entry: true }
    }
  }
  message_type {
    name: "GetThingRequest"
    field { name: "name" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "name" }
    field {
      name: "filter" number: 2 type: TYPE_MESSAGE label: LABEL_OPTIONAL
      type_name: ".synthetic.v1.Inner" json_name: "filter"
    }
    field {
      name: "read_mask" number: 3 type: TYPE_MESSAGE label: LABEL_OPTIONAL
      type_name: ".google.protobuf.FieldMask" json_name: "readMask"
    }
    field {
      name: "since" number: 4 type: TYPE_MESSAGE label: LABEL_REPEATED
      type_name: ".google.protobuf.Timestamp" json_name: "since"
    }
    field {
      name: "things" number: 5 type: TYPE_MESSAGE label: LABEL_REPEATED
      type_name: ".synthetic.v1.Thing" json_name: "things"
    }
  }
  service {
    name: "ThingService"
    method {
      name: "GetThing"
      input_type: ".synthetic.v1.GetThingRequest"
      output_type: ".synthetic.v1.Thing"
      options {
        [google.api.http] {
          get: "/v1/{name=shelves/*/things/*}"
          additional_bindings { get: "/v1/{name=things/**}" }
        }
      }
    }
    method {
      name: "GetOther"
      input_type: ".synthetic.v1.GetThingRequest"
      output_type: ".synthetic.v1.Thing"
      options { [google.api.http] { get: "/v1/{name=shelves/*/things/*}" } }
    }
  }
  source_code_info {
    location {
      path: [ 6, 0, 2, 0 ]
      span: [ 0, 0, 0 ]
      leading_comments: " Gets a \"thing\".\n Line\ttwo, \\ 中文 \001\n"
    }
  }
)pb";

class OpenApiSynthetic : public ::testing::Test {
 protected:
  void SetUp() override {
    gpb::FileDescriptorProto proto;
    ASSERT_TRUE(gpb::TextFormat::ParseFromString(kSyntheticProto, &proto));
    const gpb::FileDescriptor* file = pool_.BuildFile(proto);
    ASSERT_NE(file, nullptr);
    const gpb::ServiceDescriptor* service = file->service(0);
    auto route = [&](const char* method, const char* path) {
      auto tmpl = PathTemplate::Parse(path);
      EXPECT_TRUE(tmpl.ok()) << tmpl.status();
      routes_.push_back({"GET", *std::move(tmpl), "", service->FindMethodByName(method),
                         "synthetic", false});
    };
    // In the gateway's order: most literal segments first.
    route("GetThing", "/v1/{name=shelves/*/things/*}");
    route("GetOther", "/v1/{name=shelves/*/things/*}");
    route("GetThing", "/v1/{name=things/**}");
    doc_ = OpenApiDocument(routes_, "0.1.0");
    const auto status = gpb::util::JsonStringToMessage(doc_, root_.mutable_struct_value());
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  const gpb::Value& Get(std::initializer_list<std::string> path) {
    static const gpb::Value kNull;
    const gpb::Value* v = &root_;
    for (const std::string& key : path) {
      if (!Has(*v, key)) {
        ADD_FAILURE() << "missing '" << key << "'";
        return kNull;
      }
      v = &v->struct_value().fields().at(key);
    }
    return *v;
  }

  gpb::DescriptorPool pool_{gpb::DescriptorPool::generated_pool()};
  std::vector<Route> routes_;
  std::string doc_;
  gpb::Value root_;
};

TEST_F(OpenApiSynthetic, SeveralWildcardsAndDoubleStar) {
  const gpb::Value& get = Get({"paths", "/v1/shelves/{name_1}/things/{name_2}", "get"});
  EXPECT_EQ(Str(get, "operationId"), "GetThing");
  const gpb::Value* first = Parameter(get, "name_1");
  const gpb::Value* second = Parameter(get, "name_2");
  ASSERT_TRUE(first != nullptr && second != nullptr);
  EXPECT_EQ(Str(*second, "description"),
            "Id 2 of 2; the gateway binds name = shelves/{name_1}/things/{name_2}.");
  EXPECT_EQ(Str(second->struct_value().fields().at("schema"), "pattern"), "^[^/]+$");

  const gpb::Value& rest = Get({"paths", "/v1/things/{name}", "get"});
  EXPECT_EQ(Str(rest, "operationId"), "GetThing_2");  // the additional binding
  const gpb::Value* name = Parameter(rest, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_FALSE(Has(name->struct_value().fields().at("schema"), "pattern"));  // may hold '/'
}

TEST_F(OpenApiSynthetic, RouteShadowedByAnEarlierOneIsLeftOut) {
  EXPECT_EQ(doc_.find("GetOther"), std::string::npos);
}

TEST_F(OpenApiSynthetic, QueryParameters) {
  const gpb::Value& get = Get({"paths", "/v1/things/{name}", "get"});
  std::vector<std::string> names;
  for (const gpb::Value& p : get.struct_value().fields().at("parameters").list_value().values()) {
    names.push_back(Str(p, "name"));
  }
  // filter.deeper would recurse into Inner again; maps and repeated messages cannot be set.
  EXPECT_EQ(names, (std::vector<std::string>{"name", "filter.note", "filter.level", "readMask",
                                             "since"}));
  const gpb::Value& since = Parameter(get, "since")->struct_value().fields().at("schema");
  EXPECT_EQ(Str(since, "type"), "array");
  EXPECT_EQ(Str(since.struct_value().fields().at("items"), "format"), "date-time");
}

TEST_F(OpenApiSynthetic, SchemaMappings) {
  auto prop = [&](const std::string& name) -> const gpb::Value& {
    return Get({"components", "schemas", "synthetic.v1.Thing", "properties", name});
  };
  EXPECT_EQ(Str(prop("count"), "type"), "string");
  EXPECT_EQ(Str(prop("count"), "format"), "int64");
  EXPECT_EQ(Str(prop("small"), "type"), "integer");
  EXPECT_EQ(Str(prop("labels"), "type"), "object");
  EXPECT_EQ(Str(prop("labels").struct_value().fields().at("additionalProperties"), "format"),
            "int32");
  EXPECT_EQ(Str(prop("tags"), "type"), "array");
  EXPECT_EQ(Str(prop("parentThing"), "$ref"), "#/components/schemas/synthetic.v1.Thing");
  EXPECT_EQ(Str(prop("blob"), "format"), "byte");
  EXPECT_EQ(Str(prop("ratio"), "type"), "number");
  EXPECT_EQ(Str(prop("inners").struct_value().fields().at("items"), "$ref"),
            "#/components/schemas/synthetic.v1.Inner");
  EXPECT_EQ(Str(Get({"components", "schemas", "synthetic.v1.Inner", "properties", "deeper"}),
                "$ref"),
            "#/components/schemas/synthetic.v1.Inner");
  EXPECT_FALSE(Has(Get({"components", "schemas"}), "synthetic.v1.Thing.LabelsEntry"));
}

TEST_F(OpenApiSynthetic, CommentsAreEscaped) {
  const gpb::Value& get = Get({"paths", "/v1/shelves/{name_1}/things/{name_2}", "get"});
  EXPECT_EQ(Str(get, "summary"), "Gets a \"thing\".");
  EXPECT_EQ(Str(get, "description"), "Gets a \"thing\".\n Line\ttwo, \\ 中文 \001");
  EXPECT_NE(doc_.find(R"("Gets a \"thing\".\n Line\ttwo, \\ 中文 \u0001")"), std::string::npos);
  EXPECT_EQ(Get({"tags"}).list_value().values_size(), 1);
  EXPECT_EQ(doc_, OpenApiDocument(routes_, "0.1.0"));
}

}  // namespace
}  // namespace dj::gateway
