// Unit handlers: validate, authorize at the parent organization's path, one audited transaction.
#include "services/org/src/unit_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/audit/caller.h"
#include "common/auth/authorize.h"
#include "common/db/errors.h"
#include "common/rpc/errors.h"
#include "common/rpc/handler.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/credit_code.h"
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"
#include "services/org/src/org_store.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/requests.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kUnits = "units";
constexpr std::string_view kOrganizations = "organizations";
constexpr int kMaxNameChars = 100;  // as unit.proto says

absl::Status NotFound(std::string_view name) {
  return rpc::Error(absl::StatusCode::kNotFound, "UNIT_NOT_FOUND",
                    absl::StrCat(AV(name), " does not exist"));
}

absl::Status CreditCodeTaken(std::string_view code) {
  return rpc::WithViolation(
      rpc::Error(absl::StatusCode::kAlreadyExists, "CREDIT_CODE_TAKEN",
                 absl::StrCat("unit.credit_code: ", AV(code), " belongs to another unit")),
      {"unit.credit_code", "must be unique: another unit has this code"});
}

// Names and bodies are names of organs: trimmed, 1-100 characters, no control characters (the
// organization name checks with the proto's fixed limit).
absl::Status ValidateName(std::string_view text, std::string_view field, std::string_view what) {
  if (text.empty()) {
    return rpc::InvalidArgument({{std::string(field), absl::StrCat("required; ", AV(what))}});
  }
  return ValidateText(text, field, kMaxNameChars, /*required=*/true);
}

// One field of `row`, by update-mask path. The credit code was normalized (and checked) on input.
absl::Status ValidateField(const UnitRow& row, std::string_view path) {
  if (path == "display_name") {
    return ValidateName(row.display_name, "unit.display_name",
                        "the unit's full name, e.g. 启东市财政局");
  }
  if (path == "kind" &&
      (row.kind == pb::UNIT_KIND_UNSPECIFIED || !pb::UnitKind_IsValid(row.kind))) {
    return rpc::InvalidArgument({{"unit.kind", "required: what kind of organ the unit is"}});
  }
  if (path == "leadership_mode" && (row.leadership_mode == pb::LEADERSHIP_MODE_UNSPECIFIED ||
                                    !pb::LeadershipMode_IsValid(row.leadership_mode))) {
    return rpc::InvalidArgument({{"unit.leadership_mode", "required: DIRECT or DUAL"}});
  }
  if (path == "vertical_leading_body" && !row.vertical_leading_body.empty()) {
    return ValidateName(row.vertical_leading_body, "unit.vertical_leading_body", "");
  }
  return absl::OkStatus();
}

const UpdatableFields& Updatable() {
  static const UpdatableFields kFields = {
      .fields = {"display_name", "credit_code", "kind", "leadership_mode", "vertical_leading_body"},
      .refused = {
          {"parent", "is fixed once the unit is created"},
          {"name", "is output only"},
          {"etag", "is output only"},
          {"create_time", "is output only"},
          {"update_time", "is output only"},
      }};
  return kFields;
}

// The whole unit: every field, and the body of a vertical leading body exactly when DUAL.
absl::Status ValidateUnit(const UnitRow& row) {
  for (const std::string& path : Updatable().fields) {
    RETURN_IF_ERROR(ValidateField(row, path));
  }
  if (row.leadership_mode == pb::DUAL && row.vertical_leading_body.empty()) {
    return rpc::InvalidArgument(
        {{"unit.vertical_leading_body",
          "required when leadership_mode is DUAL: the vertical leading body (垂直管理部门)"}});
  }
  if (row.leadership_mode != pb::DUAL && !row.vertical_leading_body.empty()) {
    return rpc::InvalidArgument(
        {{"unit.vertical_leading_body", "must be empty unless leadership_mode is DUAL"}});
  }
  return absl::OkStatus();
}

