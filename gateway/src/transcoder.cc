// JSON and URL <-> protobuf through reflection and protobuf's JSON utilities, and error bodies.
#include "gateway/src/transcoder.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "gateway/src/route_table.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dj::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string ToStd(google::protobuf::StringPiece s) { return std::string(s.data(), s.size()); }

absl::Status Violation(std::string_view field, std::string_view description,
                       std::string_view reason = "INVALID_ARGUMENT") {
  return rpc::InvalidArgument({{std::string(field), std::string(description)}}, reason);
}

// The message holding the last field of `path`, created on the way down.
Message* MutableParent(Message* root, const FieldPath& path) {
  Message* m = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    m = m->GetReflection()->MutableMessage(m, path[i]);
  }
  return m;
}

// The message holding the last field of `path`, or null when an intermediate one is unset.
const Message* ConstParent(const Message& root, const FieldPath& path) {
  const Message* m = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!m->GetReflection()->HasField(*m, path[i])) {
      return nullptr;
    }
    m = &m->GetReflection()->GetMessage(*m, path[i]);
  }
  return m;
}

// A singular scalar field's value as text, to compare what the body and the path say.
std::string ScalarText(const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(m, f) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return r->GetEnum(m, f)->name();
    case FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return m.GetReflection()->GetMessage(m, f).SerializeAsString();
  }
  return "";
}

const FieldDescriptor* FindField(const Descriptor* type, std::string_view name, bool json_names) {
  if (const FieldDescriptor* f = type->FindFieldByName(std::string(name)); f != nullptr) {
    return f;
  }
  if (json_names) {
    for (int i = 0; i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == name) {
        return type->field(i);
      }
    }
  }
  return nullptr;
}

bool IsWrapper(std::string_view full_name) {
  for (std::string_view w : {"google.protobuf.DoubleValue", "google.protobuf.FloatValue",
                             "google.protobuf.Int64Value", "google.protobuf.UInt64Value",
                             "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
                             "google.protobuf.BoolValue", "google.protobuf.StringValue",
                             "google.protobuf.BytesValue"}) {
    if (full_name == w) {
      return true;
    }
  }
  return false;
}

// "displayName" -> "display_name", for FieldMask paths given in their JSON form.
std::string SnakeCase(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::Status SetMessageFromString(Message* sub, std::string_view text,
                                  std::string_view name_for_errors) {
  const Descriptor* type = sub->GetDescriptor();
  const std::string& full = type->full_name();
  if (full == "google.protobuf.FieldMask") {
    const FieldDescriptor* paths = type->FindFieldByName("paths");
    std::string_view rest = text;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view part = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      std::string_view trimmed = SV(absl::StripAsciiWhitespace(AV(part)));
      if (trimmed.empty()) {
        continue;
      }
      std::string path;
      for (std::string_view seg = trimmed; !seg.empty();) {
        const size_t dot = seg.find('.');
        if (!path.empty()) {
          path.push_back('.');
        }
        path += SnakeCase(seg.substr(0, dot));
        seg = dot == std::string_view::npos ? std::string_view() : seg.substr(dot + 1);
      }
      sub->GetReflection()->AddString(sub, paths, path);
    }
    return absl::OkStatus();
  }
  if (full == "google.protobuf.Timestamp" || full == "google.protobuf.Duration") {
    if (text.find_first_of("\"\\") != std::string_view::npos) {
      return Violation(name_for_errors, absl::StrCat("'", AV(text), "' is not a valid ", full));
    }
    google::protobuf::util::JsonParseOptions options;
    auto st = google::protobuf::util::JsonStringToMessage(absl::StrCat("\"", AV(text), "\""),
                                                          sub, options);
    if (!st.ok()) {
      return Violation(name_for_errors, absl::StrCat("'", AV(text), "' is not a valid ", full));
    }
    return absl::OkStatus();
  }
  if (IsWrapper(full)) {
    return SetFieldFromString(sub, {type->FindFieldByName("value")}, text, name_for_errors);
  }
  return Violation(name_for_errors,
                   absl::StrCat("a ", full, " cannot be set from a query parameter"));
}

