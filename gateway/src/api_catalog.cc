// Reads services and their google.api.http annotations from the embedded descriptor set.
#include "gateway/src/api_catalog.h"

#include <span>

#include "absl/strings/str_cat.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"
#include "google/protobuf/descriptor.pb.h"

namespace dj::descriptors {
std::span<const dj::EmbeddedFile> Files();
}  // namespace dj::descriptors

namespace dj::gateway {
namespace {

constexpr std::string_view kPackagePrefix = "dangjian.";
constexpr std::string_view kPackageSuffix = ".v1";

// "dangjian.org.v1" -> "org"; "" for packages the gateway does not route to.
std::string BackendOfPackage(std::string_view package) {
  if (package.size() <= kPackagePrefix.size() + kPackageSuffix.size() ||
      package.substr(0, kPackagePrefix.size()) != kPackagePrefix ||
      package.substr(package.size() - kPackageSuffix.size()) != kPackageSuffix) {
    return "";
  }
  std::string_view name = package.substr(
      kPackagePrefix.size(), package.size() - kPackagePrefix.size() - kPackageSuffix.size());
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return "";
    }
  }
  return std::string(name);
}

class CollectErrors final : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message* descriptor, ErrorLocation location,
                const std::string& message) override {
    if (!text_.empty()) {
      text_ += "; ";
    }
    text_ += absl::StrCat(filename, ": ", element_name, ": ", message);
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// The http rule of a method. A pool built at run time keeps options as the generated
// MethodOptions type, so the extension is normally there; when it is not (an options message
// parsed before annotations.pb was linked in), the serialized options are parsed again.
bool HttpRuleOf(const google::protobuf::MethodDescriptor* method, google::api::HttpRule* rule) {
  const google::protobuf::MethodOptions& options = method->options();
  if (options.HasExtension(google::api::http)) {
    *rule = options.GetExtension(google::api::http);
    return true;
  }
  google::protobuf::MethodOptions reparsed;
  if (reparsed.ParseFromString(options.SerializeAsString()) &&
      reparsed.HasExtension(google::api::http)) {
    *rule = reparsed.GetExtension(google::api::http);
    return true;
  }
  return false;
}

void AddBinding(const google::api::HttpRule& rule, const google::protobuf::MethodDescriptor* rpc,
                const std::string& backend, std::vector<HttpBinding>* out) {
  HttpBinding b;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      b.http_method = "GET";
      b.path_template = rule.get();
      break;
    case google::api::HttpRule::kPut:
      b.http_method = "PUT";
      b.path_template = rule.put();
      break;
    case google::api::HttpRule::kPost:
      b.http_method = "POST";
      b.path_template = rule.post();
      break;
    case google::api::HttpRule::kDelete:
      b.http_method = "DELETE";
      b.path_template = rule.delete_();
      break;
    case google::api::HttpRule::kPatch:
      b.http_method = "PATCH";
      b.path_template = rule.patch();
      break;
    case google::api::HttpRule::kCustom:
      b.http_method = rule.custom().kind();
      b.path_template = rule.custom().path();
      break;
    default:
      return;
  }
  b.body = rule.body();
  b.response_body = rule.response_body();
  b.rpc = rpc;
  b.backend = backend;
  out->push_back(std::move(b));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ApiCatalog>> ApiCatalog::FromDescriptorSet(
    std::string_view serialized) {
  std::shared_ptr<ApiCatalog> catalog(new ApiCatalog());
  if (absl::Status s = catalog->Load(serialized); !s.ok()) {
    return s;
  }
  return std::shared_ptr<const ApiCatalog>(std::move(catalog));
}

absl::StatusOr<std::shared_ptr<const ApiCatalog>> ApiCatalog::FromEmbedded() {
  auto files = dj::descriptors::Files();
  if (files.size() != 1) {
    return absl::InternalError(
        absl::StrCat("expected one embedded descriptor set, found ", files.size()));
  }
  return FromDescriptorSet(files.front().data);
}

absl::Status ApiCatalog::Load(std::string_view serialized) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError("the descriptor set does not parse");
  }
  // protoc writes dependencies before their dependents (--include_imports).
  std::vector<const google::protobuf::FileDescriptor*> files;
  for (const google::protobuf::FileDescriptorProto& proto : set.file()) {
    CollectErrors errors;
    const google::protobuf::FileDescriptor* file = pool_.BuildFileCollectingErrors(proto, &errors);
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor ", proto.name(), " does not build: ", errors.text()));
    }
    files.push_back(file);
  }
  for (const google::protobuf::FileDescriptor* file : files) {
    const std::string backend = BackendOfPackage(file->package());
    if (backend.empty() || file->service_count() == 0) {
      continue;
    }
    if (std::find(backends_.begin(), backends_.end(), backend) == backends_.end()) {
      backends_.push_back(backend);
    }
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      services_.emplace_back(backend, service->full_name());
      for (int m = 0; m < service->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = service->method(m);
        google::api::HttpRule rule;
        if (!HttpRuleOf(method, &rule)) {
          continue;
        }
        if (method->client_streaming() || method->server_streaming()) {
          log::Warn("streaming RPC not exposed over HTTP", {{"rpc", method->full_name()}});
          continue;
        }
        AddBinding(rule, method, backend, &bindings_);
        for (const google::api::HttpRule& extra : rule.additional_bindings()) {
          AddBinding(extra, method, backend, &bindings_);
        }
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> ApiCatalog::ServicesOf(std::string_view backend) const {
  std::vector<std::string> out;
  for (const auto& [b, service] : services_) {
    if (b == backend) {
      out.push_back(service);
    }
  }
  return out;
}

const google::protobuf::Message* ApiCatalog::Prototype(
    const google::protobuf::Descriptor* type) const {
  return factory_.GetPrototype(type);
}

std::string ApiCatalog::AddressSetting(std::string_view backend) {
  std::string flag(backend);
  for (char& c : flag) {
    if (c == '_') {
      c = '-';
    }
  }
  return flag + "-addr";
}

}  // namespace dj::gateway
