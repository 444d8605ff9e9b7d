// Internal principal tokens between the gateway and the services.
#include "common/time/clock.h"
#include "common/auth/principal.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/strings.h"

namespace dj::auth {
namespace {

constexpr char kIssuer[] = "dj-gateway";
constexpr int64_t kLifetimeSeconds = 60;

}  // namespace

absl::StatusOr<int64_t> ScopeOrgFromName(std::string_view scope) {
  if (scope.empty()) {
    return 0;
  }
  return rpc::ParseName(scope, "organizations", "scope");
}

std::string IdempotencyKey(const Principal& who, std::string_view request_id) {
  if (request_id.empty()) {
    return "";
  }
  // The subject cannot contain '\n', so (subject, id) pairs never collide.
  return crypto::HmacHex(
      crypto::Digest::kSha256, "dangjian request id",
      absl::StrCat(who.anonymous() ? "anonymous" : who.subject, "\n", AV(request_id)));
}

absl::StatusOr<Principal> FromClaims(const Claims& claims) {
  auto scope = ScopeOrgFromName(claims.scope);
  if (!scope.ok()) {
    return rpc::Error(absl::StatusCode::kUnauthenticated, "TOKEN_MALFORMED",
                      "the token's scope is not an organization");
  }
  return Principal{.subject = claims.subject,
                   .roles = claims.roles,
                   .scope_org = *scope,
                   .member = claims.member,
                   .username = claims.username,
                   .client_ip = claims.client_ip,
                   .request_id = claims.request_id};
}

absl::StatusOr<InternalAuth> InternalAuth::Create(const std::string& secret) {
  auto signer = JwtSigner::Create({{"internal", secret}}, kIssuer);
  if (!signer.ok()) {
    return absl::InvalidArgumentError("the internal secret must be at least 32 bytes");
  }
  return InternalAuth(*std::move(signer));
}

std::string InternalAuth::Vouch(const Principal& p, int64_t now_seconds) const {
  Claims c{.subject = p.anonymous() ? "anonymous" : p.subject,
           .username = p.username,
           .roles = p.roles,
           .scope = p.scope_org == 0 ? "" : rpc::FormatName("organizations", p.scope_org),
           .member = p.member,
           .client_ip = p.client_ip,
           .request_id = p.request_id,
           .issued_at = now_seconds,
           .expires_at = now_seconds + kLifetimeSeconds};
  return signer_.Sign(c);
}

absl::StatusOr<Principal> InternalAuth::Caller(const grpc::ServerContextBase& context,
                                               int64_t now_seconds) const {
  const auto& md = context.client_metadata();
  auto it = md.find(kPrincipalMetadata);
  if (it == md.end()) {
    return rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING",
                      "calls must come through the gateway");
  }
  auto claims = signer_.Verify(std::string_view(it->second.data(), it->second.size()),
                               now_seconds, /*leeway_seconds=*/5);
  if (!claims.ok()) {
    return rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_FORGED",
                      "the caller's identity was not vouched for by the gateway");
  }
  auto p = FromClaims(*claims);
  if (p.ok() && p->subject == "anonymous") {
    p->subject.clear();
  }
  return p;
}

absl::StatusOr<Principal> InternalAuth::Caller(const grpc::ServerContextBase& context) const {
  return Caller(context, time::NowSeconds());
}

void InternalAuth::Attach(grpc::ClientContext& context, const Principal& principal) const {
  context.AddMetadata(kPrincipalMetadata, Vouch(principal, time::NowSeconds()));
}

}  // namespace dj::auth
