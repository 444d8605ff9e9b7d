#include "services/member/src/module.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"
#include "services/member/src/schema.h"
#include "services/member/src/settings.h"

namespace dj::member {
namespace {

absl::Status Named(std::string_view setting, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(AV(setting), ": ", s.message()));
}

absl::StatusOr<std::unique_ptr<runtime::ServiceInstance>> Start(runtime::ServiceContext& context) {
  auto bootstrap = BootstrapPasswordFrom(context.config);
  if (!bootstrap.ok()) {
    return Named("DJ_BOOTSTRAP_ADMIN_PASSWORD_FILE", bootstrap.status());
  }
  auto signer = auth::JwtSigner::Create(context.jwt_keys, "dangjian");
  if (!signer.ok()) {
    return Named("DJ_JWT_KEYS", signer.status());
  }
  if (context.backends.cache == nullptr) {
    return absl::FailedPreconditionError("the member service needs a cache (sessions, throttle)");
  }
  auto service = std::make_unique<MemberService>(
      *context.backends.pool, *context.backends.cache, *context.backends.ids, context.auth,
      *std::move(signer), context.audit_key, OrgPathsVia(context.Client("org")),
      MemberOptionsFrom(context.config));
  if (absl::Status s = service->Bootstrap(*bootstrap); !s.ok()) {
    return Named("DJ_BOOTSTRAP_ADMIN_PASSWORD", s);
  }
  auto vault = PiiVaultFrom(context.config, context.audit_key);
  if (!vault.ok()) {
    return Named("DJ_PII_KEYS", vault.status());
  }
  auto owned_vault = std::make_unique<crypto::PiiVault>(*std::move(vault));
  const auto now_us = MemberOptionsFrom(context.config).now_us;
  auto records = std::make_unique<MemberRecords>(
      *context.backends.pool, *context.backends.ids, context.auth, context.audit_key,
      OrgPathsVia(context.Client("org")), *owned_vault, now_us);
  auto transfers = std::make_unique<TransferService>(
      *context.backends.pool, *context.backends.ids, context.auth, context.audit_key,
      OrgPathsVia(context.Client("org")), records->rules(), now_us);
  auto dues = std::make_unique<DuesService>(
      *context.backends.pool, *context.backends.ids, context.auth, context.audit_key,
      OrgPathsVia(context.Client("org")), records->rules(), now_us);
  return std::make_unique<MemberInstance>(std::move(service), std::move(owned_vault),
                                          std::move(records), std::move(transfers),
                                          std::move(dues));
}

}  // namespace

std::vector<runtime::Subscription> MemberInstance::subscriptions() {
  // Account scopes follow organization moves.
  MemberService* service = service_.get();
  return {
      {.stream = "org.organizations",
       .group = MemberService::kOrgEventsGroup,
       .handler = [service](const events::Event& e) { return service->OnOrganizationEvent(e); }}};
}

const runtime::ServiceModule kModule = {.name = "member",
                                        .schema = Schema,
                                        .settings = MemberSettings,
                                        .calls = {"org"},
                                        .signs_tokens = true,
                                        .start = Start};

}  // namespace dj::member
