// The wall clock as the integers the suite stores and signs: microseconds (database rows, audit
// entries) and seconds (token iat/exp) since the Unix epoch. Code that needs a controllable clock
// takes a function in its options and falls back to these.
#pragma once

#include <chrono>
#include <cstdint>

namespace dj::time {

inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace dj::time
