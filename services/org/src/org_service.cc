// Organization handlers.
#include "services/org/src/org_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/audit/caller.h"
#include "common/db/errors.h"
#include "common/events/events.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/org/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/community_store.h"
#include "services/org/src/errors.h"
#include "services/org/src/officer_store.h"
#include "services/org/src/requests.h"
#include "services/org/src/unit_service.h"
#include "services/org/src/unit_store.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kCollection = "organizations";
constexpr std::string_view kCommunities = "communities";
constexpr std::string_view kUnits = "units";
constexpr std::string_view kUnitField = "organization.unit";
constexpr std::string_view kJointUnitsField = "organization.joint_units";

std::string CacheKey(int64_t id) { return absl::StrCat("org:v1:organization:", id); }

absl::Status Dissolved(std::string_view name) {
  return rpc::Error(absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED",
                    absl::StrCat(AV(name),
                                 " is dissolved; it keeps its history but no longer "
                                 "changes"));
}

absl::Status NameTaken(std::string_view field, std::string_view display_name) {
  return rpc::WithViolation(
      rpc::Error(absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN",
                 absl::StrCat(AV(field), ": '", AV(display_name),
                              "' is already used by another organization under the same parent")),
      {std::string(field), "must be unique among siblings"});
}

absl::Status ValidateUnit(std::string_view unit, std::string_view field) {
  if (unit.empty()) {
    return absl::OkStatus();
  }
  return rpc::ParseName(unit, kUnits, field).status();
}

// The ids of `names` (`units/{id}` each), in order.
absl::StatusOr<std::vector<int64_t>> ParseJointUnits(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<int64_t> ids;
  ids.reserve(names.size());
  for (const std::string& name : names) {
    auto id = rpc::ParseName(name, kUnits, kJointUnitsField);
    if (!id.ok()) {
      return id.status();
    }
    ids.push_back(*id);
  }
  return ids;
}

// What joint units need besides existing (no database): a unit of its own, only branches and
// general branches, distinct, not the own unit again, and with the own unit at most the rule
// set's limit.
absl::Status CheckJointUnitsFit(const StructureRules& rules, const OrgRow& row) {
  const std::string field(kJointUnitsField);
  if (row.joint_units.empty()) {
    return absl::OkStatus();
  }
  if (row.unit.empty()) {
    return rpc::InvalidArgument(
        {{field, "need `unit`: a joint branch names its own unit first, then the others"}});
  }
  if (row.kind != pb::BRANCH && row.kind != pb::GENERAL_BRANCH) {
    return rpc::InvalidArgument(
        {{field, absl::StrCat("only a BRANCH or GENERAL_BRANCH may cover joint units, not a ",
                              AV(KindName(row.kind)))}},
        "JOINT_UNITS_NOT_ALLOWED");
  }
  std::set<int64_t> seen;
  for (int64_t id : row.joint_units) {
    const std::string name = rpc::FormatName(kUnits, id);
    if (name == row.unit) {
      return rpc::InvalidArgument({{field, absl::StrCat(name, " is already `unit`")}});
    }
    if (!seen.insert(id).second) {
      return rpc::InvalidArgument({{field, absl::StrCat(name, " is named twice")}});
    }
  }
  const int covered = 1 + static_cast<int>(row.joint_units.size());
  if (covered > rules.joint_branch_max_units) {
    return rpc::InvalidArgument(
        {{field, absl::StrCat("with `unit` it covers ", covered,
                              " units; the rule set in force allows at most ",
                              rules.joint_branch_max_units)}},
        "JOINT_UNITS_EXCEEDED");
  }
  return absl::OkStatus();
}

// auth::AuthorizeOrHide for the organization `name` at `path`; `name` empty: the collection
// itself (roots), where there is nothing to hide and a refusal is plain PERMISSION_DENIED.
absl::Status Authorized(const auth::Principal& who, std::string_view action, std::string_view name,
                        std::string_view path, audit::Entry* entry) {
  return auth::AuthorizeOrHide(
      who, action, {std::string(kCollection), std::string(path), ""},
      name.empty() ? rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                                "your roles do not allow this on organizations")
                   : OrganizationNotFound(name),
      entry != nullptr ? &entry->detail : nullptr);
}

// The fields an update may name; everything else is output-only or has its own method.
const UpdatableFields& Updatable() {
  static const UpdatableFields kFields = {
      .fields = {"display_name", "kind", "unit", "joint_units", "established_date"},
      .refused = {
          {"parent", "cannot be updated; moving an organization is its own method"},
          {"name", "is output only"},
          {"etag", "is output only"},
          {"status", "is output only"},
          {"create_time", "is output only"},
          {"update_time", "is output only"},
          {"depth", "is output only"},
          {"path", "is output only"},
      }};
  return kFields;
}

