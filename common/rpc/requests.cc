// Update masks (requests.h).
#include "common/rpc/requests.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"

namespace dj::rpc {

absl::StatusOr<std::set<std::string>> ResolveUpdateMask(const google::protobuf::FieldMask& mask,
                                                        std::set<std::string> set_fields,
                                                        const UpdatableFields& spec) {
  if (mask.paths().empty()) {
    if (set_fields.empty()) {
      return InvalidArgument({{"update_mask", "names no field, and no field is set"}});
    }
    return set_fields;
  }
  std::set<std::string> paths;
  for (const std::string& raw : mask.paths()) {
    const std::string path = ToSnakeCase(raw);
    if (path == "*") {
      if (mask.paths_size() != 1) {
        return InvalidArgument({{"update_mask", "'*' must be the only path"}});
      }
      return std::set<std::string>(spec.fields.begin(), spec.fields.end());
    }
    if (std::find(spec.fields.begin(), spec.fields.end(), path) != spec.fields.end()) {
      paths.insert(path);
    } else if (auto it = spec.refused.find(path); it != spec.refused.end()) {
      return InvalidArgument({{"update_mask", absl::StrCat("'", raw, "' ", it->second)}});
    } else {
      return InvalidArgument({{"update_mask", absl::StrCat("unknown field '", raw, "'; updatable: ",
                                                           absl::StrJoin(spec.fields, ", "))}});
    }
  }
  return paths;
}

}  // namespace dj::rpc
