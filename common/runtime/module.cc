#include "common/runtime/module.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/runtime/service_main.h"
#include "common/runtime/strings.h"

namespace dj::runtime {

rpc::ServiceClient& ServiceContext::Client(std::string_view service) const {
  auto it = clients.find(service);
  if (it == clients.end()) {
    // A module asking for a service it did not declare in `calls`: a programming error that
    // every start of that module hits, so it is caught by the first test that starts it.
    std::cerr << "service module asks for a client of '" << service
              << "', which is not in its calls" << std::endl;
    std::abort();
  }
  return *it->second;
}

void AppendNew(std::vector<Setting>& settings, std::vector<Setting> more) {
  for (Setting& s : more) {
    bool present = false;
    for (const Setting& have : settings) {
      present = present || have.flag == s.flag;
    }
    if (!present) {
      settings.push_back(std::move(s));
    }
  }
}

Setting AddressSetting(std::string_view service) {
  return {absl::StrCat(AV(service), "-addr"), "", true,
          absl::StrCat("host:port of the ", AV(service), " service's gRPC"), ValidateHostPort};
}

const ServiceModule* Find(const Modules& modules, std::string_view name) {
  for (const ServiceModule* m : modules) {
    if (m->name == name) {
      return m;
    }
  }
  return nullptr;
}

int ServiceMain(const ServiceModule& module, int argc, char** argv) {
  const std::string process = absl::StrCat("dj-", module.name);
  std::vector<Setting> settings = ServiceSettings();
  Append(settings, BackendSettings());
  if (module.settings) {
    AppendNew(settings, module.settings());
  }
  if (module.signs_tokens) {
    settings.push_back(auth::JwtKeysSetting(/*required=*/true));
  }
  for (const std::string& callee : module.calls) {
    settings.push_back(AddressSetting(callee));
  }
  const Config config = Init(process, std::move(settings), argc, argv);

  auto auth = auth::InternalAuth::Create(config.Get(auth::kInternalSecretSetting));
  if (!auth.ok()) {
    ExitOnError(process, "DJ_INTERNAL_SECRET", auth.status());
  }
  std::vector<auth::SigningKey> jwt_keys;
  if (module.signs_tokens) {
    auto keys = auth::ParseSigningKeys(config.Get("jwt-keys"));
    if (!keys.ok()) {
      ExitOnError(process, "DJ_JWT_KEYS", keys.status());
    }
    jwt_keys = *std::move(keys);
  }
  Backends backends = OpenBackendsOrExit(process, config, module.schema);
  ServiceContext context{.config = config,
                         .backends = backends,
                         .auth = *auth,
                         .audit_key = config.Get("audit-key"),
                         .jwt_keys = jwt_keys,
                         .clients = {}};
  for (const std::string& callee : module.calls) {
    auto channel = rpc::MakeChannel(config.Get(absl::StrCat(callee, "-addr")));
    context.clients[callee] = std::make_unique<rpc::ServiceClient>(
        callee, [channel] { return channel; }, *auth);
  }
  auto instance = module.start(context);
  if (!instance.ok()) {
    ExitOnError(process, "start", instance.status());
  }
  // Redis Streams: one bus sees every service's streams; the groups read what the relays of
  // the writing services published.
  for (Subscription& s : (*instance)->subscriptions()) {
    backends.bus->Subscribe(s.stream, s.group, std::move(s.handler));
  }
  const int code = Serve(process, config, (*instance)->grpc_services());
  backends.bus->Stop();  // no event reaches the instance, destroyed next
  return code;
}

}  // namespace dj::runtime
