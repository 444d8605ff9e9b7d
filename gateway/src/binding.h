// Binding HTTP input onto request messages: field paths ("organization.displayName"), query
// parameters, and naming the field a protobuf JSON parse error is about.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace dj::gateway {

// Walks `path` ("organization.name" or "organization.displayName") to the message holding its
// last field; returns that field (and the holder, and the path in proto names), or null.
const google::protobuf::FieldDescriptor* Walk(google::protobuf::Message& root,
                                              std::string_view path,
                                              google::protobuf::Message** holder,
                                              std::string* canonical);

// The request field a protobuf JSON parse error names ("(organization.kind): invalid value ..."
// -> "organization.kind"; "(organization) foo: Cannot find field." -> "organization.foo"),
// prefixed with `prefix` (the body field), or "" when it names none.
std::string FieldOfJsonError(std::string_view error, std::string_view prefix);

// Sets `message`'s fields from query parameters (camelCase or snake_case, nested with dots),
// skipping `bound` field paths. Errors name the parameter.
absl::Status BindQuery(const std::string& query, google::protobuf::Message& message,
                       const std::vector<std::string>& bound);

}  // namespace dj::gateway
