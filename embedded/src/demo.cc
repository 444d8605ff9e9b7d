// Builds the demo city through the org service's own API (validation and all).
#include "embedded/src/demo.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/strings.h"

namespace dj::embedded::demo_data {
std::span<const EmbeddedFile> Files();
}  // namespace dj::embedded::demo_data

namespace dj::embedded {
namespace {

namespace pb = dangjian::org::v1;

const char* const kOrdinals[] = {"第一", "第二", "第三", "第四", "第五",
                                 "第六", "第七", "第八", "第九", "第十"};

absl::StatusOr<pb::Organization> Create(org::OrgService& orgs, const std::string& parent,
                                        pb::OrganizationKind kind, const std::string& name,
                                        int* count) {
  pb::CreateOrganizationRequest req;
  req.mutable_organization()->set_parent(parent);
  req.mutable_organization()->set_kind(kind);
  req.mutable_organization()->set_display_name(name);
  auto* date = req.mutable_organization()->mutable_established_date();
  date->set_year(2018);  // the year the communities were formed
  date->set_month(7);
  date->set_day(1);
  auto created = orgs.Create(auth::SystemPrincipal(), req);
  if (created.ok()) {
    ++*count;
  }
  return created;
}

std::string_view DemoFile(std::string_view name) {
  for (const EmbeddedFile& f : demo_data::Files()) {
    if (f.path.ends_with(name)) {
      return f.data;
    }
  }
  return {};
}

}  // namespace

absl::StatusOr<DemoSummary> LoadDemoCity(org::OrgService& orgs) {
  DemoSummary summary;
  auto roots = orgs.List(auth::SystemPrincipal(), pb::ListOrganizationsRequest());
  if (!roots.ok()) {
    return roots.status();
  }
  if (roots->organizations_size() > 0) {
    return summary;
  }
  auto root = Create(orgs, "", pb::WORK_COMMITTEE, "中共启东市委市级机关工作委员会",
                     &summary.organizations);
  if (!root.ok()) {
    return root.status();
  }
  for (absl::string_view line : absl::StrSplit(AV(DemoFile("organizations.tsv")), '\n')) {
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    int branches = 0;
    int groups = 0;
    pb::OrganizationKind kind;
    if (cols.size() != 5 || !pb::OrganizationKind_Parse(cols[2], &kind) ||
        !absl::SimpleAtoi(cols[3], &branches) || !absl::SimpleAtoi(cols[4], &groups) ||
        branches > 10 || groups > 10) {
      return absl::InternalError(absl::StrCat("demo data: bad line '", line, "'"));
    }
    auto organ = Create(orgs, root->name(), kind, cols[1], &summary.organizations);
    if (!organ.ok()) {
      return organ.status();
    }
    // A branch holds its party groups itself; larger bodies hold branches, the first with groups.
    std::string group_parent = organ->name();
    for (int b = 0; b < branches; ++b) {
      auto branch = Create(orgs, organ->name(), pb::BRANCH, absl::StrCat(kOrdinals[b], "党支部"),
                           &summary.organizations);
      if (!branch.ok()) {
        return branch.status();
      }
      if (b == 0) {
        group_parent = branch->name();
      }
    }
    for (int g = 0; g < groups; ++g) {
      auto group = Create(orgs, group_parent, pb::PARTY_GROUP,
                          absl::StrCat(kOrdinals[g], "党小组"), &summary.organizations);
      if (!group.ok()) {
        return group.status();
      }
    }
  }
  summary.loaded = true;
  return summary;
}

}  // namespace dj::embedded