// The values of `in` a create or update takes, normalized (trimmed, credit code upper case).
absl::StatusOr<UnitRow> FromRequest(const pb::Unit& in, bool with_credit_code) {
  UnitRow row;
  row.display_name = TrimDisplayName(in.display_name());
  row.kind = in.kind();
  row.leadership_mode = in.leadership_mode();
  row.vertical_leading_body = TrimDisplayName(in.vertical_leading_body());
  if (with_credit_code) {
    auto code = NormalizeCreditCode(in.credit_code(), "unit.credit_code");
    if (!code.ok()) {
      return code.status();
    }
    row.credit_code = *std::move(code);
  }
  return row;
}

absl::Status Authorized(const auth::Principal& who, std::string_view action, std::string_view path,
                        absl::Status missing, audit::Entry* entry) {
  return auth::AuthorizeOrHide(who, action, {std::string(kUnits), std::string(path), ""},
                               std::move(missing), entry != nullptr ? &entry->detail : nullptr);
}

// The fields set in an update's unit: what it changes when there is no mask (AIP-134).
std::set<std::string> SetFields(const pb::Unit& in) {
  std::set<std::string> set;
  if (!in.display_name().empty()) set.insert("display_name");
  if (!in.credit_code().empty()) set.insert("credit_code");
  if (in.kind() != pb::UNIT_KIND_UNSPECIFIED) set.insert("kind");
  if (in.leadership_mode() != pb::LEADERSHIP_MODE_UNSPECIFIED) set.insert("leadership_mode");
  if (!in.vertical_leading_body().empty()) set.insert("vertical_leading_body");
  return set;
}

// Copies the fields named in `paths` from `change` into the stored `row`.
void Apply(const std::set<std::string>& paths, const UnitRow& change, UnitRow& row) {
  if (paths.contains("display_name")) row.display_name = change.display_name;
  if (paths.contains("credit_code")) row.credit_code = change.credit_code;
  if (paths.contains("kind")) row.kind = change.kind;
  if (paths.contains("leadership_mode")) row.leadership_mode = change.leadership_mode;
  if (paths.contains("vertical_leading_body")) {
    row.vertical_leading_body = change.vertical_leading_body;
  }
}

// CREDIT_CODE_TAKEN when another unit than `row` holds its credit code.
absl::Status CheckCreditCodeFree(db::Connection& c, const UnitRow& row) {
  auto holder = UnitStore::CreditCodeHolder(c, row.credit_code, row.id);
  if (!holder.ok()) {
    return holder.status();
  }
  return holder->has_value() ? CreditCodeTaken(row.credit_code) : absl::OkStatus();
}

// What a write of `row` refused to `who` answers: a unit the caller can read from below
// (UnitReadPath; `scope` is the caller's scope path) is theirs to see, not to change.
absl::Status Hidden(const auth::Principal& who, const UnitRow& row, std::string_view scope,
                    std::string_view name) {
  const bool readable =
      auth::Authorize(who, "read", {std::string(kUnits), UnitReadPath(row.parent_path, scope), ""})
          .ok();
  return readable ? rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                               absl::StrCat(AV(name), " is managed above your scope"))
                  : NotFound(name);
}

}  // namespace

std::string UnitReadPath(std::string_view unit_parent_path, std::string_view scope_path) {
  if (!scope_path.empty() && scope_path.starts_with(unit_parent_path)) {
    return std::string(scope_path);
  }
  return std::string(unit_parent_path);
}

pb::Unit ToProto(const UnitRow& row) {
  pb::Unit u;
  u.set_name(rpc::FormatName(kUnits, row.id));
  u.set_display_name(row.display_name);
  u.set_credit_code(row.credit_code);
  u.set_kind(row.kind);
  u.set_leadership_mode(row.leadership_mode);
  u.set_vertical_leading_body(row.vertical_leading_body);
  u.set_parent(rpc::FormatName(kOrganizations, row.parent_id));
  u.set_etag(Etag(row.version));
  *u.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *u.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return u;
}

