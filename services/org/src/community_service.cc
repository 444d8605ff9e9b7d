// Community, pairing and station handlers.
#include "services/org/src/community_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/org/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/community_requests.h"
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/requests.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using community_internal::CheckOrganizations;
using community_internal::DeepestCommon;
using community_internal::FieldOf;
using community_internal::InAnotherCommunity;
using community_internal::kCommunities;
using community_internal::kOrganizations;
using community_internal::NameTaken;
using community_internal::NotFound;
using community_internal::ReadCommunity;
using community_internal::SetFields;
using community_internal::Updatable;

// Copies the fields named in `paths` from `draft` (ReadCommunity's) into the stored `row`.
void Apply(const std::set<std::string>& paths, const CommunityRow& draft, CommunityRow& row) {
  if (paths.contains("display_name")) row.display_name = draft.display_name;
  if (paths.contains("lead_organization")) row.lead_org_id = draft.lead_org_id;
  if (paths.contains("member_organizations")) row.member_org_ids = draft.member_org_ids;
  if (paths.contains("partners")) row.partners = draft.partners;
  if (paths.contains("liaison")) row.liaison = draft.liaison;
  if (paths.contains("mechanisms")) row.mechanisms = draft.mechanisms;
  if (paths.contains("brands")) row.brands = draft.brands;
}

}  // namespace

CommunityService::CommunityService(db::Pool& pool, ids::IdGenerator& ids,
                                   const auth::InternalAuth& auth, std::string audit_key,
                                   std::function<int64_t()> now_us)
    : pool_(pool),
      ids_(ids),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      now_us_(now_us ? std::move(now_us) : time::NowMicros) {}

time::CivilDate CommunityService::Today() const {
  return time::ShanghaiDate(now_us_() / 1'000'000);
}

absl::StatusOr<std::string> CommunityService::OrgPath(db::Connection& c, int64_t id,
                                                      std::string_view name) {
  auto org = OrgStore::Find(c, id, /*for_update=*/false);
  if (!org.ok()) {
    return org.status();
  }
  if (!org->has_value()) {
    return OrganizationNotFound(name);
  }
  return (*org)->path;
}

absl::Status CommunityService::AuthorizeReplay(db::Connection& c, const auth::Principal& who,
                                               std::string_view collection, int64_t id,
                                               int64_t org_id, audit::Entry& entry) {
  entry.resource = rpc::FormatName(collection, id);
  auto path = OrgPath(c, org_id, entry.resource);
  if (!path.ok()) {
    return path.status();
  }
  entry.org_path = *path;
  return auth::AuthorizeOrHide(who, "create", {std::string(collection), *path, ""},
                               NotFound(collection, entry.resource), &entry.detail);
}

absl::Status CommunityService::CheckRead(const auth::Principal& who, std::string_view kind,
                                         std::string_view name, std::string_view path,
                                         absl::Status missing) {
  audit::Entry entry = audit::Recorder::For(who, absl::StrCat(AV(kind), ".read"), std::string(name),
                                            std::string(path));
  absl::Status s = auth::AuthorizeOrHide(who, "read", {std::string(kind), std::string(path), ""},
                                         std::move(missing), &entry.detail);
  if (!s.ok()) {
    audit_.Refuse(std::move(entry), s);
  }
  return s;
}

absl::StatusOr<std::string> CommunityService::ReadPath(db::Connection& c,
                                                       const auth::Principal& who, int64_t id,
                                                       const std::string& path) {
  if (who.scope_org == 0) {
    return path;
  }
  auto scope = OrgPath(c, who.scope_org, rpc::FormatName(kOrganizations, who.scope_org));
  if (!scope.ok()) {
    if (scope.status().code() == absl::StatusCode::kNotFound) {
      return path;
    }
    return scope.status();
  }
  auto members = CommunityStore::OrganizationPaths(c, id);
  if (!members.ok()) {
    return members.status();
  }
  for (const std::string& p : *members) {
    if (scope->starts_with(p) || p.starts_with(*scope)) {
      return *scope;
    }
  }
  return path;
}

