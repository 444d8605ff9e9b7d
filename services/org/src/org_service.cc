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

// An update's new values, checked without the database: only the fields its mask names.
struct Changes {
  std::set<std::string> paths;
  std::string display_name;
  Kind kind = pb::ORGANIZATION_KIND_UNSPECIFIED;
  std::string unit;
  std::vector<int64_t> joint_units;
  std::optional<time::CivilDate> established;
};

absl::StatusOr<Changes> ParseChanges(const StructureRules& rules,
                                     const pb::UpdateOrganizationRequest& request) {
  const pb::Organization& in = request.organization();
  Changes out;
  ASSIGN_OR_RETURN(out.paths, UpdatePaths(request));
  out.display_name = TrimDisplayName(in.display_name());
  if (out.paths.contains("display_name")) {
    RETURN_IF_ERROR(ValidateDisplayName(rules, out.display_name, "organization.display_name"));
  }
  out.kind = in.kind();
  if (out.paths.contains("kind") && !rules.rank.contains(in.kind())) {
    return rpc::InvalidArgument({{"organization.kind", "must be a known kind"}});
  }
  out.unit = in.unit();
  if (out.paths.contains("unit")) {
    RETURN_IF_ERROR(ValidateUnit(in.unit(), kUnitField));
  }
  if (out.paths.contains("joint_units")) {
    ASSIGN_OR_RETURN(out.joint_units, ParseJointUnits(in.joint_units()));
  }
  if (out.paths.contains("established_date") && in.has_established_date()) {
    ASSIGN_OR_RETURN(out.established,
                     time::FromProto(in.established_date(), "organization.established_date"));
  }
  return out;
}

// Inside the update's transaction: `changes` onto `row`; a new kind must fit its parent and
// its children under `rules`.
absl::Status ApplyChanges(db::Connection& c, const StructureRules& rules, const Changes& changes,
                          OrgRow& row) {
  const std::set<std::string>& paths = changes.paths;
  if (paths.contains("display_name")) {
    row.display_name = changes.display_name;
  }
  if (paths.contains("unit")) {
    row.unit = changes.unit;
  }
  if (paths.contains("joint_units")) {
    row.joint_units = changes.joint_units;
  }
  if (paths.contains("established_date")) {
    row.established_date = changes.established;
  }
  if (!paths.contains("kind") || changes.kind == row.kind) {
    return absl::OkStatus();
  }
  std::optional<Kind> parent_kind;
  if (row.parent_id.has_value()) {
    ASSIGN_OR_RETURN(
        const std::optional<OrgRow> parent,
        OrgStore::Find(c, *row.parent_id, /*for_update=*/false, OrgStore::Load::kPlace));
    if (parent.has_value()) {
      parent_kind = parent->kind;
    }
  }
  RETURN_IF_ERROR(
      CheckPlacement(rules, parent_kind, changes.kind, "organization.kind", "organization.kind"));
  ASSIGN_OR_RETURN(const std::vector<Kind> children, OrgStore::ChildKinds(c, row.id));
  RETURN_IF_ERROR(CheckChildrenFit(rules, changes.kind, children, "organization.kind"));
  row.kind = changes.kind;
  return absl::OkStatus();
}

}  // namespace

absl::Status AuthorizeOrganization(const auth::Principal& who, std::string_view action,
                                   std::string_view name, std::string_view path,
                                   audit::Entry* entry) {
  return auth::AuthorizeOrHide(
      who, action, {std::string(kCollection), std::string(path), ""},
      name.empty() ? rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                                "your roles do not allow this on organizations")
                   : OrganizationNotFound(name),
      entry != nullptr ? &entry->detail : nullptr);
}

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
  absl::Status s = AuthorizeOrganization(who, action, name, path, &entry);
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