UnitService::UnitService(db::Pool& pool, ids::IdGenerator& ids, const auth::InternalAuth& auth,
                         std::string audit_key, std::function<int64_t()> now_us)
    : pool_(pool),
      ids_(ids),
      auth_(auth),
      audit_(pool, std::move(audit_key), "auditLogs/org"),
      now_us_(now_us ? std::move(now_us) : time::NowMicros) {}

absl::StatusOr<std::string> UnitService::ScopePath(const auth::Principal& who) {
  if (who.scope_org == 0) {
    return std::string();
  }
  auto scope = pool_.Run(
      [&](db::Connection& c) { return OrgStore::Find(c, who.scope_org, /*for_update=*/false); });
  if (!scope.ok()) {
    return scope.status();
  }
  // A scope organization that no longer exists covers nothing: its path matches no unit.
  return scope->has_value() ? (*scope)->path : std::string("/0/");
}

absl::Status UnitService::CheckRead(const auth::Principal& who, std::string_view resource,
                                    std::string_view path, absl::Status missing) {
  audit::Entry entry =
      audit::Recorder::For(who, "units.read", std::string(resource), std::string(path));
  absl::Status s = Authorized(who, "read", path, std::move(missing), &entry);
  if (!s.ok()) {
    audit_.Refuse(std::move(entry), s);
  }
  return s;
}

absl::StatusOr<pb::Unit> UnitService::Create(const auth::Principal& who,
                                             const pb::CreateUnitRequest& request) {
  if (!request.has_unit()) {
    return rpc::InvalidArgument({{"unit", "required"}});
  }
  const pb::Unit& in = request.unit();
  RETURN_IF_ERROR(rpc::ValidateRequestId(request.request_id()));
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{"unit.name", "is assigned by the service; leave it empty"}});
  }
  auto parent_id = rpc::ParseName(in.parent(), kOrganizations, "unit.parent");
  if (!parent_id.ok()) {
    return parent_id.status();
  }
  auto parsed = FromRequest(in, /*with_credit_code=*/true);
  if (!parsed.ok()) {
    return parsed.status();
  }
  UnitRow row = *std::move(parsed);
  RETURN_IF_ERROR(ValidateUnit(row));
  row.parent_id = *parent_id;

  row.id = ids_.Next();
  row.version = 1;
  row.create_time_us = row.update_time_us = now_us_();
  const absl::Status missing = OrganizationNotFound(in.parent(), "unit.parent");
  // Units keep their own reason for a dissolved parent (PARENT_NOT_ACTIVE, as an organization's
  // create does): the unit tests assert it.
  const absl::Status dissolved =
      rpc::WithViolation(rpc::Error(absl::StatusCode::kFailedPrecondition, "PARENT_NOT_ACTIVE",
                                    absl::StrCat(in.parent(), " is dissolved")),
                         {"unit.parent", "must be an active organization"});
  // Scoped to the caller: another principal's request_id is a new request, never theirs.
  const std::string request_key = auth::IdempotencyKey(who, request.request_id());
  auto replay = CreateOnce(
      audit_, pool_, audit::Recorder::For(who, "units.create", in.parent(), "/"),
      IdempotentCreate<UnitRow>{
          .request_id = request_key,
          .what = "unit",
          .request_id_index = kUnitRequestIdIndex,
          .find = &UnitStore::FindByRequestId,
          .replay =
              [&](db::Connection&, const UnitRow& earlier, audit::Entry& entry) {
                entry.resource = rpc::FormatName(kUnits, earlier.id);
                entry.org_path = earlier.parent_path;
                return Authorized(who, "create", earlier.parent_path, missing, &entry);
              },
          .write = [&](db::Connection& c, audit::Entry& entry) -> absl::Status {
            auto parent =
                LockOrganization(c, who, kUnits, row.parent_id, missing, entry, &dissolved);
            if (!parent.ok()) {
              return parent.status();
            }
            entry.resource = rpc::FormatName(kUnits, row.id);
            RETURN_IF_ERROR(CheckCreditCodeFree(c, row));
            row.parent_path = parent->path;
            return UnitStore::Insert(c, row, request_key);
          },
          .same =
              [&](const UnitRow& earlier) {
                return earlier.display_name == row.display_name &&
                       earlier.credit_code == row.credit_code && earlier.kind == row.kind &&
                       earlier.leadership_mode == row.leadership_mode &&
                       earlier.vertical_leading_body == row.vertical_leading_body &&
                       earlier.parent_id == row.parent_id;
              },
          .explain =
              [&](absl::Status status) {
                // The credit code's unique index caught a concurrent writer.
                return db::DuplicateKeyOn(status, kUnitCreditCodeIndex)
                           ? CreditCodeTaken(row.credit_code)
                           : status;
              }});
  if (!replay.ok()) {
    return replay.status();
  }
  return ToProto(replay->value_or(row));
}

