// Assembles every service in one process.
#include "embedded/src/suite.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"
#include "services/member/src/schema.h"
#include "services/org/src/schema.h"

namespace dj::embedded {
namespace {

absl::StatusOr<runtime::Backends> Open(const SuiteOptions& options, std::string_view service,
                                       runtime::SchemaFn schema) {
  auto b = runtime::OpenBackends({.service = std::string(service),
                                  .mysql_url = options.mysql_url,
                                  .sqlite_path = absl::StrCat(options.data_dir, "/", AV(service),
                                                              ".db"),
                                  .redis_url = options.redis_url,
                                  .in_process_events = true,
                                  .start_relay = false},
                                 schema);
  if (!b.ok()) {
    return absl::Status(b.status().code(),
                        absl::StrCat(AV(service), " database: ", b.status().message()));
  }
  return b;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const SuiteOptions& options) {
  std::unique_ptr<Suite> suite(new Suite());
  auto auth = auth::InternalAuth::Create(options.internal_secret);
  if (!auth.ok()) {
    return auth.status();
  }
  suite->auth_ = std::make_unique<auth::InternalAuth>(*std::move(auth));
  auto signer = auth::JwtSigner::Create(options.jwt_keys, "dangjian");
  if (!signer.ok()) {
    return signer.status();
  }
  auto org = Open(options, "org", org::Schema);
  if (!org.ok()) {
    return org.status();
  }
  suite->org_backends_ = *std::move(org);
  auto member = Open(options, "member", member::Schema);
  if (!member.ok()) {
    return member.status();
  }
  suite->member_backends_ = *std::move(member);

  suite->org_ = std::make_unique<org::OrgServer>(
      *suite->org_backends_.pool, suite->org_backends_.cache.get(), *suite->org_backends_.ids,
      *suite->auth_, options.audit_key, org::OrgServiceOptions{.cache_ttl = options.cache_ttl});
  // In one process the member service asks the org service directly, as the caller.
  org::OrgService* org_service = &suite->org_->organizations();
  auto org_paths = [org_service](const auth::Principal& who,
                                 std::string_view name) -> absl::StatusOr<std::string> {
    dangjian::org::v1::GetOrganizationRequest request;
    request.set_name(std::string(name));
    auto o = org_service->Get(who, request);
    if (!o.ok()) {
      return o.status();
    }
    return o->path();
  };
  suite->member_ = std::make_unique<member::MemberService>(
      *suite->member_backends_.pool, *suite->member_backends_.cache,
      *suite->member_backends_.ids, *suite->auth_, *std::move(signer), options.audit_key,
      org_paths, options.member);
  if (absl::Status s = suite->member_->Bootstrap(options.bootstrap_admin_password); !s.ok()) {
    return s;
  }
  // Account scopes follow organization moves. Subscribed before the relays start, so events
  // left in the outbox by an earlier run reach the member service too.
  member::MemberService* member_service = suite->member_.get();
  suite->org_backends_.bus->Subscribe(
      "org.organizations", member::MemberService::kOrgEventsGroup,
      [member_service](const events::Event& e) { return member_service->OnOrganizationEvent(e); });
  suite->org_->Subscribe(*suite->org_backends_.bus);
  suite->org_backends_.relay->Start();
  suite->member_backends_.relay->Start();
  std::vector<grpc::Service*> services = suite->org_->services();
  services.push_back(suite->member_->auth_service());
  services.push_back(suite->member_->account_service());
  auto server = runtime::StartGrpcServer(
      {.listen = options.grpc_listen, .max_threads = options.grpc_threads}, services);
  if (!server.ok()) {
    return server.status();
  }
  suite->server_ = std::move(*server);
  return suite;
}

Suite::~Suite() { Shutdown(std::chrono::milliseconds(0)); }

std::map<std::string, std::shared_ptr<grpc::Channel>> Suite::Channels() const {
  grpc::ChannelArguments args;
  auto channel = server_.server->InProcessChannel(args);
  return {{"org", channel}, {"member", channel}};
}

void Suite::Shutdown(std::chrono::milliseconds grace) {
  if (server_.server) {
    server_.server->GetHealthCheckService()->SetServingStatus(false);
    server_.server->Shutdown(std::chrono::system_clock::now() + grace);
    server_.server->Wait();
    server_.server.reset();
  }
  // The relays deliver events on their own threads, into the services: they stop before the
  // services are destroyed (an OrganizationMoved delivered to a destroyed member service at
  // exit was a crash).
  for (runtime::Backends* b : {&org_backends_, &member_backends_}) {
    if (b->relay) {
      b->relay->Stop();
    }
  }
}

}  // namespace dj::embedded