absl::Status CommunityService::Hidden(db::Connection& c, const auth::Principal& who, int64_t id,
                                      const std::string& path, std::string_view name) {
  auto read_path = ReadPath(c, who, id, path);
  if (!read_path.ok()) {
    return read_path.status();
  }
  if (auth::Authorize(who, "read", {std::string(kCommunities), *read_path, ""}).ok()) {
    return rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                      absl::StrCat(AV(name), " is managed above your scope"));
  }
  return NotFound(kCommunities, name);
}

absl::StatusOr<std::string> CommunityService::ListRoot(const auth::Principal& who,
                                                       std::string_view kind,
                                                       std::string_view organization) {
  if (organization.empty() && who.scope_org == 0) {
    if (absl::Status s =
            CheckRead(who, kind, "", "/",
                      rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                                 absl::StrCat("your roles do not allow reading ", AV(kind))));
        !s.ok()) {
      return s;
    }
    return std::string("/");
  }
  int64_t id = who.scope_org;
  std::string name = rpc::FormatName(kOrganizations, id);
  if (!organization.empty()) {
    auto parsed = rpc::ParseName(organization, kOrganizations, "organization");
    if (!parsed.ok()) {
      return parsed.status();
    }
    id = *parsed;
    name = std::string(organization);
  }
  auto path = pool_.Run([&](db::Connection& c) { return OrgPath(c, id, name); });
  if (!path.ok()) {
    return path.status().code() == absl::StatusCode::kNotFound
               ? OrganizationNotFound(name, "organization")
               : path.status();
  }
  if (absl::Status s =
          CheckRead(who, kind, name, *path, OrganizationNotFound(name, "organization"));
      !s.ok()) {
    return s;
  }
  return *path;
}

absl::StatusOr<CommunityService::Placement> CommunityService::Place(db::Connection& c,
                                                                    const auth::Principal& who,
                                                                    const CommunityRow& row,
                                                                    std::string_view action,
                                                                    audit::Entry& entry) {
  std::vector<int64_t> ids = {row.lead_org_id};
  ids.insert(ids.end(), row.member_org_ids.begin(), row.member_org_ids.end());
  std::vector<std::string> paths;
  for (int64_t id : ids) {
    const std::string name = rpc::FormatName(kOrganizations, id);
    auto org = OrgStore::Find(c, id, /*for_update=*/true);
    if (!org.ok()) {
      return org.status();
    }
    if (!org->has_value() || !auth::PathInScope((*org)->path, who.scope_org)) {
      return OrganizationNotFound(name, FieldOf(row, id));
    }
    if ((*org)->status != pb::ACTIVE) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED",
                     absl::StrCat(name,
                                  " is dissolved; only active organizations join a "
                                  "community")),
          {FieldOf(row, id), "is dissolved"});
    }
    paths.push_back((*org)->path);
  }
  auto common = DeepestCommon(paths);
  if (!common.has_value()) {
    return rpc::InvalidArgument(
        {{"community.member_organizations", "must be in the same tree as the lead"}});
  }
  const std::string name = rpc::FormatName(kCommunities, row.id);
  entry.org_path = common->second;
  if (absl::Status s =
          auth::AuthorizeOrHide(who, action, {std::string(kCommunities), common->second, ""},
                                NotFound(kCommunities, name), &entry.detail);
      !s.ok()) {
    return s;
  }
  // Only a caller allowed to place a community here learns about other communities.
  auto taken = CommunityStore::Memberships(c, ids, row.id);
  if (!taken.ok()) {
    return taken.status();
  }
  RETURN_IF_ERROR(InAnotherCommunity(who, row, *taken));
  return Placement{common->first, common->second};
}

