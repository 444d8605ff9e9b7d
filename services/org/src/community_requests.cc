// Community requests and rows: the checks of each field and where a community's organizations
// place it (community_requests.h).
#include "services/org/src/community_requests.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/community_service.h"
#include "services/org/src/errors.h"

namespace dj::org {
namespace community_internal {
namespace {

namespace pb = dangjian::org::v1;

constexpr int kMaxLiaisonNameChars = 50;
constexpr int kMaxDescriptionChars = 500;

// The kinds of partner a community's "X" may be: all of them.
constexpr pb::PartnerKind kCommunityPartnerKinds[] = {pb::ENTERPRISE, pb::VILLAGE,
                                                      pb::RESIDENTIAL_COMMUNITY,
                                                      pb::SOCIAL_ORGANIZATION, pb::OTHER_PARTNER};

// A community's liaison (联络人), trimmed into `out`: a name once anything is given.
absl::Status ReadLiaison(const pb::Liaison& in, pb::Liaison& out) {
  out.Clear();
  out.set_display_name(TrimDisplayName(in.display_name()));
  out.set_title(TrimDisplayName(in.title()));
  out.set_member(in.member());
  const bool any = !out.display_name().empty() || !out.title().empty() || !out.member().empty();
  RETURN_IF_ERROR(ValidateText(out.display_name(), "community.liaison.display_name",
                               kMaxLiaisonNameChars, /*required=*/any));
  RETURN_IF_ERROR(ValidateText(out.title(), "community.liaison.title", kMaxNameChars,
                               /*required=*/false));
  if (!in.member().empty()) {
    if (auto m = rpc::ParseName(in.member(), "members", "community.liaison.member"); !m.ok()) {
      return m.status();
    }
  }
  return absl::OkStatus();
}

// A community's joint mechanisms: known, each once; by enum value into `out`.
absl::Status ReadMechanisms(const pb::Community& in, std::vector<pb::JointMechanism>& out) {
  out.clear();
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
    out.push_back(m);
  }
  std::sort(out.begin(), out.end());
  return absl::OkStatus();
}

// A community's brands (品牌), trimmed into `out`.
absl::Status ReadBrands(const pb::Community& in, std::vector<pb::Brand>& out) {
  out.clear();
  for (int i = 0; i < in.brands_size(); ++i) {
    const std::string field = absl::StrCat("community.brands[", i, "]");
    pb::Brand& b = out.emplace_back();
    b.set_display_name(TrimDisplayName(in.brands(i).display_name()));
    b.set_description(TrimDisplayName(in.brands(i).description()));
    RETURN_IF_ERROR(ValidateText(b.display_name(), field + ".display_name", kMaxNameChars,
                                 /*required=*/true));
    RETURN_IF_ERROR(ValidateText(b.description(), field + ".description", kMaxDescriptionChars,
                                 /*required=*/false));
  }
  return absl::OkStatus();
}

}  // namespace

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
    RETURN_IF_ERROR(ReadLiaison(in.liaison(), row.liaison));
  }
  if (paths.contains("mechanisms")) {
    RETURN_IF_ERROR(ReadMechanisms(in, row.mechanisms));
  }
  if (paths.contains("brands")) {
    RETURN_IF_ERROR(ReadBrands(in, row.brands));
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

}  // namespace community_internal

namespace pb = dangjian::org::v1;
using community_internal::kCommunities;
using community_internal::kOrganizations;
using google::protobuf::util::TimeUtil;

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

}  // namespace dj::org
