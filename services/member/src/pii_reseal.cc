#include "services/member/src/pii_reseal.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "services/member/src/member_store.h"

namespace dj::member {

absl::StatusOr<ResealCount> ResealPii(db::Pool& pool, const crypto::PiiVault& vault, int batch) {
  ResealCount count;
  int64_t after = 0;
  for (;;) {
    int64_t done_in_batch = 0;
    int64_t last = after;
    RETURN_IF_ERROR(pool.Transact([&](db::Connection& c) -> absl::Status {
      done_in_batch = 0;
      last = after;
      ASSIGN_OR_RETURN(std::vector<MemberRow> rows,
                       MemberStore::SealedUnderOtherKeys(c, vault.current_key_id(), after, batch));
      for (MemberRow& row : rows) {
        const std::string name = rpc::FormatName("members", row.id);
        for (SealedField* field : {&row.id_number, &row.phone}) {
          if (field->sealed.empty()) {
            continue;
          }
          const std::string context =
              absl::StrCat(name, field == &row.id_number ? "/id_number" : "/phone");
          ASSIGN_OR_RETURN(const std::string clear, vault.Open(field->sealed, context));
          ASSIGN_OR_RETURN(field->sealed, vault.Seal(clear, context));
        }
        row.pii_key_id = vault.current_key_id();
        RETURN_IF_ERROR(MemberStore::UpdateSealed(c, row));
        last = row.id;
        ++done_in_batch;
      }
      return absl::OkStatus();
    }));
    if (done_in_batch == 0) {
      return count;
    }
    count.rows += done_in_batch;
    ++count.batches;
    after = last;
  }
}

}  // namespace dj::member