absl::StatusOr<OrgRow> OrgService::NewRow(const StructureRules& rules, const pb::Organization& in,
                                          std::optional<int64_t>* parent_id) {
  OrgRow row;
  row.display_name = TrimDisplayName(in.display_name());
  RETURN_IF_ERROR(ValidateDisplayName(rules, row.display_name, "organization.display_name"));
  row.kind = in.kind();
  if (!in.name().empty()) {
    return rpc::InvalidArgument(
        {{"organization.name", "is assigned by the service; leave it empty"}});
  }
  if (!in.parent().empty()) {
    ASSIGN_OR_RETURN(*parent_id, rpc::ParseName(in.parent(), kCollection, "organization.parent"));
  }
  RETURN_IF_ERROR(ValidateUnit(in.unit(), kUnitField));
  row.unit = in.unit();
  ASSIGN_OR_RETURN(row.joint_units, ParseJointUnits(in.joint_units()));
  if (in.has_established_date()) {
    ASSIGN_OR_RETURN(row.established_date,
                     time::FromProto(in.established_date(), "organization.established_date"));
  }
  RETURN_IF_ERROR(CheckRoot(rules, row.kind, parent_id->has_value(), "organization.kind",
                            "organization.parent"));
  RETURN_IF_ERROR(CheckJointUnitsFit(rules, row));
  row.id = ids_.Next();
  row.create_time_us = row.update_time_us = NowUs();
  row.version = 1;
  row.status = pb::ACTIVE;
  return row;
}

absl::Status OrgService::PlaceNew(db::Connection& c, const auth::Principal& who,
                                  const StructureRules& rules, std::optional<int64_t> parent_id,
                                  const std::string& parent_name, OrgRow& row,
                                  audit::Entry& entry) {
  if (!parent_id.has_value()) {
    RETURN_IF_ERROR(AuthorizeOrganization(who, "create", "", "/", &entry));
    row.depth = 0;
    row.path = absl::StrCat("/", row.id, "/");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const std::optional<OrgRow> parent,
                   OrgStore::Find(c, *parent_id, /*for_update=*/true, OrgStore::Load::kPlace));
  if (!parent.has_value()) {
    return OrganizationNotFound(parent_name, "organization.parent");
  }
  entry.org_path = parent->path;
  RETURN_IF_ERROR(AuthorizeOrganization(who, "create", parent_name, parent->path, &entry));
  if (parent->status != pb::ACTIVE) {
    return rpc::Error(absl::StatusCode::kFailedPrecondition, "PARENT_NOT_ACTIVE",
                      absl::StrCat(parent_name, " is dissolved"));
  }
  RETURN_IF_ERROR(
      CheckPlacement(rules, parent->kind, row.kind, "organization.kind", "organization.parent"));
  row.parent_id = parent->id;
  row.depth = parent->depth + 1;
  row.path = absl::StrCat(parent->path, row.id, "/");
  return absl::OkStatus();
}

