// Pairing (结对) and station (进驻社区) handlers of CommunityService: an organization tied to an
// enterprise, village or residential community for a period.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "services/org/src/community_requests.h"
#include "services/org/src/community_service.h"
#include "services/org/src/errors.h"
#include "services/org/src/requests.h"

namespace dj::org {
namespace {

namespace pb = dangjian::org::v1;
using community_internal::kMaxNameChars;
using community_internal::kOrganizations;
using community_internal::NotFound;
using community_internal::ReadPartner;
using google::protobuf::util::TimeUtil;

constexpr int kMaxNoteChars = 200;

// A pairing (结对) is an organ with an enterprise or with a village or residential community
// ("机关+企业", "机关+村居").
constexpr pb::PartnerKind kPairingPartnerKinds[] = {pb::ENTERPRISE, pb::VILLAGE,
                                                    pb::RESIDENTIAL_COMMUNITY};

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

}  // namespace dj::org
