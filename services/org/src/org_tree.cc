// The operations on the tree's shape (OrgService, continued from org_service.cc): moves, merges,
// dissolutions and deletions, which rewrite paths, end what hangs on an organization and
// publish the events other services follow; and the depth-first listing of a subtree.
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/audit/caller.h"
#include "common/db/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/org/v1/events.pb.h"
#include "services/org/src/community_store.h"
#include "services/org/src/errors.h"
#include "services/org/src/officer_store.h"
#include "services/org/src/org_service.h"
#include "services/org/src/requests.h"
#include "services/org/src/unit_store.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;

constexpr std::string_view kCollection = "organizations";
constexpr std::string_view kCommunities = "communities";

// "1 pairing", "3 pairings".
std::string Counted(int64_t n, std::string_view noun) {
  return absl::StrCat(n, " ", AV(noun), n == 1 ? "" : "s");
}

// "a", "a and b", "a, b and c".
std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : (i + 1 == items.size() ? " and " : ", "), items[i]);
  }
  return out;
}

// Inside a dissolution's (or merge's) transaction, before anything is written: a community's
// lead cannot go away, since a community without a lead is not one.
absl::Status CheckLeadsNoCommunity(db::Connection& c, const OrgRow& row) {
  auto led = CommunityStore::LedBy(c, row.id);
  if (!led.ok()) {
    return led.status();
  }
  if (!led->has_value()) {
    return absl::OkStatus();
  }
  const std::string community = rpc::FormatName(kCommunities, (*led)->community_id);
  return rpc::WithViolation(rpc::Error(absl::StatusCode::kFailedPrecondition, "LEADS_A_COMMUNITY",
                                       absl::StrCat(rpc::FormatName(kCollection, row.id), " leads ",
                                                    community, " (", (*led)->community_display_name,
                                                    "); give ", community, " another lead first")),
                            {"name", absl::StrCat("leads ", community)});
}

// Inside a dissolution's (or merge's) transaction: ends what hangs on organization `id` as of
// `date` (its place as a community member, its pairings, stations and officers in force after
// the date, its current term), stamped `now_us`. Returns what it ended, for the audit entry:
// "ended 3 pairings, 1 station, 2 officers, 1 term; left communities/N".
absl::StatusOr<std::string> EndWhatHangsOn(db::Connection& c, int64_t id,
                                           const time::CivilDate& date, int64_t now_us) {
  auto pairings = CommunityStore::EndTiesOf(c, kPairingsTable, id, date, now_us);
  if (!pairings.ok()) {
    return pairings.status();
  }
  auto stations = CommunityStore::EndTiesOf(c, kStationsTable, id, date, now_us);
  if (!stations.ok()) {
    return stations.status();
  }
  auto officers = OfficerStore::EndOfficersOf(c, id, date, now_us);
  if (!officers.ok()) {
    return officers.status();
  }
  auto terms = OfficerStore::EndCurrentTermOf(c, id, date);
  if (!terms.ok()) {
    return terms.status();
  }
  auto left = CommunityStore::LeaveAsMember(c, id, now_us);
  if (!left.ok()) {
    return left.status();
  }
  std::string out =
      absl::StrCat("ended ", Counted(*pairings, "pairing"), ", ", Counted(*stations, "station"),
                   ", ", Counted(*officers, "officer"), ", ", Counted(*terms, "term"));
  if (left->has_value()) {
    absl::StrAppend(&out, "; left ", rpc::FormatName(kCommunities, **left));
  }
  return out;
}

// Inside a deletion's transaction: what organization `id` has on record besides
// sub-organizations and units ("2 officers", "1 pairing", "a place in communities/7"), so a
// refusal names it.
absl::StatusOr<std::vector<std::string>> RecordsOf(db::Connection& c, int64_t id) {
  std::vector<std::string> out;
  auto add = [&](absl::StatusOr<int64_t> n, std::string_view noun) -> absl::Status {
    if (!n.ok()) {
      return n.status();
    }
    if (*n > 0) {
      out.push_back(Counted(*n, noun));
    }
    return absl::OkStatus();
  };
  for (absl::Status s : {add(OfficerStore::CountOfficersOf(c, id), "officer"),
                         add(OfficerStore::CountTermsOf(c, id), "term"),
                         add(CommunityStore::CountTiesOf(c, kPairingsTable, id), "pairing"),
                         add(CommunityStore::CountTiesOf(c, kStationsTable, id), "station")}) {
    if (!s.ok()) {
      return s;
    }
  }
  auto memberships = CommunityStore::Memberships(c, {id}, /*except_id=*/0);
  if (!memberships.ok()) {
    return memberships.status();
  }
  for (const Membership& m : *memberships) {
    out.push_back(absl::StrCat("a place in ", rpc::FormatName(kCommunities, m.community_id)));
  }
  return out;
}

}  // namespace

