#include "services/org/src/tree_version.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/events/events.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::org {
namespace {

constexpr std::string_view kCacheKey = "org:v1:tree_version";
// Long enough never to matter; a lost key is put back from the database by Current().
constexpr std::chrono::hours kKeep{24 * 30};

}  // namespace

absl::StatusOr<int64_t> TreeVersion::Read(db::Connection& c) {
  return events::LastSequence(c, kEventKey);
}

void TreeVersion::Publish(int64_t version) {
  if (cache_ == nullptr) {
    return;
  }
  if (absl::Status s = cache_->Set(kCacheKey, absl::StrCat(version), kKeep); !s.ok()) {
    // Other replicas may trust copies older than this move until the key is back; the moved
    // organizations' own entries are deleted after the commit as before.
    log::Warn("tree version not published", {{"error", SV(s.message())}});
  }
}

std::string_view TreeVersion::CacheKey() { return kCacheKey; }

absl::StatusOr<int64_t> TreeVersion::Current() {
  if (cache_ == nullptr) {
    return absl::FailedPreconditionError("no cache");
  }
  ASSIGN_OR_RETURN(const std::optional<std::string> cached, cache_->Get(kCacheKey));
  return Current(cached);
}

absl::StatusOr<int64_t> TreeVersion::Current(const std::optional<std::string>& cached) {
  if (cache_ == nullptr) {
    return absl::FailedPreconditionError("no cache");
  }
  if (std::optional<int64_t> version = Parse(cached); version.has_value()) {
    return *version;
  }
  ASSIGN_OR_RETURN(db::Pool::Lease lease, pool_.Acquire());
  ASSIGN_OR_RETURN(const int64_t stored, Read(*lease));
  // Only if still absent: a move publishing meanwhile holds a newer version.
  ASSIGN_OR_RETURN(const bool put, cache_->SetIfAbsent(kCacheKey, absl::StrCat(stored), kKeep));
  if (!put) {
    auto again = cache_->Get(kCacheKey);
    if (std::optional<int64_t> version = again.ok() ? Parse(*again) : std::nullopt; version) {
      return *version;
    }
  }
  return stored;
}

std::optional<int64_t> TreeVersion::Parse(const std::optional<std::string>& cached) {
  int64_t version = 0;
  if (cached.has_value() && absl::SimpleAtoi(*cached, &version)) {
    return version;
  }
  return std::nullopt;
}

std::string TreeVersion::Stamp(int64_t version, std::string_view value) {
  return absl::StrCat(version, ":", AV(value));
}

bool TreeVersion::Unstamp(std::string_view stamped, int64_t* version, std::string* value) {
  const size_t colon = stamped.find(':');
  if (colon == std::string_view::npos || !absl::SimpleAtoi(AV(stamped.substr(0, colon)), version)) {
    return false;
  }
  value->assign(stamped.substr(colon + 1));
  return true;
}

}  // namespace dj::org