absl::StatusOr<std::set<std::string>> UpdatePaths(const pb::UpdateOrganizationRequest& request) {
  // No mask: the fields the caller set (AIP-134).
  std::set<std::string> set;
  const pb::Organization& o = request.organization();
  if (!o.display_name().empty()) set.insert("display_name");
  if (o.kind() != pb::ORGANIZATION_KIND_UNSPECIFIED) set.insert("kind");
  if (!o.unit().empty()) set.insert("unit");
  if (o.joint_units_size() > 0) set.insert("joint_units");
  if (o.has_established_date()) set.insert("established_date");
  return ResolveUpdateMask(request.update_mask(), std::move(set), Updatable());
}

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

pb::Organization ToProto(const OrgRow& row) {
  pb::Organization o;
  o.set_name(rpc::FormatName(kCollection, row.id));
  o.set_display_name(row.display_name);
  o.set_kind(row.kind);
  if (row.parent_id.has_value()) {
    o.set_parent(rpc::FormatName(kCollection, *row.parent_id));
  }
  o.set_unit(row.unit);
  for (int64_t unit : row.joint_units) {
    o.add_joint_units(rpc::FormatName(kUnits, unit));
  }
  if (row.established_date.has_value()) {
    *o.mutable_established_date() = time::ToProto(*row.established_date);
  }
  o.set_status(row.status);
  o.set_etag(Etag(row.version));
  *o.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *o.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  o.set_depth(row.depth);
  o.set_path(row.path);
  if (row.dissolved_date.has_value()) {
    *o.mutable_dissolved_date() = time::ToProto(*row.dissolved_date);
  }
  o.set_dissolution_reason(row.dissolution_reason);
  if (row.merged_into.has_value()) {
    o.set_merged_into(rpc::FormatName(kCollection, *row.merged_into));
  }
  return o;
}

OrgService::OrgService(db::Pool& pool, cache::Cache* cache, ids::IdGenerator& ids,
                       const auth::InternalAuth& auth, std::string audit_key,
                       OrgServiceOptions options)
    : store_(pool),
      ids_(ids),
      options_(std::move(options)),
      cache_(cache, {.name = "organization", .ttl = options_.cache_ttl}),
      tree_(pool, cache),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      rules_(pool, options_.now_us) {}

absl::Status OrgService::Check(const auth::Principal& who, std::string_view action,
                               std::string_view name, std::string_view path) {
  audit::Entry entry = audit::Recorder::For(who, absl::StrCat("organizations.", AV(action)),
                                            std::string(name), std::string(path));
  absl::Status s = Authorized(who, action, name, path, &entry);
  if (!s.ok()) {
    audit_.Refuse(std::move(entry), s);
  }
  return s;
}

int64_t OrgService::NowUs() const {
  if (options_.now_us) {
    return options_.now_us();
  }
  return time::NowMicros();
}

void OrgService::Invalidate(int64_t id) { cache_.Invalidate(CacheKey(id)); }

void OrgService::Invalidate(const std::vector<int64_t>& ids) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (int64_t id : ids) {
    keys.push_back(CacheKey(id));
  }
  cache_.Invalidate(std::span<const std::string>(keys));
}

absl::StatusOr<OrgRow> OrgService::Load(db::Connection& c, int64_t id) {
  ASSIGN_OR_RETURN(std::optional<OrgRow> row, OrgStore::Find(c, id, /*for_update=*/false));
  if (!row.has_value()) {
    return OrganizationNotFound(rpc::FormatName(kCollection, id));
  }
  return *std::move(row);
}

absl::StatusOr<OrgRow> OrgService::Load(int64_t id) {
  return store_.pool().Run([&](db::Connection& c) { return Load(c, id); });
}

absl::StatusOr<std::string> OrgService::LoadStamped(int64_t id) {
  return store_.pool().Run([&](db::Connection& c) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(const int64_t version, TreeVersion::Read(c));
    ASSIGN_OR_RETURN(const OrgRow row, Load(c, id));
    return TreeVersion::Stamp(version, ToProto(row).SerializeAsString());
  });
}