// The field protobuf's JSON parser names in an error, and the rest of its text:
//   "(organization) foo: Cannot find field."        -> organization.foo, "unknown field"
//   "(organization.kind): invalid value ..."        -> organization.kind, "invalid value ..."
//   "foo: Cannot find field."                       -> foo, "unknown field"
bool FieldOfJsonError(std::string_view text, std::string* field, std::string* description) {
  constexpr std::string_view kUnknown = ": Cannot find field.";
  std::string loc;
  if (!text.empty() && text.front() == '(') {
    const size_t close = text.find(')');
    if (close == std::string_view::npos) {
      return false;
    }
    loc = std::string(text.substr(1, close - 1));
    text.remove_prefix(close + 1);
    if (text.substr(0, 2) == ": ") {
      *field = loc;
      *description = std::string(text.substr(2));
      return !field->empty();
    }
    if (text.empty() || text.front() != ' ') {
      return false;
    }
    text.remove_prefix(1);
  }
  if (text.size() > kUnknown.size() && text.substr(text.size() - kUnknown.size()) == kUnknown) {
    std::string_view name = text.substr(0, text.size() - kUnknown.size());
    *field = loc.empty() ? std::string(name) : absl::StrCat(loc, ".", AV(name));
    *description = "unknown field";
    return true;
  }
  return false;
}

absl::Status JsonParseError(std::string_view protobuf_text, const FieldDescriptor* body_field) {
  std::string_view first_line = protobuf_text.substr(0, protobuf_text.find('\n'));
  std::string field;
  std::string description;
  if (FieldOfJsonError(first_line, &field, &description)) {
    if (body_field != nullptr) {
      field = absl::StrCat(body_field->name(), ".", field);
    }
    return Violation(field, description);
  }
  return rpc::Error(absl::StatusCode::kInvalidArgument, "INVALID_JSON",
                    absl::StrCat("invalid JSON body: ", AV(first_line)));
}

google::protobuf::util::JsonPrintOptions PrintOptions(bool always_print) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = always_print;
  options.preserve_proto_field_names = false;
  options.always_print_enums_as_ints = false;
  return options;
}

std::string ErrorJsonWithDetails(int http_status, grpc::StatusCode code, std::string_view message,
                                 const std::vector<std::string>& details) {
  return absl::StrCat("{\"error\":{\"code\":", http_status, ",\"message\":\"",
                      log::JsonEscape(message), "\",\"status\":\"", AV(StatusCodeName(code)),
                      "\",\"details\":[", absl::StrJoin(details, ","), "]}}");
}

// One google.protobuf.Any as JSON ({"@type": ..., ...}); false when its type is unknown.
bool AnyToJson(const google::protobuf::Any& any, std::string* out) {
  return google::protobuf::util::MessageToJsonString(any, out, PrintOptions(false)).ok();
}

}  // namespace

absl::StatusOr<FieldPath> ResolveFieldPath(const Descriptor* type, std::string_view dotted,
                                           bool json_names) {
  FieldPath path;
  std::string_view rest = dotted;
  while (true) {
    const size_t dot = rest.find('.');
    std::string_view name = rest.substr(0, dot);
    if (type == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", AV(dotted), "': ", path.back()->name(), " is not a message"));
    }
    const FieldDescriptor* f = FindField(type, name, json_names);
    if (f == nullptr) {
      return absl::NotFoundError(absl::StrCat("'", AV(dotted), "': ", type->full_name(),
                                              " has no field '", AV(name), "'"));
    }
    path.push_back(f);
    if (dot == std::string_view::npos) {
      return path;
    }
    if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", AV(dotted), "': ", f->name(), " is not a singular message field"));
    }
    type = f->message_type();
    rest.remove_prefix(dot + 1);
  }
}

std::string FieldPathString(const FieldPath& path) {
  std::string out;
  for (const FieldDescriptor* f : path) {
    if (!out.empty()) {
      out.push_back('.');
    }
    out += f->name();
  }
  return out;
}

