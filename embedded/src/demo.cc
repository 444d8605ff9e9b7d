// Builds the demo city through the org service's own API (validation, audit and all), as the
// system principal. Everything is derived from the files in embedded/demo, deterministically,
// and every create carries a fixed request_id: a load cut short (a crash, a kill) is completed by
// the next start, whose creates of what exists replay instead of duplicating.
#include "embedded/src/demo.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/civil_date.h"

namespace dj::embedded::demo_data {
std::span<const EmbeddedFile> Files();
}  // namespace dj::embedded::demo_data

namespace dj::embedded {
namespace {

namespace pb = dangjian::org::v1;

const char* const kOrdinals[] = {"第一", "第二", "第三", "第四", "第五",
                                 "第六", "第七", "第八", "第九", "第十"};
// 启东's towns, and stems for the villages, enterprises and residential communities around them.
const char* const kTowns[] = {"汇龙镇", "南阳镇", "北新镇", "王鲍镇", "合作镇",  "海复镇",
                              "近海镇", "寅阳镇", "惠萍镇", "东海镇", "吕四港镇"};
const char* const kStems[] = {"新光", "永兴", "合兴", "海丰", "东兴", "向阳", "红旗",
                              "和平", "团结", "友谊", "胜利", "光明", "富民", "兴垦",
                              "港西", "长兴", "江海", "紫薇", "南苑", "城北"};
constexpr int kPairings = 207;               // seed 003: "对子207个"
constexpr int kResidentialCommunities = 37;  // seed 003: "58个市级机关党组织进驻37个主城社区"
constexpr std::string_view kRootName = "中共启东市委市级机关工作委员会";

google::type::Date Date(int32_t y, int32_t m, int32_t d) { return time::ToProto({y, m, d}); }

std::string_view DemoFile(std::string_view name) {
  for (const EmbeddedFile& f : demo_data::Files()) {
    if (f.path.ends_with(name)) {
      return f.data;
    }
  }
  return {};
}

// The non-comment lines of a demo file, split on tabs; every line must have `columns` columns.
absl::StatusOr<std::vector<std::vector<std::string>>> Table(std::string_view file, size_t columns) {
  std::vector<std::vector<std::string>> out;
  for (absl::string_view line : absl::StrSplit(AV(DemoFile(file)), '\n')) {
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() != columns) {
      return absl::InternalError(absl::StrCat("demo data ", AV(file), ": bad line '", line, "'"));
    }
    out.push_back(std::move(cols));
  }
  return out;
}

// Counts each success; any failure stops the load with the step that failed.
template <typename T>
absl::StatusOr<T> Counted(absl::StatusOr<T> result, int* count, std::string_view what) {
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("demo ", AV(what), ": ", result.status().message()));
  }
  ++*count;
  return result;
}

class Loader {
 public:
  explicit Loader(org::OrgServer& org) : org_(org) {}

  absl::StatusOr<DemoSummary> Load() {
    auto roots = org_.organizations().List(who_, pb::ListOrganizationsRequest());
    if (!roots.ok()) {
      return roots.status();
    }
    if (roots->organizations_size() > 0) {
      // Someone's own data, or a demo city: complete (nothing to do) or cut short (finish it).
      const pb::Organization* demo = nullptr;
      for (const pb::Organization& o : roots->organizations()) {
        if (o.display_name() == kRootName) {
          demo = &o;
        }
      }
      if (demo == nullptr) {
        return summary_;
      }
      auto complete = Complete(*demo);
      if (!complete.ok() || *complete) {
        return complete.ok() ? absl::StatusOr<DemoSummary>(summary_) : complete.status();
      }
    }
    auto root =
        Organization("", pb::WORK_COMMITTEE, std::string(kRootName), "", "dangjian-demo-root");
    if (root.status().code() == absl::StatusCode::kAlreadyExists) {
      return summary_;  // a root of that name this loader did not make (an older demo): leave it
    }
    if (!root.ok()) {
      return root.status();
    }
    root_ = root->name();
    RETURN_IF_ERROR(Organs());
    RETURN_IF_ERROR(Communities());
    RETURN_IF_ERROR(PairingsAndStations());
    summary_.loaded = true;
    return summary_;
  }

 private:
  // Whether the demo city under `root` was loaded to the end: its last step, the stations, is
  // all there.
  absl::StatusOr<bool> Complete(const pb::Organization& root) {
    pb::GetOrganizationStatisticsRequest req;
    req.set_name(root.name());
    auto stats = org_.statistics().Get(who_, req);
    if (!stats.ok()) {
      return stats.status();
    }
    return stats->stations() >= static_cast<int64_t>(organs_expected());
  }

  // How many organs the demo file lists (one station each).
  static size_t organs_expected() {
    auto organs = Table("organizations.tsv", 5);
    return organs.ok() ? organs->size() : 0;
  }

