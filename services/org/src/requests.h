// Request handling the org service's resources share: locking the organization a create hangs
// on; the update masks and idempotent creates of every service (rpc/requests.h), by their names
// here too.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "common/db/errors.h"
#include "common/db/pool.h"
#include "common/rpc/errors.h"
#include "common/rpc/requests.h"
#include "common/runtime/strings.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/org/src/org_store.h"

namespace dj::org {

using rpc::CreateOnce;
using rpc::IdempotentCreate;
using rpc::ResolveUpdateMask;
using rpc::UpdatableFields;

// The organization a create hangs on, locked until commit (so checks across its rows see every
// concurrent writer's result) and the caller authorized to create `kind` there (`missing` when
// it is absent or out of scope); entry.org_path set. With `dissolved`, the organization must
// be active, else *dissolved.
absl::StatusOr<OrgRow> LockOrganization(db::Connection& c, const auth::Principal& who,
                                        std::string_view kind, int64_t org_id,
                                        const absl::Status& missing, audit::Entry& entry,
                                        const absl::Status* dissolved);

}  // namespace dj::org
