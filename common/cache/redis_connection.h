// Commands to one Redis server over a small pool of hiredis connections, failing fast while it
// is down. Written once for every Redis user (the cache, the Redis Streams event bus) so connect
// and command timeouts, AUTH/SELECT and the outage breaker behave the same everywhere.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/url.h"

// hiredis types, kept out of the header so its users need not include hiredis.
struct redisContext;
struct redisReply;
struct timeval;

namespace dj::cache {

struct RedisOptions {
  db::RedisUrl url;
  // Idle connections kept for the next command: at least as many as the threads that may call
  // at once (grpc-threads), or each call beyond them connects and disconnects (the profile in
  // bench/README.md saw that).
  int pool_size = 64;
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{200};
  // After a connection failure, calls fail fast for this long before Redis is tried again, so
  // an outage costs one timeout, not one per request.
  std::chrono::milliseconds retry_after{1000};
};

struct RedisReplyDeleter {
  void operator()(redisReply* r) const;
};
// A reply to read with hiredis (type, str/len, integer, element[]).
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// A command in Redis's protocol (RESP), binary-safe: what every Redis client here sends.
std::string FormatCommand(std::span<const std::string_view> args);

// A hiredis timeout.
::timeval ToTimeval(std::chrono::milliseconds ms);

// The values of an MGET's reply for `keys` keys, in order, nullopt for each miss; INTERNAL for an
// error reply or a reply of another shape. For every reader of MGET (RedisCache::GetMany,
// RedisPipeline).
absl::StatusOr<std::vector<std::optional<std::string>>> MGetValues(
    const redisReply& reply, size_t keys);

class RedisConnections final {
 public:
  // `user` says in logs who lost Redis ("cache", "events").
  RedisConnections(RedisOptions options, std::string user);
  ~RedisConnections();
  RedisConnections(const RedisConnections&) = delete;
  RedisConnections& operator=(const RedisConnections&) = delete;

  // Runs one command (binary-safe arguments). UNAVAILABLE when Redis cannot be reached or
  // answered nothing within command_timeout (and, for retry_after, without trying);
  // INTERNAL "redis: <its message>" for an error reply. `extra_wait` lengthens the reply
  // timeout of this one call, for commands that block on the server (XREADGROUP BLOCK).
  absl::StatusOr<RedisReply> Command(std::span<const std::string_view> args,
                                     std::chrono::milliseconds extra_wait = {});
  absl::StatusOr<RedisReply> Command(std::initializer_list<std::string_view> args) {
    return Command(std::span<const std::string_view>(args.begin(), args.size()));
  }

  const RedisOptions& options() const { return options_; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  absl::StatusOr<ContextPtr> Take();
  void Give(ContextPtr c);
  void MarkDown();

  const RedisOptions options_;
  const std::string user_;
  std::mutex mu_;
  std::vector<ContextPtr> idle_;                      // guarded by mu_
  std::chrono::steady_clock::time_point down_until_;  // guarded by mu_
  bool was_down_ = false;                             // guarded by mu_
};

}  // namespace dj::cache
