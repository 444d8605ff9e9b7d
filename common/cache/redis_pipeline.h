// Reads from Redis without blocking the caller's thread: one connection shared by every caller,
// commands pipelined on it, each reply handed to a callback. For the hot read of a handler that
// runs on the thread gRPC received its call on (rpc::FastOrBlocking): a blocking round trip there
// would stall every call of the process, and handing the call to another thread costs more than
// the handler (bench/README.md). RedisConnections stays the client for everything else.
//
// The caller's thread writes its command to the socket itself, holding a lock only other writers
// want; this class's thread reads the replies without it, taking the lock only to match a reply to
// its command. So a read costs one wake-up, the reply's. Connecting (its DNS lookup, AUTH and
// SELECT) happens on that thread too: while there is no connection, calls fail at once and the
// caller takes its blocking path.
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

// hiredis types, kept out of the header.
struct redisContext;
struct redisReader;

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
  // command_timeout (looked at every 50 ms) fails with every command then waiting, and the
  // connection is dropped.
  void MGet(std::span<const std::string_view> keys, Done done);

 private:
  struct Pending {
    Done done;
    size_t keys = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  // The reply thread's parts.
  void Loop();
  void Connect();
  void ReadReplies();
  // Drops the connection: what waits on it fails with `why`, and Redis is left alone for
  // retry_after.
  void Drop(std::string_view why);
  // With mu_ held: writes what the socket will take of out_; watches for writability while some
  // is left.
  void FlushLocked();
  void WatchWritable(bool on);
  // With mu_ held: no connection attempt for retry_after; the first failure of an outage is logged.
  void MarkDownLocked(std::string_view why);

  const RedisOptions options_;
  const int epoll_fd_;
  const int wake_fd_;  // an eventfd: stop, connect, or drop a connection a write broke

  std::mutex mu_;
  int fd_ = -1;                  // guarded by mu_: the connected socket, -1 while there is none
  bool broken_ = false;          // guarded by mu_: a write failed; the reply thread drops it
  bool connect_asked_ = true;    // guarded by mu_: the reply thread's next turn connects
  bool stop_ = false;            // guarded by mu_
  bool was_down_ = false;        // guarded by mu_: logged as unreachable, not yet as back
  bool watching_out_ = false;    // guarded by mu_
  std::chrono::steady_clock::time_point down_until_;  // guarded by mu_
  std::string out_;              // guarded by mu_: bytes the socket has not taken yet, in order
  std::deque<Pending> waiting_;  // guarded by mu_: in the order their replies will come

  // The reply thread's own.
  redisContext* context_ = nullptr;  // owns the socket (hiredis's connect, AUTH and SELECT)
  redisReader* reader_ = nullptr;    // parses the replies
  std::thread thread_;
};

}  // namespace dj::cache
