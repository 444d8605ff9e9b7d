// Resource names (`organizations/7251034963021824`) and list paging (page_size, page_token).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::rpc {

// "organizations/123" -> 123 for collection "organizations". `field` names the request field
// in the error ("name", "organization.parent").
absl::StatusOr<int64_t> ParseName(std::string_view name, std::string_view collection,
                                  std::string_view field);
std::string FormatName(std::string_view collection, int64_t id);

// A create's request_id (AIP-155): a UUID or 16-64 characters of letters, digits, '-' and '_';
// empty means not idempotent. INVALID_ARGUMENT naming `request_id` otherwise. Services store it
// scoped to the caller (auth::IdempotencyKey).
absl::Status ValidateRequestId(std::string_view request_id);

inline constexpr int32_t kDefaultPageSize = 50;
inline constexpr int32_t kMaxPageSize = 500;

// 0 -> default, > max -> max, negative -> INVALID_ARGUMENT.
absl::StatusOr<int32_t> PageSize(int32_t requested);

// A page token is opaque to clients: it carries the position after the last item returned and
// a fingerprint of the request's filter, so a token used with another filter is refused.
std::string EncodePageToken(std::string_view filter, std::string_view cursor);
// Returns the cursor ("" for an empty token) or INVALID_ARGUMENT naming `page_token`.
absl::StatusOr<std::string> DecodePageToken(std::string_view token, std::string_view filter);

// A list reads one row more than a page (size + 1) to learn whether another page follows:
// drops that extra row and says whether it was there (whether to hand out a next page token).
template <typename Row>
bool TrimPage(std::vector<Row>& rows, int32_t size) {
  if (static_cast<int32_t>(rows.size()) <= size) {
    return false;
  }
  rows.erase(rows.begin() + size, rows.end());
  return true;
}

// Where a list paged by id starts: the page size (PageSize) and the id after which the page
// begins (0 for the first page), from a token whose cursor is that id, bound to `filter`.
struct IdPage {
  int32_t size = 0;
  int64_t after_id = 0;
};
absl::StatusOr<IdPage> StartIdPage(int32_t page_size, std::string_view page_token,
                                   std::string_view filter);

}  // namespace dj::rpc
