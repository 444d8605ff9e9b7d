// Metrics and access logging for every gRPC call a service serves.
#include "common/rpc/interceptors.h"

#include <chrono>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"
#include "google/protobuf/descriptor.h"

namespace dj::rpc {
namespace {

struct ServerMetrics {
  metrics::Series<prometheus::Counter> started;
  metrics::Series<prometheus::Counter> handled;
  metrics::Series<prometheus::Histogram> seconds;
};

ServerMetrics& Metrics() {
  static ServerMetrics m{
      {prometheus::BuildCounter()
           .Name("grpc_server_started_total")
           .Help("RPCs started on the server.")
           .Register(metrics::Registry()),
       {"grpc_service", "grpc_method", "grpc_type"}},
      {prometheus::BuildCounter()
           .Name("grpc_server_handled_total")
           .Help("RPCs completed on the server, by status code.")
           .Register(metrics::Registry()),
       {"grpc_service", "grpc_method", "grpc_type", "grpc_code"}},
      {prometheus::BuildHistogram()
           .Name("grpc_server_handling_seconds")
           .Help("Time from receiving an RPC to sending its status.")
           .Register(metrics::Registry()),
       {"grpc_service", "grpc_method", "grpc_type"},
       metrics::LatencyBuckets()},
  };
  return m;
}

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "Canceled",          "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",   "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
      "Unimplemented", "Internal",      "Unavailable",      "DataLoss",
      "Unauthenticated"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : absl::StrCat(i);
}

class MetricsLoggingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsLoggingInterceptor(grpc::experimental::ServerRpcInfo* info) {
    std::string_view full = info->method();  // "/dangjian.org.v1.OrganizationService/GetOrganization"
    if (!full.empty() && full.front() == '/') {
      full.remove_prefix(1);
    }
    const size_t slash = full.find('/');
    service_ = std::string(full.substr(0, slash));
    method_ = slash == std::string_view::npos ? "" : std::string(full.substr(slash + 1));
    if (!Known(service_, method_)) {
      // A name the caller made up: one series for all of them, and a bounded log field.
      service_ = method_ = "other";
    }
    logged_method_ = Clip(info->method(), 160);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      Metrics().started.With({service_, method_, "unary"}).Increment();
      if (auto* md = methods->GetRecvInitialMetadata(); md != nullptr) {
        auto it = md->find(grpc::string_ref(kRequestIdKey.data(), kRequestIdKey.size()));
        if (it != md->end()) {
          request_id_.assign(it->second.data(), it->second.size());
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const std::string code = CodeName(status.error_code());
      Metrics().handled.With({service_, method_, "unary", code}).Increment();
      Metrics().seconds.With({service_, method_, "unary"}).Observe(seconds);
      const std::string ms = absl::StrCat(seconds * 1000.0);
      if (status.ok()) {
        log::Debug("rpc", {{"method", logged_method_}, {"code", code}, {"ms", ms},
                           {"request_id", request_id_}});
      } else {
        log::Info("rpc", {{"method", logged_method_}, {"code", code}, {"ms", ms},
                          {"request_id", request_id_}, {"error", status.error_message()}});
      }
    }
    methods->Proceed();
  }

 private:
  // Whether the server could have served `service`/`method`: a method of a linked proto
  // (every service this process registers) or the health check.
  static bool Known(const std::string& service, const std::string& method) {
    if (service == "grpc.health.v1.Health") {
      return method == "Check" || method == "Watch";
    }
    if (service.empty() || method.empty()) {
      return false;
    }
    // The names found so far (a few dozen; names not found are never kept).
    static std::shared_mutex mu;
    static std::set<std::string, std::less<>> known;
    std::string full = absl::StrCat(service, ".", method);
    {
      std::shared_lock lock(mu);
      if (known.contains(full)) {
        return true;
      }
    }
    if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full) == nullptr) {
      return false;
    }
    std::unique_lock lock(mu);
    known.insert(std::move(full));
    return true;
  }

  std::string service_;
  std::string method_;
  std::string logged_method_;
  std::string request_id_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class MetricsLoggingFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsLoggingInterceptor(info);
  }
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
StandardServerInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<MetricsLoggingFactory>());
  return out;
}

}  // namespace dj::rpc
