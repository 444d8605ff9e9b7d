// A service of the suite as one module: what it is called, its schema and settings, the
// services it calls, and how it starts over its backends (the gRPC services it serves and the
// events it consumes). Every topology starts services only through this: `dj-<svc>`
// (ServiceMain), `dangjian` (embedded::Suite), the scripts and the test fixture loop over the
// registry (services/registry.h), so a new service is its folder and one registration line.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/events/events.h"
#include "common/rpc/client.h"
#include "common/runtime/backends.h"
#include "common/runtime/config.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace dj::runtime {

// One consumer of a stream's events. The stream's first dot-separated part names the service
// that writes it ("org.organizations": org), which is where the embedded topology subscribes.
struct Subscription {
  std::string stream;
  std::string group;  // this service's consumer group: "member.org-events"
  events::EventBus::Handler handler;
};

// The service running in this process.
class ServiceInstance {
 public:
  virtual ~ServiceInstance() = default;
  virtual std::vector<grpc::Service*> grpc_services() = 0;
  // Subscribed before the outbox relays start, so nothing left in an outbox is missed.
  virtual std::vector<Subscription> subscriptions() { return {}; }
};

// What a service starts on.
struct ServiceContext {
  const Config& config;  // its own settings and every service's (cache-ttl-seconds, ...)
  Backends& backends;    // its database (migrated), cache, ids and event bus
  const auth::InternalAuth& auth;
  const std::string& audit_key;
  const std::vector<auth::SigningKey>& jwt_keys;  // empty unless the module signs_tokens
  // A client of every service in the module's `calls`.
  std::map<std::string, std::unique_ptr<rpc::ServiceClient>, std::less<>> clients;

  // The client of `service`; it must be one of the module's `calls`.
  rpc::ServiceClient& Client(std::string_view service) const;
};

struct ServiceModule {
  // "org": binary dj-org, setting DJ_ORG_ADDR for those calling it, org.db when embedded, the
  // routes of proto package dangjian.org.v1, consumer groups "org.*".
  std::string name;
  SchemaFn schema = nullptr;  // null: no tables of its own (the outbox and audit log still)
  // Its own settings, beyond every service's (ServiceSettings, BackendSettings).
  std::function<std::vector<Setting>()> settings;
  // The services it calls (each needs <name>-addr when distributed); started before it.
  std::vector<std::string> calls;
  // Issues access tokens, so is given the access-token keys (jwt-keys).
  bool signs_tokens = false;
  std::function<absl::StatusOr<std::unique_ptr<ServiceInstance>>(ServiceContext&)> start;
};

using Modules = std::vector<const ServiceModule*>;

// `more` appended to `settings`, leaving out any whose flag `settings` already has (a setting two
// modules share, such as the password policy read by one of them and shown by another).
void AppendNew(std::vector<Setting>& settings, std::vector<Setting> more);

// The setting naming where `service` listens: "org" -> org-addr (DJ_ORG_ADDR).
Setting AddressSetting(std::string_view service);

// The module called `name`, or null.
const ServiceModule* Find(const Modules& modules, std::string_view name);

// The process `dj-<module.name>`: its settings (every service's, its own, jwt-keys if it signs
// tokens, <callee>-addr for each service it calls), its backends (node id leased), a network
// client per callee, its instance and subscriptions, served until SIGTERM. Returns the exit
// code; exits with one line naming the setting at fault when start-up fails.
int ServiceMain(const ServiceModule& module, int argc, char** argv);

}  // namespace dj::runtime
