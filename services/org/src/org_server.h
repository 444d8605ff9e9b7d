// Every gRPC service of the org service, built once over the same database, cache, ids, trust
// and audit key: what dj-org and the one-process binary both register.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/events/events.h"
#include "common/time/clock.h"
#include "services/org/src/community_service.h"
#include "services/org/src/officer_service.h"
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
      : now_us_(options.now_us ? options.now_us : time::NowMicros),
        organizations_(pool, cache, ids, auth, audit_key, std::move(options)),
        rule_sets_(organizations_.rules(), pool, auth, audit_key),
        statistics_(pool, auth, audit_key, now_us_),
        units_(pool, ids, auth, audit_key, now_us_),
        officers_(pool, ids, auth, audit_key, organizations_.rules(), now_us_),
        communities_(pool, ids, auth, audit_key, now_us_) {}

  OrgService& organizations() { return organizations_; }
  RuleSetService& rule_sets() { return rule_sets_; }
  StatisticsService& statistics() { return statistics_; }
  UnitService& units() { return units_; }
  OfficerService& officers() { return officers_; }
  CommunityService& communities() { return communities_; }

  // The org service's own consumers of its events: communities re-placed when a member
  // organization moves. Call before the outbox relay starts, so nothing is missed.
  void Subscribe(events::EventBus& bus) {
    bus.Subscribe("org.organizations", CommunityService::kOrgEventsGroup,
                  [this](const events::Event& e) { return communities_.OnOrganizationEvent(e); });
  }

  std::vector<grpc::Service*> services() {
    return {&organizations_, &rule_sets_, &statistics_, &units_, &officers_, &communities_};
  }

 private:
  std::function<int64_t()> now_us_;  // the clock every service shares: injected, else the system's
  OrgService organizations_;
  RuleSetService rule_sets_;
  StatisticsService statistics_;
  UnitService units_;
  OfficerService officers_;
  CommunityService communities_;
};

}  // namespace dj::org
