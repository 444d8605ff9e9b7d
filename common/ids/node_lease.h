// A node id held by one process at a time: leased in Redis under a key with a TTL and renewed
// by a thread, so two replicas never make ids with the same node bits (hashing host and pid,
// as before, collided with ≈ 4 % chance at 10 replicas). An explicit id (DJ_NODE_ID, e.g. a
// StatefulSet ordinal) is registered the same way, so a second process given it refuses to start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "common/cache/cache.h"

namespace dj::ids {

// The exit code of a process that lost its node id (EX_TEMPFAIL: a restart leases a new one).
inline constexpr int kExitNodeIdLost = 75;

// An explicit node id: "7", or a pod name ending in its ordinal ("dj-org-7", from
// DJ_NODE_ID=$(POD_NAME) in a StatefulSet). The error names no setting.
absl::StatusOr<int> ParseNodeId(std::string_view value);

struct NodeLeaseOptions {
  // The key of id n is key_prefix + n. One key space for the whole suite, so ids are unique
  // across services, whichever databases they share.
  std::string key_prefix = "dj:v1:node:";
  // Said in the key's value and in errors, with host and pid: "dj-org".
  std::string service;
  std::optional<int> explicit_id;  // set: this id or refuse; else the first free in random order
  std::chrono::milliseconds ttl{30'000};  // renewed every ttl/3
  // How long Acquire keeps trying while Redis cannot be reached (start-up beside Redis).
  std::chrono::milliseconds wait{0};
  bool renew_in_background = true;  // false: the caller calls Renew() (tests)
  // Milliseconds of a steady clock (tests inject one).
  std::function<int64_t()> clock;
  // Called once when the lease is lost, with why. Default: log the error and _exit with
  // kExitNodeIdLost — a process that cannot show it still holds its node id must not make
  // another id (tests pass one that records it).
  std::function<void(std::string_view why)> on_lost;
};

class NodeLease final {
 public:
  // Takes the explicit id or leases a free one. ALREADY_EXISTS when the explicit id is held by
  // another process (the message names its holder); RESOURCE_EXHAUSTED when all 1024 are;
  // UNAVAILABLE when Redis could not be reached within `wait`.
  static absl::StatusOr<std::unique_ptr<NodeLease>> Acquire(std::unique_ptr<cache::Cache> redis,
                                                            NodeLeaseOptions options);
  // Stops renewing and gives the id back (only if still ours), so a restart can take it at once.
  ~NodeLease();
  NodeLease(const NodeLease&) = delete;
  NodeLease& operator=(const NodeLease&) = delete;

  int node_id() const { return node_id_; }
  const std::string& key() const { return key_; }
  const std::string& owner() const { return owner_; }
  bool lost() const { return lost_.load(); }

  enum class Renewal { kRenewed, kUnreachable, kLost };
  // One renewal, as the thread does every ttl/3: extends the key while it is ours (takes it
  // back when it vanished, e.g. a Redis restart); another holder, or reaching the end of the
  // lease without a renewal, loses it (on_lost).
  Renewal Renew();

  // Before each id: loses the lease when its end has passed without a renewal (the process
  // was paused, or the thread starved), so no id is made after another process may hold it.
  void Check();

 private:
  NodeLease(std::unique_ptr<cache::Cache> redis, NodeLeaseOptions options, int node_id,
            std::string owner, int64_t started_ms);
  int64_t Now() const;
  void Lose(std::string_view why);
  void Loop();

  const std::unique_ptr<cache::Cache> redis_;  // its own connections: a busy cache never delays
  const NodeLeaseOptions options_;
  const int node_id_;
  const std::string key_;
  const std::string owner_;
  // Steady ms until which the id is surely ours: a renewal's start + 0.9 ttl (the key lives a
  // ttl from when Redis received it, which is later).
  std::atomic<int64_t> valid_until_;
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace dj::ids
