// gRPC handlers of dangjian.org.v1.UnitService: units (机关单位) with their unified social credit
// codes, managed within an organization's subtree. Validate, authorize at the parent
// organization's current path (resource kind "units"), write in one audited transaction (the
// org service's audit log, auditLogs/org).
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "dangjian/org/v1/unit.grpc.pb.h"
#include "services/org/src/unit_store.h"

namespace dj::org {

class UnitService final : public dangjian::org::v1::UnitService::Service {
 public:
  // No cache: every read needs the parent organization's current path from the database for
  // authorization, and the one indexed join that reads it reads the unit too, so a cached unit
  // would save nothing. `now_us`: microseconds since the epoch; the system clock when unset.
  UnitService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
              std::string audit_key, std::function<int64_t()> now_us = {});

  grpc::Status CreateUnit(grpc::ServerContext* context,
                          const dangjian::org::v1::CreateUnitRequest* request,
                          dangjian::org::v1::Unit* response) override;
  grpc::Status GetUnit(grpc::ServerContext* context,
                       const dangjian::org::v1::GetUnitRequest* request,
                       dangjian::org::v1::Unit* response) override;
  grpc::Status ListUnits(grpc::ServerContext* context,
                         const dangjian::org::v1::ListUnitsRequest* request,
                         dangjian::org::v1::ListUnitsResponse* response) override;
  grpc::Status UpdateUnit(grpc::ServerContext* context,
                          const dangjian::org::v1::UpdateUnitRequest* request,
                          dangjian::org::v1::Unit* response) override;

  // The same operations without gRPC, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::Unit> Create(
      const auth::Principal& who, const dangjian::org::v1::CreateUnitRequest& request);
  absl::StatusOr<dangjian::org::v1::Unit> Get(const auth::Principal& who,
                                              const dangjian::org::v1::GetUnitRequest& request);
  absl::StatusOr<dangjian::org::v1::ListUnitsResponse> List(
      const auth::Principal& who, const dangjian::org::v1::ListUnitsRequest& request);
  absl::StatusOr<dangjian::org::v1::Unit> Update(
      const auth::Principal& who, const dangjian::org::v1::UpdateUnitRequest& request);

 private:
  // Authorize `action` on units at `path`; a refusal of a read is recorded in the audit log, and
  // one outside the caller's scope answers `missing`.
  absl::Status CheckRead(const auth::Principal& who, std::string_view resource,
                         std::string_view path, absl::Status missing);
  // The path of the caller's scope organization ("" for a caller over the whole tree).
  absl::StatusOr<std::string> ScopePath(const auth::Principal& who);

  db::Pool& pool_;
  ids::IdGenerator& ids_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  std::function<int64_t()> now_us_;  // never empty: the system clock unless injected
};

// Proto <-> row, exposed for tests.
dangjian::org::v1::Unit ToProto(const UnitRow& row);

// Where a unit stands when `who` reads it. Units are reference data: one managed by the caller's
// scope organization or by any of its ancestors (the organ a branch belongs to, usually managed
// at the work committee) reads as if it were inside the caller's scope, so a secretary can see
// and name their organ's unit; any other unit stands at its parent organization's path.
// `scope_path` is the caller's scope organization's path, "" for a caller over the whole tree.
std::string UnitReadPath(std::string_view unit_parent_path, std::string_view scope_path);

}  // namespace dj::org
