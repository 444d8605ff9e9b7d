// The whole suite in one process: every service on one gRPC server (reached by in-process
// channels, optionally also on a port), each on its own SQLite file in the data directory (or on
// MySQL), with an in-process cache (or Redis). `dangjian` runs this behind the gateway; tests
// build it directly.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"
#include "common/runtime/backends.h"
#include "common/runtime/service_main.h"
#include "services/member/src/member_service.h"
#include "services/org/src/org_server.h"

namespace dj::embedded {

struct SuiteOptions {
  std::string data_dir;   // SQLite files live here (ignored for services on MySQL)
  std::string mysql_url;  // optional: MySQL instead of SQLite
  std::string redis_url;  // optional: Redis instead of the in-process cache
  std::string grpc_listen;  // optional: also serve gRPC on this address
  int grpc_threads = 16;
  std::chrono::seconds cache_ttl{300};
  // Keys (at least 32 characters each): the gateway and services' shared secret, the audit
  // chain's key, the access-token keys.
  std::string internal_secret;
  std::string audit_key;
  std::vector<auth::SigningKey> jwt_keys;
  std::string bootstrap_admin_password;  // needed only while there are no accounts
  member::MemberServiceOptions member;
};

class Suite final {
 public:
  static absl::StatusOr<std::unique_ptr<Suite>> Start(const SuiteOptions& options);
  ~Suite();

  // One channel per backend name the gateway knows ("org", "member"), all in-process.
  std::map<std::string, std::shared_ptr<grpc::Channel>> Channels() const;
  org::OrgService& org() { return org_->organizations(); }
  org::OrgServer& org_server() { return *org_; }
  member::MemberService& member() { return *member_; }
  int grpc_port() const { return server_.port; }

  void Shutdown(std::chrono::milliseconds grace);

 private:
  Suite() = default;
  std::unique_ptr<auth::InternalAuth> auth_;
  runtime::Backends org_backends_;
  runtime::Backends member_backends_;
  std::unique_ptr<org::OrgServer> org_;
  std::unique_ptr<member::MemberService> member_;
  runtime::RunningServer server_;
};

}  // namespace dj::embedded
