// The member service's settings, shared by dj-member and the embedded binary: the password
// policy (a work committee may set its own), token lifetimes and the first administrator.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/pii.h"
#include "common/runtime/config.h"
#include "services/member/src/member_service.h"

namespace dj::member {

// password-min-length, password-min-classes, login-max-failures, login-delay-seconds,
// account-lock-failures, lockout-minutes,
// password-max-age-days, access-token-ttl-seconds, session-idle-minutes,
// bootstrap-admin-password, bootstrap-admin-password-file.
std::vector<runtime::Setting> MemberSettings();

MemberServiceOptions MemberOptionsFrom(const runtime::Config& config);

// The vault of personal data: keys from pii-keys ("id=secret,...", the first seals) and
// pii-index-key; where they are not set (the one-process binary, a first look), keys derived
// from the audit key (key id "a0"), so nothing is ever stored in clear.
absl::StatusOr<crypto::PiiVault> PiiVaultFrom(const runtime::Config& config,
                                              std::string_view audit_key);

// The bootstrap password from the setting or the file (first line); "" when neither is given.
absl::StatusOr<std::string> BootstrapPasswordFrom(const runtime::Config& config);

}  // namespace dj::member
