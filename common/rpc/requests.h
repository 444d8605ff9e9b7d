// Request shapes every service shares: which fields an Update changes (AIP-134) and an
// idempotent Create (AIP-155: a request_id answered again by what it made the first time; the
// request_id itself is checked by rpc::ValidateRequestId). Paging is in rpc/names.h.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/audit/recorder.h"
#include "common/db/errors.h"
#include "common/db/pool.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"
#include "google/protobuf/field_mask.pb.h"

namespace dj::rpc {

struct UpdatableFields {
  std::vector<std::string> fields;  // what an update may change, in the order errors list them
  // Paths refused with a specific reason ("is output only", "moving is its own method").
  std::map<std::string, std::string, std::less<>> refused;
};

// The paths an update changes: the mask's (either case), `*` for every updatable field, or, with
// no mask, `set_fields` (the fields set in the request's resource). INVALID_ARGUMENT naming
// update_mask for an unknown or refused path, for `*` alongside others, and for nothing to change.
absl::StatusOr<std::set<std::string>> ResolveUpdateMask(const google::protobuf::FieldMask& mask,
                                                        std::set<std::string> set_fields,
                                                        const UpdatableFields& spec);

// What differs between idempotent creates (accounts; officers, terms, units, communities,
// pairings, stations); CreateOnce gives them their shared shape.
template <typename Row>
struct IdempotentCreate {
  std::string_view request_id;  // may be empty: no replay
  std::string_view what;        // "officer": REQUEST_ID_REUSED says "a different officer"
  // The table's unique index on request_id: only a duplicate there is a concurrent twin.
  std::string_view request_id_index;
  // The row an earlier create with this request_id made, if any.
  std::function<absl::StatusOr<std::optional<Row>>(db::Connection&, std::string_view)> find;
  // Authorizes answering `earlier` again; fills in the entry's resource and org_path.
  std::function<absl::Status(db::Connection&, const Row& earlier, audit::Entry&)> replay;
  // Locks, authorizes, checks and inserts the new row; fills in the entry.
  std::function<absl::Status(db::Connection&, audit::Entry&)> write;
  // Whether an earlier create with the same request_id asked for the same thing.
  std::function<bool(const Row&)> same;
  // Optional: the answer for a failure that is not a concurrent twin, e.g. another unique key
  // (CREDIT_CODE_TAKEN, DISPLAY_NAME_TAKEN), checked by its name (db::DuplicateKeyOn). A
  // duplicate key left unexplained (an id collision) answers as db::Generic: ABORTED, retry.
  std::function<absl::Status(absl::Status)> explain;
};

// One idempotent create in one audited transaction: an earlier create with the same request_id
// answers again (REQUEST_ID_REUSED when it asked for something else); otherwise `write`. A
// concurrent twin that won the insert (a duplicate key on request_id_index) answers as it did.
// Returns the earlier row on a replay, nullopt when `write` wrote.
template <typename Row>
absl::StatusOr<std::optional<Row>> CreateOnce(audit::Recorder& audit, db::Pool& pool,
                                              audit::Entry entry, const IdempotentCreate<Row>& op) {
  std::optional<Row> replay;
  absl::Status status = audit.Transact(entry, [&](db::Connection& c) -> absl::Status {
    if (!op.request_id.empty()) {
      auto earlier = op.find(c, op.request_id);
      if (!earlier.ok()) {
        return earlier.status();
      }
      if (earlier->has_value()) {
        replay = **earlier;
        entry.detail = "REPLAY";
        return op.replay(c, *replay, entry);
      }
    }
    return op.write(c, entry);
  });
  if (!op.request_id.empty() && db::DuplicateKeyOn(status, op.request_id_index)) {
    // A concurrent call with the same request_id may have won the insert: answer as it did.
    auto earlier = pool.Run([&](db::Connection& c) { return op.find(c, op.request_id); });
    if (earlier.ok() && earlier->has_value()) {
      replay = **earlier;
      status = absl::OkStatus();
    }
  }
  if (!status.ok()) {
    return db::Generic(op.explain ? op.explain(std::move(status)) : std::move(status));
  }
  if (replay.has_value() && !op.same(*replay)) {
    return rpc::Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                      absl::StrCat("request_id was already used for a different ", AV(op.what)));
  }
  return replay;
}

}  // namespace dj::rpc
