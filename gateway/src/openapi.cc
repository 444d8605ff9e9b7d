// OpenAPI 3.0.3 generation from the gateway's routes, with a small JSON value and writer whose
// objects keep their keys sorted, so the document is byte-identical across runs.
#include "gateway/src/openapi.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace dj::gateway {
namespace {

namespace gpb = google::protobuf;

// ---------------------------------------------------------------------------------------------
// JSON

// A JSON value. Objects are std::maps, so keys come out sorted (bytewise).
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;  // null
  Json(bool b) : value_(b) {}
  Json(int i) : value_(static_cast<int64_t>(i)) {}
  Json(int64_t i) : value_(i) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}
  Json(Object o) : value_(std::move(o)) {}

  // The member `key`, created (null) when missing; a non-object becomes an empty object first.
  Json& operator[](const std::string& key) {
    if (!std::holds_alternative<Object>(value_)) {
      value_ = Object{};
    }
    return std::get<Object>(value_)[key];
  }
  // Appends to an array; a non-array becomes an empty array first.
  void push_back(Json v) {
    if (!std::holds_alternative<Array>(value_)) {
      value_ = Array{};
    }
    std::get<Array>(value_).push_back(std::move(v));
  }
  bool Has(const std::string& key) const {
    const Object* o = std::get_if<Object>(&value_);
    return o != nullptr && o->count(key) > 0;
  }
  bool empty() const {
    if (const Array* a = std::get_if<Array>(&value_)) return a->empty();
    if (const Object* o = std::get_if<Object>(&value_)) return o->empty();
    return std::holds_alternative<std::monostate>(value_);
  }

  // Pretty-printed, 2-space indent; `depth` is the current nesting level.
  void Write(std::string& out, int depth = 0) const;

 private:
  std::variant<std::monostate, bool, int64_t, std::string, Array, Object> value_;
};

void Quote(std::string_view s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through
        }
    }
  }
  out += '"';
}

void Indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 2, ' '); }

