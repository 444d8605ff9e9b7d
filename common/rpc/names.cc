// Resource name parsing and opaque, filter-bound page tokens.
#include "common/rpc/names.h"

#include <algorithm>
#include <cctype>

#include "common/rpc/handler.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::rpc {
namespace {

// FNV-1a: a stable fingerprint, not a security measure (tokens carry no secrets).
uint64_t Fingerprint(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

absl::Status ValidateRequestId(std::string_view request_id) {
  if (request_id.empty()) {
    return absl::OkStatus();
  }
  // Long enough that two clients do not pick the same one by chance (a UUID, or 16+ random
  // characters); ids like "1" or "retry" are what collides.
  const bool charset = std::all_of(request_id.begin(), request_id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (request_id.size() < 16 || request_id.size() > 64 || !charset) {
    return InvalidArgument({{"request_id",
                             "must be a UUID or 16-64 characters of letters, digits, '-' and '_'"}});
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseName(std::string_view name, std::string_view collection,
                                  std::string_view field) {
  const std::string expected = absl::StrCat(AV(collection), "/{id}");
  if (name.empty()) {
    return InvalidArgument({{std::string(field), absl::StrCat("required; expected ", expected)}});
  }
  std::string_view rest = name;
  int64_t id = 0;
  if (rest.size() <= collection.size() + 1 || rest.substr(0, collection.size()) != collection ||
      rest[collection.size()] != '/' ||
      !absl::SimpleAtoi(AV(rest.substr(collection.size() + 1)), &id) || id <= 0 ||
      rest.substr(collection.size() + 1).find_first_not_of("0123456789") != std::string_view::npos ||
      rest[collection.size() + 1] == '0') {
    // One name per resource: "organizations/007" is not another spelling of organizations/7.
    return InvalidArgument(
        {{std::string(field), absl::StrCat("'", Clip(name, 96), "' is not a valid name; expected ",
                                           expected, " with a positive decimal id (no sign, no "
                                           "leading zeros)")}});
  }
  return id;
}

std::string FormatName(std::string_view collection, int64_t id) {
  return absl::StrCat(AV(collection), "/", id);
}

absl::StatusOr<int32_t> PageSize(int32_t requested) {
  if (requested < 0) {
    return InvalidArgument({{"page_size", "must not be negative"}});
  }
  if (requested == 0) {
    return kDefaultPageSize;
  }
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

std::string EncodePageToken(std::string_view filter, std::string_view cursor) {
  return absl::WebSafeBase64Escape(absl::StrCat("1|", Fingerprint(filter), "|", AV(cursor)));
}

absl::StatusOr<std::string> DecodePageToken(std::string_view token, std::string_view filter) {
  if (token.empty()) {
    return std::string();
  }
  std::string raw;
  if (!absl::WebSafeBase64Unescape(AV(token), &raw)) {
    return InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  std::vector<absl::string_view> parts = absl::StrSplit(raw, absl::MaxSplits('|', 2));
  uint64_t fp = 0;
  if (parts.size() != 3 || parts[0] != "1" || !absl::SimpleAtoi(parts[1], &fp) ||
      parts[2].empty()) {
    return InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  if (fp != Fingerprint(filter)) {
    return InvalidArgument(
        {{"page_token", "was issued for a different request; keep the other parameters"}});
  }
  return std::string(parts[2]);
}

}  // namespace dj::rpc

namespace dj::rpc {

std::string ToSnakeCase(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<IdPage> StartIdPage(int32_t page_size, std::string_view page_token,
                                   std::string_view filter) {
  auto size = PageSize(page_size);
  if (!size.ok()) {
    return size.status();
  }
  auto cursor = DecodePageToken(page_token, filter);
  if (!cursor.ok()) {
    return cursor.status();
  }
  IdPage start{.size = *size};
  if (!cursor->empty() && !absl::SimpleAtoi(*cursor, &start.after_id)) {
    return InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  return start;
}

}  // namespace dj::rpc