absl::StatusOr<pb::Organization> OrgService::Create(const auth::Principal& who,
                                                    const pb::CreateOrganizationRequest& request) {
  if (!request.has_organization()) {
    return rpc::InvalidArgument({{"organization", "required"}});
  }
  const pb::Organization& in = request.organization();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  ASSIGN_OR_RETURN(const StructureRules rules, rules_.Today());
  // Checks that need no database first, so a bad request costs no round trip.
  std::optional<int64_t> parent_id;
  ASSIGN_OR_RETURN(OrgRow row, NewRow(rules, in, &parent_id));

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

  std::optional<OrgRow> replay;
  audit::Entry entry = audit::Recorder::For(who, "organizations.create", in.parent(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    if (!request_id.empty()) {
      ASSIGN_OR_RETURN(replay, OrgStore::FindByRequestId(c, request_id));
      if (replay.has_value()) {
        entry.resource = rpc::FormatName(kCollection, replay->id);
        entry.org_path = replay->path;
        entry.detail = "REPLAY";
        return AuthorizeOrganization(who, "create", entry.resource, replay->path, &entry);
      }
    }
    RETURN_IF_ERROR(PlaceNew(c, who, rules, parent_id, in.parent(), row, entry));
    entry.resource = rpc::FormatName(kCollection, row.id);
    entry.org_path = row.path;
    ASSIGN_OR_RETURN(const bool taken,
                     OrgStore::SiblingNameTaken(c, row.parent_id, row.display_name, row.id));
    if (taken) {
      return DisplayNameTaken("organization.display_name", row.display_name);
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
    return DisplayNameTaken("organization.display_name", row.display_name);
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
  // The copy and the tree's version in one round trip.
  auto found =
      cache_.GetWith(CacheKey(*id), TreeVersion::CacheKey(), [&] { return LoadStamped(*id); });
  if (!found.ok()) {
    return found.status();
  }
  int64_t version = 0;
  std::string bytes;
  if (!TreeVersion::Unstamp(found->value, &version, &bytes)) {
    return absl::InternalError("cached organization has no tree version");
  }
  // A copy read before a move that has happened since (on any replica) may hold an old path:
  // authorization then goes by the database. What this call just loaded is the database's.
  if (auto current =
          found->loaded ? absl::StatusOr<int64_t>(version) : tree_.Current(found->companion);
      !current.ok() || version < *current) {
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
                 ? AuthorizeOrganization(who, "read", "", "/", nullptr)
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
  ASSIGN_OR_RETURN(const int64_t id, rpc::ParseName(in.name(), kCollection, "organization.name"));
  ASSIGN_OR_RETURN(const StructureRules rules, rules_.Today());
  // Validate the new values before touching the database.
  ASSIGN_OR_RETURN(const Changes changes, ParseChanges(rules, request));

  OrgRow updated;
  bool changed = false;
  audit::Entry entry = audit::Recorder::For(who, "organizations.update", in.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const OrgRow before,
                     LockToChange(c, who, "update", in.name(), id, in.etag(), entry));
    if (before.status != pb::ACTIVE) {
      return OrganizationDissolved(in.name());
    }
    OrgRow row = before;
    RETURN_IF_ERROR(ApplyChanges(c, rules, changes, row));
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
      RETURN_IF_ERROR(CheckJointUnitsFit(rules, row));
    }
    RETURN_IF_ERROR(CheckUnitsExist(c, who, row, before));
    if (row.display_name != before.display_name) {
      ASSIGN_OR_RETURN(const bool taken,
                       OrgStore::SiblingNameTaken(c, row.parent_id, row.display_name, row.id));
      if (taken) {
        return DisplayNameTaken("organization.display_name", row.display_name);
      }
    }
    row.version = before.version + 1;
    row.update_time_us = std::max(NowUs(), before.update_time_us);
    ASSIGN_OR_RETURN(const bool written, OrgStore::Update(c, row, before.version));
    if (!written) {
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
    return DisplayNameTaken("organization.display_name", changes.display_name);
  }
  if (!status.ok()) {
    return db::Generic(status);
  }
  if (changed) {
    Invalidate(id);
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

grpc::Status OrgService::CreateOrganization(grpc::ServerContext* context,
                                            const pb::CreateOrganizationRequest* request,
                                            pb::Organization* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Create(who, *request), response);
  });
}

grpc::ServerUnaryReactor* OrgService::GetOrganization(grpc::CallbackServerContext* context,
                                                      const pb::GetOrganizationRequest* request,
                                                      pb::Organization* response) {
  auto blocking = [this, context, request, response] {
    return audit::WithCaller(*context, auth_, audit_, kErrorDomain,
                             [&](const auth::Principal& who) {
                               return rpc::Reply(*context, kErrorDomain, Get(who, *request),
                                                 response);
                             });
  };
  return rpc::FastOrBlocking(context, workers_, kErrorDomain, blocking,
                             [&](std::shared_ptr<rpc::UnaryCall> call) {
                               GetCached(std::move(call), *context, *request, response);
                             });
}

void OrgService::GetCached(std::shared_ptr<rpc::UnaryCall> call,
                           const grpc::CallbackServerContext& context,
                           const pb::GetOrganizationRequest& request, pb::Organization* response) {
  auto who = auth_.Caller(context);
  auto id = rpc::ParseName(request.name(), kCollection, "name");
  if (!who.ok() || !id.ok()) {
    call->Slow();  // the blocking half answers, and records an unauthenticated call
    return;
  }
  // Trusted as Get trusts a copy: stamped no earlier than the tree's version read in the same
  // round trip (a move since may have changed its path), and granted to the caller.
  auto use = [who = *std::move(who), &request, response](cache::CacheAside::Found& found) {
    const std::optional<int64_t> current = TreeVersion::Parse(found.companion);
    int64_t version = 0;
    std::string bytes;
    return current.has_value() && TreeVersion::Unstamp(found.value, &version, &bytes) &&
           version >= *current &&
           response->ParseFromString(bytes) &&
           AuthorizeOrganization(who, "read", request.name(), response->path(), nullptr).ok();
  };
  cache_.Peek(CacheKey(*id), TreeVersion::CacheKey(), std::move(use),
              [call = std::move(call), response](bool used) {
                if (used) {
                  call->Finish();
                  return;
                }
                response->Clear();
                call->Slow();
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
