// The member service's settings, shared by dj-member and the embedded binary: the password
// policy (a work committee may set its own), token lifetimes and the first administrator.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"
#include "services/member/src/member_service.h"

namespace dj::member {

// password-min-length, password-min-classes, login-max-failures, login-delay-seconds,
// account-lock-failures, lockout-minutes,
// password-max-age-days, access-token-ttl-seconds, session-idle-minutes,
// bootstrap-admin-password, bootstrap-admin-password-file.
std::vector<runtime::Setting> MemberSettings();

MemberServiceOptions MemberOptionsFrom(const runtime::Config& config);

// The bootstrap password from the setting or the file (first line); "" when neither is given.
absl::StatusOr<std::string> BootstrapPasswordFrom(const runtime::Config& config);

}  // namespace dj::member