absl::Status SetFieldFromString(Message* message, const FieldPath& path, std::string_view text,
                                std::string_view name_for_errors) {
  Message* parent = MutableParent(message, path);
  const FieldDescriptor* f = path.back();
  const Reflection* r = parent->GetReflection();
  const bool repeated = f->is_repeated();
  auto bad = [&](std::string_view expected) {
    return Violation(name_for_errors,
                     absl::StrCat("'", AV(text), "' is not ", AV(expected)));
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      if (!absl::SimpleAtoi(AV(text), &v)) {
        return bad("a 32-bit integer");
      }
      repeated ? r->AddInt32(parent, f, v) : r->SetInt32(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(AV(text), &v)) {
        return bad("a 64-bit integer");
      }
      repeated ? r->AddInt64(parent, f, v) : r->SetInt64(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      if (!absl::SimpleAtoi(AV(text), &v)) {
        return bad("an unsigned 32-bit integer");
      }
      repeated ? r->AddUInt32(parent, f, v) : r->SetUInt32(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(AV(text), &v)) {
        return bad("an unsigned 64-bit integer");
      }
      repeated ? r->AddUInt64(parent, f, v) : r->SetUInt64(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = 0;
      if (!absl::SimpleAtod(AV(text), &v)) {
        return bad("a number");
      }
      repeated ? r->AddDouble(parent, f, v) : r->SetDouble(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float v = 0;
      if (!absl::SimpleAtof(AV(text), &v)) {
        return bad("a number");
      }
      repeated ? r->AddFloat(parent, f, v) : r->SetFloat(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (text == "true" || text == "1") {
        v = true;
      } else if (text != "false" && text != "0") {
        return bad("true or false");
      }
      repeated ? r->AddBool(parent, f, v) : r->SetBool(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* v =
          f->enum_type()->FindValueByName(std::string(text));
      int32_t number = 0;
      if (v == nullptr && absl::SimpleAtoi(AV(text), &number)) {
        v = f->enum_type()->FindValueByNumber(number);
      }
      if (v == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < f->enum_type()->value_count(); ++i) {
          names.push_back(f->enum_type()->value(i)->name());
        }
        return bad(absl::StrCat("one of ", absl::StrJoin(names, ", ")));
      }
      repeated ? r->AddEnum(parent, f, v) : r->SetEnum(parent, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v(text);
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        absl::string_view in = AV(text);
        if (!absl::Base64Unescape(in, &v) && !absl::WebSafeBase64Unescape(in, &v)) {
          return bad("base64");
        }
      }
      repeated ? r->AddString(parent, f, std::move(v)) : r->SetString(parent, f, std::move(v));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (f->is_map()) {
        return Violation(name_for_errors, "a map cannot be set from a query parameter");
      }
      Message* sub = repeated ? r->AddMessage(parent, f) : r->MutableMessage(parent, f);
      return SetMessageFromString(sub, text, name_for_errors);
    }
  }
  return bad("supported");
}

absl::StatusOr<RequestShape> RequestShape::Make(const Descriptor* request,
                                                std::span<const std::string> path_fields,
                                                std::string_view body) {
  RequestShape shape;
  shape.request_ = request;
  for (const std::string& dotted : path_fields) {
    auto path = ResolveFieldPath(request, dotted, /*json_names=*/false);
    if (!path.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("path variable ", SV(path.status().message())));
    }
    const FieldDescriptor* leaf = path->back();
    if (leaf->is_repeated() || leaf->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path variable '", dotted, "' must name a singular scalar field"));
    }
    shape.path_fields_.push_back(*std::move(path));
  }
  if (body == "*") {
    shape.whole_body_ = true;
  } else if (!body.empty()) {
    const FieldDescriptor* f = request->FindFieldByName(std::string(body));
    if (f == nullptr || f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "body '", AV(body), "' must name a singular message field of ", request->full_name()));
    }
    shape.body_field_ = f;
  }
  return shape;
}

absl::Status RequestShape::MergeBody(std::string_view json, Message* request) const {
  if (!has_body()) {
    return absl::OkStatus();
  }
  std::string_view text = SV(absl::StripAsciiWhitespace(AV(json)));
  if (text.empty()) {
    text = "{}";
  }
  Message* target = request;
  if (body_field_ != nullptr) {
    target = request->GetReflection()->MutableMessage(request, body_field_);
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), target, options);
  if (!st.ok()) {
    return JsonParseError(ToStd(st.message()), body_field_);
  }
  return absl::OkStatus();
}

absl::Status RequestShape::BindPath(std::span<const std::string> values,
                                    Message* request) const {
  for (size_t i = 0; i < path_fields_.size() && i < values.size(); ++i) {
    const FieldPath& path = path_fields_[i];
    const std::string name = FieldPathString(path);
    std::string before;
    bool had = false;
    if (const Message* parent = ConstParent(*request, path); parent != nullptr) {
      had = parent->GetReflection()->HasField(*parent, path.back());
      if (had) {
        before = ScalarText(*parent, path.back());
      }
    }
    if (absl::Status s = SetFieldFromString(request, path, values[i], name); !s.ok()) {
      return s;
    }
    if (had) {
      const std::string after = ScalarText(*ConstParent(*request, path), path.back());
      if (after != before) {
        return Violation(name, absl::StrCat("the body says '", before, "' but the URL path says '",
                                            after, "'"));
      }
    }
  }
  return absl::OkStatus();
}

bool RequestShape::IsReserved(const FieldPath& path) const {
  if (whole_body_) {
    return true;
  }
  auto overlaps = [&path](const FieldPath& bound) {
    const size_t n = std::min(bound.size(), path.size());
    return std::equal(bound.begin(), bound.begin() + static_cast<std::ptrdiff_t>(n),
                      path.begin());
  };
  if (body_field_ != nullptr && path.front() == body_field_) {
    return true;
  }
  for (const FieldPath& bound : path_fields_) {
    if (overlaps(bound)) {
      return true;
    }
  }
  return false;
}