absl::Status OrgService::CheckNoMembers(const OrgRow& row, std::string_view field) {
  if (!options_.member_count) {
    return absl::OkStatus();
  }
  const std::string name = rpc::FormatName(kCollection, row.id);
  auto count = options_.member_count(name);
  if (!count.ok()) {
    return absl::Status(
        count.status().code(),
        absl::StrCat("cannot tell whether ", name, " has members: ", count.status().message()));
  }
  if (*count > 0) {
    return rpc::WithViolation(
        rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_MEMBERS",
                   absl::StrCat(name, " has ", *count, " members; transfer them first")),
        {std::string(field), "the organization still has members"});
  }
  return absl::OkStatus();
}

absl::StatusOr<time::CivilDate> OrgService::EffectiveDate(const google::type::Date* date,
                                                          std::string_view field) const {
  if (date != nullptr) {
    return time::FromProto(*date, field);
  }
  return time::ShanghaiDate(NowUs() / 1'000'000);
}

absl::StatusOr<std::vector<int64_t>> OrgService::MoveInTransaction(db::Connection& c,
                                                                   const OrgRow& row,
                                                                   const OrgRow& parent,
                                                                   std::string_view field) {
  const std::string name = rpc::FormatName(kCollection, row.id);
  const std::string parent_name = rpc::FormatName(kCollection, parent.id);
  if (parent.status != pb::ACTIVE) {
    return rpc::WithViolation(rpc::Error(absl::StatusCode::kFailedPrecondition, "PARENT_NOT_ACTIVE",
                                         absl::StrCat(parent_name, " is dissolved")),
                              {std::string(field), "must be an active organization"});
  }
  if (absl::StartsWith(parent.path, row.path)) {
    return rpc::InvalidArgument(
        {{std::string(field),
          absl::StrCat(parent_name, " is ", name, parent.id == row.id ? "" : " or lies below it",
                       "; an organization cannot move into its own subtree")}},
        "MOVE_CYCLE");
  }
  auto rules = rules_.Today(c);
  if (!rules.ok()) {
    return rules.status();
  }
  RETURN_IF_ERROR(CheckPlacement(*rules, parent.kind, row.kind, "kind", field));
  auto taken = OrgStore::SiblingNameTaken(c, parent.id, row.display_name, row.id);
  if (!taken.ok()) {
    return taken.status();
  }
  if (*taken) {
    return rpc::InvalidArgument(
        {{std::string(field), absl::StrCat(parent_name, " already has an organization named '",
                                           row.display_name, "'")}},
        "DISPLAY_NAME_TAKEN");
  }
  const int64_t now = std::max(NowUs(), row.update_time_us);
  auto moved = OrgStore::MoveSubtree(c, row, parent, now);
  if (!moved.ok()) {
    return moved.status();
  }
  pb::OrganizationMoved event;
  event.set_organization(name);
  if (row.parent_id.has_value()) {
    event.set_old_parent(rpc::FormatName(kCollection, *row.parent_id));
  }
  event.set_new_parent(parent_name);
  event.set_old_path(row.path);
  event.set_new_path(absl::StrCat(parent.path, row.id, "/"));
  event.set_subtree_size(static_cast<int64_t>(moved->size()));
  // An event of the whole tree: moves of different subtrees are applied in one order too.
  auto published = Publish(c, TreeVersion::kEventKey, event);
  if (!published.ok()) {
    return published.status();
  }
  tree_.Publish(published->sequence);
  return moved;
}

