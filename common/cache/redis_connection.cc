// The hiredis pool and its outage breaker.
#include "common/cache/redis_connection.h"

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"

namespace dj::cache {

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

std::string FormatCommand(std::span<const std::string_view> args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (std::string_view a : args) {
    absl::StrAppend(&out, "$", a.size(), "\r\n", absl::string_view(a.data(), a.size()), "\r\n");
  }
  return out;
}

absl::StatusOr<std::vector<std::optional<std::string>>> MGetValues(
    const redisReply& reply, size_t keys) {
  if (reply.type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: ", absl::string_view(reply.str, reply.len)));
  }
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != keys) {
    return absl::InternalError("unexpected reply to MGET");
  }
  std::vector<std::optional<std::string>> out(keys);
  for (size_t i = 0; i < keys; ++i) {
    const redisReply* e = reply.element[i];
    if (e->type == REDIS_REPLY_STRING) {
      out[i].emplace(e->str, e->len);
    } else if (e->type != REDIS_REPLY_NIL) {
      return absl::InternalError("unexpected reply to MGET");
    }
  }
  return out;
}

void RedisReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

void RedisConnections::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisConnections::RedisConnections(RedisOptions options, std::string user)
    : options_(std::move(options)), user_(std::move(user)) {}

RedisConnections::~RedisConnections() = default;

absl::StatusOr<RedisReply> RedisConnections::Command(std::span<const std::string_view> args,
                                                     std::chrono::milliseconds extra_wait) {
  auto conn = Take();
  if (!conn.ok()) {
    return conn.status();
  }
  const std::string command = FormatCommand(args);
  if (extra_wait.count() > 0) {
    redisSetTimeout(conn->get(), ToTimeval(options_.command_timeout + extra_wait));
  }
  void* raw = nullptr;
  if (redisAppendFormattedCommand(conn->get(), command.data(), command.size()) == REDIS_OK) {
    redisGetReply(conn->get(), &raw);  // as redisCommandArgv does: send, then wait for the reply
  }
  RedisReply reply(static_cast<redisReply*>(raw));
  if (reply == nullptr) {
    // No answer in time or the connection broke: the context is unusable (dropped here) and
    // Redis is presumed down until retry_after passes.
    const std::string err = (*conn)->errstr;
    MarkDown();
    return absl::UnavailableError(absl::StrCat("redis: ", err));
  }
  if (extra_wait.count() > 0) {
    redisSetTimeout(conn->get(), ToTimeval(options_.command_timeout));
  }
  Give(*std::move(conn));
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: ", absl::string_view(reply->str, reply->len)));
  }
  return reply;
}

absl::StatusOr<RedisConnections::ContextPtr> RedisConnections::Take() {
  {
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() < down_until_) {
      return absl::UnavailableError("redis: down, retrying shortly");
    }
    if (!idle_.empty()) {
      ContextPtr c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  const timeval tv = ToTimeval(options_.connect_timeout);
  ContextPtr c(redisConnectWithTimeout(options_.url.host.c_str(), options_.url.port, tv));
  if (c == nullptr || c->err != 0) {
    const std::string err = c == nullptr ? "cannot allocate" : c->errstr;
    MarkDown();
    return absl::UnavailableError(absl::StrCat("redis: connect to ", options_.url.host, ":",
                                               options_.url.port, ": ", err));
  }
  redisSetTimeout(c.get(), ToTimeval(options_.command_timeout));
  if (!options_.url.password.empty()) {
    RedisReply r(static_cast<redisReply*>(redisCommand(
        c.get(), "AUTH %b", options_.url.password.data(), options_.url.password.size())));
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
      MarkDown();
      return absl::UnavailableError("redis: AUTH failed");
    }
  }
  if (options_.url.db != 0) {
    RedisReply r(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", options_.url.db)));
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
      MarkDown();
      return absl::UnavailableError("redis: SELECT failed");
    }
  }
  {
    std::lock_guard lock(mu_);
    if (was_down_) {
      was_down_ = false;
      log::Info("redis reachable again", {{"host", options_.url.host}, {"user", user_}});
    }
  }
  return c;
}

void RedisConnections::Give(ContextPtr c) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) {
    idle_.push_back(std::move(c));
  }
}

void RedisConnections::MarkDown() {
  std::lock_guard lock(mu_);
  idle_.clear();  // every pooled connection went to the same server
  down_until_ = std::chrono::steady_clock::now() + options_.retry_after;
  if (!was_down_) {
    was_down_ = true;
    log::Warn("redis unreachable", {{"host", options_.url.host}, {"user", user_}});
  }
}

}  // namespace dj::cache
