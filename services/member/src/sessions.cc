// Refresh-token sessions in the cache.
#include "services/member/src/sessions.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/rpc/errors.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::member {
namespace {

constexpr std::string_view kTokenPrefix = "rt1.";

std::string Digest(std::string_view token) {
  return crypto::HmacHex(crypto::Digest::kSha256, "dangjian refresh token", token);
}
std::string TokenKey(std::string_view digest) { return absl::StrCat("auth:v1:rt:", AV(digest)); }
std::string UsedKey(std::string_view digest) { return absl::StrCat("auth:v1:used:", AV(digest)); }
std::string SessionKey(std::string_view id) { return absl::StrCat("auth:v1:session:", AV(id)); }

absl::Status Invalid() {
  return rpc::Error(absl::StatusCode::kUnauthenticated, "REFRESH_TOKEN_INVALID",
                    "the refresh token is not valid (expired, revoked or unknown); sign in again");
}

int64_t Micros(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

std::string Encode(const Session& s) {
  return absl::StrCat(s.account_id, "|", s.id, "|", s.started_us, "|", s.issued_us, "|", s.epoch);
}

// Three fields are a token issued before the idle time was kept (the cache's TTL bounds it),
// four one issued before sessions carried the account's epoch (epoch 0).
bool Decode(std::string_view v, Session* s) {
  std::vector<std::string> parts = absl::StrSplit(AV(v), '|');
  return parts.size() >= 3 && parts.size() <= 5 && absl::SimpleAtoi(parts[0], &s->account_id) &&
         !parts[1].empty() && absl::SimpleAtoi(parts[2], &s->started_us) &&
         (parts.size() < 4 || absl::SimpleAtoi(parts[3], &s->issued_us)) &&
         (parts.size() < 5 || absl::SimpleAtoi(parts[4], &s->epoch)) && (s->id = parts[1], true);
}

}  // namespace

absl::StatusOr<std::string> Sessions::Issue(const Session& session) {
  const std::string token =
      absl::StrCat(AV(kTokenPrefix), crypto::Base64UrlEncode(crypto::RandomBytes(32)));
  const std::string digest = Digest(token);
  RETURN_IF_ERROR(cache_.Set(TokenKey(digest), Encode(session), options_.idle));
  // The session remembers its current token, so a reuse can revoke it.
  RETURN_IF_ERROR(cache_.Set(SessionKey(session.id), digest, options_.idle));
  return token;
}

absl::StatusOr<std::pair<Session, std::string>> Sessions::Start(int64_t account_id, int64_t epoch,
                                                                int64_t now_us) {
  Session s{account_id, crypto::Hex(crypto::RandomBytes(16)), now_us, now_us, epoch};
  auto token = Issue(s);
  if (!token.ok()) {
    return token.status();
  }
  return std::make_pair(s, *std::move(token));
}

absl::StatusOr<std::pair<Session, std::string>> Sessions::Rotate(std::string_view token,
                                                                 int64_t now_us,
                                                                 std::string* reused_session) {
  if (!token.starts_with(kTokenPrefix) || token.size() > 128) {
    return Invalid();
  }
  const std::string digest = Digest(token);
  auto value = cache_.GetAndDelete(TokenKey(digest));
  if (!value.ok()) {
    return value.status();
  }
  if (!value->has_value()) {
    auto used = cache_.Get(UsedKey(digest));
    if (!used.ok()) {
      return used.status();
    }
    if (used->has_value()) {
      // Someone holds an old copy: end the session for everyone.
      if (reused_session != nullptr) {
        *reused_session = **used;
      }
      auto current = cache_.GetAndDelete(SessionKey(**used));
      if (current.ok() && current->has_value()) {
        (void)cache_.Delete(TokenKey(**current));
      }
      return rpc::Error(absl::StatusCode::kUnauthenticated, "REFRESH_TOKEN_REUSED",
                        "the refresh token was already used; the session is revoked, sign in "
                        "again");
    }
    return Invalid();
  }
  Session session;
  if (!Decode(**value, &session)) {
    return Invalid();
  }
  // On the caller's clock rather than only the cache's TTL, so the timeouts are the service's
  // rule (and a test can move the clock): the cache may keep a key a little longer.
  const bool idle = session.issued_us != 0 && now_us - session.issued_us >= Micros(options_.idle);
  if (idle || now_us - session.started_us > Micros(options_.absolute)) {
    (void)cache_.Delete(SessionKey(session.id));
    return Invalid();
  }
  session.issued_us = now_us;
  RETURN_IF_ERROR(cache_.Set(UsedKey(digest), session.id, options_.idle));
  auto next = Issue(session);
  if (!next.ok()) {
    return next.status();
  }
  return std::make_pair(session, *std::move(next));
}

absl::StatusOr<Session> Sessions::End(std::string_view token) {
  Session session;
  if (!token.starts_with(kTokenPrefix) || token.size() > 128) {
    return session;
  }
  auto value = cache_.GetAndDelete(TokenKey(Digest(token)));
  if (!value.ok()) {
    return value.status();
  }
  if (value->has_value() && Decode(**value, &session)) {
    RETURN_IF_ERROR(cache_.Delete(SessionKey(session.id)));
  }
  return session;
}

}  // namespace dj::member