  absl::StatusOr<pb::Organization> Organization(const std::string& parent,
                                                pb::OrganizationKind kind, const std::string& name,
                                                const std::string& unit,
                                                const std::string& request_id) {
    pb::CreateOrganizationRequest req;
    req.set_request_id(request_id);
    pb::Organization* o = req.mutable_organization();
    o->set_parent(parent);
    o->set_kind(kind);
    o->set_display_name(name);
    o->set_unit(unit);
    *o->mutable_established_date() = Date(2018, 7, 1);  // the year the communities were formed
    return Counted(org_.organizations().Create(who_, req), &summary_.organizations, name);
  }

  // Elected organizations get a current term; start dates spread over the last terms so the
  // console's "terms ending soon" has something to show.
  absl::Status Term(const pb::Organization& o, int index) {
    if (o.kind() != pb::PARTY_COMMITTEE && o.kind() != pb::GENERAL_BRANCH &&
        o.kind() != pb::BRANCH) {
      return absl::OkStatus();
    }
    pb::CreateTermRequest req;
    req.set_request_id(absl::StrCat("dangjian-demo-term-", index));
    req.set_parent(o.name());
    const int years_back = o.kind() == pb::PARTY_COMMITTEE ? 4 : 2;
    *req.mutable_term()->mutable_start_date() =
        Date(2025 - years_back + index % 2, 1 + index % 12, 1 + (index * 7) % 28);
    req.mutable_term()->set_note("党员大会选举");
    return Counted(org_.officers().CreateTerm(who_, req), &summary_.terms, o.display_name())
        .status();
  }

