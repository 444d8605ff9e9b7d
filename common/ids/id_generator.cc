// Snowflake-style id generation, monotonic even if the wall clock steps back.
#include "common/ids/id_generator.h"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace dj::ids {

IdGenerator::IdGenerator(int node_id, Clock clock, std::function<void()> guard)
    : node_(node_id), clock_(std::move(clock)), guard_(std::move(guard)) {
  if (node_id < 0 || node_id > 1023) {
    throw std::invalid_argument("node id must be in [0, 1023]");
  }
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

int64_t IdGenerator::Next() {
  if (guard_) {
    guard_();
  }
  std::lock_guard lock(mu_);
  int64_t now = clock_();
  if (now < last_ms_) {
    now = last_ms_;  // the clock stepped back: keep counting from where we were
  }
  if (now == last_ms_) {
    sequence_ = (sequence_ + 1) & 0xfff;
    if (sequence_ == 0) {
      ++now;  // 4096 ids in one millisecond: borrow the next one
    }
  } else {
    sequence_ = 0;
  }
  last_ms_ = now;
  return ((now - kEpochMs) << 22) | (node_ << 12) | sequence_;
}

int IdGenerator::DefaultNodeId() {
  if (const char* env = std::getenv("DJ_NODE_ID"); env != nullptr && *env != '\0') {
    int v = std::atoi(env);
    if (v >= 0 && v <= 1023) {
      return v;
    }
  }
  return 0;
}

}  // namespace dj::ids
