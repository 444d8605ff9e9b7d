// The update-mask resolution and the organization lock every org resource shares.
#include "services/org/src/requests.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"

namespace dj::org {

absl::StatusOr<std::set<std::string>> ResolveUpdateMask(const google::protobuf::FieldMask& mask,
                                                        std::set<std::string> set_fields,
                                                        const UpdatableFields& spec) {
  if (mask.paths().empty()) {
    if (set_fields.empty()) {
      return rpc::InvalidArgument({{"update_mask", "names no field, and no field is set"}});
    }
    return set_fields;
  }
  std::set<std::string> paths;
  for (const std::string& raw : mask.paths()) {
    const std::string path = rpc::ToSnakeCase(raw);
    if (path == "*") {
      if (mask.paths_size() != 1) {
        return rpc::InvalidArgument({{"update_mask", "'*' must be the only path"}});
      }
      return std::set<std::string>(spec.fields.begin(), spec.fields.end());
    }
    if (std::find(spec.fields.begin(), spec.fields.end(), path) != spec.fields.end()) {
      paths.insert(path);
    } else if (auto it = spec.refused.find(path); it != spec.refused.end()) {
      return rpc::InvalidArgument({{"update_mask", absl::StrCat("'", raw, "' ", it->second)}});
    } else {
      return rpc::InvalidArgument(
          {{"update_mask", absl::StrCat("unknown field '", raw,
                                        "'; updatable: ", absl::StrJoin(spec.fields, ", "))}});
    }
  }
  return paths;
}

absl::StatusOr<OrgRow> LockOrganization(db::Connection& c, const auth::Principal& who,
                                        std::string_view kind, int64_t org_id,
                                        const absl::Status& missing, audit::Entry& entry,
                                        const absl::Status* dissolved) {
  auto org = OrgStore::Find(c, org_id, /*for_update=*/true);
  if (!org.ok()) {
    return org.status();
  }
  if (!org->has_value()) {
    return missing;
  }
  entry.org_path = (*org)->path;
  if (absl::Status s = auth::AuthorizeOrHide(who, "create", {std::string(kind), (*org)->path, ""},
                                             missing, &entry.detail);
      !s.ok()) {
    return s;
  }
  if (dissolved != nullptr && (*org)->status != dangjian::org::v1::ACTIVE) {
    return *dissolved;
  }
  return **org;
}

}  // namespace dj::org
