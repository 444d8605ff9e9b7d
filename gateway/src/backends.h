// Backend services: one channel each, unary calls through the gRPC callback API with a generic
// stub (bytes in, bytes out), client-side metrics, grpc.health.v1 checks, and draining.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"

namespace dj::gateway {

// The method a call goes to, split for metric labels.
struct RpcTarget {
  std::string path;     // "/dangjian.org.v1.OrganizationService/GetOrganization"
  std::string service;  // "dangjian.org.v1.OrganizationService"
  std::string method;   // "GetOrganization"
  static RpcTarget Of(std::string_view service, std::string_view method);
};

class Backends final {
 public:
  struct Options {
    std::chrono::milliseconds request_timeout{10'000};
    std::chrono::milliseconds health_timeout{1'000};
  };
  // Called once, on a gRPC callback thread, with the status and (when OK) the response bytes.
  // It must not block.
  using Done = std::function<void(const grpc::Status& status, grpc::ByteBuffer* response)>;

  struct Health {
    std::string backend;
    std::string address;
    bool serving = false;
    std::string detail;  // "SERVING", "NOT_SERVING", or why the check failed
  };

  // One channel per (backend name, address), made now and reused for every call.
  Backends(const std::vector<std::pair<std::string, std::string>>& addresses, Options options);
  ~Backends();
  Backends(const Backends&) = delete;
  Backends& operator=(const Backends&) = delete;

  // The index of a backend by name, or -1.
  int IndexOf(std::string_view backend) const;
  const std::string& NameOf(int index) const { return backends_[index].name; }

  // Starts a call with a fresh ClientContext whose deadline is request_timeout from now and
  // which carries `request_id` as x-request-id metadata. Never blocks.
  void Call(int backend, const RpcTarget& target, grpc::ByteBuffer request,
            std::string_view request_id, Done done);

  // Asks every backend's grpc.health.v1.Health/Check (service "") at once; `done` runs once,
  // on a gRPC thread, when all have answered or timed out.
  void CheckHealth(std::string_view request_id, std::function<void(std::vector<Health>)> done);

  // Cancels every call in flight (their Done sees CANCELLED) and refuses new ones.
  void CancelAll();
  // Waits until no call is in flight; false if `deadline` passed first.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

 private:
  struct Backend {
    std::string name;
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  struct CallState;

  void Start(int backend, const RpcTarget& target, grpc::ByteBuffer request,
             std::string_view request_id, std::chrono::milliseconds timeout, Done done);
  void Finished(CallState* state);

  const Options options_;
  std::vector<Backend> backends_;

  std::mutex mu_;
  std::condition_variable idle_;
  std::set<CallState*> in_flight_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The text of a ByteBuffer (a serialized message).
std::string ByteBufferToString(const grpc::ByteBuffer& buffer);
grpc::ByteBuffer StringToByteBuffer(const std::string& bytes);

}  // namespace dj::gateway