void Json::Write(std::string& out, int depth) const {
  if (std::holds_alternative<std::monostate>(value_)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&value_)) {
    out += *b ? "true" : "false";
  } else if (const int64_t* i = std::get_if<int64_t>(&value_)) {
    out += std::to_string(*i);
  } else if (const std::string* s = std::get_if<std::string>(&value_)) {
    Quote(*s, out);
  } else if (const Array* a = std::get_if<Array>(&value_)) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t k = 0; k < a->size(); ++k) {
      Indent(out, depth + 1);
      (*a)[k].Write(out, depth + 1);
      out += k + 1 < a->size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += ']';
  } else {
    const Object& o = std::get<Object>(value_);
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    size_t k = 0;
    for (const auto& [key, value] : o) {
      Indent(out, depth + 1);
      Quote(key, out);
      out += ": ";
      value.Write(out, depth + 1);
      out += ++k < o.size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += '}';
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas

Json Type(const char* type, const char* format = nullptr) {
  Json j;
  j["type"] = type;
  if (format != nullptr) {
    j["format"] = format;
  }
  return j;
}

// The leading (else trailing) comment of a descriptor, trimmed; "" when the descriptor set has
// no source info (the usual case: it is compiled without).
template <typename D>
std::string Comment(const D* d) {
  gpb::SourceLocation loc;
  if (!d->GetSourceLocation(&loc)) {
    return "";
  }
  std::string c = loc.leading_comments.empty() ? loc.trailing_comments : loc.leading_comments;
  const size_t begin = c.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return "";
  }
  const size_t end = c.find_last_not_of(" \t\r\n");
  return c.substr(begin, end - begin + 1);
}

// Adds a description to a schema; OpenAPI 3.0 ignores siblings of "$ref", so a reference is
// wrapped in allOf first.
void Describe(Json& schema, const std::string& description) {
  if (description.empty()) {
    return;
  }
  if (schema.Has("$ref")) {
    Json wrapped;
    wrapped["allOf"].push_back(std::move(schema));
    schema = std::move(wrapped);
  }
  schema["description"] = description;
}

Json EnumSchema(const gpb::EnumDescriptor* e) {
  if (e->full_name() == "google.protobuf.NullValue") {
    Json j;
    j["nullable"] = true;  // JSON null
    return j;
  }
  Json j = Type("string");
  for (int i = 0; i < e->value_count(); ++i) {
    j["enum"].push_back(e->value(i)->name());
  }
  return j;
}

// The schema of one value of a non-message field (proto3 JSON mapping).
Json ScalarSchema(const gpb::FieldDescriptor* f) {
  switch (f->type()) {
    case gpb::FieldDescriptor::TYPE_INT32:
    case gpb::FieldDescriptor::TYPE_SINT32:
    case gpb::FieldDescriptor::TYPE_SFIXED32:
      return Type("integer", "int32");
    case gpb::FieldDescriptor::TYPE_UINT32:
    case gpb::FieldDescriptor::TYPE_FIXED32: {
      Json j = Type("integer", "int64");  // beyond int32's range
      j["minimum"] = 0;
      return j;
    }
    case gpb::FieldDescriptor::TYPE_INT64:
    case gpb::FieldDescriptor::TYPE_SINT64:
    case gpb::FieldDescriptor::TYPE_SFIXED64:
      return Type("string", "int64");  // proto3 JSON writes 64-bit integers as strings
    case gpb::FieldDescriptor::TYPE_UINT64:
    case gpb::FieldDescriptor::TYPE_FIXED64:
      return Type("string", "uint64");
    case gpb::FieldDescriptor::TYPE_BOOL:
      return Type("boolean");
    case gpb::FieldDescriptor::TYPE_FLOAT:
      return Type("number", "float");
    case gpb::FieldDescriptor::TYPE_DOUBLE:
      return Type("number", "double");
    case gpb::FieldDescriptor::TYPE_STRING:
      return Type("string");
    case gpb::FieldDescriptor::TYPE_BYTES:
      return Type("string", "byte");  // base64
    case gpb::FieldDescriptor::TYPE_ENUM:
      return EnumSchema(f->enum_type());
    case gpb::FieldDescriptor::TYPE_MESSAGE:
    case gpb::FieldDescriptor::TYPE_GROUP:
      break;
  }
  return Json(Json::Object{});  // unreachable for scalars: any value
}

// Inline schemas for the well-known types with a JSON form of their own; nullopt otherwise.
std::optional<Json> WellKnownSchema(const gpb::Descriptor* d) {
  const std::string& n = d->full_name();
  if (n == "google.protobuf.Timestamp") {
    return Type("string", "date-time");
  }
  if (n == "google.protobuf.Duration") {
    Json j = Type("string");
    j["description"] = "Seconds with an \"s\" suffix, e.g. \"3.5s\".";
    return j;
  }
  if (n == "google.protobuf.FieldMask") {
    Json j = Type("string");
    j["description"] = "Comma-separated field paths, e.g. \"displayName,kind\".";
    return j;
  }
  if (n == "google.protobuf.Empty") {
    return Type("object");
  }
  if (n == "google.protobuf.Struct") {
    Json j = Type("object");
    j["additionalProperties"] = true;
    return j;
  }
  if (n == "google.protobuf.Value") {
    return Json(Json::Object{});  // any JSON value
  }
  if (n == "google.protobuf.ListValue") {
    Json j = Type("array");
    j["items"] = Json(Json::Object{});
    return j;
  }
  if (n == "google.protobuf.Any") {
    Json j = Type("object");
    j["properties"]["@type"] = Type("string");
    j["additionalProperties"] = true;
    return j;
  }
  static const std::set<std::string> kWrappers = {
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  if (kWrappers.count(n) > 0 && d->FindFieldByName("value") != nullptr) {
    return ScalarSchema(d->FindFieldByName("value"));
  }
  if (n == "google.type.Date") {
    Json j = Type("object");
    for (const char* part : {"year", "month", "day"}) {
      j["properties"][part] = Type("integer", "int32");
    }
    return j;
  }
  return std::nullopt;
}

// Collects the messages the document references into components.schemas.
class Schemas {
 public:
  // A well-known type inline, else a $ref to the message's component (queued for Components()).
  Json Ref(const gpb::Descriptor* d) {
    if (std::optional<Json> wkt = WellKnownSchema(d)) {
      return *std::move(wkt);
    }
    if (seen_.insert(d->full_name()).second) {
      queue_.push_back(d);
    }
    Json j;
    j["$ref"] = "#/components/schemas/" + d->full_name();
    return j;
  }

  // The schema of a field: map, array or single value, without its description.
  Json Field(const gpb::FieldDescriptor* f) {
    if (f->is_map()) {
      Json j = Type("object");
      j["additionalProperties"] = Value(f->message_type()->map_value());
      return j;
    }
    if (f->is_repeated()) {
      Json j = Type("array");
      j["items"] = Value(f);
      return j;
    }
    return Value(f);
  }

  // Every queued message's schema (and the ones they reach), by full name.
  Json::Object Components() {
    Json::Object out;
    while (!queue_.empty()) {
      const gpb::Descriptor* d = queue_.front();
      queue_.pop_front();
      Json j = Type("object");
      for (int i = 0; i < d->field_count(); ++i) {
        const gpb::FieldDescriptor* f = d->field(i);
        Json p = Field(f);
        Describe(p, Comment(f));
        if (f->options().deprecated()) {
          p["deprecated"] = true;
        }
        j["properties"][f->json_name()] = std::move(p);
      }
      if (const std::string c = Comment(d); !c.empty()) {
        j["description"] = c;
      }
      out[d->full_name()] = std::move(j);
    }
    return out;
  }

 private:
  Json Value(const gpb::FieldDescriptor* f) {
    return f->cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE ? Ref(f->message_type())
                                                                  : ScalarSchema(f);
  }

  std::set<std::string> seen_;
  std::deque<const gpb::Descriptor*> queue_;
};

Json ErrorSchema() {
  Json error = Type("object");
  error["properties"]["code"] = Type("integer", "int32");
  error["properties"]["code"]["description"] = "The HTTP status code.";
  error["properties"]["message"] = Type("string");
  error["properties"]["status"] = Type("string");
  error["properties"]["status"]["description"] = "The gRPC status code name, e.g. \"NOT_FOUND\".";
  error["properties"]["details"] = Type("array");
  error["properties"]["details"]["items"] = Type("object");
  error["properties"]["details"]["items"]["properties"]["@type"] = Type("string");
  error["properties"]["details"]["items"]["additionalProperties"] = true;
  error["properties"]["details"]["description"] =
      "google.rpc error details (ErrorInfo, BadRequest, ...), each with its \"@type\".";
  Json j = Type("object");
  j["properties"]["error"] = std::move(error);
  j["description"] = "An AIP-193 error.";
  return j;
}

// ---------------------------------------------------------------------------------------------
// Paths

// One OpenAPI path parameter: a wildcard of a template variable.
struct Placeholder {
  std::string name;   // in the path key: "name", or "name_1", "name_2", ... for several
  std::string field;  // the request field the variable binds: "organization.name"
  bool bare = false;  // "{f}": the variable is the whole segment
  bool double_star = false;
  int count = 1;                      // wildcards in the variable
  int ordinal = 1;                    // this one's, from 1
  std::vector<std::string> segments;  // the variable's pattern, split at '/'
  size_t first = 0;                   // index of the variable's first placeholder
};

struct PathKey {
  std::string key;    // "/v1/organizations/{name}:listDescendants"
  std::string shape;  // "/v1/organizations/{}:listDescendants": equal shapes are one path
  std::vector<Placeholder> placeholders;
};

bool IsWildcard(const std::string& segment) { return segment == "*" || segment == "**"; }

// The OpenAPI form of a template (see OpenApiDocument in openapi.h). The template has been
// parsed by PathTemplate, so its braces are balanced.
PathKey ConvertTemplate(const std::string& text) {
  PathKey out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{') {
      out.key += text[i];
      out.shape += text[i];
      ++i;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) {
      close = text.size();
    }
    const std::string inner = text.substr(i + 1, close - i - 1);
    i = close + 1;
    const size_t eq = inner.find('=');
    const std::string field = inner.substr(0, eq);
    const std::string pattern = eq == std::string::npos ? "*" : inner.substr(eq + 1);
    std::vector<std::string> segments;
    for (size_t from = 0;;) {
      const size_t slash = pattern.find('/', from);
      segments.push_back(pattern.substr(from, slash - from));
      if (slash == std::string::npos) break;
      from = slash + 1;
    }
    const int count = static_cast<int>(std::count_if(segments.begin(), segments.end(), IsWildcard));
    const size_t first = out.placeholders.size();
    int ordinal = 0;
    for (size_t s = 0; s < segments.size(); ++s) {
      if (s > 0) {
        out.key += '/';
        out.shape += '/';
      }
      if (!IsWildcard(segments[s])) {
        out.key += segments[s];
        out.shape += segments[s];
        continue;
      }
      ++ordinal;
      Placeholder p;
      p.name = count == 1 ? field : field + "_" + std::to_string(ordinal);
      p.field = field;
      p.bare = eq == std::string::npos;
      p.double_star = segments[s] == "**";
      p.count = count;
      p.ordinal = ordinal;
      p.segments = segments;
      p.first = first;
      out.placeholders.push_back(p);
      out.key += "{" + p.name + "}";
      out.shape += "{}";
    }
  }
  return out;
}

// The path parameter for `own.placeholders[k]`, named `names[k]` (the path key's names, which
// differ from its own when its key was merged into an equivalent one).
Json PathParameter(const PathKey& own, size_t k, const std::vector<std::string>& names) {
  const Placeholder& p = own.placeholders[k];
  std::string binding;  // "organizations/{name}"
  for (size_t s = 0, w = 0; s < p.segments.size(); ++s) {
    if (s > 0) binding += '/';
    binding += IsWildcard(p.segments[s]) ? "{" + names[p.first + w++] + "}" : p.segments[s];
  }
  std::string description;
  if (p.bare) {
    description = "The request field " + p.field + ".";
  } else if (p.double_star) {
    description = "The rest of the resource name (may span segments); the gateway binds " +
                  p.field + " = " + binding + ".";
  } else if (p.count == 1) {
    description = "The id; the gateway binds " + p.field + " = " + binding + ".";
  } else {
    description = "Id " + std::to_string(p.ordinal) + " of " + std::to_string(p.count) +
                  "; the gateway binds " + p.field + " = " + binding + ".";
  }
  Json j;
  j["name"] = names[k];
  j["in"] = "path";
  j["required"] = true;
  j["description"] = description;
  j["schema"] = Type("string");
  if (!p.double_star) {
    j["schema"]["pattern"] = "^[^/]+$";
  }
  return j;
}

bool Bound(const std::string& proto_path, const std::vector<std::string>& bound) {
  for (const std::string& b : bound) {
    if (proto_path == b || proto_path.rfind(b + ".", 0) == 0) {
      return true;
    }
  }
  return false;
}

// The query parameters BindQuery accepts for `d`: unbound scalars, enums and repeated ones by
// JSON name, FieldMask/Timestamp/Duration as strings, and singular non-google messages with
// dotted names (maps, repeated messages and other well-known types cannot be set that way).
void AddQueryParameters(const gpb::Descriptor* d, const std::string& json_prefix,
                        const std::string& proto_prefix, const std::vector<std::string>& bound,
                        std::vector<const gpb::Descriptor*>& stack, Schemas& schemas,
                        Json& params) {
  for (int i = 0; i < d->field_count(); ++i) {
    const gpb::FieldDescriptor* f = d->field(i);
    const std::string proto_path = proto_prefix + f->name();
    const std::string name = json_prefix + f->json_name();
    if (Bound(proto_path, bound) || f->is_map()) {
      continue;
    }
    if (f->cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE) {
      const gpb::Descriptor* m = f->message_type();
      const std::string& type = m->full_name();
      const bool string_form = type == "google.protobuf.FieldMask" ||
                               type == "google.protobuf.Timestamp" ||
                               type == "google.protobuf.Duration";
      if (!string_form) {
        if (!f->is_repeated() && type.rfind("google.", 0) != 0 &&
            std::find(stack.begin(), stack.end(), m) == stack.end()) {
          stack.push_back(m);
          AddQueryParameters(m, name + ".", proto_path + ".", bound, stack, schemas, params);
          stack.pop_back();
        }
        continue;
      }
    }
    Json p;
    p["name"] = name;
    p["in"] = "query";
    p["schema"] = schemas.Field(f);
    if (const std::string c = Comment(f); !c.empty()) {
      p["description"] = c;
    }
    if (f->options().deprecated()) {
      p["deprecated"] = true;
    }
    params.push_back(std::move(p));
  }
}

// Which of the method's google.api.http bindings `route` is: 0 for the primary, then the
// additional_bindings in order; so operationId suffixes follow the proto, not the route order.
struct Operation {
  const Route* route = nullptr;
  std::string method;  // "get"
  PathKey key;
  // Which of the method's google.api.http bindings: operationId suffixes follow the proto,
  // not the route order.
  int binding = 0;
  std::string id;
};

// The routes OpenAPI can list, in the gateway's order (its match order), keeping the first of
// any that OpenAPI cannot tell apart (same shape and method): the later ones are unreachable
// over HTTP anyway. `canonical`: shape -> the key its operations are listed under.
std::vector<Operation> SelectOperations(const std::vector<Route>& routes,
                                        std::map<std::string, PathKey>& canonical) {
  static const std::set<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                                 "options", "head", "patch", "trace"};
  std::vector<Operation> ops;
  std::set<std::pair<std::string, std::string>> taken;  // (shape, method)
  std::map<std::string, std::string> key_of_shape;      // the key that sorts first
  for (const Route& route : routes) {
    Operation op;
    op.route = &route;
    op.method = absl::AsciiStrToLower(route.http_method);
    if (route.method == nullptr || kMethods.count(op.method) == 0) {
      continue;  // a custom verb OpenAPI has no field for
    }
    op.key = ConvertTemplate(route.path.text());
    if (!taken.insert({op.key.shape, op.method}).second) {
      continue;
    }
    op.binding = route.binding;
    auto [it, inserted] = key_of_shape.emplace(op.key.shape, op.key.key);
    if (!inserted && op.key.key < it->second) {
      it->second = op.key.key;
    }
    ops.push_back(std::move(op));
  }
  for (const Operation& op : ops) {
    if (key_of_shape[op.key.shape] == op.key.key) {
      canonical.emplace(op.key.shape, op.key);
    }
  }
  return ops;
}

