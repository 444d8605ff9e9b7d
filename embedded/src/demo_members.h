// The demo city's members, loaded by `dangjian --demo` after the organizations (demo.h): seed
// 003's 6,423 members over the demo branches, imported branch by branch from generated rosters,
// with lost-contact members, transfers, dues and arrears cases, and 50-year members.
#pragma once

#include "absl/status/statusor.h"
#include "services/member/src/module.h"
#include "services/org/src/org_server.h"

namespace dj::embedded {

struct MemberDemoSummary {
  bool loaded = false;  // false: no demo city here
  int members = 0;      // registered by this start (0 when an earlier start did it)
  int transfers = 0;
  int dues_payments = 0;
};

absl::StatusOr<MemberDemoSummary> LoadDemoMembers(org::OrgServer& org,
                                                  member::MemberInstance& members);

}  // namespace dj::embedded
