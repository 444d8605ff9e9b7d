// Assembles every service in one process.
#include "embedded/src/suite.h"

#include "absl/strings/str_cat.h"
#include "services/org/src/schema.h"

namespace dj::embedded {

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const SuiteOptions& options) {
  std::unique_ptr<Suite> suite(new Suite());
  auto org = runtime::OpenBackends({.mysql_url = options.mysql_url,
                                    .sqlite_path = absl::StrCat(options.data_dir, "/org.db"),
                                    .redis_url = options.redis_url},
                                   org::Schema);
  if (!org.ok()) {
    return absl::Status(org.status().code(), absl::StrCat("org database: ", org.status().message()));
  }
  suite->org_backends_ = *std::move(org);
  suite->org_ = std::make_unique<org::OrgService>(
      *suite->org_backends_.pool, suite->org_backends_.cache.get(), *suite->org_backends_.ids,
      org::OrgServiceOptions{.cache_ttl = options.cache_ttl});
  grpc::Service* services[] = {suite->org_.get()};
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
  return {{"org", server_.server->InProcessChannel(args)}};
}

void Suite::Shutdown(std::chrono::milliseconds grace) {
  if (server_.server) {
    server_.server->GetHealthCheckService()->SetServingStatus(false);
    server_.server->Shutdown(std::chrono::system_clock::now() + grace);
    server_.server->Wait();
    server_.server.reset();
  }
}

}  // namespace dj::embedded
