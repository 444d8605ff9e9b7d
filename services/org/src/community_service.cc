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
#include "services/org/src/errors.h"
#include "services/org/src/org_service.h"
#include "services/org/src/organization_rules.h"
#include "services/org/src/requests.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kCommunities = "communities";
constexpr std::string_view kOrganizations = "organizations";
constexpr int kMaxNameChars = 100;
constexpr int kMaxLiaisonNameChars = 50;
constexpr int kMaxDescriptionChars = 500;
constexpr int kMaxNoteChars = 200;

absl::Status NotFound(std::string_view collection, std::string_view name) {
  const std::string_view reason = collection == kCommunities          ? "COMMUNITY_NOT_FOUND"
                                  : collection == kPairingsTable.name ? "PAIRING_NOT_FOUND"
                                  : collection == kStationsTable.name ? "STATION_NOT_FOUND"
                                                                      : "ORGANIZATION_NOT_FOUND";
  return rpc::Error(absl::StatusCode::kNotFound, reason, absl::StrCat(AV(name), " does not exist"));
}

// Only said to a caller authorized at `scope_org_id`: names are unique per scope organization,
// and a name used elsewhere is none of the caller's business.
absl::Status NameTaken(std::string_view display_name, int64_t scope_org_id) {
  return rpc::WithViolation(
      rpc::Error(absl::StatusCode::kAlreadyExists, "DISPLAY_NAME_TAKEN",
                 absl::StrCat("community.display_name: '", AV(display_name),
                              "' is already used by another community placed at ",
                              rpc::FormatName(kOrganizations, scope_org_id))),
      {"community.display_name", "must be unique among communities placed at one organization"});
}

// The kinds of partner a community's "X" may be: all of them.
constexpr pb::PartnerKind kCommunityPartnerKinds[] = {pb::ENTERPRISE, pb::VILLAGE,
                                                      pb::RESIDENTIAL_COMMUNITY,
                                                      pb::SOCIAL_ORGANIZATION, pb::OTHER_PARTNER};
// A pairing (结对) is an organ with an enterprise or with a village or residential community
// ("机关+企业", "机关+村居").
constexpr pb::PartnerKind kPairingPartnerKinds[] = {pb::ENTERPRISE, pb::VILLAGE,
                                                    pb::RESIDENTIAL_COMMUNITY};

// A partner (the "X" of a community, the other side of a pairing) of one of `kinds`, trimmed
// into `out`.
absl::Status ReadPartner(const pb::Partner& in, const std::string& field,
                         absl::Span<const pb::PartnerKind> kinds, pb::Partner& out) {
  out.set_display_name(TrimDisplayName(in.display_name()));
  if (absl::Status s = ValidateText(out.display_name(), field + ".display_name", kMaxNameChars,
                                    /*required=*/true);
      !s.ok()) {
    return s;
  }
  if (std::find(kinds.begin(), kinds.end(), in.kind()) == kinds.end()) {
    const std::string allowed = absl::StrJoin(kinds, ", ", [](std::string* out, pb::PartnerKind k) {
      absl::StrAppend(out, pb::PartnerKind_Name(k));
    });
    const std::string given = pb::PartnerKind_IsValid(in.kind()) ? pb::PartnerKind_Name(in.kind())
                                                                 : absl::StrCat(in.kind());
    return rpc::InvalidArgument(
        {{field + ".kind", in.kind() == pb::PARTNER_KIND_UNSPECIFIED
                               ? absl::StrCat("required: one of ", allowed)
                               : absl::StrCat(given, " is not allowed here; one of ", allowed)}});
  }
  out.set_kind(in.kind());
  out.set_contact(TrimDisplayName(in.contact()));
  return ValidateText(out.contact(), field + ".contact", kMaxNameChars, /*required=*/false);
}

