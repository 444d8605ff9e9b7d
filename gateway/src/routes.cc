// The gateway's routes (Gateway, continued from gateway.cc): the embedded descriptor set of the
// suite's protos merged with any extra ones, the backends they name, and a route per method
// from its google.api.http annotation (with the suite's own dangjian.api options).
#include "gateway/src/gateway.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/api/annotations.pb.h"
#include "dangjian/member/v1/auth.grpc.pb.h"
#include "gateway/src/binding.h"
#include "gateway/src/request_body.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/byte_buffer.h"

namespace dj::descriptors {
std::span<const dj::EmbeddedFile> Files();
}  // namespace dj::descriptors

namespace dj::gateway {
namespace {

namespace gpb = google::protobuf;

const gpb::FileDescriptorSet& DescriptorSet() {
  static const gpb::FileDescriptorSet set = [] {
    gpb::FileDescriptorSet s;
    for (const EmbeddedFile& f : descriptors::Files()) {
      gpb::FileDescriptorSet part;
      if (part.ParseFromArray(f.data.data(), static_cast<int>(f.data.size()))) {
        s.MergeFrom(part);
      }
    }
    return s;
  }();
  return set;
}

// "dangjian.org.v1" -> "org"; "" for packages that are not a backend's.
std::string BackendOf(const std::string& package) {
  std::vector<std::string> parts = absl::StrSplit(package, '.');
  if (parts.size() == 3 && parts[0] == "dangjian" && parts[2] == "v1" && parts[1] != "type") {
    return parts[1];
  }
  return "";
}

// The embedded descriptor set, then the files of `extra` it does not have yet (by name).
gpb::FileDescriptorSet Merged(const std::vector<gpb::FileDescriptorSet>& extra) {
  gpb::FileDescriptorSet merged = DescriptorSet();
  std::set<std::string> names;
  for (const gpb::FileDescriptorProto& file : merged.file()) {
    names.insert(file.name());
  }
  for (const gpb::FileDescriptorSet& set : extra) {
    for (const gpb::FileDescriptorProto& file : set.file()) {
      if (names.insert(file.name()).second) {
        *merged.add_file() = file;
      }
    }
  }
  return merged;
}

// The backends `set` has services for, in order of first appearance.
std::vector<std::string> BackendsOf(const gpb::FileDescriptorSet& set) {
  std::vector<std::string> out;
  for (const gpb::FileDescriptorProto& file : set.file()) {
    const std::string backend = BackendOf(file.package());
    if (!backend.empty() && file.service_size() > 0 &&
        std::find(out.begin(), out.end(), backend) == out.end()) {
      out.push_back(backend);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> Gateway::BackendNames() { return BackendsOf(DescriptorSet()); }

std::vector<std::string> Gateway::BackendNames(const GatewayOptions& options) {
  if (options.extra_descriptor_sets.empty()) {
    return BackendNames();
  }
  return BackendsOf(Merged(options.extra_descriptor_sets));
}

absl::StatusOr<std::vector<gpb::FileDescriptorSet>> ReadDescriptorSets(std::string_view paths) {
  std::vector<gpb::FileDescriptorSet> sets;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(paths.data(), paths.size()), ',', absl::SkipWhitespace())) {
    const std::string path(absl::StripAsciiWhitespace(part));
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    }
    gpb::FileDescriptorSet set;
    if (!set.ParseFromIstream(&in) || set.file_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is not a descriptor set"));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels, GatewayOptions options) {
  std::unique_ptr<Gateway> g(new Gateway());
  g->options_ = options;
  if (options.jwt_keys.empty()) {
    return absl::InvalidArgumentError("no access-token keys (jwt-keys)");
  }
  auto verifier = auth::JwtSigner::Create(options.jwt_keys, "dangjian");
  if (!verifier.ok()) {
    return verifier.status();
  }
  g->verifier_.emplace(*std::move(verifier));
  auto internal = auth::InternalAuth::Create(options.internal_secret);
  if (!internal.ok()) {
    return internal.status();
  }
  g->internal_.emplace(*std::move(internal));
  g->limiter_ = std::make_unique<RateLimiter>(
      options.limits.counters,
      RateLimiterOptions{
          .window = std::chrono::duration_cast<std::chrono::milliseconds>(options.limits.window)});
  g->limiter_->Start();
  if (auto member = channels.find("member"); member != channels.end() && member->second) {
    auto stub = std::shared_ptr<dangjian::member::v1::AuthService::Stub>(
        dangjian::member::v1::AuthService::NewStub(member->second));
    Gateway* self = g.get();
    g->refusals_ = std::make_unique<RefusalReporter>(
        [stub, self](const dangjian::member::v1::RecordTokenRefusalsRequest& request) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          auth::Principal gateway = auth::SystemPrincipal();
          gateway.username = "dj-gateway";
          self->internal_->Attach(context, gateway);
          google::protobuf::Empty empty;
          return rpc::FromGrpcStatus(stub->RecordTokenRefusals(&context, request, &empty));
        },
        RefusalReporterOptions{.interval = options.refusal_report_interval});
    if (options.background) {
      g->refusals_->Start();
    }
    g->revocations_ = std::make_unique<Revocations>(
        [stub, self](const dangjian::member::v1::ListRevocationsRequest& request)
            -> absl::StatusOr<dangjian::member::v1::ListRevocationsResponse> {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          auth::Principal gateway = auth::SystemPrincipal();
          gateway.username = "dj-gateway";
          self->internal_->Attach(context, gateway);
          dangjian::member::v1::ListRevocationsResponse response;
          grpc::Status s = stub->ListRevocations(&context, request, &response);
          if (!s.ok()) {
            return rpc::FromGrpcStatus(s);
          }
          return response;
        },
        RevocationsOptions{.interval = options.revocation_poll_interval});
    if (options.background) {
      g->revocations_->Start();
    }
  }
  g->descriptors_ = Merged(options.extra_descriptor_sets);
  for (const gpb::FileDescriptorProto& file : g->descriptors_.file()) {
    if (g->pool_.BuildFile(file) == nullptr) {
      return absl::InternalError(absl::StrCat("descriptor set: cannot build ", file.name()));
    }
  }
  for (const std::string& backend : BackendsOf(g->descriptors_)) {
    auto it = channels.find(backend);
    if (it == channels.end() || it->second == nullptr) {
      // The gateway itself needs member (the revocation list, the refusal reports): without it
      // revoked sessions would be accepted, so that stays a start-up failure. Any other
      // service in the descriptor set that does not run here has its routes answer 503.
      if (backend == "member") {
        return absl::InvalidArgumentError(absl::StrCat("no channel for backend '", backend, "'"));
      }
      continue;
    }
    g->stubs_[backend] = std::make_unique<grpc::GenericStub>(it->second);
  }
  RETURN_IF_ERROR(g->BuildRoutes());
  return g;
}

namespace {

// The HTTP method and path template of `rule`; an empty method when it has no pattern.
std::pair<std::string, std::string> VerbAndPath(const google::api::HttpRule& rule) {
  using google::api::HttpRule;
  switch (rule.pattern_case()) {
    case HttpRule::kGet:
      return {"GET", rule.get()};
    case HttpRule::kPost:
      return {"POST", rule.post()};
    case HttpRule::kPut:
      return {"PUT", rule.put()};
    case HttpRule::kPatch:
      return {"PATCH", rule.patch()};
    case HttpRule::kDelete:
      return {"DELETE", rule.delete_()};
    case HttpRule::kCustom:
      return {rule.custom().kind(), rule.custom().path()};
    default:
      return {};
  }
}

}  // namespace

absl::Status Gateway::AddRoute(const gpb::MethodDescriptor* method,
                               const google::api::HttpRule& rule, int binding,
                               const std::string& backend) {
  const auto [verb, path] = VerbAndPath(rule);
  if (verb.empty()) {
    return absl::OkStatus();  // no HTTP binding: gRPC only
  }
  auto tmpl = PathTemplate::Parse(path);
  if (!tmpl.ok()) {
    return absl::InternalError(absl::StrCat(method->full_name(), ": ", tmpl.status().message()));
  }
  if (!rule.body().empty() && rule.body() != "*" &&
      method->input_type()->FindFieldByName(rule.body()) == nullptr) {
    return absl::InternalError(
        absl::StrCat(method->full_name(), ": body field '", rule.body(), "' not found"));
  }
  // Every path variable must name a string field of the request: checked once here.
  std::unique_ptr<gpb::Message> probe(factory_.GetPrototype(method->input_type())->New());
  for (const std::string& var : tmpl->variables()) {
    gpb::Message* holder = nullptr;
    std::string canonical;
    const gpb::FieldDescriptor* f = Walk(*probe, var, &holder, &canonical);
    if (f == nullptr || f->cpp_type() != gpb::FieldDescriptor::CPPTYPE_STRING ||
        f->is_repeated()) {
      return absl::InternalError(absl::StrCat(method->full_name(), ": path variable '", var,
                                              "' is not a string field"));
    }
  }
  routes_.push_back({verb, *std::move(tmpl), rule.body(), method, backend,
                     method->options().GetExtension(dangjian::api::allow_anonymous),
                     method->options().GetExtension(dangjian::api::sign_in), binding});
  return absl::OkStatus();
}

absl::Status Gateway::BuildRoutes() {
  for (const gpb::FileDescriptorProto& proto : descriptors_.file()) {
    const std::string backend = BackendOf(proto.package());
    if (backend.empty()) {
      continue;
    }
    const gpb::FileDescriptor* file = pool_.FindFileByName(proto.name());
    for (int s = 0; s < file->service_count(); ++s) {
      const gpb::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const gpb::MethodDescriptor* method = service->method(m);
        // The options were parsed with the generated MethodOptions, so the extension is known.
        const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
        std::vector<const google::api::HttpRule*> rules = {&rule};
        for (const auto& extra : rule.additional_bindings()) {
          rules.push_back(&extra);
        }
        for (size_t binding = 0; binding < rules.size(); ++binding) {
          RETURN_IF_ERROR(AddRoute(method, *rules[binding], static_cast<int>(binding), backend));
        }
      }
    }
  }
  // Most specific first: more literal segments win over variables.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    return a.path.literal_count() > b.path.literal_count();
  });
  return absl::OkStatus();
}

}  // namespace dj::gateway
