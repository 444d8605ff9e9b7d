// The demo city loaded by `dangjian --demo` on first start, modelled on 启东 (seed 003): a work
// committee, the 58 organ party organizations with their units, branches and party groups, the 8
// party-building communities they form with their partners, 207 pairings (结对), 58 stations in 37
// residential communities (进驻社区) and the current terms of the elected organizations
// (embedded/demo/*.tsv). Later steps add their own demo data here.
#pragma once

#include "absl/status/statusor.h"
#include "services/org/src/org_server.h"

namespace dj::embedded {

struct DemoSummary {
  bool loaded = false;  // false: the database already had organizations; nothing was changed
  int organizations = 0;
  int units = 0;
  int communities = 0;
  int pairings = 0;
  int stations = 0;
  int terms = 0;
};

absl::StatusOr<DemoSummary> LoadDemoCity(org::OrgServer& org);

}  // namespace dj::embedded