// operationId: the RPC's name, qualified by its service when another service has an RPC of the
// same name; a second binding of one RPC gets "_2", and so on.
void AssignOperationIds(std::vector<Operation>& ops) {
  std::map<std::string, std::set<std::string>> rpcs_named;
  for (const Operation& op : ops) {
    rpcs_named[op.route->method->name()].insert(op.route->method->full_name());
  }
  std::vector<Operation*> by_binding;
  for (Operation& op : ops) {
    by_binding.push_back(&op);
  }
  std::stable_sort(by_binding.begin(), by_binding.end(),
                   [](const Operation* a, const Operation* b) {
                     return std::make_pair(a->route->method->full_name(), a->binding) <
                            std::make_pair(b->route->method->full_name(), b->binding);
                   });
  std::set<std::string> ids;
  std::map<std::string, int> uses;  // full method name -> operations so far
  for (Operation* op : by_binding) {
    const gpb::MethodDescriptor* m = op->route->method;
    std::string base =
        rpcs_named[m->name()].size() == 1 ? m->name() : m->service()->name() + "_" + m->name();
    const int n = ++uses[m->full_name()];
    std::string id = n == 1 ? base : base + "_" + std::to_string(n);
    for (int extra = 2; !ids.insert(id).second; ++extra) {
      id = base + "_" + std::to_string(n) + "_" + std::to_string(extra);
    }
    op->id = id;
  }
}

