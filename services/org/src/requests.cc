// The organization lock every org resource shares.
#include "services/org/src/requests.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"

namespace dj::org {

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
