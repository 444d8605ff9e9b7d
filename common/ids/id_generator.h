// Time-ordered 64-bit ids made by the service (never AUTO_INCREMENT): 41 bits of milliseconds
// since 2024-01-01 UTC (good until 2093), 10 bits of node id, 12 bits of sequence. Sorting by id
// sorts by creation time; ids from different nodes never collide, which is why a node id is
// held by one process at a time (node_lease.h).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace dj::ids {

class IdGenerator final {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds since the Unix epoch

  // node_id in [0, 1023]. `clock` defaults to the system clock (tests inject one). `guard`, when
  // set, runs before each id: a leased node id's check, which stops the process once the lease
  // may have passed to another.
  explicit IdGenerator(int node_id, Clock clock = nullptr, std::function<void()> guard = nullptr);

  int64_t Next();

  static constexpr int64_t kEpochMs = 1704067200000;  // 2024-01-01T00:00:00Z
  static int64_t MillisOf(int64_t id) { return (id >> 22) + kEpochMs; }
  static int NodeOf(int64_t id) { return static_cast<int>((id >> 12) & 0x3ff); }

  // A fixed node id for a process that is alone on its databases (the embedded topology, whose
  // data-dir lock keeps a second one out): DJ_NODE_ID when it is a number in range, else 0.
  // Services lease theirs instead (NodeLease).
  static int DefaultNodeId();

  int node_id() const { return static_cast<int>(node_); }

 private:
  const int64_t node_;
  Clock clock_;
  const std::function<void()> guard_;
  std::mutex mu_;
  int64_t last_ms_ = 0;   // guarded by mu_
  int64_t sequence_ = 0;  // guarded by mu_
};

}  // namespace dj::ids
