// A bounded memo of protobuf->JSON transcoding: the JSON of an answer is a pure function of
// the method's output type and the answer's bytes, so equal bytes need not be transcoded twice
// (the profile puts protobuf's JSON writer and its allocations at the top of the gateway's
// hot path). Nothing is served from it that the service did not just send: the key is the
// whole answer, so a changed (moved, renamed) organization is a different key.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/base/thread_annotations.h"

namespace dj::gateway {

class JsonCache final {
 public:
  explicit JsonCache(size_t max_entries = 1024, size_t max_key_bytes = 4096)
      : max_entries_(max_entries), max_key_bytes_(max_key_bytes) {}

  // The JSON recorded for (type, bytes), if any.
  std::optional<std::string> Find(std::string_view type, std::string_view bytes) const;
  // Records it; answers larger than max_key_bytes are not kept. When full, starts over.
  void Put(std::string_view type, std::string_view bytes, std::string json);

 private:
  static std::string Key(std::string_view type, std::string_view bytes);

  const size_t max_entries_;
  const size_t max_key_bytes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dj::gateway
