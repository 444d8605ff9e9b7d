// Internal principal tokens between the gateway and the services.
#include "common/time/clock.h"
#include "common/auth/principal.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/rpc/names.h"
#include "common/runtime/strings.h"

namespace dj::auth {
namespace {

constexpr char kIssuer[] = "dj-gateway";
constexpr int64_t kLifetimeSeconds = 60;
// How long the gateway hands out the same token for the same principal: well inside its
// lifetime and the services' 5 s of leeway on iat.
constexpr int64_t kReuseSeconds = 10;
// The longest request id a service keeps from a call's metadata.
constexpr size_t kMaxRequestId = 128;

// What a token vouches for, as a key: every field length-prefixed, so no two principals share
// one.
std::string IdentityKey(const Principal& p) {
  std::string key;
  auto add = [&key](std::string_view field) { absl::StrAppend(&key, field.size(), ":", AV(field)); };
  add(p.anonymous() ? "anonymous" : p.subject);
  add(p.username);
  absl::StrAppend(&key, p.roles.size(), "#");
  for (const std::string& role : p.roles) {
    add(role);
  }
  absl::StrAppend(&key, p.scope_org, "|");
  add(p.member);
  add(p.client_ip);
  return key;
}

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
  const std::string key = IdentityKey(p);
  if (auto v = caches_->vouched.Find(key, now_seconds); v && v->issued_at <= now_seconds) {
    return std::move(v->token);
  }
  Claims c{.subject = p.anonymous() ? "anonymous" : p.subject,
           .username = p.username,
           .roles = p.roles,
           .scope = p.scope_org == 0 ? "" : rpc::FormatName("organizations", p.scope_org),
           .member = p.member,
           .client_ip = p.client_ip,
           .issued_at = now_seconds,
           .expires_at = now_seconds + kLifetimeSeconds};
  std::string token = signer_.Sign(c);
  caches_->vouched.Put(key, Vouched{token, now_seconds}, now_seconds + kReuseSeconds);
  return token;
}

absl::StatusOr<Principal> InternalAuth::Caller(const grpc::ServerContextBase& context,
                                               int64_t now_seconds) const {
  const auto& md = context.client_metadata();
  auto it = md.find(kPrincipalMetadata);
  if (it == md.end()) {
    return rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING",
                      "calls must come through the gateway");
  }
  const std::string_view token(it->second.data(), it->second.size());
  std::optional<Principal> p = caches_->verified.Find(token, now_seconds);
  if (!p.has_value()) {
    auto claims = signer_.Verify(token, now_seconds, /*leeway_seconds=*/5);
    if (!claims.ok()) {
      return rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_FORGED",
                        "the caller's identity was not vouched for by the gateway");
    }
    auto from = FromClaims(*claims);
    if (!from.ok()) {
      return from.status();
    }
    if (from->subject == "anonymous") {
      from->subject.clear();
    }
    p = *std::move(from);
    caches_->verified.Put(token, *p, claims->expires_at);
  }
  if (p->request_id.empty()) {
    p->request_id = rpc::RequestId(context).substr(0, kMaxRequestId);
  }
  return *std::move(p);
}

absl::StatusOr<Principal> InternalAuth::Caller(const grpc::ServerContextBase& context) const {
  return Caller(context, time::NowSeconds());
}

void InternalAuth::Attach(grpc::ClientContext& context, const Principal& principal) const {
  if (!principal.request_id.empty()) {
    context.AddMetadata(std::string(rpc::kRequestIdKey), principal.request_id);
  }
  context.AddMetadata(kPrincipalMetadata, Vouch(principal, time::NowSeconds()));
}

}  // namespace dj::auth
