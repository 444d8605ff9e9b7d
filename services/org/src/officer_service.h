// gRPC handlers of dangjian.org.v1.OfficerService: officers (书记, 委员, ...) appointed to an
// organization, and its terms (任期) and elections (换届) under the structure rules in force.
// Validate, authorize on the organization's path (resource kinds "officers" and "terms"), write
// in one audited transaction (auditLogs/org).
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/events/events.h"
#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "dangjian/org/v1/officer.grpc.pb.h"
#include "services/org/src/officer_store.h"
#include "services/org/src/org_store.h"
#include "services/org/src/rule_book.h"

namespace dj::org {

class OfficerService final : public dangjian::org::v1::OfficerService::Service {
 public:
  // `rules` is the org service's RuleBook (OrgService::rules()); `now_us` the clock for "today"
  // and timestamps (the system clock when empty).
  OfficerService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                 std::string audit_key, RuleBook& rules, std::function<int64_t()> now_us = {});

  grpc::Status CreateOfficer(grpc::ServerContext* context,
                             const dangjian::org::v1::CreateOfficerRequest* request,
                             dangjian::org::v1::Officer* response) override;
  grpc::Status GetOfficer(grpc::ServerContext* context,
                          const dangjian::org::v1::GetOfficerRequest* request,
                          dangjian::org::v1::Officer* response) override;
  grpc::Status ListOfficers(grpc::ServerContext* context,
                            const dangjian::org::v1::ListOfficersRequest* request,
                            dangjian::org::v1::ListOfficersResponse* response) override;
  grpc::Status EndOfficer(grpc::ServerContext* context,
                          const dangjian::org::v1::EndOfficerRequest* request,
                          dangjian::org::v1::Officer* response) override;
  grpc::Status CreateTerm(grpc::ServerContext* context,
                          const dangjian::org::v1::CreateTermRequest* request,
                          dangjian::org::v1::Term* response) override;
  grpc::Status ListTerms(grpc::ServerContext* context,
                         const dangjian::org::v1::ListTermsRequest* request,
                         dangjian::org::v1::ListTermsResponse* response) override;
  grpc::Status ListExpiringTerms(grpc::ServerContext* context,
                                 const dangjian::org::v1::ListExpiringTermsRequest* request,
                                 dangjian::org::v1::ListExpiringTermsResponse* response) override;

  // The same operations without gRPC, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::Officer> Create(
      const auth::Principal& who, const dangjian::org::v1::CreateOfficerRequest& request);
  absl::StatusOr<dangjian::org::v1::Officer> Get(
      const auth::Principal& who, const dangjian::org::v1::GetOfficerRequest& request);
  absl::StatusOr<dangjian::org::v1::ListOfficersResponse> List(
      const auth::Principal& who, const dangjian::org::v1::ListOfficersRequest& request);
  absl::StatusOr<dangjian::org::v1::Officer> End(
      const auth::Principal& who, const dangjian::org::v1::EndOfficerRequest& request);
  absl::StatusOr<dangjian::org::v1::Term> CreateTerm(
      const auth::Principal& who, const dangjian::org::v1::CreateTermRequest& request);
  absl::StatusOr<dangjian::org::v1::ListTermsResponse> ListTerms(
      const auth::Principal& who, const dangjian::org::v1::ListTermsRequest& request);
  absl::StatusOr<dangjian::org::v1::ListExpiringTermsResponse> ListExpiring(
      const auth::Principal& who, const dangjian::org::v1::ListExpiringTermsRequest& request);

  // Consumes the member service's events (stream "member.members"): a member who LEFT or is
  // DECEASED ends every appointment on that date; one transferred ends those outside the new
  // organization on the transfer date. Once per event (the effect is idempotent; other member
  // events are taken without a write).
  static constexpr char kMemberEventsGroup[] = "org.officers";
  absl::Status OnMemberEvent(const events::Event& event);

 private:
  time::CivilDate Today() const;
  // Organization `org_id`, for a read of `kind` ("officers", "terms") of `resource`: `missing`
  // when it does not exist or lies outside the caller's scope, PERMISSION_DENIED when no row
  // grants the read; refusals are audited.
  absl::StatusOr<OrgRow> Readable(const auth::Principal& who, std::string_view kind, int64_t org_id,
                                  std::string_view resource, const absl::Status& missing);

  db::Pool& pool_;
  ids::IdGenerator& ids_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  RuleBook& rules_;
  std::function<int64_t()> now_us_;  // never empty: the system clock unless injected
};

// Proto <-> row, exposed for tests.
dangjian::org::v1::Officer ToProto(const OfficerRow& row);
dangjian::org::v1::Term ToProto(const TermRow& row);

}  // namespace dj::org
