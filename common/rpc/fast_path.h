// A unary handler in two halves, on gRPC's callback API, for a hot read:
//   - the fast half runs on the thread that received the call and answers from what it can read
//     without blocking (a cached copy through CacheAside::Peek, whose reply may arrive on another
//     thread); it must not touch the database or anything else that waits;
//   - the ordinary blocking handler runs on a worker thread whenever the fast half cannot answer
//     (a miss, a stale copy, a refusal to record, a bad request): same checks, same answers.
// Why: on the sync server every call crosses from a poller thread to a handler thread and back,
// and those hand-offs cost more than the handler itself (bench/README.md, "Step 6: non-blocking
// hot reads"). A method is switched to this shape with the generated WithCallbackMethod_<Name>
// base; its other methods stay synchronous.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace dj::rpc {

// Threads for the blocking halves of fast-path methods.
class Workers final {
 public:
  // `name` is the threads' name in top and perf (at most 15 characters). At most `max_queued`
  // tasks wait for a thread: beyond that Post refuses, so that a flood of misses is answered
  // "busy" at once (as the sync server answered beyond its threads) rather than piling up.
  Workers(int threads, std::string name, size_t max_queued = 1024);
  ~Workers();  // runs what is queued, then joins
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Queues `task`; false, and `task` dropped unrun, when max_queued tasks are waiting already.
  [[nodiscard]] bool Post(std::function<void()> task);

 private:
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

// One call in flight. The fast half ends it with exactly one of Finish() and Slow(), once.
class UnaryCall final : public std::enable_shared_from_this<UnaryCall> {
 public:
  using Blocking = std::function<grpc::Status()>;
  // `domain` names the service in the error a full queue answers (ErrorInfo, as ToGrpcStatus).
  UnaryCall(grpc::CallbackServerContext* context, Workers& workers, std::string_view domain,
            Blocking blocking)
      : context_(context),
        reactor_(context->DefaultReactor()),
        workers_(workers),
        domain_(domain),
        blocking_(std::move(blocking)) {}

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  // The fast half answered: the response is filled in.
  void Finish() { reactor_->Finish(grpc::Status::OK); }
  // The fast half cannot answer (and has left the response empty): the blocking handler runs on
  // a worker and finishes the call with its status; RESOURCE_EXHAUSTED at once when the workers'
  // queue is full.
  void Slow() {
    const bool queued =
        workers_.Post([self = shared_from_this()] { self->reactor_->Finish(self->blocking_()); });
    if (!queued) {
      reactor_->Finish(Busy());
    }
  }

 private:
  grpc::Status Busy() const;

  grpc::CallbackServerContext* const context_;
  grpc::ServerUnaryReactor* const reactor_;
  Workers& workers_;
  const std::string_view domain_;
  const Blocking blocking_;
};

// The body of a fast-path method: `fast(call)` runs at once, on this thread; `blocking` is the
// method as a synchronous handler would have written it; `domain` is the service's error domain.
template <typename Fast>
grpc::ServerUnaryReactor* FastOrBlocking(grpc::CallbackServerContext* context, Workers& workers,
                                         std::string_view domain, UnaryCall::Blocking blocking,
                                         Fast&& fast) {
  auto call = std::make_shared<UnaryCall>(context, workers, domain, std::move(blocking));
  grpc::ServerUnaryReactor* reactor = call->reactor();
  std::forward<Fast>(fast)(std::move(call));
  return reactor;
}

}  // namespace dj::rpc
