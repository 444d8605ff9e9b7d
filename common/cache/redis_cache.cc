// Redis through a small pool of hiredis connections, failing fast while Redis is down.
#include <hiredis/hiredis.h>

#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/runtime/log.h"

namespace dj::cache {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

class RedisCache final : public Cache {
 public:
  explicit RedisCache(RedisOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    auto reply = Command({"GET", key});
    if (!reply.ok()) {
      return reply.status();
    }
    if ((*reply)->type == REDIS_REPLY_NIL) {
      return std::optional<std::string>();
    }
    if ((*reply)->type != REDIS_REPLY_STRING) {
      return absl::InternalError("unexpected reply to GET");
    }
    return std::optional<std::string>(std::string((*reply)->str, (*reply)->len));
  }

  absl::Status Set(std::string_view key, std::string_view value,
                   std::chrono::milliseconds ttl) override {
    const std::string ms = absl::StrCat(std::max<int64_t>(1, ttl.count()));
    return Command({"SET", key, value, "PX", ms}).status();
  }

  absl::Status Delete(std::string_view key) override { return Command({"DEL", key}).status(); }

  absl::StatusOr<std::optional<std::string>> GetAndDelete(std::string_view key) override {
    auto reply = Command({"GETDEL", key});
    if (!reply.ok()) {
      return reply.status();
    }
    if ((*reply)->type == REDIS_REPLY_NIL) {
      return std::optional<std::string>();
    }
    if ((*reply)->type != REDIS_REPLY_STRING) {
      return absl::InternalError("unexpected reply to GETDEL");
    }
    return std::optional<std::string>(std::string((*reply)->str, (*reply)->len));
  }

  absl::StatusOr<Count> Increment(std::string_view key, int64_t by,
                                  std::chrono::milliseconds window) override {
    // One round trip, atomic: the first increment of a window sets its expiry.
    static constexpr std::string_view kScript =
        "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
        "if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
        "return {n, redis.call('PTTL', KEYS[1])}";
    const std::string ms = absl::StrCat(std::max<int64_t>(1, window.count()));
    auto reply = Command({"EVAL", kScript, "1", key, ms, absl::StrCat(std::max<int64_t>(1, by))});
    if (!reply.ok()) {
      return reply.status();
    }
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
      return absl::InternalError("unexpected reply to the increment script");
    }
    return Count{r->element[0]->integer,
                 std::chrono::milliseconds(std::max<long long>(0, r->element[1]->integer))};
  }

 private:
  absl::StatusOr<ReplyPtr> Command(std::initializer_list<std::string_view> args) {
    auto conn = Take();
    if (!conn.ok()) {
      return conn.status();
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(conn->get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (reply == nullptr) {
      const std::string err = (*conn)->errstr;
      MarkDown();
      return absl::UnavailableError(absl::StrCat("redis: ", err));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string err(reply->str, reply->len);
      Give(*std::move(conn));
      return absl::InternalError(absl::StrCat("redis: ", err));
    }
    Give(*std::move(conn));
    return reply;
  }

  absl::StatusOr<ContextPtr> Take() {
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
      ReplyPtr r(static_cast<redisReply*>(
          redisCommand(c.get(), "AUTH %b", options_.url.password.data(),
                       options_.url.password.size())));
      if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
        MarkDown();
        return absl::UnavailableError("redis: AUTH failed");
      }
    }
    if (options_.url.db != 0) {
      ReplyPtr r(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", options_.url.db)));
      if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
        MarkDown();
        return absl::UnavailableError("redis: SELECT failed");
      }
    }
    {
      std::lock_guard lock(mu_);
      if (was_down_) {
        was_down_ = false;
        log::Info("redis reachable again", {{"host", options_.url.host}});
      }
    }
    return c;
  }

  void Give(ContextPtr c) {
    std::lock_guard lock(mu_);
    if (static_cast<int>(idle_.size()) < options_.pool_size) {
      idle_.push_back(std::move(c));
    }
  }

  void MarkDown() {
    std::lock_guard lock(mu_);
    idle_.clear();  // every pooled connection went to the same server
    down_until_ = std::chrono::steady_clock::now() + options_.retry_after;
    if (!was_down_) {
      was_down_ = true;
      log::Warn("redis unreachable; serving from the database",
                {{"host", options_.url.host}});
    }
  }

  const RedisOptions options_;
  std::mutex mu_;
  std::vector<ContextPtr> idle_;                     // guarded by mu_
  std::chrono::steady_clock::time_point down_until_;  // guarded by mu_
  bool was_down_ = false;                            // guarded by mu_
};

}  // namespace

std::unique_ptr<Cache> NewRedisCache(RedisOptions options) {
  return std::make_unique<RedisCache>(std::move(options));
}

}  // namespace dj::cache
