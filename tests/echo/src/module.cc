#include "tests/echo/src/module.h"

#include "tests/echo/src/echo_service.h"

namespace dj::echo::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::echo::schema_mysql

namespace dj::echo::schema_sqlite {
std::span<const EmbeddedFile> Files();
}  // namespace dj::echo::schema_sqlite

namespace dj::echo {
namespace {

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

class EchoInstance final : public runtime::ServiceInstance {
 public:
  explicit EchoInstance(runtime::ServiceContext& context)
      : service_(*context.backends.pool, context.auth, context.Client("org")) {}

  std::vector<grpc::Service*> grpc_services() override { return {&service_}; }

 private:
  EchoService service_;
};

}  // namespace

const runtime::ServiceModule kModule = {
    .name = "echo",
    .schema = Schema,
    .settings = nullptr,
    .calls = {"org"},
    .signs_tokens = false,
    .start = [](runtime::ServiceContext& context)
        -> absl::StatusOr<std::unique_ptr<runtime::ServiceInstance>> {
      return std::make_unique<EchoInstance>(context);
    }};

}  // namespace dj::echo