absl::StatusOr<pb::Organization> OrgService::Move(const auth::Principal& who,
                                                  const pb::MoveOrganizationRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  if (request.new_parent().empty()) {
    return rpc::InvalidArgument({{"new_parent", "required: organizations/{id}"}});
  }
  auto parent_id = rpc::ParseName(request.new_parent(), kCollection, "new_parent");
  if (!parent_id.ok()) {
    return parent_id.status();
  }
  std::vector<int64_t> moved;
  audit::Entry entry = audit::Recorder::For(who, "organizations.move", request.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const OrgRow row,
                     LockToChange(c, who, "move", request.name(), *id, request.etag(), entry));
    if (row.status != pb::ACTIVE) {
      return OrganizationDissolved(request.name());
    }
    if (!row.parent_id.has_value()) {
      return rpc::InvalidArgument({{"name", absl::StrCat("a ", AV(KindName(row.kind)),
                                                         " is the root of its tree and "
                                                         "does not move")}},
                                  "ILLEGAL_NESTING");
    }
    if (*row.parent_id == *parent_id) {
      moved = {row.id};  // already there: nothing to do
      return absl::OkStatus();
    }
    auto parent = OrgStore::Find(c, *parent_id, /*for_update=*/true, OrgStore::Load::kPlace);
    if (!parent.ok()) {
      return parent.status();
    }
    if (!parent->has_value()) {
      return OrganizationNotFound(request.new_parent(), "new_parent");
    }
    // Placing something under the new parent is creating there: the caller needs that scope.
    if (absl::Status s =
            AuthorizeOrganization(who, "create", request.new_parent(), (*parent)->path, &entry);
        !s.ok()) {
      return rpc::WithViolation(s, {"new_parent", "no such organization"});
    }
    auto ids = MoveInTransaction(c, row, **parent, "new_parent");
    if (!ids.ok()) {
      return ids.status();
    }
    moved = *std::move(ids);
    entry.detail = absl::StrCat("to ", request.new_parent(), "; ", moved.size(), " organizations");
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  Invalidate(moved);
  auto row = Load(*id);
  if (!row.ok()) {
    return row.status();
  }
  return ToProto(*row);
}

absl::StatusOr<OrgRow> OrgService::LockToChange(db::Connection& c, const auth::Principal& who,
                                                std::string_view action, std::string_view name,
                                                int64_t id, std::string_view etag,
                                                audit::Entry& entry) {
  ASSIGN_OR_RETURN(std::optional<OrgRow> found, OrgStore::Find(c, id, /*for_update=*/true));
  if (!found.has_value()) {
    return OrganizationNotFound(name);
  }
  entry.org_path = found->path;
  RETURN_IF_ERROR(AuthorizeOrganization(who, action, name, found->path, &entry));
  if (!etag.empty() && etag != Etag(found->version)) {
    return EtagMismatch(name);
  }
  return *std::move(found);
}

absl::StatusOr<OrgRow> OrgService::LockToDissolve(db::Connection& c, const auth::Principal& who,
                                                  std::string_view name, int64_t id,
                                                  std::string_view etag, std::string_view verb,
                                                  audit::Entry& entry) {
  ASSIGN_OR_RETURN(OrgRow found, LockToChange(c, who, "dissolve", name, id, etag, entry));
  if (found.status != pb::ACTIVE) {
    return OrganizationDissolved(name);
  }
  if (!found.parent_id.has_value()) {
    return rpc::InvalidArgument(
        {{"name", absl::StrCat("the root of the tree cannot be ", AV(verb))}});
  }
  return found;
}

absl::StatusOr<std::string> OrgService::WriteDissolved(db::Connection& c, std::string_view name,
                                                       OrgRow& row) {
  const int64_t before = row.version;
  row.status = pb::DISSOLVED;
  row.version = before + 1;
  row.update_time_us = std::max(NowUs(), row.update_time_us);
  ASSIGN_OR_RETURN(const bool written, OrgStore::Update(c, row, before));
  if (!written) {
    return EtagMismatch(name);
  }
  // Only what hangs on the organization itself: children moved away keep theirs.
  ASSIGN_OR_RETURN(std::string ended,
                   EndWhatHangsOn(c, row.id, *row.dissolved_date, row.update_time_us));
  pb::OrganizationDissolved event;
  *event.mutable_organization() = ToProto(row);
  RETURN_IF_ERROR(Publish(c, name, event).status());
  return ended;
}

