// Repository for transfers (组织关系接转) and their letter numbers: all their SQL. Every call runs
// on the connection it is given (the caller's transaction, or one from db::Pool::Run for a read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/db.h"
#include "common/time/civil_date.h"

namespace dj::member {

// As stored; `state` and `kind` are the wire enums' numbers (TransferState, TransferKind).
struct TransferRow {
  int64_t id = 0;
  int32_t kind = 0;
  int64_t member_id = 0;  // 0: into the system without a record
  std::string member_display_name;
  int64_t from_org_id = 0;  // 0: from outside the system
  std::string from_path;
  std::string from_external_name;
  int64_t to_org_id = 0;  // 0: out of the system
  std::string to_path;
  std::string to_external_name;
  std::string letter_number;
  time::CivilDate issue_date;
  time::CivilDate expire_date;
  std::string note;
  int32_t state = 0;  // PENDING stays PENDING past expire_date (shown EXPIRED)
  std::string decision_reason;
  std::optional<time::CivilDate> decision_date;
  std::optional<time::CivilDate> receipt_date;
  bool transferred_out = false;
  std::string creator;
  int64_t version = 1;
  int64_t create_time_us = 0;
  int64_t update_time_us = 0;
};

// What a list selects (0 / "": any). Subtree paths select by the copies of both sides.
struct TransferFilter {
  std::string subtree;   // an organization's path; "" with member_id set
  bool incoming = true;  // rows whose to_path is in the subtree
  bool outgoing = true;  // rows whose from_path is in the subtree
  int64_t member_id = 0;
  int32_t stored_state = 0;
  // With stored_state PENDING: only those still valid on `today` (expire_date >= today), or
  // only those past it (expire_date < today).
  enum class Validity { kAny, kValid, kExpired } validity = Validity::kAny;
  time::CivilDate today;
};

inline constexpr std::string_view kTransferRequestIdIndex = "uk_transfers_request_id";
inline constexpr std::string_view kLetterNumberIndex = "uk_transfers_letter_number";

class TransferStore final {
 public:
  TransferStore() = delete;

  static absl::StatusOr<std::optional<TransferRow>> Find(db::Connection& c, int64_t id,
                                                         bool for_update);
  static absl::StatusOr<std::optional<TransferRow>> FindByRequestId(db::Connection& c,
                                                                    std::string_view request_id);
  static absl::Status Insert(db::Connection& c, const TransferRow& row,
                             std::string_view request_id);
  // Writes state, reject reason, dates, transferred_out, version and update time if the stored
  // version is still `expected_version`. False when it was not.
  static absl::StatusOr<bool> UpdateState(db::Connection& c, const TransferRow& row,
                                          int64_t expected_version);

  // The member's PENDING transfer still valid on `today`, if any (the caller holds the member's
  // row lock, so two cannot be opened at once).
  static absl::StatusOr<std::optional<TransferRow>> OpenFor(db::Connection& c, int64_t member_id,
                                                            const time::CivilDate& today);
  // The member's accepted transfer out of the system, if any.
  static absl::StatusOr<std::optional<TransferRow>> TransferredOut(db::Connection& c,
                                                                   int64_t member_id);

  // A page of transfers matching `filter`, newest (highest id) first, below `before_id` (0: from
  // the top), at most `limit`.
  static absl::StatusOr<std::vector<TransferRow>> List(db::Connection& c,
                                                       const TransferFilter& filter,
                                                       int64_t before_id, int limit);

  // The next letter sequence of `year` (1, 2, ...), in the caller's transaction.
  static absl::StatusOr<int64_t> NextLetterSeq(db::Connection& c, int32_t year);

  // An organization's subtree moved: both path copies starting with `old_prefix` start with
  // `new_prefix` instead. Returns how many rows changed.
  static absl::StatusOr<int64_t> RewritePaths(db::Connection& c, std::string_view old_prefix,
                                              std::string_view new_prefix);
};

}  // namespace dj::member