absl::StatusOr<pb::Unit> UnitService::Get(const auth::Principal& who,
                                          const pb::GetUnitRequest& request) {
  auto id = rpc::ParseName(request.name(), kUnits, "name");
  if (!id.ok()) {
    return id.status();
  }
  auto row =
      pool_.Run([&](db::Connection& c) { return UnitStore::Find(c, *id, /*for_update=*/false); });
  if (!row.ok()) {
    return row.status();
  }
  if (!row->has_value()) {
    return NotFound(request.name());
  }
  auto scope = ScopePath(who);
  if (!scope.ok()) {
    return scope.status();
  }
  if (absl::Status s = CheckRead(who, request.name(), UnitReadPath((*row)->parent_path, *scope),
                                 NotFound(request.name()));
      !s.ok()) {
    return s;
  }
  return ToProto(**row);
}

absl::StatusOr<pb::ListUnitsResponse> UnitService::List(const auth::Principal& who,
                                                        const pb::ListUnitsRequest& request) {
  // Unset parent: the caller's scope (the whole tree for a principal without one).
  const std::string parent = !request.parent().empty() ? request.parent()
                             : who.scope_org != 0 ? rpc::FormatName(kOrganizations, who.scope_org)
                                                  : std::string();
  const std::string filter = absl::StrCat("units|", parent);
  auto start = rpc::StartIdPage(request.page_size(), request.page_token(), filter);
  if (!start.ok()) {
    return start.status();
  }
  std::string path = "/";
  if (!parent.empty()) {
    auto id = rpc::ParseName(parent, kOrganizations, "parent");
    if (!id.ok()) {
      return id.status();
    }
    auto org =
        pool_.Run([&](db::Connection& c) { return OrgStore::Find(c, *id, /*for_update=*/false); });
    if (!org.ok()) {
      return org.status();
    }
    if (!org->has_value()) {
      return OrganizationNotFound(parent, "parent");
    }
    path = (*org)->path;
    if (absl::Status s = CheckRead(who, parent, path, OrganizationNotFound(parent, "parent"));
        !s.ok()) {
      return s;
    }
  } else if (absl::Status s =
                 CheckRead(who, "", path,
                           rpc::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                                      "your roles do not allow reading units"));
             !s.ok()) {
    return s;
  }
  // Without a parent, a scoped caller also sees the units managed above its scope (its
  // organs'); their ids are on the scope's path.
  std::vector<int64_t> above;
  if (request.parent().empty() && who.scope_org != 0) {
    for (int64_t ancestor : PathIds(path)) {
      if (ancestor != who.scope_org) {
        above.push_back(ancestor);
      }
    }
  }
  auto rows = pool_.Run([&](db::Connection& c) {
    return UnitStore::ListInSubtree(c, path, above, start->after_id, start->size + 1);
  });
  if (!rows.ok()) {
    return rows.status();
  }
  pb::ListUnitsResponse out;
  const bool more = rpc::TrimPage(*rows, start->size);
  for (const UnitRow& r : *rows) {
    *out.add_units() = ToProto(r);
  }
  if (more) {
    out.set_next_page_token(rpc::EncodePageToken(filter, absl::StrCat(rows->back().id)));
  }
  return out;
}

