// Community requests and rows, shared by the community handlers (community_service.cc) and the
// pairing and station handlers (community_ties.cc): the checks of each field, the errors they
// answer, and where a community's organizations place it. Internal to the org service.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/auth/principal.h"
#include "dangjian/org/v1/community.pb.h"
#include "services/org/src/community_store.h"
#include "services/org/src/requests.h"

namespace dj::org::community_internal {

inline constexpr std::string_view kCommunities = "communities";
inline constexpr std::string_view kOrganizations = "organizations";
inline constexpr int kMaxNameChars = 100;

// NOT_FOUND for `name` in `collection` (communities, pairings, stations, organizations).
absl::Status NotFound(std::string_view collection, std::string_view name);

// Only said to a caller authorized at `scope_org_id`: names are unique per scope organization,
// and a name used elsewhere is none of the caller's business.
absl::Status NameTaken(std::string_view display_name, int64_t scope_org_id);

// A partner (the "X" of a community, the other side of a pairing) of one of `kinds`, trimmed
// into `out`.
absl::Status ReadPartner(const dangjian::org::v1::Partner& in, const std::string& field,
                         absl::Span<const dangjian::org::v1::PartnerKind> kinds,
                         dangjian::org::v1::Partner& out);

// The fields of a community an update may name; the others are output only.
const UpdatableFields& Updatable();

// The fields set in an update's community: what it changes when there is no mask (AIP-134).
std::set<std::string> SetFields(const dangjian::org::v1::Community& c);

// Copies the fields of `in` named in `paths` into `row`, each checked on its own (how the
// organizations fit together is CheckOrganizations' and the database's business).
absl::Status ReadCommunity(const dangjian::org::v1::Community& in,
                           const std::set<std::string>& paths, CommunityRow& row);

// The request field that named organization `id` of `row`.
std::string FieldOf(const CommunityRow& row, int64_t id);

// Members distinct and none the lead.
absl::Status CheckOrganizations(const CommunityRow& row);

// The first of `row`'s organizations (lead first) that `found` says is in another community.
// That community is named only to a caller who may read it.
absl::Status InAnotherCommunity(const auth::Principal& who, const CommunityRow& row,
                                const std::vector<Membership>& found);

// The deepest organization whose subtree holds every one of `paths` ("/1/5/23/"), as
// (id, path); nullopt when they are in different trees.
std::optional<std::pair<int64_t, std::string>> DeepestCommon(const std::vector<std::string>& paths);

}  // namespace dj::org::community_internal
