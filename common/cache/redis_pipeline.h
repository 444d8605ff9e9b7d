// Reads from Redis without blocking the caller's thread: one connection shared by every caller,
// commands pipelined on it, each reply handed to a callback. For the hot read of a handler that
// runs on the thread gRPC received its call on (rpc::UnaryCall): a blocking round trip there
// would stall every call of the process, and handing the call to another thread costs more than
// the handler (bench/README.md). RedisConnections stays the client for everything else.
//
// The caller's thread writes its command to the socket itself; this class's thread only waits for
// replies, so a request costs one wake-up, the reply's. Connecting (and its DNS lookup) happens on
// that thread too: while there is no connection, calls fail at once and the caller takes its
// blocking path.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cache/redis_connection.h"  // RedisOptions

struct redisAsyncContext;

namespace dj::cache {

class RedisPipeline final {
 public:
  using Values = std::vector<std::optional<std::string>>;
  using Done = std::function<void(absl::StatusOr<Values>)>;

  // Starts the reply thread and the first connection attempt. Uses url, connect_timeout,
  // command_timeout and retry_after of `options`.
  explicit RedisPipeline(RedisOptions options);
  // Fails what is still waiting (UNAVAILABLE) and stops the thread.
  ~RedisPipeline();
  RedisPipeline(const RedisPipeline&) = delete;
  RedisPipeline& operator=(const RedisPipeline&) = delete;

  // MGET `keys`: the values in their order, nullopt for each miss. `done` runs exactly once, on
  // this class's thread with the reply, or on the caller's before MGet returns with UNAVAILABLE
  // when there is no connection (not yet, or for retry_after after a failure). A reply later than
  // command_timeout (checked every 50 ms) fails with every command then waiting, and the
  // connection is dropped.
  void MGet(std::span<const std::string_view> keys, Done done);

 private:
  struct Pending {
    Done done;  // empty for the AUTH and SELECT sent after connecting
    size_t keys = 0;
    std::chrono::steady_clock::time_point deadline;
  };
  using Ready = std::vector<std::pair<Done, absl::StatusOr<Values>>>;

  // Everything below runs with mu_ held.
  void Connect();
  void Send(std::span<const std::string_view> args, Pending* pending);
  void Drop(std::string_view why);   // fails every waiting command, disconnects, waits retry_after
  void WatchSocket();                // brings the epoll interest in line with hiredis's wishes
  void Loop();

  static void OnReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnConnect(const redisAsyncContext* ac, int status);
  static void OnDisconnect(const redisAsyncContext* ac, int status);
  static void AddRead(void* self);
  static void DelRead(void* self);
  static void AddWrite(void* self);
  static void DelWrite(void* self);
  static void Cleanup(void* self);

  const RedisOptions options_;
  const int epoll_fd_;
  const int wake_fd_;  // an eventfd: stop, or connect now

  std::mutex mu_;
  redisAsyncContext* ac_ = nullptr;  // guarded by mu_; null while disconnected
  bool connected_ = false;           // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool was_down_ = false;            // guarded by mu_
  bool connect_asked_ = false;       // guarded by mu_
  std::chrono::steady_clock::time_point connect_deadline_;  // guarded by mu_
  std::chrono::steady_clock::time_point down_until_;        // guarded by mu_
  int socket_fd_ = -1;        // guarded by mu_: the fd registered with epoll, -1 for none
  uint32_t want_events_ = 0;  // guarded by mu_: what hiredis asked for
  uint32_t has_events_ = 0;   // guarded by mu_: what epoll watches
  std::deque<Pending*> waiting_;  // guarded by mu_: in the order the replies will come
  Ready ready_;                   // guarded by mu_: answers to hand out once mu_ is released
  std::thread thread_;
};

}  // namespace dj::cache