absl::Status CommunityService::CheckNameFree(db::Connection& c, const CommunityRow& row) {
  auto taken = CommunityStore::NameTakenBy(c, row.display_name, row.scope_org_id, row.id);
  if (!taken.ok()) {
    return taken.status();
  }
  return taken->has_value() ? NameTaken(row.display_name, row.scope_org_id) : absl::OkStatus();
}

absl::Status CommunityService::ExplainConflict(const auth::Principal& who, const CommunityRow& row,
                                               absl::Status status) {
  if (!db::DuplicateKeyOn(status, kCommunityNameIndex) &&
      !db::DuplicateKeyOn(status, kCommunityMembershipIndex)) {
    return status;  // CreateOnce answers any other duplicate (an id collision) generically
  }
  // A unique key caught a concurrent twin: say which, as the checks before the write would have.
  // `why` is the answer the checks give; without a connection, the write's own answer stands.
  absl::Status why = absl::OkStatus();
  absl::Status ran = pool_.Run([&](db::Connection& c) -> absl::Status {
    why = CheckNameFree(c, row);
    if (!why.ok()) {
      return absl::OkStatus();
    }
    std::vector<int64_t> ids = {row.lead_org_id};
    ids.insert(ids.end(), row.member_org_ids.begin(), row.member_org_ids.end());
    if (auto taken = CommunityStore::Memberships(c, ids, row.id); taken.ok()) {
      why = InAnotherCommunity(who, row, *taken);
    }
    return absl::OkStatus();
  });
  return ran.ok() && !why.ok() ? why : status;
}

absl::StatusOr<pb::Community> CommunityService::Create(const auth::Principal& who,
                                                       const pb::CreateCommunityRequest& request) {
  if (!request.has_community()) {
    return rpc::InvalidArgument({{"community", "required"}});
  }
  const pb::Community& in = request.community();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"community.name", "is assigned by the service; leave it empty"}});
  }
  CommunityRow row;
  if (absl::Status s =
          ReadCommunity(in, {Updatable().fields.begin(), Updatable().fields.end()}, row);
      !s.ok()) {
    return s;
  }
  RETURN_IF_ERROR(CheckOrganizations(row));
  // Scoped to the caller: another principal's request_id is a new request, never theirs.
  const std::string request_id = auth::IdempotencyKey(who, request.request_id());
  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = now_us_();
  row.version = 1;
  bool wrote = false;  // the write was reached: the caller is authorized where `row` goes
  auto replay =
      CreateOnce(audit_, pool_, audit::Recorder::For(who, "communities.create", "", "/"),
                 IdempotentCreate<CommunityRow>{
                     .request_id = request_id,
                     .what = "community",
                     .request_id_index = kCommunityRequestIdIndex,
                     .find = &CommunityStore::FindByRequestId,
                     .replay =
                         [&](db::Connection& c, const CommunityRow& earlier, audit::Entry& entry) {
                           return AuthorizeReplay(c, who, kCommunities, earlier.id,
                                                  earlier.scope_org_id, entry);
                         },
                     .write = [&](db::Connection& c, audit::Entry& entry) -> absl::Status {
                       auto place = Place(c, who, row, "create", entry);
                       if (!place.ok()) {
                         return place.status();
                       }
                       row.scope_org_id = place->scope_org_id;
                       entry.resource = rpc::FormatName(kCommunities, row.id);
                       entry.org_path = place->scope_path;
                       // The name is checked where the community goes, once the caller may put it
                       // there.
                       RETURN_IF_ERROR(CheckNameFree(c, row));
                       wrote = true;
                       return CommunityStore::Insert(c, row, request_id);
                     },
                     .same =
                         [&](const CommunityRow& earlier) {
                           return earlier.display_name == row.display_name &&
                                  earlier.lead_org_id == row.lead_org_id &&
                                  earlier.member_org_ids == row.member_org_ids;
                         },
                     .explain =
                         [&](absl::Status status) {
                           return wrote ? ExplainConflict(who, row, status) : status;
                         }});
  if (!replay.ok()) {
    return replay.status();
  }
  return ToProto(replay->value_or(row));
}

