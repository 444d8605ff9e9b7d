// An OpenAPI 3.0.3 document (JSON) describing the gateway's HTTP routes, derived from the same
// google.api.http annotations the gateway routes by: paths, parameters, bodies, schemas of every
// message they reach, and bearer-token security. dj-openapi prints it; docs/openapi.json is the
// checked-in copy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/src/gateway.h"

namespace dj::gateway {

// The document for `routes` (Gateway::routes(); the descriptors must outlive the call),
// pretty-printed with a 2-space indent and sorted object keys: byte-identical for the same routes.
//
// Path keys: each variable "{f=P}" is written as P with its '*' / '**' replaced by "{f}" (or
// "{f_1}", "{f_2}", ... when P has several), a literal-only P as itself, and "{f}" stays "{f}";
// the ":verb" suffix is kept. "/v1/{name=organizations/*}:listDescendants" becomes
// "/v1/organizations/{name}:listDescendants", the client sending only the id and the gateway
// binding name = "organizations/<id>". Keys that differ only in parameter names (which OpenAPI
// treats as the same path) are merged under the one that sorts first, the other operations'
// parameters renamed to its names, their descriptions saying which field they bind.
std::string OpenApiDocument(const std::vector<Route>& routes, std::string_view version = "1.0.0");

// The document for the embedded descriptor set's routes: builds a Gateway with channels that
// never connect and throwaway token keys (only its routes are used). For dj-openapi and tests.
absl::StatusOr<std::string> DescriptorSetOpenApiDocument(std::string_view version = "1.0.0");

}  // namespace dj::gateway
