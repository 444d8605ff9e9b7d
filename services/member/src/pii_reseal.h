// Key rotation for personal data at rest: every member row sealed under another key than the
// vault's current one is opened (with the key it names, which the vault must still hold) and
// sealed again under the current key, in batches, each batch one transaction. The blind indexes
// do not change (their key is not rotated). Run by `dj-member-reseal` after a new key was put
// first in DJ_PII_KEYS; when it reports nothing left, the old key can be retired.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/crypto/pii.h"
#include "common/db/pool.h"

namespace dj::member {

struct ResealCount {
  int64_t rows = 0;     // rows re-sealed
  int64_t batches = 0;  // transactions committed
};

// Re-seals until no row is left under another key. A row that does not open (a key the vault
// lacks, or tampered data) stops it with that error; what was committed before stays.
absl::StatusOr<ResealCount> ResealPii(db::Pool& pool, const crypto::PiiVault& vault,
                                      int batch = 500);

}  // namespace dj::member