absl::StatusOr<pb::Community> CommunityService::Get(const auth::Principal& who,
                                                    const pb::GetCommunityRequest& request) {
  auto id = rpc::ParseName(request.name(), kCommunities, "name");
  if (!id.ok()) {
    return id.status();
  }
  std::optional<CommunityRow> row;
  std::string path;  // where the caller reads it from
  absl::Status read = pool_.Run([&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(row, CommunityStore::Find(c, *id, /*for_update=*/false));
    if (!row.has_value()) {
      return NotFound(kCommunities, request.name());
    }
    ASSIGN_OR_RETURN(const std::string placed, OrgPath(c, row->scope_org_id, request.name()));
    ASSIGN_OR_RETURN(path, ReadPath(c, who, *id, placed));
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(read);
  RETURN_IF_ERROR(
      CheckRead(who, kCommunities, request.name(), path, NotFound(kCommunities, request.name())));
  return ToProto(*row);
}

absl::StatusOr<pb::ListCommunitiesResponse> CommunityService::List(
    const auth::Principal& who, const pb::ListCommunitiesRequest& request) {
  const std::string filter = absl::StrCat("communities|", request.organization());
  auto start = rpc::StartIdPage(request.page_size(), request.page_token(), filter);
  if (!start.ok()) {
    return start.status();
  }
  auto root = ListRoot(who, kCommunities, request.organization());
  if (!root.ok()) {
    return root.status();
  }
  // Without an organization, a scoped caller also sees the communities its organizations, or
  // the organizations above its scope, belong to (their ids are on the scope's path).
  std::optional<std::vector<int64_t>> above;
  if (request.organization().empty() && who.scope_org != 0) {
    above = PathIds(*root);
  }
  auto rows = pool_.Run([&](db::Connection& c) {
    return CommunityStore::List(c, *root, above, start->after_id, start->size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListCommunitiesResponse out;
  const bool more = rpc::TrimPage(*rows, start->size);
  for (const CommunityRow& r : *rows) {
    *out.add_communities() = ToProto(r);
  }
  if (more) {
    out.set_next_page_token(rpc::EncodePageToken(filter, absl::StrCat(rows->back().id)));
  }
  return out;
}

absl::StatusOr<pb::Community> CommunityService::Update(const auth::Principal& who,
                                                       const pb::UpdateCommunityRequest& request) {
  if (!request.has_community()) {
    return rpc::InvalidArgument({{"community", "required"}});
  }
  const pb::Community& in = request.community();
  auto id = rpc::ParseName(in.name(), kCommunities, "community.name");
  if (!id.ok()) {
    return id.status();
  }
  auto paths =
      ResolveUpdateMask(request.update_mask(), SetFields(request.community()), Updatable());
  if (!paths.ok()) {
    return paths.status();
  }
  // Every new value is checked before the database is touched; only how they fit the stored
  // community (and the tree) waits for the transaction.
  CommunityRow draft;
  RETURN_IF_ERROR(ReadCommunity(in, *paths, draft));
  CommunityRow row;
  bool wrote = false;  // the write was reached: the caller is authorized where `row` goes
  audit::Entry entry = audit::Recorder::For(who, "communities.update", in.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = CommunityStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return NotFound(kCommunities, in.name());
    }
    row = **found;
    auto path = OrgPath(c, row.scope_org_id, in.name());
    if (!path.ok()) {
      return path.status();
    }
    entry.org_path = *path;
    if (absl::Status s = auth::AuthorizeOrHide(
            who, "update", {std::string(kCommunities), *path, ""},
            [&] { return Hidden(c, who, row.id, *path, in.name()); }, &entry.detail);
        !s.ok()) {
      return s;
    }
    if (!in.etag().empty() && in.etag() != Etag(row.version)) {
      return EtagMismatch(in.name());
    }
    Apply(*paths, draft, row);
    RETURN_IF_ERROR(CheckOrganizations(row));
    const int64_t old_scope = row.scope_org_id;
    if (paths->contains("lead_organization") || paths->contains("member_organizations")) {
      // The organizations changed: check them again and place the community anew (authorized
      // there too).
      auto place = Place(c, who, row, "update", entry);
      if (!place.ok()) {
        return place.status();
      }
      row.scope_org_id = place->scope_org_id;
      entry.org_path = place->scope_path;
    }
    // A new name, or the old one in a new scope, must be free where the community now sits.
    if (paths->contains("display_name") || row.scope_org_id != old_scope) {
      RETURN_IF_ERROR(CheckNameFree(c, row));
    }
    wrote = true;
    const int64_t before = row.version;
    row.version = before + 1;
    row.update_time_us = std::max(now_us_(), row.update_time_us);
    auto ok = CommunityStore::Update(c, row, before);
    if (!ok.ok()) {
      return ok.status();
    }
    return *ok ? absl::OkStatus() : EtagMismatch(in.name());
  });
  if (!status.ok()) {
    return db::Generic(wrote ? ExplainConflict(who, row, status) : status);
  }
  return ToProto(row);
}

absl::Status CommunityService::Delete(const auth::Principal& who,
                                      const pb::DeleteCommunityRequest& request) {
  auto id = rpc::ParseName(request.name(), kCommunities, "name");
  if (!id.ok()) {
    return id.status();
  }
  audit::Entry entry = audit::Recorder::For(who, "communities.delete", request.name(), "/");
  return audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = CommunityStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return NotFound(kCommunities, request.name());
    }
    auto path = OrgPath(c, (*found)->scope_org_id, request.name());
    if (!path.ok()) {
      return path.status();
    }
    entry.org_path = *path;
    if (absl::Status s = auth::AuthorizeOrHide(
            who, "delete", {std::string(kCommunities), *path, ""},
            [&] { return Hidden(c, who, (*found)->id, *path, request.name()); }, &entry.detail);
        !s.ok()) {
      return s;
    }
    if (!request.etag().empty() && request.etag() != Etag((*found)->version)) {
      return EtagMismatch(request.name());
    }
    return CommunityStore::Delete(c, *id);
  });
}