absl::StatusOr<pb::Organization> OrgService::Dissolve(
    const auth::Principal& who, const pb::DissolveOrganizationRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.name(), kCollection, "name"));
  const std::string reason = TrimDisplayName(request.reason());
  if (reason.empty() || reason.size() > 400) {
    return rpc::InvalidArgument({{"reason", "required: why it is dissolved (at most 400 bytes)"}});
  }
  ASSIGN_OR_RETURN(const time::CivilDate date,
                   EffectiveDate(request.has_dissolved_date() ? &request.dissolved_date() : nullptr,
                                 "dissolved_date"));
  OrgRow dissolved;
  audit::Entry entry = audit::Recorder::For(who, "organizations.dissolve", request.name(), "/");
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(
        OrgRow row, LockToDissolve(c, who, request.name(), id, request.etag(), "dissolved", entry));
    if (row.established_date.has_value() && date < *row.established_date) {
      return rpc::InvalidArgument(
          {{"dissolved_date", absl::StrCat("must not be before the establishment date ",
                                           time::ToIso(*row.established_date))}});
    }
    ASSIGN_OR_RETURN(const std::vector<OrgRow> children, OrgStore::ActiveChildren(c, row.id));
    if (!children.empty()) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_ACTIVE_CHILDREN",
                     absl::StrCat(request.name(), " has ", children.size(),
                                  " active sub-organizations; move or dissolve them first")),
          {"name", "has active sub-organizations"});
    }
    RETURN_IF_ERROR(CheckNoMembers(row, "name"));
    RETURN_IF_ERROR(CheckLeadsNoCommunity(c, row));
    row.dissolved_date = date;
    row.dissolution_reason = reason;
    ASSIGN_OR_RETURN(entry.detail, WriteDissolved(c, request.name(), row));
    dissolved = row;
    return absl::OkStatus();
  }));
  Invalidate(id);
  return ToProto(dissolved);
}

absl::StatusOr<std::vector<int64_t>> OrgService::MoveChildrenInto(db::Connection& c,
                                                                  const OrgRow& row,
                                                                  const OrgRow& into) {
  std::vector<int64_t> moved;
  ASSIGN_OR_RETURN(const std::vector<OrgRow> children, OrgStore::ActiveChildren(c, row.id));
  for (const OrgRow& child : children) {
    auto ids = MoveInTransaction(c, child, into, "into");
    if (!ids.ok()) {
      // Name the child that does not fit, so the caller knows what to move by hand.
      return rpc::WithViolation(
          ids.status(),
          {"into", absl::StrCat("cannot take ", rpc::FormatName(kCollection, child.id), " (",
                                child.display_name, ")")});
    }
    moved.insert(moved.end(), ids->begin(), ids->end());
  }
  return moved;
}

absl::StatusOr<pb::Organization> OrgService::Merge(const auth::Principal& who,
                                                   const pb::MergeOrganizationRequest& request) {
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(request.name(), kCollection, "name"));
  if (request.into().empty()) {
    return rpc::InvalidArgument({{"into", "required: organizations/{id} that takes over"}});
  }
  ASSIGN_OR_RETURN(const int64_t into_id, rpc::ParseName(request.into(), kCollection, "into"));
  if (into_id == id) {
    return rpc::InvalidArgument({{"into", "an organization cannot merge into itself"}});
  }
  ASSIGN_OR_RETURN(
      const time::CivilDate date,
      EffectiveDate(request.has_merged_date() ? &request.merged_date() : nullptr, "merged_date"));
  OrgRow merged;
  std::vector<int64_t> moved;
  audit::Entry entry = audit::Recorder::For(who, "organizations.merge", request.name(), "/");
  RETURN_IF_ERROR(audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const OrgRow row, LockToDissolve(c, who, request.name(), id, request.etag(),
                                                      "merged away", entry));
    ASSIGN_OR_RETURN(const std::optional<OrgRow> into,
                     OrgStore::Find(c, into_id, /*for_update=*/true, OrgStore::Load::kPlace));
    if (!into.has_value()) {
      return OrganizationNotFound(request.into(), "into");
    }
    if (absl::Status s = AuthorizeOrganization(who, "create", request.into(), into->path, &entry);
        !s.ok()) {
      return rpc::WithViolation(s, {"into", "no such organization"});
    }
    if (absl::StartsWith(into->path, row.path)) {
      return rpc::InvalidArgument({{"into", "lies inside the organization being merged away"}},
                                  "MOVE_CYCLE");
    }
    RETURN_IF_ERROR(CheckNoMembers(row, "name"));
    RETURN_IF_ERROR(CheckLeadsNoCommunity(c, row));
    ASSIGN_OR_RETURN(moved, MoveChildrenInto(c, row, *into));
    // Read again: the moves changed paths below it, not its version.
    ASSIGN_OR_RETURN(std::optional<OrgRow> reread, OrgStore::Find(c, row.id, /*for_update=*/true));
    if (!reread.has_value()) {
      return OrganizationNotFound(request.name());
    }
    merged = *std::move(reread);
    merged.dissolved_date = date;
    merged.dissolution_reason = absl::StrCat("merged into ", into->display_name);
    merged.merged_into = into_id;
    ASSIGN_OR_RETURN(const std::string ended, WriteDissolved(c, request.name(), merged));
    entry.detail =
        absl::StrCat("into ", request.into(), "; ", moved.size(), " organizations moved; ", ended);
    return absl::OkStatus();
  }));
  Invalidate(id);
  Invalidate(moved);
  return ToProto(merged);
}

