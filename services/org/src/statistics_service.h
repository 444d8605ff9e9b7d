// gRPC handlers of dangjian.org.v1.StatisticsService: counts over any subtree of the tree (by
// kind, by community, by leadership mode; pairings and stations in force), for whoever may read
// the subtree's root.
#pragma once

#include <functional>
#include <string>

#include "common/audit/recorder.h"
#include "common/auth/principal.h"
#include "dangjian/org/v1/statistics.grpc.pb.h"
#include "services/org/src/org_store.h"
#include "services/org/src/statistics_store.h"

namespace dj::org {

class StatisticsService final : public dangjian::org::v1::StatisticsService::Service {
 public:
  StatisticsService(db::Pool& pool, const auth::InternalAuth& auth, std::string audit_key,
                    std::function<int64_t()> now_us = {});

  grpc::Status GetOrganizationStatistics(
      grpc::ServerContext* context,
      const dangjian::org::v1::GetOrganizationStatisticsRequest* request,
      dangjian::org::v1::OrganizationStatistics* response) override;

  // The same without gRPC, on behalf of `who`.
  absl::StatusOr<dangjian::org::v1::OrganizationStatistics> Get(
      const auth::Principal& who,
      const dangjian::org::v1::GetOrganizationStatisticsRequest& request);

 private:
  db::Pool& pool_;
  const auth::InternalAuth& auth_;
  audit::Recorder audit_;
  std::function<int64_t()> now_us_;
};

}  // namespace dj::org
