// dj-member: the member service process (accounts and sign-in so far).
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/rpc/channel.h"
#include "common/runtime/backends.h"
#include "common/runtime/service_main.h"
#include "services/member/src/member_service.h"
#include "services/member/src/schema.h"
#include "services/member/src/settings.h"

int main(int argc, char** argv) {
  constexpr std::string_view kName = "dj-member";
  auto settings = dj::runtime::ServiceSettings();
  dj::runtime::Append(settings, dj::runtime::BackendSettings());
  dj::runtime::Append(settings, dj::member::MemberSettings());
  settings.push_back(dj::auth::JwtKeysSetting(/*required=*/true));
  settings.push_back({"org-addr", "", true, "host:port of the org service's gRPC",
                      dj::runtime::ValidateHostPort});
  const auto config = dj::runtime::Init(kName, std::move(settings), argc, argv);

  auto auth = dj::auth::InternalAuth::Create(config.Get("internal-secret"));
  if (!auth.ok()) {
    dj::runtime::ExitOnError(kName, "DJ_INTERNAL_SECRET", auth.status());
  }
  auto keys = dj::auth::ParseSigningKeys(config.Get("jwt-keys"));
  auto signer = keys.ok() ? dj::auth::JwtSigner::Create(*keys, "dangjian") : keys.status();
  if (!signer.ok()) {
    dj::runtime::ExitOnError(kName, "DJ_JWT_KEYS", signer.status());
  }
  auto bootstrap = dj::member::BootstrapPasswordFrom(config);
  if (!bootstrap.ok()) {
    dj::runtime::ExitOnError(kName, "DJ_BOOTSTRAP_ADMIN_PASSWORD_FILE", bootstrap.status());
  }
  auto backends = dj::runtime::OpenBackendsOrExit(kName, config, dj::member::Schema);
  dj::member::MemberService service(
      *backends.pool, *backends.cache, *backends.ids, *auth, *std::move(signer),
      config.Get("audit-key"),
      dj::member::OrgPathsOver(dj::rpc::MakeChannel(config.Get("org-addr")), *auth),
      dj::member::MemberOptionsFrom(config));
  if (absl::Status s = service.Bootstrap(*bootstrap); !s.ok()) {
    dj::runtime::ExitOnError(kName, "DJ_BOOTSTRAP_ADMIN_PASSWORD", s);
  }
  // Account scopes follow organization moves: the org service's stream, this service's group.
  backends.bus->Subscribe("org.organizations", dj::member::MemberService::kOrgEventsGroup,
                          [&service](const dj::events::Event& e) {
                            return service.OnOrganizationEvent(e);
                          });
  grpc::Service* services[] = {service.auth_service(), service.account_service()};
  const int code = dj::runtime::Serve(kName, config, services);
  backends.bus->Stop();  // no event reaches `service`, destroyed next
  return code;
}
