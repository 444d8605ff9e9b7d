// gRPC handlers of dangjian.org.v1.OrganizationService: validate the request, apply the
// structure rules, call the store in a transaction, keep the cache coherent, map errors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "common/cache/cache_aside.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "common/rpc/fast_path.h"
#include "dangjian/org/v1/org.grpc.pb.h"
#include "services/org/src/org_store.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/rule_book.h"
#include "services/org/src/tree_version.h"

namespace dj::org {

// auth::AuthorizeOrHide for the organization `name` at `path`; `name` empty: the collection
// itself (roots), where there is nothing to hide and a refusal is plain PERMISSION_DENIED.
// The reason goes to `entry`'s detail when given.
absl::Status AuthorizeOrganization(const auth::Principal& who, std::string_view action,
                                   std::string_view name, std::string_view path,
                                   audit::Entry* entry);

inline constexpr std::string_view kErrorDomain = "org.dangjian";

// How many members organization `name` has (the member service's answer). Dissolving or
// merging away an organization with members is refused. Unset: no members are known yet (the
// member service keeps members from Step 5 on).
using MemberCount = std::function<absl::StatusOr<int64_t>(std::string_view name)>;

struct OrgServiceOptions {
  MemberCount member_count;
  std::chrono::seconds cache_ttl{300};
  std::function<int64_t()> now_us;  // microseconds since the epoch; the system clock if unset
};

// GetOrganization is a fast-path method (common/rpc/fast_path.h): a fresh cached copy is answered
// on the thread that received the call; everything else goes by Get on a worker thread.
class OrgService final : public dangjian::org::v1::OrganizationService::WithCallbackMethod_GetOrganization<
                             dangjian::org::v1::OrganizationService::Service> {
 public:
  // `cache` may be null (no caching). `auth` checks the principal the gateway vouches for;
  // `audit_key` chains the service's audit log.
  OrgService(db::Pool& pool, cache::Cache* cache, ids::IdGenerator& ids,
             const auth::InternalAuth& auth, std::string audit_key, OrgServiceOptions options = {});

  grpc::Status CreateOrganization(grpc::ServerContext* context,
                                  const dangjian::org::v1::CreateOrganizationRequest* request,
                                  dangjian::org::v1::Organization* response) override;
  grpc::ServerUnaryReactor* GetOrganization(
      grpc::CallbackServerContext* context,
      const dangjian::org::v1::GetOrganizationRequest* request,
      dangjian::org::v1::Organization* response) override;
  grpc::Status ListOrganizations(grpc::ServerContext* context,
                                 const dangjian::org::v1::ListOrganizationsRequest* request,
                                 dangjian::org::v1::ListOrganizationsResponse* response) override;
  grpc::Status UpdateOrganization(grpc::ServerContext* context,
                                  const dangjian::org::v1::UpdateOrganizationRequest* request,
                                  dangjian::org::v1::Organization* response) override;
  grpc::Status DeleteOrganization(grpc::ServerContext* context,
                                  const dangjian::org::v1::DeleteOrganizationRequest* request,
                                  google::protobuf::Empty* response) override;
  grpc::Status MoveOrganization(grpc::ServerContext* context,
                                const dangjian::org::v1::MoveOrganizationRequest* request,
                                dangjian::org::v1::Organization* response) override;
  grpc::Status DissolveOrganization(grpc::ServerContext* context,
                                    const dangjian::org::v1::DissolveOrganizationRequest* request,
                                    dangjian::org::v1::Organization* response) override;
  grpc::Status MergeOrganization(grpc::ServerContext* context,
                                 const dangjian::org::v1::MergeOrganizationRequest* request,
                                 dangjian::org::v1::Organization* response) override;
  grpc::Status ListDescendants(grpc::ServerContext* context,
                               const dangjian::org::v1::ListDescendantsRequest* request,
                               dangjian::org::v1::ListDescendantsResponse* response) override;
  grpc::Status ListAuditEntries(grpc::ServerContext* context,
                                const dangjian::audit::v1::ListAuditEntriesRequest* request,
                                dangjian::audit::v1::ListAuditEntriesResponse* response) override;
  grpc::Status VerifyAuditLog(grpc::ServerContext* context,
                              const dangjian::audit::v1::VerifyAuditLogRequest* request,
                              dangjian::audit::v1::VerifyAuditLogResponse* response) override;

  // The same operations without gRPC, for in-process callers and tests, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::Organization> Create(
      const auth::Principal& who, const dangjian::org::v1::CreateOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::Organization> Get(
      const auth::Principal& who, const dangjian::org::v1::GetOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::ListOrganizationsResponse> List(
      const auth::Principal& who, const dangjian::org::v1::ListOrganizationsRequest& request);
  absl::StatusOr<dangjian::org::v1::Organization> Update(
      const auth::Principal& who, const dangjian::org::v1::UpdateOrganizationRequest& request);
  absl::Status Delete(const auth::Principal& who,
                      const dangjian::org::v1::DeleteOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::Organization> Move(
      const auth::Principal& who, const dangjian::org::v1::MoveOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::Organization> Dissolve(
      const auth::Principal& who, const dangjian::org::v1::DissolveOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::Organization> Merge(
      const auth::Principal& who, const dangjian::org::v1::MergeOrganizationRequest& request);
  absl::StatusOr<dangjian::org::v1::ListDescendantsResponse> Descendants(
      const auth::Principal& who, const dangjian::org::v1::ListDescendantsRequest& request);

  audit::Recorder& audit() { return audit_; }
  // The structure rules in force, versioned (RuleSetService reads and adds versions through it).
  RuleBook& rules() { return rules_; }

 private:
  int64_t NowUs() const;
  // The organization `id` read on `c`; NOT_FOUND when there is none.
  absl::StatusOr<OrgRow> Load(db::Connection& c, int64_t id);
  // The same on a connection of its own (outside any transaction).
  absl::StatusOr<OrgRow> Load(int64_t id);
  // A new organization's row from the request, checked without the database (ids, times and
  // status set); `parent_id` gets the parent it names.
  absl::StatusOr<OrgRow> NewRow(const StructureRules& rules,
                                const dangjian::org::v1::Organization& in,
                                std::optional<int64_t>* parent_id);
  // Inside the create's transaction: places `row` under its parent (locked, authorized, active,
  // nesting checked) or at the top; sets its depth and path.
  absl::Status PlaceNew(db::Connection& c, const auth::Principal& who, const StructureRules& rules,
                        std::optional<int64_t> parent_id, const std::string& parent_name,
                        OrgRow& row, audit::Entry& entry);
  // GetOrganization's fast half: answers only with a cached copy no older than the tree version
  // read with it, for a caller it grants; anything else (no principal, a bad name, a miss, a
  // stale copy, a refusal, which Get records) goes to `call`'s blocking half.
  void GetCached(std::shared_ptr<rpc::UnaryCall> call, const grpc::CallbackServerContext& context,
                 const dangjian::org::v1::GetOrganizationRequest& request,
                 dangjian::org::v1::Organization* response);
  // Load's organization with the tree version read before it (the cache's value).
  absl::StatusOr<std::string> LoadStamped(int64_t id);
  void Invalidate(int64_t id);
  // A moved subtree's organizations, in a few cache round trips.
  void Invalidate(const std::vector<int64_t>& ids);
  // Authorize `action` on the organization at `path`; a refusal is recorded in the audit log,
  // and one outside the caller's scope looks exactly like a missing organization.
  absl::Status Check(const auth::Principal& who, std::string_view action, std::string_view name,
                     std::string_view path);
  // Appends `event` (stream org.organizations, of the aggregate `key`: an organization's name,
  // or TreeVersion::kEventKey for a move) to the outbox in `c`'s transaction.
  absl::StatusOr<events::Event> Publish(db::Connection& c, std::string_view key,
                                        const google::protobuf::Message& event);
  // Inside a transaction: the units `row` newly names (those not in `before`) exist within the
  // caller's scope; a unit outside it counts as missing (400, "no such unit").
  absl::Status CheckUnitsExist(db::Connection& c, const auth::Principal& who, const OrgRow& row,
                               const std::optional<OrgRow>& before);
  // Refuses when `row` still has members (the member service decides).
  absl::Status CheckNoMembers(const OrgRow& row, std::string_view field);
  // Inside a transaction: moves `row`'s subtree under `parent` (rules, cycle and name checks
  // included), publishing OrganizationMoved. Returns the moved ids; `field` names new_parent.
  absl::StatusOr<std::vector<int64_t>> MoveInTransaction(db::Connection& c, const OrgRow& row,
                                                         const OrgRow& parent,
                                                         std::string_view field);
  // Inside a change's transaction: the organization `id`, locked until commit, the caller
  // authorized for `action` on it (a refusal outside the scope reads as not found), at `etag`
  // when given; entry.org_path set.
  absl::StatusOr<OrgRow> LockToChange(db::Connection& c, const auth::Principal& who,
                                      std::string_view action, std::string_view name, int64_t id,
                                      std::string_view etag, audit::Entry& entry);
  // Inside a dissolve's or merge's transaction: the organization `id`, locked, authorized for
  // "dissolve", at `etag` when given, active and not the root (which cannot be `verb`).
  absl::StatusOr<OrgRow> LockToDissolve(db::Connection& c, const auth::Principal& who,
                                        std::string_view name, int64_t id, std::string_view etag,
                                        std::string_view verb, audit::Entry& entry);
  // Writes `row` (dissolved_date and reason set) as DISSOLVED, ends what hangs on it and
  // publishes OrganizationDissolved. Returns what was ended, for the audit entry.
  absl::StatusOr<std::string> WriteDissolved(db::Connection& c, std::string_view name, OrgRow& row);
  // Moves `row`'s active children under `into` (a merge); a child that does not fit is named.
  absl::StatusOr<std::vector<int64_t>> MoveChildrenInto(db::Connection& c, const OrgRow& row,
                                                        const OrgRow& into);
  // The date an operation takes effect: `date` when set (validated), else today in Shanghai.
  absl::StatusOr<time::CivilDate> EffectiveDate(const google::type::Date* date,
                                                std::string_view field) const;

  OrgStore store_;
  ids::IdGenerator& ids_;
  OrgServiceOptions options_;
  cache::CacheAside cache_;
  TreeVersion tree_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  RuleBook rules_;
  rpc::Workers workers_{8, "dj-org-workers"};  // GetOrganization's blocking half
};

// Proto <-> row, exposed for tests.
dangjian::org::v1::Organization ToProto(const OrgRow& row);

}  // namespace dj::org