absl::StatusOr<pb::Unit> UnitService::Update(const auth::Principal& who,
                                             const pb::UpdateUnitRequest& request) {
  if (!request.has_unit()) {
    return rpc::InvalidArgument({{"unit", "required"}});
  }
  const pb::Unit& in = request.unit();
  auto id = rpc::ParseName(in.name(), kUnits, "unit.name");
  if (!id.ok()) {
    return id.status();
  }
  auto paths = ResolveUpdateMask(request.update_mask(), SetFields(in), Updatable());
  if (!paths.ok()) {
    return paths.status();
  }
  // The new values, checked before touching the database.
  auto change = FromRequest(in, paths->contains("credit_code"));
  if (!change.ok()) {
    return change.status();
  }
  for (const std::string& path : *paths) {
    RETURN_IF_ERROR(ValidateField(*change, path));
  }

  UnitRow updated;
  bool changed = false;
  auto scope = ScopePath(who);
  if (!scope.ok()) {
    return scope.status();
  }
  audit::Entry entry = audit::Recorder::For(who, "units.update", in.name(), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = UnitStore::Find(c, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return NotFound(in.name());
    }
    UnitRow row = **found;
    entry.org_path = row.parent_path;
    RETURN_IF_ERROR(
        Authorized(who, "update", row.parent_path, Hidden(who, row, *scope, in.name()), &entry));
    if (!in.etag().empty() && in.etag() != Etag(row.version)) {
      return EtagMismatch(in.name());
    }
    const UnitRow before = row;
    Apply(*paths, *change, row);
    changed = row.display_name != before.display_name || row.credit_code != before.credit_code ||
              row.kind != before.kind || row.leadership_mode != before.leadership_mode ||
              row.vertical_leading_body != before.vertical_leading_body;
    if (!changed) {
      updated = row;
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(ValidateUnit(row));
    if (row.credit_code != before.credit_code) {
      RETURN_IF_ERROR(CheckCreditCodeFree(c, row));
    }
    row.version = before.version + 1;
    row.update_time_us = std::max(now_us_(), before.update_time_us);
    auto ok = UnitStore::Update(c, row, before.version);
    if (!ok.ok()) {
      return ok.status();
    }
    if (!*ok) {
      return EtagMismatch(in.name());
    }
    updated = row;
    return absl::OkStatus();
  });
  if (db::DuplicateKeyOn(status, kUnitCreditCodeIndex)) {
    return CreditCodeTaken(change->credit_code);
  }
  if (!status.ok()) {
    return db::Generic(status);
  }
  return ToProto(updated);
}

grpc::Status UnitService::CreateUnit(grpc::ServerContext* context,
                                     const pb::CreateUnitRequest* request, pb::Unit* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Create(who, *request), response);
  });
}

grpc::Status UnitService::GetUnit(grpc::ServerContext* context, const pb::GetUnitRequest* request,
                                  pb::Unit* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Get(who, *request), response);
  });
}

grpc::Status UnitService::ListUnits(grpc::ServerContext* context,
                                    const pb::ListUnitsRequest* request,
                                    pb::ListUnitsResponse* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, List(who, *request), response);
  });
}

grpc::Status UnitService::UpdateUnit(grpc::ServerContext* context,
                                     const pb::UpdateUnitRequest* request, pb::Unit* response) {
  return audit::WithCaller(*context, auth_, audit_, kErrorDomain, [&](const auth::Principal& who) {
    return rpc::Reply(*context, kErrorDomain, Update(who, *request), response);
  });
}

}  // namespace dj::org