absl::Status OrgService::Delete(const auth::Principal& who,
                                const pb::DeleteOrganizationRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  audit::Entry entry = audit::Recorder::For(who, "organizations.delete", request.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const OrgRow found,
                     LockToChange(c, who, "delete", request.name(), *id, request.etag(), entry));
    auto children = OrgStore::ChildKinds(c, *id);
    if (!children.ok()) {
      return children.status();
    }
    if (!children->empty()) {
      return rpc::Error(
          absl::StatusCode::kFailedPrecondition, "HAS_CHILDREN",
          absl::StrCat(request.name(), " has child organizations; delete or move them first"));
    }
    auto units = UnitStore::AnyManagedBy(c, *id);
    if (!units.ok()) {
      return units.status();
    }
    if (*units) {
      return rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_UNITS",
                        absl::StrCat(request.name(), " manages units; they stay with it"));
    }
    auto records = RecordsOf(c, *id);
    if (!records.ok()) {
      return records.status();
    }
    if (!records->empty()) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_RECORDS",
                     absl::StrCat(request.name(), " has ", Listed(*records),
                                  found.status == pb::ACTIVE
                                      ? "; dissolve it instead to keep its history"
                                      : "; as a dissolved organization it keeps them as history")),
          {"name", "has records that must stay"});
    }
    return OrgStore::Delete(c, *id);
  });
  if (status.code() == absl::StatusCode::kFailedPrecondition && rpc::Reason(status).empty()) {
    // A foreign key caught a sub-organization or a record written concurrently.
    return rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_CHILDREN",
                      absl::StrCat(request.name(), " has sub-organizations or records"));
  }
  if (status.ok()) {
    Invalidate(*id);
  }
  return status;
}

absl::StatusOr<pb::ListDescendantsResponse> OrgService::Descendants(
    const auth::Principal& who, const pb::ListDescendantsRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto size = rpc::PageSize(request.page_size());
  if (!size.ok()) {
    return size.status();
  }
  auto cursor =
      rpc::DecodePageToken(request.page_token(), absl::StrCat("descendants|", request.name()));
  if (!cursor.ok()) {
    return cursor.status();
  }
  auto root = Load(*id);
  if (!root.ok()) {
    return root.status();
  }
  RETURN_IF_ERROR(Check(who, "read", request.name(), root->path));
  if (!cursor->empty() && !cursor->starts_with(root->path)) {
    return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  auto rows = store_.pool().Run([&](db::Connection& c) {
    return OrgStore::ListDescendants(c, root->path, *cursor, *size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListDescendantsResponse out;
  const bool more = rpc::TrimPage(*rows, *size);
  for (const OrgRow& r : *rows) {
    *out.add_organizations() = ToProto(r);
  }
  if (more) {
    out.set_next_page_token(
        rpc::EncodePageToken(absl::StrCat("descendants|", request.name()), rows->back().path));
  }
  return out;
}

grpc::Status OrgService::DeleteOrganization(grpc::ServerContext* context,
                                            const pb::DeleteOrganizationRequest* request,
                                            google::protobuf::Empty* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Delete(who, *request));
  });
}

grpc::Status OrgService::MoveOrganization(grpc::ServerContext* context,
                                          const pb::MoveOrganizationRequest* request,
                                          pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Move(who, *request), response);
  });
}

grpc::Status OrgService::DissolveOrganization(grpc::ServerContext* context,
                                              const pb::DissolveOrganizationRequest* request,
                                              pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Dissolve(who, *request), response);
  });
}

grpc::Status OrgService::MergeOrganization(grpc::ServerContext* context,
                                           const pb::MergeOrganizationRequest* request,
                                           pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Merge(who, *request), response);
  });
}

grpc::Status OrgService::ListDescendants(grpc::ServerContext* context,
                                         const pb::ListDescendantsRequest* request,
                                         pb::ListDescendantsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Descendants(who, *request), response);
  });
}

}  // namespace dj::org
