// The demo city loaded by `dangjian --demo` on first start: a work committee and the 58 organ
// party organizations of seed 003 with their branches and party groups (embedded/demo/*.tsv).
// Later steps add their own demo data here.
#pragma once

#include "absl/status/statusor.h"
#include "services/org/src/org_service.h"

namespace dj::embedded {

struct DemoSummary {
  bool loaded = false;  // false: the database already had organizations; nothing was changed
  int organizations = 0;
};

absl::StatusOr<DemoSummary> LoadDemoCity(org::OrgService& orgs);

}  // namespace dj::embedded
