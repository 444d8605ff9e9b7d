#include "services/member/src/member_access.h"

#include "absl/strings/str_cat.h"
#include "common/events/events.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/rpc/text.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"

namespace dj::member {

namespace pb = dangjian::member::v1;

MemberHandlers::MemberHandlers(db::Pool& pool, ids::IdGenerator& ids,
                               const auth::InternalAuth& auth, std::string audit_key,
                               auth::OrgPathLookup org_paths, std::function<int64_t()> now_us)
    : pool_(pool),
      ids_(ids),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/member"),
      org_paths_(std::move(org_paths)),
      now_us_(now_us ? std::move(now_us) : std::function<int64_t()>(time::NowMicros)) {}

time::CivilDate MemberHandlers::Today() const { return time::ShanghaiDate(NowUs() / 1'000'000); }

absl::Status MemberNotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "MEMBER_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

bool MembershipEnded(int32_t status) {
  return status == pb::LEFT || status == pb::DECEASED || status == pb::TRANSFERRED_OUT;
}

absl::Status EtagMismatch(std::string_view name) {
  return rpc::Error(
      absl::StatusCode::kAborted, "ETAG_MISMATCH",
      absl::StrCat(AV(name), " was changed since it was read; get it again and retry"));
}

auth::Resource MemberResource(const MemberRow& row) {
  return {std::string(kMembers), row.org_path, rpc::FormatName(kMembers, row.id)};
}

pb::MemberSnapshot Snapshot(const MemberRow& row) {
  pb::MemberSnapshot s;
  s.set_member(rpc::FormatName(kMembers, row.id));
  s.set_display_name(row.display_name);
  s.set_organization(rpc::FormatName(kOrganizations, row.organization_id));
  s.set_organization_path(row.org_path);
  s.set_stage(static_cast<pb::Stage>(row.stage));
  s.set_status(static_cast<pb::MembershipStatus>(row.status));
  s.set_category(static_cast<pb::MemberCategory>(row.category));
  s.set_party_affairs_cadre(row.party_affairs_cadre);
  return s;
}

absl::Status PublishMemberEvent(db::Connection& c, ids::IdGenerator& ids, const MemberRow& row,
                                int64_t now_us, const google::protobuf::Message& event) {
  events::Event e;
  e.stream = std::string(kMemberStream);
  e.type = event.GetDescriptor()->full_name();
  e.key = rpc::FormatName(kMembers, row.id);
  e.payload = event.SerializeAsString();
  return events::Append(c, ids, std::move(e), now_us).status();
}

absl::StatusOr<MemberRow> LockMember(db::Connection& c, const auth::Principal& who,
                                     std::string_view name, std::string_view etag,
                                     std::string_view action, audit::Entry& entry) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(name, kMembers, "name"));
  ASSIGN_OR_RETURN(std::optional<MemberRow> row, MemberStore::Find(c, id, /*for_update=*/true));
  if (!row.has_value()) {
    return MemberNotFound(name);
  }
  entry.org_path = row->org_path;
  RETURN_IF_ERROR(auth::AuthorizeOrHide(who, action, MemberResource(*row), MemberNotFound(name),
                                        &entry.detail));
  if (!etag.empty() && etag != rpc::Etag(row->version)) {
    return EtagMismatch(name);
  }
  return *std::move(row);
}

absl::StatusOr<std::string> OrganizationPath(const auth::OrgPathLookup& org_paths,
                                             const auth::Principal& who, std::string_view name,
                                             std::string_view field) {
  auto path = org_paths(who, name);
  if (path.status().code() == absl::StatusCode::kNotFound) {
    return rpc::WithViolation(path.status(),
                              {std::string(field), "no such organization in your scope"});
  }
  return path;
}

}  // namespace dj::member
