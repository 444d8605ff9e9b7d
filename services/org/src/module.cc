#include "services/org/src/module.h"

#include "services/org/src/schema.h"

namespace dj::org {

OrgInstance::OrgInstance(runtime::ServiceContext& context)
    : server_(*context.backends.pool, context.backends.cache.get(), *context.backends.ids,
              context.auth, context.audit_key,
              {.cache_ttl = std::chrono::seconds(context.config.GetInt("cache-ttl-seconds"))}) {}

std::vector<runtime::Subscription> OrgInstance::subscriptions() {
  return {{.stream = "org.organizations",
           .group = CommunityService::kOrgEventsGroup,
           .handler = [this](const events::Event& e) {
             return server_.communities().OnOrganizationEvent(e);
           }},
          // Appointments end when their member leaves, dies or is transferred out.
          {.stream = "member.members",
           .group = OfficerService::kMemberEventsGroup,
           .handler = [this](const events::Event& e) {
             return server_.officers().OnMemberEvent(e);
           }}};
}

const runtime::ServiceModule kModule = {
    .name = "org",
    .schema = Schema,
    .settings = nullptr,
    .calls = {},
    .signs_tokens = false,
    .start = [](runtime::ServiceContext& context)
        -> absl::StatusOr<std::unique_ptr<runtime::ServiceInstance>> {
      return std::make_unique<OrgInstance>(context);
    }};

}  // namespace dj::org