// The OpenAPI operation object of `op`, listed under `key`.
Json OperationJson(const Operation& op, const PathKey& key, Schemas& schemas) {
  const Route& route = *op.route;
  const gpb::MethodDescriptor* method = route.method;
  Json o;
  o["operationId"] = op.id;
  o["tags"].push_back(method->service()->name());
  if (const std::string c = Comment(method); !c.empty()) {
    o["summary"] = c.substr(0, c.find('\n'));
    o["description"] = c;
  }
  if (method->options().deprecated()) {
    o["deprecated"] = true;
  }
  o["x-grpc-method"] = method->full_name();
  o["x-http-template"] = route.path.text();

  Json params = Json(Json::Array{});
  std::vector<std::string> names;
  for (const Placeholder& p : key.placeholders) {
    names.push_back(p.name);
  }
  for (size_t k = 0; k < op.key.placeholders.size(); ++k) {
    params.push_back(PathParameter(op.key, k, names));
  }
  if (route.body != "*") {
    std::vector<std::string> bound = route.path.variables();
    if (!route.body.empty()) {
      bound.push_back(route.body);
    }
    std::vector<const gpb::Descriptor*> stack = {method->input_type()};
    AddQueryParameters(method->input_type(), "", "", bound, stack, schemas, params);
  }
  if (!params.empty()) {
    o["parameters"] = std::move(params);
  }

  if (!route.body.empty()) {
    Json schema;
    if (route.body == "*") {
      schema = schemas.Ref(method->input_type());
    } else if (const gpb::FieldDescriptor* f =
                   method->input_type()->FindFieldByName(route.body)) {
      schema = schemas.Field(f);
    }
    o["requestBody"]["required"] = true;
    o["requestBody"]["content"]["application/json"]["schema"] = std::move(schema);
  }

  Json& ok = o["responses"]["200"];
  ok["description"] = "OK";
  ok["content"]["application/json"]["schema"] = schemas.Ref(method->output_type());
  Json& error = o["responses"]["default"];
  error["description"] = "An AIP-193 error: the gRPC status as JSON.";
  error["content"]["application/json"]["schema"]["$ref"] = "#/components/schemas/Error";

  if (route.allow_anonymous) {
    o["security"] = Json(Json::Array{});  // no access token needed
  }
  return o;
}

}  // namespace

