// The whole suite in one process: every registered service module on one gRPC server (reached by
// in-process channels, optionally also on a port), each on its own SQLite file in the data
// directory (or on MySQL), with an in-process cache (or Redis) and in-process events. `dangjian`
// runs this behind the gateway; tests build it directly, with modules of their own if they like.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "common/runtime/backends.h"
#include "common/runtime/config.h"
#include "common/runtime/module.h"
#include "common/runtime/service_main.h"

namespace dj::embedded {

struct SuiteOptions {
  std::string data_dir;   // SQLite files live here (ignored for services on MySQL)
  std::string mysql_url;  // optional: MySQL instead of SQLite
  std::string redis_url;  // optional: Redis instead of the in-process cache
  std::string grpc_listen;  // optional: also serve gRPC on this address
  int grpc_threads = 64;
  // Keys (at least 32 characters each): the gateway and services' shared secret, the audit
  // chain's key, the access-token keys.
  std::string internal_secret;
  std::string audit_key;
  std::vector<auth::SigningKey> jwt_keys;
};

class Suite final {
 public:
  // Starts `modules` in their order over `config` (which holds every module's settings).
  static absl::StatusOr<std::unique_ptr<Suite>> Start(const runtime::Config& config,
                                                      const runtime::Modules& modules,
                                                      const SuiteOptions& options);
  ~Suite();

  // One channel per service running here, by module name ("org", "member"), all in-process.
  std::map<std::string, std::shared_ptr<grpc::Channel>> Channels() const;
  // The running instance of service `name`, or null.
  runtime::ServiceInstance* Instance(std::string_view name);
  int grpc_port() const { return server_.port; }

  void Shutdown(std::chrono::milliseconds grace);

 private:
  struct Running {
    const runtime::ServiceModule* module = nullptr;
    runtime::Backends backends;
    std::map<std::string, std::unique_ptr<rpc::ServiceClient>, std::less<>> clients;
    std::unique_ptr<runtime::ServiceInstance> instance;  // destroyed before what it uses
  };

  Suite() = default;
  absl::Status StartOne(const runtime::Config& config, const runtime::ServiceModule& module,
                        const SuiteOptions& options);
  absl::Status Subscribe();

  std::unique_ptr<auth::InternalAuth> auth_;
  std::string audit_key_;
  std::vector<auth::SigningKey> jwt_keys_;
  std::vector<Running> services_;  // in start order; destroyed in reverse
  runtime::RunningServer server_;
  std::shared_ptr<grpc::Channel> channel_;  // in-process, once server_ runs
};

}  // namespace dj::embedded
