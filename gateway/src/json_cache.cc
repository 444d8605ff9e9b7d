// See json_cache.h.
#include "gateway/src/json_cache.h"

namespace dj::gateway {

std::string JsonCache::Key(std::string_view type, std::string_view bytes) {
  // A type name has no '\0', so (type, bytes) pairs never collide.
  std::string key;
  key.reserve(type.size() + 1 + bytes.size());
  key.append(type).push_back('\0');
  key.append(bytes);
  return key;
}

std::optional<std::string> JsonCache::Find(std::string_view type, std::string_view bytes) const {
  if (bytes.size() > max_key_bytes_) {
    return std::nullopt;
  }
  const std::string key = Key(type, bytes);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void JsonCache::Put(std::string_view type, std::string_view bytes, std::string json) {
  if (bytes.size() > max_key_bytes_) {
    return;
  }
  std::string key = Key(type, bytes);
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    entries_.clear();
  }
  entries_.insert_or_assign(std::move(key), std::move(json));
}

}  // namespace dj::gateway
