// gRPC handlers of dangjian.org.v1.CommunityService: party-building communities (党建共同体,
// "1+N+X"), pairings (结对) and stations (进驻社区). Validate, authorize at the organization path
// each hangs on (looked up at request time, so moves are followed), write in one audited
// transaction; every read runs on one connection (db::Pool::Run) or on the transaction's.
// Communities are in community_service.cc, pairings and stations in community_ties.cc, the
// checks of a community's fields in community_requests.{h,cc}.
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/events/events.h"
#include "common/ids/id_generator.h"
#include "dangjian/org/v1/community.grpc.pb.h"
#include "services/org/src/community_store.h"
#include "services/org/src/org_store.h"

namespace dj::org {

class CommunityService final : public dangjian::org::v1::CommunityService::Service {
 public:
  // `auth` checks the principal the gateway vouches for; `audit_key` chains the org service's
  // audit log ("auditLogs/org"); `now_us` is the clock (the system clock when unset), which also
  // decides which pairings and stations are current.
  CommunityService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                   std::string audit_key, std::function<int64_t()> now_us = {});

  grpc::Status CreateCommunity(grpc::ServerContext* context,
                               const dangjian::org::v1::CreateCommunityRequest* request,
                               dangjian::org::v1::Community* response) override;
  grpc::Status GetCommunity(grpc::ServerContext* context,
                            const dangjian::org::v1::GetCommunityRequest* request,
                            dangjian::org::v1::Community* response) override;
  grpc::Status ListCommunities(grpc::ServerContext* context,
                               const dangjian::org::v1::ListCommunitiesRequest* request,
                               dangjian::org::v1::ListCommunitiesResponse* response) override;
  grpc::Status UpdateCommunity(grpc::ServerContext* context,
                               const dangjian::org::v1::UpdateCommunityRequest* request,
                               dangjian::org::v1::Community* response) override;
  grpc::Status DeleteCommunity(grpc::ServerContext* context,
                               const dangjian::org::v1::DeleteCommunityRequest* request,
                               google::protobuf::Empty* response) override;
  grpc::Status CreatePairing(grpc::ServerContext* context,
                             const dangjian::org::v1::CreatePairingRequest* request,
                             dangjian::org::v1::Pairing* response) override;
  grpc::Status GetPairing(grpc::ServerContext* context,
                          const dangjian::org::v1::GetPairingRequest* request,
                          dangjian::org::v1::Pairing* response) override;
  grpc::Status ListPairings(grpc::ServerContext* context,
                            const dangjian::org::v1::ListPairingsRequest* request,
                            dangjian::org::v1::ListPairingsResponse* response) override;
  grpc::Status EndPairing(grpc::ServerContext* context,
                          const dangjian::org::v1::EndPairingRequest* request,
                          dangjian::org::v1::Pairing* response) override;
  grpc::Status CreateStation(grpc::ServerContext* context,
                             const dangjian::org::v1::CreateStationRequest* request,
                             dangjian::org::v1::Station* response) override;
  grpc::Status GetStation(grpc::ServerContext* context,
                          const dangjian::org::v1::GetStationRequest* request,
                          dangjian::org::v1::Station* response) override;
  grpc::Status ListStations(grpc::ServerContext* context,
                            const dangjian::org::v1::ListStationsRequest* request,
                            dangjian::org::v1::ListStationsResponse* response) override;
  grpc::Status EndStation(grpc::ServerContext* context,
                          const dangjian::org::v1::EndStationRequest* request,
                          dangjian::org::v1::Station* response) override;