absl::StatusOr<pb::Organization> OrgService::Create(const auth::Principal& who,
                                                    const pb::CreateOrganizationRequest& request) {
  if (!request.has_organization()) {
    return rpc::InvalidArgument({{"organization", "required"}});
  }
  const pb::Organization& in = request.organization();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  auto rules = rules_.Today();
  if (!rules.ok()) {
    return rules.status();
  }
  OrgRow row;
  row.display_name = TrimDisplayName(in.display_name());
  if (absl::Status s = ValidateDisplayName(*rules, row.display_name, "organization.display_name");
      !s.ok()) {
    return s;
  }
  row.kind = in.kind();
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"organization.name",
                                  "is assigned by the service; leave it "
                                  "empty"}});
  }
  std::optional<int64_t> parent_id;
  if (!in.parent().empty()) {
    auto p = rpc::ParseName(in.parent(), kCollection, "organization.parent");
    if (!p.ok()) {
      return p.status();
    }
    parent_id = *p;
  }
  RETURN_IF_ERROR(ValidateUnit(in.unit(), kUnitField));
  row.unit = in.unit();
  auto joint = ParseJointUnits(in.joint_units());
  if (!joint.ok()) {
    return joint.status();
  }
  row.joint_units = *std::move(joint);
  if (in.has_established_date()) {
    auto d = time::FromProto(in.established_date(), "organization.established_date");
    if (!d.ok()) {
      return d.status();
    }
    row.established_date = *d;
  }
  // Checks that need no database first, so a bad request costs no round trip.
  if (absl::Status s = CheckRoot(*rules, row.kind, parent_id.has_value(), "organization.kind",
                                 "organization.parent");
      !s.ok()) {
    return s;
  }
  RETURN_IF_ERROR(CheckJointUnitsFit(*rules, row));

  // Scoped to the caller: another principal's request_id is a new request, never theirs.
  const std::string request_id = auth::IdempotencyKey(who, request.request_id());
  auto same_request = [&](const OrgRow& existing) -> absl::StatusOr<pb::Organization> {
    // Everything the request set: a replay with another body is a reused request_id.
    if (existing.display_name != row.display_name || existing.kind != row.kind ||
        existing.parent_id != parent_id || existing.unit != row.unit ||
        existing.joint_units != row.joint_units ||
        existing.established_date != row.established_date) {
      return rpc::Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                        "request_id was already used for a different organization");
    }
    return ToProto(existing);
  };

  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = NowUs();
  row.version = 1;
  row.status = pb::ACTIVE;
  std::optional<OrgRow> replay;
  audit::Entry entry = audit::Recorder::For(who, "organizations.create", in.parent(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    if (!request_id.empty()) {
      auto existing = OrgStore::FindByRequestId(c, request_id);
      if (!existing.ok()) {
        return existing.status();
      }
      if (existing->has_value()) {
        replay = **existing;
        entry.resource = rpc::FormatName(kCollection, replay->id);
        entry.org_path = replay->path;
        entry.detail = "REPLAY";
        return Authorized(who, "create", entry.resource, replay->path, &entry);
      }
    }
    if (parent_id.has_value()) {
      auto parent = OrgStore::Find(c, *parent_id, /*for_update=*/true, OrgStore::Load::kPlace);
      if (!parent.ok()) {
        return parent.status();
      }
      if (!parent->has_value()) {
        return OrganizationNotFound(in.parent(), "organization.parent");
      }
      const OrgRow& p = **parent;
      entry.org_path = p.path;
      RETURN_IF_ERROR(Authorized(who, "create", in.parent(), p.path, &entry));
      if (p.status != pb::ACTIVE) {
        return rpc::Error(absl::StatusCode::kFailedPrecondition, "PARENT_NOT_ACTIVE",
                          absl::StrCat(in.parent(), " is dissolved"));
      }
      if (absl::Status s =
              CheckPlacement(*rules, p.kind, row.kind, "organization.kind", "organization.parent");
          !s.ok()) {
        return s;
      }
      row.parent_id = p.id;
      row.depth = p.depth + 1;
      row.path = absl::StrCat(p.path, row.id, "/");
    } else {
      RETURN_IF_ERROR(Authorized(who, "create", "", "/", &entry));
      row.depth = 0;
      row.path = absl::StrCat("/", row.id, "/");
    }
    entry.resource = rpc::FormatName(kCollection, row.id);
    entry.org_path = row.path;
    auto taken = OrgStore::SiblingNameTaken(c, row.parent_id, row.display_name, row.id);
    if (!taken.ok()) {
      return taken.status();
    }
    if (*taken) {
      return NameTaken("organization.display_name", row.display_name);
    }
    RETURN_IF_ERROR(CheckUnitsExist(c, who, row, std::nullopt));
    RETURN_IF_ERROR(OrgStore::Insert(c, row, request_id));
    RETURN_IF_ERROR(OrgStore::SetJointUnits(c, row.id, row.joint_units));
    pb::OrganizationCreated created;
    *created.mutable_organization() = ToProto(row);
    return Publish(c, entry.resource, created).status();
  });
  if (replay.has_value() && status.ok()) {
    return same_request(*replay);
  }
  if (!request_id.empty() && db::DuplicateKeyOn(status, kOrgRequestIdIndex)) {
    // A concurrent call with the same request_id won the insert: answer as it did.
    auto existing = store_.pool().Run(
        [&](db::Connection& c) { return OrgStore::FindByRequestId(c, request_id); });
    if (existing.ok() && existing->has_value()) {
      return same_request(**existing);
    }
  }
  if (db::DuplicateKeyOn(status, kOrgSiblingNameIndex)) {
    // The unique (parent, display_name) index caught a concurrent twin.
    return NameTaken("organization.display_name", row.display_name);
  }
  if (!status.ok()) {
    return db::Generic(status);  // e.g. an id collision: never DISPLAY_NAME_TAKEN
  }
  return ToProto(row);
}

