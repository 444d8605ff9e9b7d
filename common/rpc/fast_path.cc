#include "common/rpc/fast_path.h"

#include <pthread.h>

#include "common/rpc/channel.h"
#include "common/rpc/errors.h"

namespace dj::rpc {

Workers::Workers(int threads, std::string name, size_t max_queued) : max_queued_(max_queued) {
  threads_.reserve(static_cast<size_t>(std::max(1, threads)));
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] {
      std::unique_lock lock(mu_);
      while (true) {
        ready_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) {
          return;  // stopping, and nothing left to run
        }
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
      }
    });
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
  }
}

Workers::~Workers() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

bool Workers::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (tasks_.size() >= max_queued_) {
      return false;
    }
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

grpc::Status UnaryCall::Busy() const {
  return ToGrpcStatus(WithRetryDelay(Error(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                                           "the server is busy; try again shortly"),
                                     std::chrono::seconds(1)),
                      domain_, RequestId(*context_));
}

}  // namespace dj::rpc