std::string OpenApiDocument(const std::vector<Route>& routes, std::string_view version) {
  std::map<std::string, PathKey> canonical;
  std::vector<Operation> ops = SelectOperations(routes, canonical);
  AssignOperationIds(ops);

  Schemas schemas;
  Json doc;
  doc["openapi"] = "3.0.3";
  doc["info"]["title"] = "dangjian API";
  doc["info"]["version"] = std::string(version);
  Json server;
  server["url"] = "/";
  doc["servers"].push_back(std::move(server));
  Json bearer;
  bearer["bearerAuth"] = Json(Json::Array{});
  doc["security"].push_back(std::move(bearer));
  doc["paths"] = Json(Json::Object{});
  std::map<std::string, std::string> tags;  // service name -> its comment

  for (const Operation& op : ops) {
    const PathKey& key = canonical.at(op.key.shape);
    const gpb::ServiceDescriptor* service = op.route->method->service();
    tags.emplace(service->name(), Comment(service));
    doc["paths"][key.key][op.method] = OperationJson(op, key, schemas);
  }

  for (const auto& [name, comment] : tags) {
    Json t;
    t["name"] = name;
    if (!comment.empty()) {
      t["description"] = comment;
    }
    doc["tags"].push_back(std::move(t));
  }
  Json::Object components = schemas.Components();
  components["Error"] = ErrorSchema();
  doc["components"]["schemas"] = Json(std::move(components));
  Json& scheme = doc["components"]["securitySchemes"]["bearerAuth"];
  scheme["type"] = "http";
  scheme["scheme"] = "bearer";
  scheme["bearerFormat"] = "JWT";

  std::string out;
  doc.Write(out);
  out += '\n';
  return out;
}

absl::StatusOr<std::string> DescriptorSetOpenApiDocument(std::string_view version) {
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& backend : Gateway::BackendNames()) {
    channels[backend] = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  }
  GatewayOptions options;
  options.jwt_keys = {{"openapi", std::string(32, 'k')}};  // never used: no request is served
  options.internal_secret = std::string(32, 's');
  options.background = false;
  auto gateway = Gateway::Create(std::move(channels), std::move(options));
  if (!gateway.ok()) {
    return gateway.status();
  }
  return OpenApiDocument((*gateway)->routes(), version);
}

}  // namespace dj::gateway
