// Tokens already verified, by their exact bytes, until they expire: a hit skips the JSON parse
// and the HMAC. The gateway keeps its clients' access tokens here and every service the
// gateway's internal tokens. Only a token that verified is ever put; a hit is honoured only
// before its expiry, so an expired token goes back through verification for its exact refusal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/runtime/strings.h"

namespace dj::auth {

template <typename Value>
class TokenCache final {
 public:
  // At most `capacity` tokens; when full it starts again from empty (simple and bounded: the
  // next requests verify again).
  explicit TokenCache(size_t capacity) : capacity_(capacity) {}

  // The value cached for `token` when it expires after `now_seconds`.
  std::optional<Value> Find(std::string_view token, int64_t now_seconds) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(AV(token));
    if (it == entries_.end()) {
      return std::nullopt;
    }
    if (now_seconds >= it->second.expires_at) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  void Put(std::string_view token, Value value, int64_t expires_at) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= capacity_) {
      entries_.clear();
    }
    entries_.insert_or_assign(std::string(token), Entry{std::move(value), expires_at});
  }

  size_t size() {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    int64_t expires_at = 0;
  };
  const size_t capacity_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace dj::auth
