// Every gRPC service of the org service, built once over the same database, cache, ids, trust
// and audit key: what dj-org and the one-process binary both register.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "services/org/src/org_service.h"
#include "services/org/src/rule_set_service.h"
#include "services/org/src/statistics_service.h"
#include "services/org/src/unit_service.h"

namespace dj::org {

class OrgServer final {
 public:
  OrgServer(db::Pool& pool, cache::Cache* cache, ids::IdGenerator& ids,
            const auth::InternalAuth& auth, const std::string& audit_key,
            OrgServiceOptions options = {})
      : now_us_(options.now_us),
        organizations_(pool, cache, ids, auth, audit_key, std::move(options)),
        rule_sets_(organizations_.rules(), pool, auth, audit_key),
        statistics_(pool, auth, audit_key, now_us_),
        units_(pool, cache, ids, auth, audit_key, now_us_) {}

  OrgService& organizations() { return organizations_; }
  RuleSetService& rule_sets() { return rule_sets_; }
  StatisticsService& statistics() { return statistics_; }
  UnitService& units() { return units_; }

  std::vector<grpc::Service*> services() {
    return {&organizations_, &rule_sets_, &statistics_, &units_};
  }

 private:
  std::function<int64_t()> now_us_;  // the injected clock every service shares (unset: system)
  OrgService organizations_;
  RuleSetService rule_sets_;
  StatisticsService statistics_;
  UnitService units_;
};

}  // namespace dj::org