absl::StatusOr<pb::Organization> OrgService::Get(const auth::Principal& who,
                                                 const pb::GetOrganizationRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto stamped = cache_.Get(CacheKey(*id), [&] { return LoadStamped(*id); });
  if (!stamped.ok()) {
    return stamped.status();
  }
  int64_t version = 0;
  std::string bytes;
  if (!TreeVersion::Unstamp(*stamped, &version, &bytes)) {
    return absl::InternalError("cached organization has no tree version");
  }
  // A copy read before a move that has happened since (on any replica) may hold an old path:
  // authorization then goes by the database.
  if (auto current = tree_.Current(); !current.ok() || version < *current) {
    auto fresh = LoadStamped(*id);
    if (!fresh.ok()) {
      return fresh.status();
    }
    if (current.ok()) {
      Invalidate(*id);
    }
    if (!TreeVersion::Unstamp(*fresh, &version, &bytes)) {
      return absl::InternalError("organization has no tree version");
    }
  }
  pb::Organization out;
  if (!out.ParseFromString(bytes)) {
    return absl::InternalError("cached organization does not parse");
  }
  RETURN_IF_ERROR(Check(who, "read", request.name(), out.path()));
  return out;
}

absl::StatusOr<pb::ListOrganizationsResponse> OrgService::List(
    const auth::Principal& who, const pb::ListOrganizationsRequest& request) {
  auto size = rpc::PageSize(request.page_size());
  if (!size.ok()) {
    return size.status();
  }
  if (request.parent().empty() && who.scope_org != 0) {
    // The top of a scoped caller's tree is their scope organization.
    pb::ListOrganizationsResponse out;
    if (!request.page_token().empty()) {
      return out;
    }
    pb::GetOrganizationRequest get;
    get.set_name(rpc::FormatName(kCollection, who.scope_org));
    auto scope = Get(who, get);
    if (!scope.ok()) {
      return scope.status().code() == absl::StatusCode::kNotFound
                 ? Authorized(who, "read", "", "/", nullptr)
                 : scope.status();
    }
    *out.add_organizations() = *std::move(scope);
    return out;
  }
  std::optional<int64_t> parent;
  if (!request.parent().empty()) {
    auto id = rpc::ParseName(request.parent(), kCollection, "parent");
    if (!id.ok()) {
      return id.status();
    }
    parent = *id;
  }
  auto cursor = rpc::DecodePageToken(request.page_token(), absl::StrCat("list|", request.parent()));
  if (!cursor.ok()) {
    return cursor.status();
  }
  int64_t after = 0;
  if (!cursor->empty() && !absl::SimpleAtoi(*cursor, &after)) {
    return rpc::InvalidArgument({{"page_token", "is not a token this service issued"}});
  }
  if (parent.has_value()) {
    auto p = Load(*parent);
    if (!p.ok()) {
      return p.status().code() == absl::StatusCode::kNotFound
                 ? rpc::WithViolation(p.status(), {"parent", "no such organization"})
                 : p.status();
    }
    RETURN_IF_ERROR(Check(who, "read", request.parent(), p->path));
  } else if (absl::Status s = Check(who, "read", "", "/"); !s.ok()) {
    return s;
  }
  auto rows = store_.pool().Run(
      [&](db::Connection& c) { return OrgStore::ListChildren(c, parent, after, *size + 1); });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListOrganizationsResponse out;
  const bool more = rpc::TrimPage(*rows, *size);
  for (const OrgRow& r : *rows) {
    *out.add_organizations() = ToProto(r);
  }
  if (more) {
    out.set_next_page_token(rpc::EncodePageToken(absl::StrCat("list|", request.parent()),
                                                 absl::StrCat(rows->back().id)));
  }
  return out;
}