  // The same operations without gRPC, for in-process callers and tests, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::Community> Create(
      const auth::Principal& who, const dangjian::org::v1::CreateCommunityRequest& request);
  absl::StatusOr<dangjian::org::v1::Community> Get(
      const auth::Principal& who, const dangjian::org::v1::GetCommunityRequest& request);
  absl::StatusOr<dangjian::org::v1::ListCommunitiesResponse> List(
      const auth::Principal& who, const dangjian::org::v1::ListCommunitiesRequest& request);
  absl::StatusOr<dangjian::org::v1::Community> Update(
      const auth::Principal& who, const dangjian::org::v1::UpdateCommunityRequest& request);
  absl::Status Delete(const auth::Principal& who,
                      const dangjian::org::v1::DeleteCommunityRequest& request);
  absl::StatusOr<dangjian::org::v1::Pairing> CreatePairing(
      const auth::Principal& who, const dangjian::org::v1::CreatePairingRequest& request);
  absl::StatusOr<dangjian::org::v1::Pairing> GetPairing(
      const auth::Principal& who, const dangjian::org::v1::GetPairingRequest& request);
  absl::StatusOr<dangjian::org::v1::ListPairingsResponse> ListPairings(
      const auth::Principal& who, const dangjian::org::v1::ListPairingsRequest& request);
  absl::StatusOr<dangjian::org::v1::Pairing> EndPairing(
      const auth::Principal& who, const dangjian::org::v1::EndPairingRequest& request);
  absl::StatusOr<dangjian::org::v1::Station> CreateStation(
      const auth::Principal& who, const dangjian::org::v1::CreateStationRequest& request);
  absl::StatusOr<dangjian::org::v1::Station> GetStation(
      const auth::Principal& who, const dangjian::org::v1::GetStationRequest& request);
  absl::StatusOr<dangjian::org::v1::ListStationsResponse> ListStations(
      const auth::Principal& who, const dangjian::org::v1::ListStationsRequest& request);
  absl::StatusOr<dangjian::org::v1::Station> EndStation(
      const auth::Principal& who, const dangjian::org::v1::EndStationRequest& request);

  // Consumes the org service's own events (stream org.organizations, group "org.communities"):
  // an OrganizationMoved places every community with an organization in the moved subtree at
  // the deepest organization containing its organizations again, once per event
  // (events::ApplyInOrder, in the tree's order). Other events are taken and ignored.
  static constexpr char kOrgEventsGroup[] = "org.communities";
  absl::Status OnOrganizationEvent(const events::Event& event);

 private:
  // What a community's organizations resolve to: the scope organization and its path.
  struct Placement {
    int64_t scope_org_id = 0;
    std::string scope_path;
  };
  // A page of ties and the token for the next one.
  struct TiePage {
    std::vector<Tie> ties;
    std::string next_page_token;
  };

  // A gRPC method: `fn` on behalf of the caller the gateway vouched for, answered on the wire.
  template <typename Fn, typename Response>
  grpc::Status Serve(grpc::ServerContext* context, Fn&& fn, Response* response);
  // A list response from a page of ties, each made by `to_proto` and added by `add`.
  template <typename Response, typename ToProto, typename Add>
  static absl::StatusOr<Response> PageOf(absl::StatusOr<TiePage> page, ToProto to_proto, Add add) {
    if (!page.ok()) {
      return page.status();
    }
    Response out;
    for (const Tie& t : page->ties) {
      *(out.*add)() = to_proto(t);
    }
    out.set_next_page_token(page->next_page_token);
    return out;
  }
  time::CivilDate Today() const;
  // The path of organization `id`; NOT_FOUND naming `name` when it is gone.
  absl::StatusOr<std::string> OrgPath(db::Connection& c, int64_t id, std::string_view name);
  // Whether `who` may have `collection`/`id`, created earlier at organization `org_id`, answered
  // again (a replayed create); fills in the entry's resource and org_path.
  absl::Status AuthorizeReplay(db::Connection& c, const auth::Principal& who,
                               std::string_view collection, int64_t id, int64_t org_id,
                               audit::Entry& entry);
  // Where community `id`, placed at `path`, stands when `who` reads it: at the caller's scope
  // when one of its organizations is the caller's scope organization, an ancestor of it or
  // inside its subtree ("my community"), else at `path`.
  absl::StatusOr<std::string> ReadPath(db::Connection& c, const auth::Principal& who, int64_t id,
                                       const std::string& path);
  // What a write refused at `path` answers: PERMISSION_DENIED when the caller can read the
  // community from below, else exactly what a missing one answers (or the error of a query).
  // Costs queries: called only for a caller refused out of scope.
  absl::Status Hidden(db::Connection& c, const auth::Principal& who, int64_t id,
                      const std::string& path, std::string_view name);
  // The subtree a list covers: `organization` when set (checked readable as `kind`), else the
  // caller's scope. Returns its path.
  absl::StatusOr<std::string> ListRoot(const auth::Principal& who, std::string_view kind,
                                       std::string_view organization);
  // Authorizes a read of a `kind` resource at `path`, auditing a refusal; out of scope answers
  // `missing`.
  absl::Status CheckRead(const auth::Principal& who, std::string_view kind, std::string_view name,
                         std::string_view path, absl::Status missing);
  // Inside a transaction: checks the community's organizations (present and in the caller's
  // scope, active), computes where it sits, authorizes `action` there (a refusal's why goes to
  // `entry`), then checks they are in no other community than `row.id`.
  absl::StatusOr<Placement> Place(db::Connection& c, const auth::Principal& who,
                                  const CommunityRow& row, std::string_view action,
                                  audit::Entry& entry);
  // DISPLAY_NAME_TAKEN when another community placed at `row.scope_org_id` has `row`'s name.
  // Call only once the caller is authorized there.
  static absl::Status CheckNameFree(db::Connection& c, const CommunityRow& row);
  // Why a write of `row` by `who` hit a unique key (a concurrent twin): its name, or an
  // organization. Only for a status from the write itself, reached after authorization.
  absl::Status ExplainConflict(const auth::Principal& who, const CommunityRow& row,
                               absl::Status status);

  absl::StatusOr<Tie> CreateTie(const auth::Principal& who, const TieTable& table,
                                std::string_view field, std::string_view organization, Tie tie,
                                std::string_view request_id);
  absl::StatusOr<Tie> GetTie(const auth::Principal& who, const TieTable& table,
                             std::string_view name);
  absl::StatusOr<TiePage> ListTies(const auth::Principal& who, const TieTable& table,
                                   std::string_view organization, bool include_ended,
                                   int32_t page_size, std::string_view page_token);
  absl::StatusOr<Tie> EndTie(const auth::Principal& who, const TieTable& table,
                             std::string_view name, const google::type::Date* end_date,
                             std::string_view etag);

  db::Pool& pool_;
  ids::IdGenerator& ids_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  std::function<int64_t()> now_us_;  // never empty: the system clock unless injected
};

// Proto <-> row, exposed for tests.
dangjian::org::v1::Community ToProto(const CommunityRow& row);

}  // namespace dj::org
