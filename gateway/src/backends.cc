// Generic unary calls to backends with deadlines, request ids, metrics and health checks.
#include "gateway/src/backends.h"

#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/runtime/strings.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/stub_options.h"

namespace dj::gateway {
namespace {

struct ClientMetrics {
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& seconds;
};

ClientMetrics& Metrics() {
  static ClientMetrics m{
      prometheus::BuildCounter()
          .Name("grpc_client_handled_total")
          .Help("RPCs completed by the client, by status code.")
          .Register(metrics::Registry()),
      prometheus::BuildHistogram()
          .Name("grpc_client_handling_seconds")
          .Help("Time from starting an RPC to receiving its status, on the client.")
          .Register(metrics::Registry()),
  };
  return m;
}

// The same code names as the server-side metrics (common/rpc/interceptors.cc).
std::string CodeLabel(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "Canceled",          "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",      "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
      "Unimplemented", "Internal",         "Unavailable",      "DataLoss",
      "Unauthenticated"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : absl::StrCat(i);
}

constexpr std::string_view kHealthService = "grpc.health.v1.Health";
constexpr uint64_t kServing = 1;  // grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING

// HealthCheckResponse.status (field 1, an enum) without the generated health proto.
uint64_t HealthStatus(const grpc::ByteBuffer& response) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(ByteBufferToString(response))) {
    return 0;
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 &&
        fields.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT) {
      return fields.field(i).varint();
    }
  }
  return 0;  // UNKNOWN
}

}  // namespace

RpcTarget RpcTarget::Of(std::string_view service, std::string_view method) {
  return {absl::StrCat("/", AV(service), "/", AV(method)), std::string(service),
          std::string(method)};
}

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) {
    return out;
  }
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

grpc::ByteBuffer StringToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

struct Backends::CallState {
  grpc::ClientContext context;  // fresh per call, never reused
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  RpcTarget target;
  Done done;
  std::chrono::steady_clock::time_point start;
};

Backends::Backends(const std::vector<std::pair<std::string, std::string>>& addresses,
                   Options options)
    : options_(options) {
  for (const auto& [name, address] : addresses) {
    Backend b;
    b.name = name;
    b.address = address;
    b.channel = rpc::MakeChannel(address);
    b.stub = std::make_unique<grpc::GenericStub>(b.channel);
    backends_.push_back(std::move(b));
  }
}

Backends::~Backends() {
  CancelAll();
  WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

int Backends::IndexOf(std::string_view backend) const {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (backends_[i].name == backend) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void Backends::Call(int backend, const RpcTarget& target, grpc::ByteBuffer request,
                    std::string_view request_id, Done done) {
  Start(backend, target, std::move(request), request_id, options_.request_timeout,
        std::move(done));
}

void Backends::Start(int backend, const RpcTarget& target, grpc::ByteBuffer request,
                     std::string_view request_id, std::chrono::milliseconds timeout, Done done) {
  auto state = std::make_shared<CallState>();
  state->context.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!request_id.empty()) {
    state->context.AddMetadata(std::string(rpc::kRequestIdKey), std::string(request_id));
  }
  state->request = std::move(request);
  state->target = target;
  state->done = std::move(done);
  state->start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) {
      // Shutting down: answer at once, outside the lock, as a cancelled call would.
      state->context.TryCancel();
    }
    in_flight_.insert(state.get());
  }
  backends_[static_cast<size_t>(backend)].stub->UnaryCall(
      &state->context, state->target.path, grpc::StubOptions(), &state->request,
      &state->response, [this, state](grpc::Status status) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - state->start)
                .count();
        Metrics()
            .handled
            .Add({{"grpc_service", state->target.service},
                  {"grpc_method", state->target.method},
                  {"grpc_code", CodeLabel(status.error_code())}})
            .Increment();
        Metrics()
            .seconds
            .Add({{"grpc_service", state->target.service},
                  {"grpc_method", state->target.method}},
                 metrics::LatencyBuckets())
            .Observe(seconds);
        state->done(status, &state->response);
        Finished(state.get());
      });
}

void Backends::Finished(CallState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(state);
  if (in_flight_.empty()) {
    idle_.notify_all();
  }
}

void Backends::CheckHealth(std::string_view request_id,
                           std::function<void(std::vector<Health>)> done) {
  struct Gather {
    std::mutex mu;
    std::vector<Health> results;
    size_t remaining = 0;
    std::function<void(std::vector<Health>)> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->remaining = backends_.size();
  gather->done = std::move(done);
  for (const Backend& b : backends_) {
    gather->results.push_back({b.name, b.address, false, ""});
  }
  if (backends_.empty()) {
    gather->done({});
    return;
  }
  static const RpcTarget kCheck = RpcTarget::Of(kHealthService, "Check");
  for (size_t i = 0; i < backends_.size(); ++i) {
    // An empty HealthCheckRequest (service "": the server as a whole) is zero bytes.
    Start(static_cast<int>(i), kCheck, StringToByteBuffer(""), request_id,
          options_.health_timeout, [gather, i](const grpc::Status& status,
                                               grpc::ByteBuffer* response) {
            std::vector<Health> all;
            {
              std::lock_guard<std::mutex> lock(gather->mu);
              Health& h = gather->results[i];
              if (!status.ok()) {
                h.detail = absl::StrCat(CodeLabel(status.error_code()), ": ",
                                        status.error_message());
              } else if (HealthStatus(*response) == kServing) {
                h.serving = true;
                h.detail = "SERVING";
              } else {
                h.detail = "NOT_SERVING";
              }
              if (--gather->remaining != 0) {
                return;
              }
              all = std::move(gather->results);
            }
            gather->done(std::move(all));
          });
  }
}

void Backends::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (CallState* state : in_flight_) {
    state->context.TryCancel();
  }
}

bool Backends::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_until(lock, deadline, [this] { return in_flight_.empty(); });
}

}  // namespace dj::gateway