absl::Status RequestShape::BindQuery(std::string_view query, Message* request) const {
  std::set<std::string> singular_seen;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const size_t eq = pair.find('=');
    std::string key;
    std::string value;
    if (!PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true, &key)) {
      return Violation(pair.substr(0, eq), "malformed percent-encoding in the parameter name",
                       "INVALID_QUERY_PARAMETER");
    }
    if (eq != std::string_view::npos &&
        !PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true, &value)) {
      return Violation(key, "malformed percent-encoding in the value", "INVALID_QUERY_PARAMETER");
    }
    auto path = ResolveFieldPath(request_, key, /*json_names=*/true);
    if (!path.ok()) {
      return Violation(key, "unknown query parameter", "UNKNOWN_QUERY_PARAMETER");
    }
    const std::string canonical = FieldPathString(*path);
    if (IsReserved(*path)) {
      return Violation(key,
                       whole_body_ ? "this method takes every field from the request body"
                                   : absl::StrCat(canonical, " is set by the URL path or the body"),
                       "INVALID_QUERY_PARAMETER");
    }
    if (!path->back()->is_repeated() && !singular_seen.insert(canonical).second) {
      return Violation(key, "given more than once but not repeated", "INVALID_QUERY_PARAMETER");
    }
    if (absl::Status s = SetFieldFromString(request, *path, value, key); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResponseToJson(const Message& response,
                                           const FieldDescriptor* response_body) {
  const Message& shown =
      response_body == nullptr ? response : response.GetReflection()->GetMessage(response,
                                                                                 response_body);
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(shown, &out, PrintOptions(true));
  if (!st.ok()) {
    return absl::InternalError(absl::StrCat("cannot render ", shown.GetDescriptor()->full_name(),
                                            " as JSON: ", ToStd(st.message())));
  }
  return out;
}

int HttpStatusFromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

std::string_view StatusCodeName(grpc::StatusCode code) {
  static constexpr std::string_view kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",   "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

ApiError ApiErrorFromStatus(const absl::Status& status) {
  ApiError e;
  e.code = static_cast<grpc::StatusCode>(status.code());
  e.http_status = HttpStatusFromGrpc(e.code);
  e.message = std::string(SV(status.message()));
  e.reason = rpc::Reason(status);
  e.violations = rpc::Violations(status);
  return e;
}

std::string ErrorJson(const ApiError& error) {
  std::vector<std::string> details;
  google::protobuf::Any any;
  google::rpc::ErrorInfo info;
  info.set_reason(error.reason.empty() ? std::string(StatusCodeName(error.code)) : error.reason);
  info.set_domain(error.domain);
  any.PackFrom(info);
  if (std::string json; AnyToJson(any, &json)) {
    details.push_back(std::move(json));
  }
  if (!error.violations.empty()) {
    google::rpc::BadRequest bad;
    for (const rpc::FieldViolation& v : error.violations) {
      auto* fv = bad.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    any.PackFrom(bad);
    if (std::string json; AnyToJson(any, &json)) {
      details.push_back(std::move(json));
    }
  }
  return ErrorJsonWithDetails(error.http_status, error.code, error.message, details);
}

RenderedError RenderBackendError(const grpc::Status& status, std::string_view backend) {
  const grpc::StatusCode code = status.error_code();
  RenderedError out;
  out.http_status = HttpStatusFromGrpc(code);
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details()) &&
      details.details_size() > 0) {
    std::vector<std::string> rendered;
    for (const google::protobuf::Any& any : details.details()) {
      if (std::string json; AnyToJson(any, &json)) {
        rendered.push_back(std::move(json));
      }
    }
    out.body = ErrorJsonWithDetails(out.http_status, code, status.error_message(), rendered);
    return out;
  }
  ApiError e;
  e.http_status = out.http_status;
  e.code = code;
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      e.reason = "BACKEND_UNAVAILABLE";
      e.message = absl::StrCat("the ", AV(backend), " service is unavailable; retry later");
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      e.reason = "BACKEND_TIMEOUT";
      e.message = absl::StrCat("the ", AV(backend), " service did not answer in time");
      break;
    case grpc::StatusCode::CANCELLED:
      e.message = "the request was cancelled";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      e.message = absl::StrCat("the ", AV(backend), " service does not implement this method");
      break;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      e.message = "internal error";
      break;
    default:
      e.message = status.error_message();
  }
  out.body = ErrorJson(e);
  return out;
}

}  // namespace dj::gateway
