// How a principal travels from the gateway to the services, and from one service to another.
//
// The gateway verifies the client's access token, then vouches for the caller to the backend
// with a short-lived token of its own in the `x-dj-principal` metadata: HS256 over the caller's
// claims and the client IP, under a secret shared only by the gateway and the services
// (DJ_INTERNAL_SECRET), valid for a minute. The request id travels beside it (x-request-id): it
// is a correlation id, not a credential, and leaving it out lets one token serve a principal's
// requests for a few seconds, signed once at the gateway and verified once per service. A service accepts a principal only from
// that token, so a request sent straight to a service port with a forged principal (or with a
// client's own access token) is refused. A shared secret rather than mTLS because the embedded
// topology talks over in-process channels where TLS has nothing to protect, the test machines
// have no CA, and a cluster can still add mTLS underneath (a mesh) without code changes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/auth/authorize.h"
#include "common/auth/jwt.h"
#include "common/auth/token_cache.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace dj::auth {

inline constexpr char kPrincipalMetadata[] = "x-dj-principal";

// "organizations/5" -> 5, "" -> 0 (the whole tree).
absl::StatusOr<int64_t> ScopeOrgFromName(std::string_view scope);

// What a create stores for its request_id (AIP-155): the id scoped to the caller, as 64 hex
// characters (SHA-256 of the subject and the id), so the same request_id sent by another
// principal is a new request and never answers with their resource. "" for "".
std::string IdempotencyKey(const Principal& who, std::string_view request_id);

// An access token's claims as a principal.
absl::StatusOr<Principal> FromClaims(const Claims& claims);

class InternalAuth final {
 public:
  // `secret`: at least 32 bytes.
  static absl::StatusOr<InternalAuth> Create(const std::string& secret);

  // Gateway: the metadata value vouching for `principal` (anonymous when it has no subject).
  // The request id is not in it (it travels as its own metadata, rpc::kRequestIdKey), so one
  // token serves a principal's calls for a few seconds: signed once, verified once per process.
  std::string Vouch(const Principal& principal, int64_t now_seconds) const;

  // Services: the principal the gateway vouched for, with the request id of the call.
  // UNAUTHENTICATED (reason PRINCIPAL_MISSING or PRINCIPAL_FORGED) when the metadata is absent,
  // forged or stale.
  absl::StatusOr<Principal> Caller(const grpc::ServerContextBase& context,
                                   int64_t now_seconds) const;
  absl::StatusOr<Principal> Caller(const grpc::ServerContextBase& context) const;

  // A service calling another on behalf of its caller: the principal's token and request id.
  void Attach(grpc::ClientContext& context, const Principal& principal) const;

 private:
  struct Vouched {
    std::string token;
    int64_t issued_at = 0;
  };
  struct Caches {
    TokenCache<Vouched> vouched{10'000};    // principal's identity -> its current token
    TokenCache<Principal> verified{10'000};  // token -> the principal it vouches for
  };
  explicit InternalAuth(JwtSigner signer)
      : signer_(std::move(signer)), caches_(std::make_shared<Caches>()) {}
  JwtSigner signer_;
  std::shared_ptr<Caches> caches_;  // shared by copies: the same secret signs the same tokens
};

// Settings every process in the gateway <-> service trust relation has: internal-secret.
inline constexpr char kInternalSecretSetting[] = "internal-secret";

}  // namespace dj::auth
