// What every handler of the member service that touches a member record shares: its name and
// not-found answer, where it stands for authorization, locking it for a change (scope, right,
// etag), its events (stream "member.members", never personal data), and an organization's
// current path as the org service answers it for the caller.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/audit/audit_log.h"
#include "common/audit/recorder.h"
#include "common/auth/authorize.h"
#include "common/auth/current_path.h"
#include "common/auth/principal.h"
#include "common/db/db.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "dangjian/member/v1/events.pb.h"
#include "google/protobuf/message.h"
#include "services/member/src/member_store.h"

namespace dj::member {

// What every gRPC service class of the member service stands on: the database, ids, the trust
// in the gateway, the member service's audit log (auditLogs/member), the org service's paths
// and the clock (injected by tests; the system's otherwise).
class MemberHandlers {
 protected:
  MemberHandlers(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                 std::string audit_key, auth::OrgPathLookup org_paths,
                 std::function<int64_t()> now_us);
  ~MemberHandlers() = default;

  int64_t NowUs() const { return now_us_(); }
  // Today in Asia/Shanghai.
  time::CivilDate Today() const;

  db::Pool& pool_;
  ids::IdGenerator& ids_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  auth::OrgPathLookup org_paths_;
  std::function<int64_t()> now_us_;  // never empty
};

inline constexpr std::string_view kMembers = "members";
inline constexpr std::string_view kOrganizations = "organizations";
inline constexpr std::string_view kMemberStream = "member.members";
inline constexpr std::string_view kErrorDomain = "member.dangjian";

absl::Status MemberNotFound(std::string_view name);

// LEFT, DECEASED, TRANSFERRED_OUT: the membership here has ended (final statuses).
bool MembershipEnded(int32_t status);
absl::Status EtagMismatch(std::string_view name);

// A member record as authorization sees it: kind "members" at its organization's path, owned by
// the member (for `self` rows).
auth::Resource MemberResource(const MemberRow& row);

// The record as events carry it.
dangjian::member::v1::MemberSnapshot Snapshot(const MemberRow& row);

// Appends `event` about `row` to the outbox in the caller's transaction (key "members/{id}").
absl::Status PublishMemberEvent(db::Connection& c, ids::IdGenerator& ids, const MemberRow& row,
                                int64_t now_us, const google::protobuf::Message& event);

// In the caller's transaction: member `name` locked for `action` by `who`. NOT_FOUND when it is
// missing or outside the caller's scope, PERMISSION_DENIED without the right, ABORTED when `etag`
// (optional) is not the row's. Fills in entry.org_path.
absl::StatusOr<MemberRow> LockMember(db::Connection& c, const auth::Principal& who,
                                     std::string_view name, std::string_view etag,
                                     std::string_view action, audit::Entry& entry);

// The current path of organization `name` as the org service answers it for `who`; NOT_FOUND
// (outside the scope, or missing) becomes a violation of `field`.
absl::StatusOr<std::string> OrganizationPath(const auth::OrgPathLookup& org_paths,
                                             const auth::Principal& who, std::string_view name,
                                             std::string_view field);

}  // namespace dj::member