absl::StatusOr<pb::Organization> OrgService::Update(const auth::Principal& who,
                                                    const pb::UpdateOrganizationRequest& request) {
  if (!request.has_organization()) {
    return rpc::InvalidArgument({{"organization", "required"}});
  }
  const pb::Organization& in = request.organization();
  auto id = rpc::ParseName(in.name(), kCollection, "organization.name");
  if (!id.ok()) {
    return id.status();
  }
  auto paths = UpdatePaths(request);
  if (!paths.ok()) {
    return paths.status();
  }
  auto rules = rules_.Today();
  if (!rules.ok()) {
    return rules.status();
  }
  // Validate the new values before touching the database.
  const std::string display_name = TrimDisplayName(in.display_name());
  if (paths->contains("display_name")) {
    if (absl::Status s = ValidateDisplayName(*rules, display_name, "organization.display_name");
        !s.ok()) {
      return s;
    }
  }
  if (paths->contains("kind") && !rules->rank.contains(in.kind())) {
    return rpc::InvalidArgument({{"organization.kind", "must be a known kind"}});
  }
  if (paths->contains("unit")) {
    RETURN_IF_ERROR(ValidateUnit(in.unit(), kUnitField));
  }
  std::vector<int64_t> joint_units;
  if (paths->contains("joint_units")) {
    auto joint = ParseJointUnits(in.joint_units());
    if (!joint.ok()) {
      return joint.status();
    }
    joint_units = *std::move(joint);
  }
  std::optional<time::CivilDate> established;
  if (paths->contains("established_date") && in.has_established_date()) {
    auto d = time::FromProto(in.established_date(), "organization.established_date");
    if (!d.ok()) {
      return d.status();
    }
    established = *d;
  }

  OrgRow updated;
  bool changed = false;
  audit::Entry entry = audit::Recorder::For(who, "organizations.update", in.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = OrgStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OrganizationNotFound(in.name());
    }
    OrgRow row = **found;
    entry.org_path = row.path;
    RETURN_IF_ERROR(Authorized(who, "update", in.name(), row.path, &entry));
    if (!in.etag().empty() && in.etag() != Etag(row.version)) {
      return EtagMismatch(in.name());
    }
    if (row.status != pb::ACTIVE) {
      return Dissolved(in.name());
    }
    const OrgRow before = row;
    if (paths->contains("display_name")) {
      row.display_name = display_name;
    }
    if (paths->contains("unit")) {
      row.unit = in.unit();
    }
    if (paths->contains("joint_units")) {
      row.joint_units = joint_units;
    }
    if (paths->contains("established_date")) {
      row.established_date = established;
    }
    if (paths->contains("kind") && in.kind() != row.kind) {
      std::optional<Kind> parent_kind;
      if (row.parent_id.has_value()) {
        auto parent =
            OrgStore::Find(c, *row.parent_id, /*for_update=*/false, OrgStore::Load::kPlace);
        if (!parent.ok()) {
          return parent.status();
        }
        if (parent->has_value()) {
          parent_kind = (*parent)->kind;
        }
      }
      if (absl::Status s = CheckPlacement(*rules, parent_kind, in.kind(), "organization.kind",
                                          "organization.kind");
          !s.ok()) {
        return s;
      }
      auto children = OrgStore::ChildKinds(c, row.id);
      if (!children.ok()) {
        return children.status();
      }
      if (absl::Status s = CheckChildrenFit(*rules, in.kind(), *children, "organization.kind");
          !s.ok()) {
        return s;
      }
      row.kind = in.kind();
    }
    changed = row.display_name != before.display_name || row.unit != before.unit ||
              row.joint_units != before.joint_units ||
              row.established_date != before.established_date || row.kind != before.kind;
    if (!changed) {
      updated = row;
      return absl::OkStatus();
    }
    // A change of the joint units, the own unit or the kind must suit today's rules; other
    // changes leave joint units made under earlier rules alone (rules do not change the past).
    if (row.joint_units != before.joint_units || row.unit != before.unit ||
        row.kind != before.kind) {
      RETURN_IF_ERROR(CheckJointUnitsFit(*rules, row));
    }
    RETURN_IF_ERROR(CheckUnitsExist(c, who, row, before));
    if (row.display_name != before.display_name) {
      auto taken = OrgStore::SiblingNameTaken(c, row.parent_id, row.display_name, row.id);
      if (!taken.ok()) {
        return taken.status();
      }
      if (*taken) {
        return NameTaken("organization.display_name", row.display_name);
      }
    }
    row.version = before.version + 1;
    row.update_time_us = std::max(NowUs(), before.update_time_us);
    auto ok = OrgStore::Update(c, row, before.version);
    if (!ok.ok()) {
      return ok.status();
    }
    if (!*ok) {
      return EtagMismatch(in.name());
    }
    if (row.joint_units != before.joint_units) {
      RETURN_IF_ERROR(OrgStore::SetJointUnits(c, row.id, row.joint_units));
    }
    updated = row;
    pb::OrganizationUpdated event;
    *event.mutable_organization() = ToProto(row);
    return Publish(c, in.name(), event).status();
  });
  if (db::DuplicateKeyOn(status, kOrgSiblingNameIndex)) {
    return NameTaken("organization.display_name", display_name);
  }
  if (!status.ok()) {
    return db::Generic(status);
  }
  if (changed) {
    Invalidate(*id);
  }
  return ToProto(updated);
}