  absl::Status Organs() {
    auto units = Table("units.tsv", 6);
    if (!units.ok()) {
      return units.status();
    }
    std::map<std::string, std::string> unit_of;  // organ party organization -> units/{id}
    for (size_t i = 0; i < units->size(); ++i) {
      const std::vector<std::string>& u = (*units)[i];
      pb::CreateUnitRequest req;
      req.set_request_id(absl::StrCat("dangjian-demo-unit-", i));
      pb::Unit* unit = req.mutable_unit();
      unit->set_display_name(u[1]);
      unit->set_credit_code(u[2]);
      pb::UnitKind kind;
      pb::LeadershipMode mode;
      if (!pb::UnitKind_Parse(u[3], &kind) || !pb::LeadershipMode_Parse(u[4], &mode)) {
        return absl::InternalError(absl::StrCat("demo units.tsv: bad kind or mode for ", u[1]));
      }
      unit->set_kind(kind);
      unit->set_leadership_mode(mode);
      unit->set_vertical_leading_body(u[5]);
      unit->set_parent(root_);
      auto created = Counted(org_.units().Create(who_, req), &summary_.units, u[1]);
      if (!created.ok()) {
        return created.status();
      }
      unit_of[u[0]] = created->name();
    }
    auto organs = Table("organizations.tsv", 5);
    if (!organs.ok()) {
      return organs.status();
    }
    int index = 0;
    for (size_t i = 0; i < organs->size(); ++i) {
      const std::vector<std::string>& cols = (*organs)[i];
      int branches = 0;
      int groups = 0;
      pb::OrganizationKind kind;
      if (!pb::OrganizationKind_Parse(cols[2], &kind) || !absl::SimpleAtoi(cols[3], &branches) ||
          !absl::SimpleAtoi(cols[4], &groups) || branches > 10 || groups > 10 ||
          !unit_of.contains(cols[1])) {
        return absl::InternalError(absl::StrCat("demo organizations.tsv: bad line for ", cols[1]));
      }
      const std::string& unit = unit_of[cols[1]];
      auto organ =
          Organization(root_, kind, cols[1], unit, absl::StrCat("dangjian-demo-organ-", i));
      if (!organ.ok()) {
        return organ.status();
      }
      organs_.push_back(*organ);
      groups_[cols[0]].push_back(organ->name());
      RETURN_IF_ERROR(Term(*organ, index++));
      // A branch holds its party groups itself; larger bodies hold branches, the first with
      // groups.
      std::string group_parent = organ->name();
      for (int b = 0; b < branches; ++b) {
        auto branch = Organization(organ->name(), pb::BRANCH, absl::StrCat(kOrdinals[b], "党支部"),
                                   unit, absl::StrCat("dangjian-demo-branch-", i, "-", b));
        if (!branch.ok()) {
          return branch.status();
        }
        RETURN_IF_ERROR(Term(*branch, index++));
        if (b == 0) {
          group_parent = branch->name();
        }
      }
      for (int g = 0; g < groups; ++g) {
        auto group =
            Organization(group_parent, pb::PARTY_GROUP, absl::StrCat(kOrdinals[g], "党小组"), unit,
                         absl::StrCat("dangjian-demo-group-", i, "-", g));
        if (!group.ok()) {
          return group.status();
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status Communities() {
    auto rows = Table("communities.tsv", 6);
    if (!rows.ok()) {
      return rows.status();
    }
    for (size_t i = 0; i < rows->size(); ++i) {
      const std::vector<std::string>& cols = (*rows)[i];
      const std::vector<std::string>& members = groups_[cols[0]];
      if (members.empty()) {
        return absl::InternalError(absl::StrCat("demo communities.tsv: no group ", cols[0]));
      }
      pb::CreateCommunityRequest req;
      req.set_request_id(absl::StrCat("dangjian-demo-community-", i));
      pb::Community* c = req.mutable_community();
      c->set_display_name(cols[1]);
      c->set_lead_organization(members.front());
      for (size_t i = 1; i < members.size(); ++i) {
        c->add_member_organizations(members[i]);
      }
      c->mutable_liaison()->set_display_name(cols[2]);
      c->mutable_liaison()->set_title(cols[3]);
      for (absl::string_view brand : absl::StrSplit(cols[4], ';', absl::SkipEmpty())) {
        c->add_brands()->set_display_name(std::string(brand));
      }
      for (absl::string_view partner : absl::StrSplit(cols[5], ';', absl::SkipEmpty())) {
        std::pair<std::string, std::string> p = absl::StrSplit(partner, ':');
        pb::PartnerKind kind;
        if (!pb::PartnerKind_Parse(p.second, &kind)) {
          return absl::InternalError(absl::StrCat("demo communities.tsv: bad partner ", partner));
        }
        pb::Partner* x = c->add_partners();
        x->set_display_name(p.first);
        x->set_kind(kind);
      }
      for (pb::JointMechanism m : {pb::JOINT_MEETING, pb::JOINT_TRAINING, pb::JOINT_SERVICE,
                                   pb::JOINT_BRAND, pb::JOINT_GUIDANCE}) {
        c->add_mechanisms(m);
      }
      auto created = Counted(org_.communities().Create(who_, req), &summary_.communities, cols[1]);
      if (!created.ok()) {
        return created.status();
      }
    }
    return absl::OkStatus();
  }

  // 207 pairings ("机关+企业", "机关+村居") spread over the organs, alternately with an enterprise
  // and a village; every organ stationed in one of 37 residential communities.
  absl::Status PairingsAndStations() {
    const int n = static_cast<int>(organs_.size());
    for (int k = 0; k < kPairings; ++k) {
      const pb::Organization& o = organs_[k % n];
      const char* town = kTowns[k % std::size(kTowns)];
      const char* stem = kStems[(k / std::size(kTowns)) % std::size(kStems)];
      pb::CreatePairingRequest req;
      req.set_request_id(absl::StrCat("dangjian-demo-pairing-", k));
      pb::Pairing* p = req.mutable_pairing();
      p->set_organization(o.name());
      if (k % 2 == 0) {
        p->mutable_partner()->set_display_name(absl::StrCat(town, stem, "村"));
        p->mutable_partner()->set_kind(pb::VILLAGE);
      } else {
        p->mutable_partner()->set_display_name(absl::StrCat("启东", stem, "实业有限公司"));
        p->mutable_partner()->set_kind(pb::ENTERPRISE);
      }
      *p->mutable_start_date() = Date(2023, 3, 1 + k % 28);
      auto created = Counted(org_.communities().CreatePairing(who_, req), &summary_.pairings,
                             o.display_name());
      if (!created.ok()) {
        return created.status();
      }
    }
    for (int i = 0; i < n; ++i) {
      const int place = i % kResidentialCommunities;
      pb::CreateStationRequest req;
      req.set_request_id(absl::StrCat("dangjian-demo-station-", i));
      pb::Station* s = req.mutable_station();
      s->set_organization(organs_[i].name());
      s->set_residential_community(absl::StrCat(kTowns[place % std::size(kTowns)],
                                                kStems[place % std::size(kStems)], "社区"));
      *s->mutable_start_date() = Date(2022, 1 + i % 12, 1);
      auto created = Counted(org_.communities().CreateStation(who_, req), &summary_.stations,
                             organs_[i].display_name());
      if (!created.ok()) {
        return created.status();
      }
    }
    return absl::OkStatus();
  }

  org::OrgServer& org_;
  const auth::Principal who_ = auth::SystemPrincipal();
  DemoSummary summary_;
  std::string root_;
  std::vector<pb::Organization> organs_;
  std::map<std::string, std::vector<std::string>> groups_;  // group -> organizations, lead first
};

}  // namespace

absl::StatusOr<DemoSummary> LoadDemoCity(org::OrgServer& org) { return Loader(org).Load(); }

}  // namespace dj::embedded