absl::Status CommunityService::OnOrganizationEvent(const events::Event& event) {
  if (event.type != pb::OrganizationMoved::descriptor()->full_name()) {
    return absl::OkStatus();
  }
  pb::OrganizationMoved moved;
  if (!moved.ParseFromString(event.payload) || moved.new_path().empty() ||
      moved.new_path().back() != '/') {
    // Not retryable: a broken event would block the stream; log it and take it.
    log::Error("unreadable OrganizationMoved event", {{"event", absl::StrCat(event.id)}});
    return absl::OkStatus();
  }
  return events::ApplyInOrder(
      pool_, kOrgEventsGroup, event,
      [&](db::Connection& c) -> absl::Status {
        // The paths are already rewritten: the moved subtree is at new_path.
        auto ids = CommunityStore::CommunitiesUnder(c, moved.new_path());
        if (!ids.ok()) {
          return ids.status();
        }
        for (int64_t id : *ids) {
          auto paths = CommunityStore::OrganizationPaths(c, id);
          if (!paths.ok()) {
            return paths.status();
          }
          auto common = paths->empty() ? std::nullopt : DeepestCommon(*paths);
          if (!common.has_value()) {
            continue;  // its organizations no longer share a tree: leave it where it was
          }
          auto row = CommunityStore::Find(c, id, /*for_update=*/true);
          if (!row.ok()) {
            return row.status();
          }
          if (!row->has_value() || (*row)->scope_org_id == common->first) {
            continue;
          }
          // Names are unique per scope organization. A twin already placed there keeps it: this
          // one stays where it was (retrying would not help) until a person renames one of them.
          CommunityRow placed_row = **row;
          placed_row.scope_org_id = common->first;
          if (absl::Status s = CheckNameFree(c, placed_row); !s.ok()) {
            if (s.code() != absl::StatusCode::kAlreadyExists) {
              return s;
            }
            log::Error("a community cannot follow a moved organization: its name is taken there",
                       {{"community", rpc::FormatName(kCommunities, id)},
                        {"organization", moved.organization()},
                        {"scope", rpc::FormatName(kOrganizations, common->first)}});
            continue;
          }
          auto placed = CommunityStore::SetScope(c, id, common->first, now_us_());
          if (!placed.ok()) {
            return placed.status();
          }
          if (*placed) {
            log::Info("a community follows a moved organization",
                      {{"community", rpc::FormatName(kCommunities, id)},
                       {"organization", moved.organization()},
                       {"scope", rpc::FormatName(kOrganizations, common->first)}});
          }
        }
        return absl::OkStatus();
      },
      now_us_());
}