absl::Status OrgService::CheckUnitsExist(db::Connection& c, const auth::Principal& who,
                                         const OrgRow& row, const std::optional<OrgRow>& before) {
  // Only what this request adds: references stored earlier were checked when they were made.
  std::optional<int64_t> unit;
  if (!row.unit.empty() && (!before.has_value() || before->unit != row.unit)) {
    auto id = rpc::ParseName(row.unit, kUnits, kUnitField);
    if (!id.ok()) {
      return id.status();
    }
    unit = *id;
  }
  std::vector<int64_t> joint;
  for (int64_t id : row.joint_units) {
    if (!before.has_value() || std::find(before->joint_units.begin(), before->joint_units.end(),
                                         id) == before->joint_units.end()) {
      joint.push_back(id);
    }
  }
  std::vector<int64_t> ids = joint;
  if (unit.has_value()) {
    ids.push_back(*unit);
  }
  if (ids.empty()) {
    return absl::OkStatus();  // nothing new named: no lookups
  }
  auto paths = UnitStore::ParentPaths(c, ids);
  if (!paths.ok()) {
    return paths.status();
  }
  // A unit the caller may not read answers exactly like a missing one; units managed at or
  // above the caller's scope are readable (UnitReadPath).
  std::string scope_path;
  if (who.scope_org != 0) {
    auto scope = OrgStore::Find(c, who.scope_org, /*for_update=*/false, OrgStore::Load::kPlace);
    if (!scope.ok()) {
      return scope.status();
    }
    scope_path = scope->has_value() ? (*scope)->path : "/0/";
  }
  auto visible = [&](int64_t id) {
    auto it = paths->find(id);
    return it != paths->end() &&
           auth::Authorize(who, "read",
                           {std::string(kUnits), UnitReadPath(it->second, scope_path), ""})
               .ok();
  };
  if (unit.has_value() && !visible(*unit)) {
    return rpc::InvalidArgument({{std::string(kUnitField), "no such unit"}}, "UNIT_NOT_FOUND");
  }
  for (int64_t id : joint) {
    if (!visible(id)) {
      return rpc::InvalidArgument({{std::string(kJointUnitsField),
                                    absl::StrCat(rpc::FormatName(kUnits, id), ": no such unit")}},
                                  "UNIT_NOT_FOUND");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<events::Event> OrgService::Publish(db::Connection& c, std::string_view key,
                                                  const google::protobuf::Message& event) {
  events::Event e;
  e.stream = "org.organizations";
  e.type = event.GetDescriptor()->full_name();
  e.key = std::string(key);
  e.payload = event.SerializeAsString();
  return events::Append(c, ids_, std::move(e), NowUs());
}

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
    auto found = OrgStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OrganizationNotFound(request.name());
    }
    const OrgRow& row = **found;
    entry.org_path = row.path;
    RETURN_IF_ERROR(Authorized(who, "move", request.name(), row.path, &entry));
    if (!request.etag().empty() && request.etag() != Etag(row.version)) {
      return EtagMismatch(request.name());
    }
    if (row.status != pb::ACTIVE) {
      return Dissolved(request.name());
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
    if (absl::Status s = Authorized(who, "create", request.new_parent(), (*parent)->path, &entry);
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

absl::StatusOr<pb::Organization> OrgService::Dissolve(
    const auth::Principal& who, const pb::DissolveOrganizationRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  const std::string reason = TrimDisplayName(request.reason());
  if (reason.empty() || reason.size() > 400) {
    return rpc::InvalidArgument({{"reason", "required: why it is dissolved (at most 400 bytes)"}});
  }
  auto date = EffectiveDate(request.has_dissolved_date() ? &request.dissolved_date() : nullptr,
                            "dissolved_date");
  if (!date.ok()) {
    return date.status();
  }
  OrgRow dissolved;
  audit::Entry entry = audit::Recorder::For(who, "organizations.dissolve", request.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = OrgStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OrganizationNotFound(request.name());
    }
    OrgRow row = **found;
    entry.org_path = row.path;
    RETURN_IF_ERROR(Authorized(who, "dissolve", request.name(), row.path, &entry));
    if (!request.etag().empty() && request.etag() != Etag(row.version)) {
      return EtagMismatch(request.name());
    }
    if (row.status != pb::ACTIVE) {
      return Dissolved(request.name());
    }
    if (!row.parent_id.has_value()) {
      return rpc::InvalidArgument({{"name", "the root of the tree cannot be dissolved"}});
    }
    if (row.established_date.has_value() && *date < *row.established_date) {
      return rpc::InvalidArgument(
          {{"dissolved_date", absl::StrCat("must not be before the establishment date ",
                                           time::ToIso(*row.established_date))}});
    }
    auto children = OrgStore::ActiveChildren(c, row.id);
    if (!children.ok()) {
      return children.status();
    }
    if (!children->empty()) {
      return rpc::WithViolation(
          rpc::Error(absl::StatusCode::kFailedPrecondition, "HAS_ACTIVE_CHILDREN",
                     absl::StrCat(request.name(), " has ", children->size(),
                                  " active sub-organizations; move or dissolve them first")),
          {"name", "has active sub-organizations"});
    }
    RETURN_IF_ERROR(CheckNoMembers(row, "name"));
    RETURN_IF_ERROR(CheckLeadsNoCommunity(c, row));
    const int64_t before = row.version;
    row.status = pb::DISSOLVED;
    row.dissolved_date = *date;
    row.dissolution_reason = reason;
    row.version = before + 1;
    row.update_time_us = std::max(NowUs(), row.update_time_us);
    auto ok = OrgStore::Update(c, row, before);
    if (!ok.ok()) {
      return ok.status();
    }
    if (!*ok) {
      return EtagMismatch(request.name());
    }
    auto ended = EndWhatHangsOn(c, row.id, *date, row.update_time_us);
    if (!ended.ok()) {
      return ended.status();
    }
    entry.detail = *std::move(ended);
    dissolved = row;
    pb::OrganizationDissolved event;
    *event.mutable_organization() = ToProto(row);
    return Publish(c, request.name(), event).status();
  });
  if (!status.ok()) {
    return status;
  }
  Invalidate(*id);
  return ToProto(dissolved);
}

absl::StatusOr<pb::Organization> OrgService::Merge(const auth::Principal& who,
                                                   const pb::MergeOrganizationRequest& request) {
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!id.ok()) {
    return id.status();
  }
  if (request.into().empty()) {
    return rpc::InvalidArgument({{"into", "required: organizations/{id} that takes over"}});
  }
  auto into_id = rpc::ParseName(request.into(), kCollection, "into");
  if (!into_id.ok()) {
    return into_id.status();
  }
  if (*into_id == *id) {
    return rpc::InvalidArgument({{"into", "an organization cannot merge into itself"}});
  }
  auto date =
      EffectiveDate(request.has_merged_date() ? &request.merged_date() : nullptr, "merged_date");
  if (!date.ok()) {
    return date.status();
  }
  OrgRow merged;
  std::vector<int64_t> moved;
  audit::Entry entry = audit::Recorder::For(who, "organizations.merge", request.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = OrgStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OrganizationNotFound(request.name());
    }
    OrgRow row = **found;
    entry.org_path = row.path;
    RETURN_IF_ERROR(Authorized(who, "dissolve", request.name(), row.path, &entry));
    if (!request.etag().empty() && request.etag() != Etag(row.version)) {
      return EtagMismatch(request.name());
    }
    if (row.status != pb::ACTIVE) {
      return Dissolved(request.name());
    }
    if (!row.parent_id.has_value()) {
      return rpc::InvalidArgument({{"name", "the root of the tree cannot be merged away"}});
    }
    auto into = OrgStore::Find(c, *into_id, /*for_update=*/true, OrgStore::Load::kPlace);
    if (!into.ok()) {
      return into.status();
    }
    if (!into->has_value()) {
      return OrganizationNotFound(request.into(), "into");
    }
    if (absl::Status s = Authorized(who, "create", request.into(), (*into)->path, &entry);
        !s.ok()) {
      return rpc::WithViolation(s, {"into", "no such organization"});
    }
    if (absl::StartsWith((*into)->path, row.path)) {
      return rpc::InvalidArgument({{"into", "lies inside the organization being merged away"}},
                                  "MOVE_CYCLE");
    }
    RETURN_IF_ERROR(CheckNoMembers(row, "name"));
    RETURN_IF_ERROR(CheckLeadsNoCommunity(c, row));
    auto children = OrgStore::ActiveChildren(c, row.id);
    if (!children.ok()) {
      return children.status();
    }
    for (const OrgRow& child : *children) {
      auto ids = MoveInTransaction(c, child, **into, "into");
      if (!ids.ok()) {
        // Name the child that does not fit, so the caller knows what to move by hand.
        return rpc::WithViolation(
            ids.status(),
            {"into", absl::StrCat("cannot take ", rpc::FormatName(kCollection, child.id), " (",
                                  child.display_name, ")")});
      }
      moved.insert(moved.end(), ids->begin(), ids->end());
    }
    auto reread = OrgStore::Find(c, row.id, /*for_update=*/true);  // versions unchanged by moves
    if (!reread.ok() || !reread->has_value()) {
      return reread.ok() ? OrganizationNotFound(request.name()) : reread.status();
    }
    row = **reread;
    const int64_t before = row.version;
    row.status = pb::DISSOLVED;
    row.dissolved_date = *date;
    row.dissolution_reason = absl::StrCat("merged into ", (*into)->display_name);
    row.merged_into = *into_id;
    row.version = before + 1;
    row.update_time_us = std::max(NowUs(), row.update_time_us);
    auto ok = OrgStore::Update(c, row, before);
    if (!ok.ok()) {
      return ok.status();
    }
    if (!*ok) {
      return EtagMismatch(request.name());
    }
    // Only what hangs on the organization merged away: its moved children keep theirs.
    auto ended = EndWhatHangsOn(c, row.id, *date, row.update_time_us);
    if (!ended.ok()) {
      return ended.status();
    }
    merged = row;
    entry.detail =
        absl::StrCat("into ", request.into(), "; ", moved.size(), " organizations moved; ", *ended);
    pb::OrganizationDissolved event;
    *event.mutable_organization() = ToProto(row);
    return Publish(c, request.name(), event).status();
  });
  if (!status.ok()) {
    return status;
  }
  Invalidate(*id);
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
    auto found = OrgStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return OrganizationNotFound(request.name());
    }
    entry.org_path = (*found)->path;
    if (absl::Status s = Authorized(who, "delete", request.name(), (*found)->path, &entry);
        !s.ok()) {
      return s;
    }
    if (!request.etag().empty() && request.etag() != Etag((*found)->version)) {
      return EtagMismatch(request.name());
    }
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
                                  (*found)->status == pb::ACTIVE
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

