// Assembles every registered service in one process.
#include "embedded/src/suite.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::embedded {

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const runtime::Config& config,
                                                    const runtime::Modules& modules,
                                                    const SuiteOptions& options) {
  std::unique_ptr<Suite> suite(new Suite());
  auto auth = auth::InternalAuth::Create(options.internal_secret);
  if (!auth.ok()) {
    return auth.status();
  }
  suite->auth_ = std::make_unique<auth::InternalAuth>(*std::move(auth));
  suite->audit_key_ = options.audit_key;
  suite->jwt_keys_ = options.jwt_keys;
  suite->services_.reserve(modules.size());  // Running::backends are referenced by instances
  for (const runtime::ServiceModule* module : modules) {
    RETURN_IF_ERROR(suite->StartOne(config, *module, options));
  }
  // Subscribed before the relays start, so events left in an outbox by an earlier run reach
  // their consumers too.
  RETURN_IF_ERROR(suite->Subscribe());
  std::vector<grpc::Service*> grpc_services;
  for (Running& r : suite->services_) {
    r.backends.relay->Start();
    for (grpc::Service* s : r.instance->grpc_services()) {
      grpc_services.push_back(s);
    }
  }
  auto server = runtime::StartGrpcServer(
      {.listen = options.grpc_listen, .max_threads = options.grpc_threads}, grpc_services);
  if (!server.ok()) {
    return server.status();
  }
  suite->server_ = std::move(*server);
  grpc::ChannelArguments args;
  suite->channel_ = suite->server_.server->InProcessChannel(args);
  return suite;
}

absl::Status Suite::StartOne(const runtime::Config& config, const runtime::ServiceModule& module,
                             const SuiteOptions& options) {
  auto backends =
      runtime::OpenBackends({.service = module.name,
                             .mysql_url = options.mysql_url,
                             .sqlite_path = absl::StrCat(options.data_dir, "/", module.name, ".db"),
                             .redis_url = options.redis_url,
                             .in_process_events = true,
                             .start_relay = false},
                            module.schema);
  if (!backends.ok()) {
    return absl::Status(backends.status().code(),
                        absl::StrCat(module.name, " database: ", backends.status().message()));
  }
  services_.push_back({.module = &module, .backends = *std::move(backends)});
  Running& running = services_.back();
  runtime::ServiceContext context{.config = config,
                                  .backends = running.backends,
                                  .auth = *auth_,
                                  .audit_key = audit_key_,
                                  .jwt_keys = jwt_keys_,
                                  .clients = {}};
  // Calls to another service go through the one in-process channel (there once the server
  // runs): the same gRPC path, deadline and vouched principal as between processes.
  for (const std::string& callee : module.calls) {
    context.clients[callee] = std::make_unique<rpc::ServiceClient>(
        callee, [this] { return channel_; }, *auth_);
  }
  auto instance = module.start(context);
  if (!instance.ok()) {
    return absl::Status(instance.status().code(),
                        absl::StrCat(module.name, ": ", instance.status().message()));
  }
  running.instance = *std::move(instance);
  running.clients = std::move(context.clients);
  return absl::OkStatus();
}

absl::Status Suite::Subscribe() {
  for (Running& r : services_) {
    for (runtime::Subscription& s : r.instance->subscriptions()) {
      // In-process buses carry only their own service's streams: subscribe on the writer's.
      const std::string writer = s.stream.substr(0, s.stream.find('.'));
      auto it = std::find_if(services_.begin(), services_.end(),
                             [&](const Running& w) { return w.module->name == writer; });
      if (it == services_.end()) {
        log::Warn("no service here writes this stream; its events are not consumed",
                  {{"stream", s.stream}, {"group", s.group}});
        continue;
      }
      it->backends.bus->Subscribe(s.stream, s.group, std::move(s.handler));
    }
  }
  return absl::OkStatus();
}

Suite::~Suite() { Shutdown(std::chrono::milliseconds(0)); }

std::map<std::string, std::shared_ptr<grpc::Channel>> Suite::Channels() const {
  std::map<std::string, std::shared_ptr<grpc::Channel>> out;
  for (const Running& r : services_) {
    out[r.module->name] = channel_;
  }
  return out;
}

runtime::ServiceInstance* Suite::Instance(std::string_view name) {
  for (Running& r : services_) {
    if (r.module->name == name) {
      return r.instance.get();
    }
  }
  return nullptr;
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
  for (Running& r : services_) {
    if (r.backends.relay) {
      r.backends.relay->Stop();
    }
    if (r.backends.bus) {
      r.backends.bus->Stop();
    }
  }
}

}  // namespace dj::embedded
