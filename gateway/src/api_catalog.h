// The API the gateway exposes, read from the embedded FileDescriptorSet: backends (one per
// `dangjian.<svc>.v1` package with services), their RPCs and google.api.http bindings.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/dynamic_message.h"

namespace dj::gateway {

// One HTTP binding of an RPC (the rule itself or one of its additional_bindings).
struct HttpBinding {
  std::string http_method;    // "GET", "POST", ... or a custom kind
  std::string path_template;  // "/v1/{name=organizations/*}"
  std::string body;           // "", "*" or a request field name
  std::string response_body;  // "" or a response field name
  const google::protobuf::MethodDescriptor* rpc = nullptr;
  std::string backend;        // "org"
};

class ApiCatalog final {
 public:
  // Builds the pool from a serialized google.protobuf.FileDescriptorSet (with imports).
  static absl::StatusOr<std::shared_ptr<const ApiCatalog>> FromDescriptorSet(
      std::string_view serialized);
  // The set compiled into the binary by proto/CMakeLists.txt (dj_descriptor_set).
  static absl::StatusOr<std::shared_ptr<const ApiCatalog>> FromEmbedded();

  ApiCatalog(const ApiCatalog&) = delete;
  ApiCatalog& operator=(const ApiCatalog&) = delete;

  // Backend names ("org", "member", ...) in descriptor order, one per package with services.
  const std::vector<std::string>& backends() const { return backends_; }
  const std::vector<HttpBinding>& bindings() const { return bindings_; }
  // Every service of `backend`, full names ("dangjian.org.v1.OrganizationService").
  std::vector<std::string> ServicesOf(std::string_view backend) const;

  const google::protobuf::DescriptorPool& pool() const { return pool_; }
  // The prototype for a message type of this pool; New() on it is thread-safe.
  const google::protobuf::Message* Prototype(const google::protobuf::Descriptor* type) const;

  // The setting naming a backend's address: "org" -> "org-addr" (environment DJ_ORG_ADDR).
  static std::string AddressSetting(std::string_view backend);

 private:
  ApiCatalog() = default;
  absl::Status Load(std::string_view serialized);

  google::protobuf::DescriptorPool pool_;
  mutable google::protobuf::DynamicMessageFactory factory_{&pool_};
  std::vector<std::string> backends_;
  std::vector<std::pair<std::string, std::string>> services_;  // backend, full service name
  std::vector<HttpBinding> bindings_;
};

}  // namespace dj::gateway