grpc::Status OrgService::CreateOrganization(grpc::ServerContext* context,
                                            const pb::CreateOrganizationRequest* request,
                                            pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Create(who, *request), response);
  });
}

grpc::Status OrgService::GetOrganization(grpc::ServerContext* context,
                                         const pb::GetOrganizationRequest* request,
                                         pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Get(who, *request), response);
  });
}

grpc::Status OrgService::ListOrganizations(grpc::ServerContext* context,
                                           const pb::ListOrganizationsRequest* request,
                                           pb::ListOrganizationsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, List(who, *request), response);
  });
}

grpc::Status OrgService::UpdateOrganization(grpc::ServerContext* context,
                                            const pb::UpdateOrganizationRequest* request,
                                            pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Update(who, *request), response);
  });
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

grpc::Status OrgService::ListAuditEntries(
    grpc::ServerContext* context, const dangjian::audit::v1::ListAuditEntriesRequest* request,
    dangjian::audit::v1::ListAuditEntriesResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, audit_.List(who, *request), response);
  });
}

grpc::Status OrgService::VerifyAuditLog(grpc::ServerContext* context,
                                        const dangjian::audit::v1::VerifyAuditLogRequest* request,
                                        dangjian::audit::v1::VerifyAuditLogResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, audit_.Verify(who, *request), response);
  });
}

}  // namespace dj::org
