// Request checks the org service's resources share: which fields an Update changes (AIP-134).
// (The request_id of an idempotent Create is rpc::ValidateRequestId, for every service.)
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"

namespace dj::org {

struct UpdatableFields {
  std::vector<std::string> fields;  // what an update may change, in the order errors list them
  // Paths refused with a specific reason ("is output only", "moving is its own method").
  std::map<std::string, std::string, std::less<>> refused;
};

// The paths an update changes: the mask's (either case), `*` for every updatable field, or, with
// no mask, `set_fields` (the fields set in the request's resource). INVALID_ARGUMENT naming
// update_mask for an unknown or refused path, for `*` alongside others, and for nothing to change.
absl::StatusOr<std::set<std::string>> ResolveUpdateMask(const google::protobuf::FieldMask& mask,
                                                        std::set<std::string> set_fields,
                                                        const UpdatableFields& spec);

}  // namespace dj::org