// The fields of a community an update may name; the others are output only.
const UpdatableFields& Updatable() {
  static const UpdatableFields kFields = {
      .fields = {"display_name", "lead_organization", "member_organizations", "partners", "liaison",
                 "mechanisms", "brands"},
      .refused = {
          {"name", "is output only"},
          {"scope_organization", "is output only"},
          {"etag", "is output only"},
          {"create_time", "is output only"},
          {"update_time", "is output only"},
      }};
  return kFields;
}

// The fields set in an update's community: what it changes when there is no mask (AIP-134).
std::set<std::string> SetFields(const pb::Community& c) {
  std::set<std::string> paths;
  if (!c.display_name().empty()) paths.insert("display_name");
  if (!c.lead_organization().empty()) paths.insert("lead_organization");
  if (!c.member_organizations().empty()) paths.insert("member_organizations");
  if (!c.partners().empty()) paths.insert("partners");
  if (c.has_liaison()) paths.insert("liaison");
  if (!c.mechanisms().empty()) paths.insert("mechanisms");
  if (!c.brands().empty()) paths.insert("brands");
  return paths;
}

// Copies the fields of `in` named in `paths` into `row`, each checked on its own (how the
// organizations fit together is CheckOrganizations' and the database's business).
absl::Status ReadCommunity(const pb::Community& in, const std::set<std::string>& paths,
                           CommunityRow& row) {
  if (paths.contains("display_name")) {
    row.display_name = TrimDisplayName(in.display_name());
    if (absl::Status s = ValidateText(row.display_name, "community.display_name", kMaxNameChars,
                                      /*required=*/true);
        !s.ok()) {
      return s;
    }
  }
  if (paths.contains("lead_organization")) {
    if (in.lead_organization().empty()) {
      return rpc::InvalidArgument({{"community.lead_organization", "a community needs its lead"}},
                                  "LEAD_REQUIRED");
    }
    auto lead =
        rpc::ParseName(in.lead_organization(), kOrganizations, "community.lead_organization");
    if (!lead.ok()) {
      return lead.status();
    }
    row.lead_org_id = *lead;
  }
  if (paths.contains("member_organizations")) {
    row.member_org_ids.clear();
    for (int i = 0; i < in.member_organizations_size(); ++i) {
      auto id = rpc::ParseName(in.member_organizations(i), kOrganizations,
                               absl::StrCat("community.member_organizations[", i, "]"));
      if (!id.ok()) {
        return id.status();
      }
      row.member_org_ids.push_back(*id);
    }
  }
  if (paths.contains("partners")) {
    row.partners.clear();
    for (int i = 0; i < in.partners_size(); ++i) {
      if (absl::Status s = ReadPartner(in.partners(i), absl::StrCat("community.partners[", i, "]"),
                                       kCommunityPartnerKinds, row.partners.emplace_back());
          !s.ok()) {
        return s;
      }
    }
  }
  if (paths.contains("liaison")) {
    const pb::Liaison& l = in.liaison();
    row.liaison.Clear();
    row.liaison.set_display_name(TrimDisplayName(l.display_name()));
    row.liaison.set_title(TrimDisplayName(l.title()));
    row.liaison.set_member(l.member());
    const bool any = !row.liaison.display_name().empty() || !row.liaison.title().empty() ||
                     !row.liaison.member().empty();
    if (absl::Status s = ValidateText(row.liaison.display_name(), "community.liaison.display_name",
                                      kMaxLiaisonNameChars, /*required=*/any);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateText(row.liaison.title(), "community.liaison.title", kMaxNameChars,
                                      /*required=*/false);
        !s.ok()) {
      return s;
    }
    if (!l.member().empty()) {
      if (auto m = rpc::ParseName(l.member(), "members", "community.liaison.member"); !m.ok()) {
        return m.status();
      }
    }
  }
  if (paths.contains("mechanisms")) {
    row.mechanisms.clear();
    std::set<int> seen;
    for (int i = 0; i < in.mechanisms_size(); ++i) {
      const std::string field = absl::StrCat("community.mechanisms[", i, "]");
      const pb::JointMechanism m = in.mechanisms(i);
      if (m == pb::JOINT_MECHANISM_UNSPECIFIED || !pb::JointMechanism_IsValid(m)) {
        return rpc::InvalidArgument({{field, "must be a known joint mechanism"}});
      }
      if (!seen.insert(m).second) {
        return rpc::InvalidArgument({{field, "appears twice"}});
      }
      row.mechanisms.push_back(m);
    }
    std::sort(row.mechanisms.begin(), row.mechanisms.end());
  }
  if (paths.contains("brands")) {
    row.brands.clear();
    for (int i = 0; i < in.brands_size(); ++i) {
      const std::string field = absl::StrCat("community.brands[", i, "]");
      pb::Brand& b = row.brands.emplace_back();
      b.set_display_name(TrimDisplayName(in.brands(i).display_name()));
      b.set_description(TrimDisplayName(in.brands(i).description()));
      if (absl::Status s = ValidateText(b.display_name(), field + ".display_name", kMaxNameChars,
                                        /*required=*/true);
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              ValidateText(b.description(), field + ".description", kMaxDescriptionChars,
                           /*required=*/false);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

// The request field that named organization `id` of `row`.
std::string FieldOf(const CommunityRow& row, int64_t id) {
  if (id == row.lead_org_id) {
    return "community.lead_organization";
  }
  for (size_t i = 0; i < row.member_org_ids.size(); ++i) {
    if (row.member_org_ids[i] == id) {
      return absl::StrCat("community.member_organizations[", i, "]");
    }
  }
  return "community";
}

// Members distinct and none the lead.
absl::Status CheckOrganizations(const CommunityRow& row) {
  std::set<int64_t> seen = {row.lead_org_id};
  for (size_t i = 0; i < row.member_org_ids.size(); ++i) {
    if (!seen.insert(row.member_org_ids[i]).second) {
      return rpc::InvalidArgument(
          {{absl::StrCat("community.member_organizations[", i, "]"),
            row.member_org_ids[i] == row.lead_org_id ? "is the lead organization already"
                                                     : "appears twice"}});
    }
  }
  return absl::OkStatus();
}

// The first of `row`'s organizations (lead first) that `found` says is in another community.
// That community is named only to a caller who may read it.
absl::Status InAnotherCommunity(const auth::Principal& who, const CommunityRow& row,
                                const std::vector<Membership>& found) {
  std::vector<int64_t> order = {row.lead_org_id};
  order.insert(order.end(), row.member_org_ids.begin(), row.member_org_ids.end());
  for (int64_t id : order) {
    for (const Membership& m : found) {
      if (m.organization_id == id) {
        const bool readable =
            auth::Authorize(who, "read", {std::string(kCommunities), m.community_scope_path, ""})
                .ok();
        const std::string other =
            readable ? absl::StrCat(" ", rpc::FormatName(kCommunities, m.community_id), " (",
                                    m.community_display_name, ")")
                     : "";
        return rpc::InvalidArgument(
            {{FieldOf(row, id), absl::StrCat(rpc::FormatName(kOrganizations, id),
                                             " already belongs to another community", other,
                                             "; an organization is in at most one community")}},
            "ORGANIZATION_IN_ANOTHER_COMMUNITY");
      }
    }
  }
  return absl::OkStatus();
}

// The deepest organization whose subtree holds every one of `paths` ("/1/5/23/"), as
// (id, path); nullopt when they are in different trees.
std::optional<std::pair<int64_t, std::string>> DeepestCommon(
    const std::vector<std::string>& paths) {
  std::vector<std::string> common = absl::StrSplit(paths.front(), '/', absl::SkipEmpty());
  for (const std::string& path : paths) {
    std::vector<std::string> ids = absl::StrSplit(path, '/', absl::SkipEmpty());
    size_t n = 0;
    while (n < common.size() && n < ids.size() && common[n] == ids[n]) {
      ++n;
    }
    common.resize(n);
  }
  int64_t id = 0;
  if (common.empty() || !absl::SimpleAtoi(common.back(), &id)) {
    return std::nullopt;
  }
  return std::make_pair(id, absl::StrCat("/", absl::StrJoin(common, "/"), "/"));
}

// Pairings and stations share their period, note and bookkeeping fields.
template <typename M>
absl::Status ReadTie(const M& in, const std::string& field, Tie& tie) {
  if (!in.name().empty()) {
    return rpc::InvalidArgument({{field + ".name", "is assigned by the service; leave it empty"}});
  }
  if (!in.has_start_date()) {
    return rpc::InvalidArgument({{field + ".start_date", "required"}});
  }
  auto start = time::FromProto(in.start_date(), field + ".start_date");
  if (!start.ok()) {
    return start.status();
  }
  tie.start_date = *start;
  if (in.has_end_date()) {
    auto end = time::FromProto(in.end_date(), field + ".end_date");
    if (!end.ok()) {
      return end.status();
    }
    if (*end < tie.start_date) {
      return rpc::InvalidArgument(
          {{field + ".end_date",
            absl::StrCat("must not be before start_date ", time::ToIso(tie.start_date))}},
          "END_BEFORE_START");
    }
    tie.end_date = *end;
  }
  tie.note = TrimDisplayName(in.note());
  return ValidateText(tie.note, field + ".note", kMaxNoteChars, /*required=*/false);
}

template <typename M>
M TieToProto(const TieTable& table, const Tie& t) {
  M m;
  m.set_name(rpc::FormatName(table.name, t.id));
  m.set_organization(rpc::FormatName(kOrganizations, t.organization_id));
  *m.mutable_start_date() = time::ToProto(t.start_date);
  if (t.end_date.has_value()) {
    *m.mutable_end_date() = time::ToProto(*t.end_date);
  }
  m.set_note(t.note);
  m.set_etag(Etag(t.version));
  *m.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(t.create_time_us);
  return m;
}

pb::Pairing PairingProto(const Tie& t) {
  auto p = TieToProto<pb::Pairing>(kPairingsTable, t);
  if (t.details.size() == 3) {
    p.mutable_partner()->set_display_name(t.details[0]);
    pb::PartnerKind kind;
    p.mutable_partner()->set_kind(
        pb::PartnerKind_Parse(t.details[1], &kind) ? kind : pb::PARTNER_KIND_UNSPECIFIED);
    p.mutable_partner()->set_contact(t.details[2]);
  }
  return p;
}

pb::Station StationProto(const Tie& t) {
  auto s = TieToProto<pb::Station>(kStationsTable, t);
  if (!t.details.empty()) {
    s.set_residential_community(t.details[0]);
  }
  return s;
}

absl::StatusOr<pb::Pairing> ToPairing(absl::StatusOr<Tie> tie) {
  if (!tie.ok()) {
    return tie.status();
  }
  return PairingProto(*tie);
}

absl::StatusOr<pb::Station> ToStation(absl::StatusOr<Tie> tie) {
  if (!tie.ok()) {
    return tie.status();
  }
  return StationProto(*tie);
}

}  // namespace

pb::Community ToProto(const CommunityRow& row) {
  pb::Community c;
  c.set_name(rpc::FormatName(kCommunities, row.id));
  c.set_display_name(row.display_name);
  c.set_lead_organization(rpc::FormatName(kOrganizations, row.lead_org_id));
  for (int64_t id : row.member_org_ids) {
    c.add_member_organizations(rpc::FormatName(kOrganizations, id));
  }
  for (const pb::Partner& p : row.partners) {
    *c.add_partners() = p;
  }
  if (!row.liaison.display_name().empty()) {
    *c.mutable_liaison() = row.liaison;
  }
  for (pb::JointMechanism m : row.mechanisms) {
    c.add_mechanisms(m);
  }
  for (const pb::Brand& b : row.brands) {
    *c.add_brands() = b;
  }
  c.set_scope_organization(rpc::FormatName(kOrganizations, row.scope_org_id));
  c.set_etag(Etag(row.version));
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.create_time_us);
  *c.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row.update_time_us);
  return c;
}

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
    if (paths->contains("display_name")) row.display_name = draft.display_name;
    if (paths->contains("lead_organization")) row.lead_org_id = draft.lead_org_id;
    if (paths->contains("member_organizations")) row.member_org_ids = draft.member_org_ids;
    if (paths->contains("partners")) row.partners = draft.partners;
    if (paths->contains("liaison")) row.liaison = draft.liaison;
    if (paths->contains("mechanisms")) row.mechanisms = draft.mechanisms;
    if (paths->contains("brands")) row.brands = draft.brands;
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

// --- pairings and stations ---

absl::StatusOr<Tie> CommunityService::CreateTie(const auth::Principal& who, const TieTable& table,
                                                std::string_view field,
                                                std::string_view organization, Tie tie,
                                                std::string_view raw_request_id) {
  RETURN_IF_ERROR(rpc::ValidateRequestId(raw_request_id));
  const std::string request_id = auth::IdempotencyKey(who, raw_request_id);
  const std::string org_field = absl::StrCat(AV(field), ".organization");
  auto org_id = rpc::ParseName(organization, kOrganizations, org_field);
  if (!org_id.ok()) {
    return org_id.status();
  }
  tie.organization_id = *org_id;
  tie.id = ids_.Next();
  tie.create_time_us = tie.update_time_us = now_us_();
  tie.version = 1;
  const absl::Status missing = OrganizationNotFound(organization, org_field);
  const absl::Status dissolved =
      rpc::WithViolation(rpc::Error(absl::StatusCode::kFailedPrecondition, "ORGANIZATION_DISSOLVED",
                                    absl::StrCat(AV(organization), " is dissolved")),
                         {org_field, "is dissolved"});
  auto replay = CreateOnce(
      audit_, pool_, audit::Recorder::For(who, absl::StrCat(AV(table.name), ".create"), "", "/"),
      IdempotentCreate<Tie>{.request_id = request_id,
                            .what = field,
                            .request_id_index = table.request_id_index,
                            .find =
                                [&](db::Connection& c, std::string_view id) {
                                  return CommunityStore::FindTieByRequestId(c, table, id);
                                },
                            .replay =
                                [&](db::Connection& c, const Tie& earlier, audit::Entry& entry) {
                                  return AuthorizeReplay(c, who, table.name, earlier.id,
                                                         earlier.organization_id, entry);
                                },
                            .write = [&](db::Connection& c, audit::Entry& entry) -> absl::Status {
                              auto org = LockOrganization(c, who, table.name, tie.organization_id,
                                                          missing, entry, &dissolved);
                              if (!org.ok()) {
                                return org.status();
                              }
                              entry.resource = rpc::FormatName(table.name, tie.id);
                              return CommunityStore::InsertTie(c, table, tie, request_id);
                            },
                            .same =
                                [&](const Tie& earlier) {
                                  return earlier.organization_id == tie.organization_id &&
                                         earlier.details == tie.details &&
                                         earlier.start_date == tie.start_date;
                                }});
  if (!replay.ok()) {
    return replay.status();
  }
  return replay->value_or(tie);
}

absl::StatusOr<Tie> CommunityService::GetTie(const auth::Principal& who, const TieTable& table,
                                             std::string_view name) {
  auto id = rpc::ParseName(name, table.name, "name");
  if (!id.ok()) {
    return id.status();
  }
  std::optional<Tie> tie;
  std::string path;  // its organization's
  absl::Status read = pool_.Run([&](db::Connection& c) -> absl::Status {
    ASSIGN_OR_RETURN(tie, CommunityStore::FindTie(c, table, *id, /*for_update=*/false));
    if (!tie.has_value()) {
      return NotFound(table.name, name);
    }
    ASSIGN_OR_RETURN(path, OrgPath(c, tie->organization_id, name));
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(read);
  RETURN_IF_ERROR(CheckRead(who, table.name, name, path, NotFound(table.name, name)));
  return *std::move(tie);
}

absl::StatusOr<CommunityService::TiePage> CommunityService::ListTies(
    const auth::Principal& who, const TieTable& table, std::string_view organization,
    bool include_ended, int32_t page_size, std::string_view page_token) {
  const std::string filter =
      absl::StrCat(AV(table.name), "|", AV(organization), "|", include_ended ? "all" : "current");
  auto start = rpc::StartIdPage(page_size, page_token, filter);
  if (!start.ok()) {
    return start.status();
  }
  auto root = ListRoot(who, table.name, organization);
  if (!root.ok()) {
    return root.status();
  }
  auto ties = pool_.Run([&](db::Connection& c) {
    return CommunityStore::ListTies(c, table, *root, Today(), include_ended, start->after_id,
                                    start->size + 1);
  });
  if (!ties.ok()) {
    return ties.status();
  }
  TiePage page;
  page.ties = *std::move(ties);
  if (rpc::TrimPage(page.ties, start->size)) {
    page.next_page_token = rpc::EncodePageToken(filter, absl::StrCat(page.ties.back().id));
  }
  return page;
}

absl::StatusOr<Tie> CommunityService::EndTie(const auth::Principal& who, const TieTable& table,
                                             std::string_view name,
                                             const google::type::Date* end_date,
                                             std::string_view etag) {
  auto id = rpc::ParseName(name, table.name, "name");
  if (!id.ok()) {
    return id.status();
  }
  if (end_date == nullptr) {
    return rpc::InvalidArgument({{"end_date", "required: the last day"}});
  }
  auto end = time::FromProto(*end_date, "end_date");
  if (!end.ok()) {
    return end.status();
  }
  const time::CivilDate today = Today();
  Tie tie;
  audit::Entry entry =
      audit::Recorder::For(who, absl::StrCat(AV(table.name), ".end"), std::string(name), "/");
  absl::Status status = audit_.Transact(entry, [&](db::Connection& c) -> absl::Status {
    auto found = CommunityStore::FindTie(c, table, *id, /*for_update=*/true);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      return NotFound(table.name, name);
    }
    tie = **found;
    auto path = OrgPath(c, tie.organization_id, name);
    if (!path.ok()) {
      return path.status();
    }
    entry.org_path = *path;
    if (absl::Status s = auth::AuthorizeOrHide(who, "update", {std::string(table.name), *path, ""},
                                               NotFound(table.name, name), &entry.detail);
        !s.ok()) {
      return s;
    }
    if (!etag.empty() && etag != Etag(tie.version)) {
      return EtagMismatch(name);
    }
    if (tie.end_date.has_value() && *tie.end_date < today) {
      return rpc::Error(absl::StatusCode::kFailedPrecondition, "ALREADY_ENDED",
                        absl::StrCat(AV(name), " ended on ", time::ToIso(*tie.end_date)));
    }
    if (*end < tie.start_date) {
      return rpc::InvalidArgument({{"end_date", absl::StrCat("must not be before the start date ",
                                                             time::ToIso(tie.start_date))}},
                                  "END_BEFORE_START");
    }
    const int64_t before = tie.version;
    tie.end_date = *end;
    tie.version = before + 1;
    tie.update_time_us = std::max(now_us_(), tie.update_time_us);
    auto ok = CommunityStore::UpdateTieEnd(c, table, tie, before);
    if (!ok.ok()) {
      return ok.status();
    }
    return *ok ? absl::OkStatus() : EtagMismatch(name);
  });
  if (!status.ok()) {
    return status;
  }
  return tie;
}

absl::StatusOr<pb::Pairing> CommunityService::CreatePairing(
    const auth::Principal& who, const pb::CreatePairingRequest& request) {
  if (!request.has_pairing()) {
    return rpc::InvalidArgument({{"pairing", "required"}});
  }
  const pb::Pairing& in = request.pairing();
  if (in.organization().empty()) {
    return rpc::InvalidArgument({{"pairing.organization", "required: organizations/{id}"}});
  }
  if (!in.has_partner()) {
    return rpc::InvalidArgument({{"pairing.partner", "required: the enterprise or village"}});
  }
  pb::Partner partner;
  if (absl::Status s = ReadPartner(in.partner(), "pairing.partner", kPairingPartnerKinds, partner);
      !s.ok()) {
    return s;
  }
  Tie tie;
  tie.details = {partner.display_name(), pb::PartnerKind_Name(partner.kind()), partner.contact()};
  RETURN_IF_ERROR(ReadTie(in, "pairing", tie));
  return ToPairing(CreateTie(who, kPairingsTable, "pairing", in.organization(), std::move(tie),
                             request.request_id()));
}

absl::StatusOr<pb::Pairing> CommunityService::GetPairing(const auth::Principal& who,
                                                         const pb::GetPairingRequest& request) {
  return ToPairing(GetTie(who, kPairingsTable, request.name()));
}

absl::StatusOr<pb::ListPairingsResponse> CommunityService::ListPairings(
    const auth::Principal& who, const pb::ListPairingsRequest& request) {
  auto page = ListTies(who, kPairingsTable, request.organization(), request.include_ended(),
                       request.page_size(), request.page_token());
  return PageOf<pb::ListPairingsResponse>(std::move(page), PairingProto,
                                          &pb::ListPairingsResponse::add_pairings);
}

absl::StatusOr<pb::Pairing> CommunityService::EndPairing(const auth::Principal& who,
                                                         const pb::EndPairingRequest& request) {
  return ToPairing(EndTie(who, kPairingsTable, request.name(),
                          request.has_end_date() ? &request.end_date() : nullptr, request.etag()));
}

absl::StatusOr<pb::Station> CommunityService::CreateStation(
    const auth::Principal& who, const pb::CreateStationRequest& request) {
  if (!request.has_station()) {
    return rpc::InvalidArgument({{"station", "required"}});
  }
  const pb::Station& in = request.station();
  if (in.organization().empty()) {
    return rpc::InvalidArgument({{"station.organization", "required: organizations/{id}"}});
  }
  Tie tie;
  tie.details = {TrimDisplayName(in.residential_community())};
  if (absl::Status s = ValidateText(tie.details[0], "station.residential_community", kMaxNameChars,
                                    /*required=*/true);
      !s.ok()) {
    return s;
  }
  RETURN_IF_ERROR(ReadTie(in, "station", tie));
  return ToStation(CreateTie(who, kStationsTable, "station", in.organization(), std::move(tie),
                             request.request_id()));
}

absl::StatusOr<pb::Station> CommunityService::GetStation(const auth::Principal& who,
                                                         const pb::GetStationRequest& request) {
  return ToStation(GetTie(who, kStationsTable, request.name()));
}

absl::StatusOr<pb::ListStationsResponse> CommunityService::ListStations(
    const auth::Principal& who, const pb::ListStationsRequest& request) {
  auto page = ListTies(who, kStationsTable, request.organization(), request.include_ended(),
                       request.page_size(), request.page_token());
  return PageOf<pb::ListStationsResponse>(std::move(page), StationProto,
                                          &pb::ListStationsResponse::add_stations);
}

absl::StatusOr<pb::Station> CommunityService::EndStation(const auth::Principal& who,
                                                         const pb::EndStationRequest& request) {
  return ToStation(EndTie(who, kStationsTable, request.name(),
                          request.has_end_date() ? &request.end_date() : nullptr, request.etag()));
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
