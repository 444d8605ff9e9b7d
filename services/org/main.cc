// dj-org: the organization service process.
#include "common/auth/principal.h"
#include "common/runtime/backends.h"
#include "common/runtime/service_main.h"
#include "services/org/src/org_server.h"
#include "services/org/src/schema.h"

int main(int argc, char** argv) {
  auto settings = dj::runtime::ServiceSettings();
  dj::runtime::Append(settings, dj::runtime::BackendSettings());
  const auto config = dj::runtime::Init("dj-org", std::move(settings), argc, argv);
  auto backends = dj::runtime::OpenBackendsOrExit("dj-org", config, dj::org::Schema);
  auto auth = dj::auth::InternalAuth::Create(config.Get("internal-secret"));
  if (!auth.ok()) {
    dj::runtime::ExitOnError("dj-org", "DJ_INTERNAL_SECRET", auth.status());
  }
  dj::org::OrgServer server(*backends.pool, backends.cache.get(), *backends.ids, *auth,
                            config.Get("audit-key"),
                            {.cache_ttl = std::chrono::seconds(config.GetInt("cache-ttl-seconds"))});
  // Its own consumers (Redis Streams groups: they read what the relay already published).
  server.Subscribe(*backends.bus);
  const int code = dj::runtime::Serve("dj-org", config, server.services());
  backends.bus->Stop();  // no event reaches `server`, destroyed next
  return code;
}
