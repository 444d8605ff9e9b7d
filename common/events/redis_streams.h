// The event bus of the distributed topology: Redis Streams. Publish appends the event to the
// stream's key (XADD, capped with MAXLEN ~); each Subscribe is a consumer group on that key,
// read by a thread of this process under a consumer name of its own, so the processes of one
// service share the group's work and every group sees every event.
//
// Delivery is at least once: a message is acknowledged (XACK) only after its handler returned
// OK. One whose handler failed, or whose consumer died, stays pending and is claimed again
// (XAUTOCLAIM) once it has been idle for min_idle; after max_deliveries it is copied to the
// dead-letter stream "<key>:dead" and acknowledged, so one bad event does not block the group
// forever. Handlers make the effect exactly-once with ApplyOnce (events.h).
//
// Order: within a group, messages are handled in stream order, except that a redelivery comes
// after the messages read while it was pending.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/cache/redis_connection.h"
#include "common/events/events.h"

namespace dj::events {

struct RedisStreamsOptions {
  cache::RedisOptions redis;
  // Stream keys are prefix + the event's stream ("dj:events:org.organizations").
  std::string key_prefix = "dj:events:";
  // Each stream keeps about this many newest messages (XADD MAXLEN ~); consumers are expected
  // to be far closer behind than that.
  int64_t max_len = 100'000;
  // This process's name in its groups; empty: "<host>-<pid>-<n>" (n counts buses in a process).
  std::string consumer;
  int read_count = 16;                          // messages per XREADGROUP / XAUTOCLAIM
  std::chrono::milliseconds block{1000};        // XREADGROUP BLOCK; also bounds Stop's wait
  // A pending message idle this long (its handler failed, or its consumer died) is claimed
  // and handled again. Claim passes run every min_idle / 2.
  std::chrono::milliseconds min_idle{30'000};
  // Deliveries after which a message that never succeeded goes to the dead-letter stream.
  int max_deliveries = 5;
  // Consumers of a group with nothing pending and idle this long are deleted from it: each
  // process start adds a consumer name, and dead ones would otherwise pile up in XINFO. Keep it
  // far above `block` and the longest handler run (a live consumer is never that idle).
  std::chrono::milliseconds forget_consumer_after{std::chrono::hours(1)};
  // How long a consumer loop waits after Redis failed before it tries again.
  std::chrono::milliseconds retry_after{1000};
};

class RedisStreamsBus final : public EventBus {
 public:
  explicit RedisStreamsBus(RedisStreamsOptions options);
  ~RedisStreamsBus() override;  // Stop()

  // XADD; OK only once Redis has stored the message. UNAVAILABLE when Redis is down (after at
  // most the connect or command timeout).
  absl::Status Publish(const Event& event) override;

  // Registers the group's handler. The group is created when missing (from the start of what
  // the stream retains, so a group created after the producer published still gets those
  // events); Redis being down then is retried by the consumer loop. The loop runs from Start()
  // (at once when already started).
  void Subscribe(const std::string& stream, const std::string& group, Handler handler) override;

  // Starts one consumer thread per subscription. Stop ends them for good (each within about
  // `block`; Publish still works); what they had read but not acknowledged stays pending and is
  // claimed later.
  void Start();
  void Stop() override;

  const std::string& consumer() const { return consumer_; }
  std::string StreamKey(std::string_view stream) const;
  std::string DeadLetterKey(std::string_view stream) const;  // StreamKey + ":dead"

 private:
  struct Subscription;

  void Run(Subscription& sub);
  // One pass of each half of the loop; errors are Redis errors (the loop waits, then retries).
  absl::Status EnsureGroup(Subscription& sub);
  absl::Status ClaimStuck(Subscription& sub, bool* more);
  absl::Status ReadNew(Subscription& sub);
  absl::Status ForgetDeadConsumers(Subscription& sub);
  // Handles one message with `deliveries` so far (this one included).
  absl::Status Deliver(Subscription& sub, const redisReply& entry, int64_t deliveries);
  absl::Status DeadLetter(Subscription& sub, const redisReply& entry, int64_t deliveries,
                          std::string_view reason);
  void SleepUnlessStopped(std::chrono::milliseconds d);

  const RedisStreamsOptions options_;
  const std::string consumer_;
  cache::RedisConnections redis_;
  std::mutex mu_;
  std::condition_variable stopped_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;  // guarded by mu_
  bool started_ = false;                                      // guarded by mu_
  bool stop_ = false;                                         // guarded by mu_
};

}  // namespace dj::events
