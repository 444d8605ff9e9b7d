// OfficerService's consumer of the member service's events: a member who left, died or went
// out of the system ends their appointments; one transferred ends those outside the new
// organization.
#include "absl/strings/str_cat.h"
#include "common/rpc/names.h"
#include "common/runtime/log.h"
#include "dangjian/member/v1/events.pb.h"
#include "services/org/src/officer_service.h"
#include "services/org/src/officer_store.h"

namespace dj::org {

absl::Status OfficerService::OnMemberEvent(const events::Event& event) {
  namespace mpb = dangjian::member::v1;
  // Which appointments the event ends: none (most member events: taken at once, nothing
  // written), or those of `member` outside `keep_organization` (0: all) from `date`, once per
  // event (ApplyOnce). Not in the member's order (ApplyInOrder would need a position written
  // for every member event): ending appointments "still in office after a date" is idempotent,
  // and the events that end them come once in a member's life.
  std::string member;
  int64_t keep_organization = 0;
  std::optional<time::CivilDate> day;
  auto date_of = [&](const google::type::Date& d) {
    auto parsed = time::FromProto(d, "date");
    if (parsed.ok()) {
      day = *parsed;
    }
  };
  if (event.type == mpb::MemberStatusChanged::descriptor()->full_name()) {
    mpb::MemberStatusChanged changed;
    if (!changed.ParseFromString(event.payload)) {
      log::Error("unreadable MemberStatusChanged event", {{"event", absl::StrCat(event.id)}});
    } else if (changed.to_status() == mpb::LEFT || changed.to_status() == mpb::DECEASED ||
               changed.to_status() == mpb::TRANSFERRED_OUT) {
      member = changed.member().member();
      date_of(changed.date());
    }
  } else if (event.type == mpb::MemberTransferred::descriptor()->full_name()) {
    mpb::MemberTransferred moved;
    if (!moved.ParseFromString(event.payload)) {
      log::Error("unreadable MemberTransferred event", {{"event", absl::StrCat(event.id)}});
    } else {
      member = moved.member().member();
      date_of(moved.date());
      if (!moved.to_organization().empty()) {
        auto id = rpc::ParseName(moved.to_organization(), "organizations", "to_organization");
        keep_organization = id.ok() ? *id : 0;
      }
    }
  }
  if (!member.empty() && !day.has_value()) {
    log::Error("member event without a date", {{"event", absl::StrCat(event.id)}});
    member.clear();  // a broken event would block the stream: take it
  }
  if (member.empty()) {
    return absl::OkStatus();
  }
  return events::ApplyOnce(
      pool_, kMemberEventsGroup, event,
      [&](db::Connection& c) -> absl::Status {
        auto ended =
            OfficerStore::EndOfficersOfMember(c, member, keep_organization, *day, now_us_());
        if (!ended.ok()) {
          return ended.status();
        }
        if (*ended > 0) {
          log::Info("appointments ended with the member's membership or transfer",
                    {{"member", member}, {"officers", absl::StrCat(*ended)}});
        }
        return absl::OkStatus();
      },
      now_us_());
}

}  // namespace dj::org