// --- gRPC ---

template <typename Fn, typename Response>
grpc::Status CommunityService::Serve(grpc::ServerContext* context, Fn&& fn, Response* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, fn(who), response);
  });
}

grpc::Status CommunityService::CreateCommunity(grpc::ServerContext* context,
                                               const pb::CreateCommunityRequest* request,
                                               pb::Community* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return Create(who, *request); }, response);
}

grpc::Status CommunityService::GetCommunity(grpc::ServerContext* context,
                                            const pb::GetCommunityRequest* request,
                                            pb::Community* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return Get(who, *request); }, response);
}

grpc::Status CommunityService::ListCommunities(grpc::ServerContext* context,
                                               const pb::ListCommunitiesRequest* request,
                                               pb::ListCommunitiesResponse* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return List(who, *request); }, response);
}

grpc::Status CommunityService::UpdateCommunity(grpc::ServerContext* context,
                                               const pb::UpdateCommunityRequest* request,
                                               pb::Community* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return Update(who, *request); }, response);
}

grpc::Status CommunityService::CreatePairing(grpc::ServerContext* context,
                                             const pb::CreatePairingRequest* request,
                                             pb::Pairing* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return CreatePairing(who, *request); }, response);
}

grpc::Status CommunityService::GetPairing(grpc::ServerContext* context,
                                          const pb::GetPairingRequest* request,
                                          pb::Pairing* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return GetPairing(who, *request); }, response);
}

grpc::Status CommunityService::ListPairings(grpc::ServerContext* context,
                                            const pb::ListPairingsRequest* request,
                                            pb::ListPairingsResponse* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return ListPairings(who, *request); }, response);
}

grpc::Status CommunityService::EndPairing(grpc::ServerContext* context,
                                          const pb::EndPairingRequest* request,
                                          pb::Pairing* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return EndPairing(who, *request); }, response);
}

grpc::Status CommunityService::CreateStation(grpc::ServerContext* context,
                                             const pb::CreateStationRequest* request,
                                             pb::Station* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return CreateStation(who, *request); }, response);
}

grpc::Status CommunityService::GetStation(grpc::ServerContext* context,
                                          const pb::GetStationRequest* request,
                                          pb::Station* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return GetStation(who, *request); }, response);
}

grpc::Status CommunityService::ListStations(grpc::ServerContext* context,
                                            const pb::ListStationsRequest* request,
                                            pb::ListStationsResponse* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return ListStations(who, *request); }, response);
}

grpc::Status CommunityService::EndStation(grpc::ServerContext* context,
                                          const pb::EndStationRequest* request,
                                          pb::Station* response) {
  return Serve(
      context, [&](const auth::Principal& who) { return EndStation(who, *request); }, response);
}

grpc::Status CommunityService::DeleteCommunity(grpc::ServerContext* context,
                                               const pb::DeleteCommunityRequest* request,
                                               google::protobuf::Empty*) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Delete(who, *request));
  });
}

}  // namespace dj::org
