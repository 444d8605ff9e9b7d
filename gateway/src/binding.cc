// Binding HTTP input onto request messages.
#include "gateway/src/binding.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "gateway/src/path_template.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace dj::gateway {
namespace {

namespace gpb = google::protobuf;

const gpb::FieldDescriptor* FindField(const gpb::Descriptor* d, std::string_view name) {
  for (int i = 0; i < d->field_count(); ++i) {
    const gpb::FieldDescriptor* f = d->field(i);
    if (f->name() == name || f->json_name() == name) {
      return f;
    }
  }
  return nullptr;
}

}  // namespace

const gpb::FieldDescriptor* Walk(gpb::Message& root, std::string_view path, gpb::Message** holder,
                                 std::string* canonical) {
  gpb::Message* m = &root;
  std::vector<std::string> parts = absl::StrSplit(AV(path), '.');
  canonical->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    const gpb::FieldDescriptor* f = FindField(m->GetDescriptor(), parts[i]);
    if (f == nullptr) {
      return nullptr;
    }
    if (!canonical->empty()) {
      *canonical += '.';
    }
    *canonical += f->name();
    if (i + 1 == parts.size()) {
      *holder = m;
      return f;
    }
    if (f->cpp_type() != gpb::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) {
      return nullptr;
    }
    m = m->GetReflection()->MutableMessage(m, f);
  }
  return nullptr;
}

namespace {

absl::Status SetScalar(gpb::Message& m, const gpb::FieldDescriptor* f, const std::string& value,
                       const std::string& param) {
  const gpb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(param, ": '", value, "' is not ", AV(what)));
  };
  switch (f->cpp_type()) {
    case gpb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("a 32-bit integer");
      rep ? r->AddInt32(&m, f, v) : r->SetInt32(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      rep ? r->AddInt64(&m, f, v) : r->SetInt64(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an unsigned 32-bit integer");
      rep ? r->AddUInt32(&m, f, v) : r->SetUInt32(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an unsigned integer");
      rep ? r->AddUInt64(&m, f, v) : r->SetUInt64(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_DOUBLE:
    case gpb::FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(value, &v)) return bad("a number");
      if (f->cpp_type() == gpb::FieldDescriptor::CPPTYPE_DOUBLE) {
        rep ? r->AddDouble(&m, f, v) : r->SetDouble(&m, f, v);
      } else {
        rep ? r->AddFloat(&m, f, static_cast<float>(v)) : r->SetFloat(&m, f, static_cast<float>(v));
      }
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_BOOL: {
      if (value != "true" && value != "false" && value != "1" && value != "0") {
        return bad("true or false");
      }
      const bool v = value == "true" || value == "1";
      rep ? r->AddBool(&m, f, v) : r->SetBool(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_ENUM: {
      const gpb::EnumValueDescriptor* e = f->enum_type()->FindValueByName(value);
      int number = 0;
      if (e == nullptr && absl::SimpleAtoi(value, &number)) {
        e = f->enum_type()->FindValueByNumber(number);
      }
      if (e == nullptr) return bad(absl::StrCat("a value of ", f->enum_type()->name()));
      rep ? r->AddEnum(&m, f, e) : r->SetEnum(&m, f, e);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_STRING: {
      std::string v = value;
      if (f->type() == gpb::FieldDescriptor::TYPE_BYTES &&
          !absl::WebSafeBase64Unescape(value, &v) && !absl::Base64Unescape(value, &v)) {
        return bad("base64");
      }
      rep ? r->AddString(&m, f, v) : r->SetString(&m, f, v);
      break;
    }
    case gpb::FieldDescriptor::CPPTYPE_MESSAGE: {
      // Well-known types with a JSON string form (FieldMask "a,b", Timestamp, Duration).
      const std::string& type = f->message_type()->full_name();
      if (type != "google.protobuf.FieldMask" && type != "google.protobuf.Timestamp" &&
          type != "google.protobuf.Duration") {
        return absl::InvalidArgumentError(
            absl::StrCat(param, ": cannot be set from a query parameter"));
      }
      gpb::Message* sub = rep ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
      const std::string json = absl::StrCat("\"", log::JsonEscape(value), "\"");
      if (!gpb::util::JsonStringToMessage(json, sub).ok()) {
        return bad(absl::StrCat("a valid ", type));
      }
      break;
    }
  }
  return absl::OkStatus();
}

std::string QueryDecode(std::string_view s) {
  std::string plus(s);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  return PercentDecode(plus);
}

}  // namespace

std::string FieldOfJsonError(std::string_view error, std::string_view prefix) {
  auto join = [&](std::string_view field) {
    return prefix.empty() ? std::string(field) : absl::StrCat(AV(prefix), ".", AV(field));
  };
  if (error.empty() || error.front() != '(') {
    // Top level: "colour: Cannot find field."
    const size_t colon = error.find(": Cannot find field");
    const std::string_view name = error.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        name.find_first_of(" ()") != std::string_view::npos) {
      return "";
    }
    return join(name);
  }
  const size_t close = error.find(')');
  if (close == std::string_view::npos) {
    return "";
  }
  std::string field(error.substr(1, close - 1));
  // "(parent) name: Cannot find field." names a field inside `parent` that does not exist.
  std::string_view rest = error.substr(close + 1);
  if (const size_t colon = rest.find(": Cannot find field"); colon != std::string_view::npos) {
    std::string_view name = rest.substr(0, colon);
    while (!name.empty() && name.front() == ' ') {
      name.remove_prefix(1);
    }
    field = field.empty() ? std::string(name) : absl::StrCat(field, ".", AV(name));
  }
  if (field.empty()) {
    return std::string(prefix);
  }
  return join(field);
}

absl::Status BindQuery(const std::string& query, gpb::Message& message,
                       const std::vector<std::string>& bound) {
  if (query.empty()) {
    return absl::OkStatus();
  }
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    const std::string key = QueryDecode(SV(pair.substr(0, eq)));
    const std::string value =
        eq == absl::string_view::npos ? "" : QueryDecode(SV(pair.substr(eq + 1)));
    gpb::Message* holder = nullptr;
    std::string canonical;
    const gpb::FieldDescriptor* f = Walk(message, key, &holder, &canonical);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown query parameter '", key, "'"));
    }
    for (const std::string& b : bound) {
      if (b == "*" || canonical == b || absl::StartsWith(canonical, b + ".")) {
        return absl::InvalidArgumentError(
            absl::StrCat("query parameter '", key, "' is set by the path or the body"));
      }
    }
    RETURN_IF_ERROR(SetScalar(*holder, f, value, key));
  }
  return absl::OkStatus();
}

}  // namespace dj::gateway
