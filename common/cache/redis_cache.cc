// The cache on Redis (RedisConnections: pooled, failing fast while Redis is down).
#include <hiredis/hiredis.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/cache/redis_connection.h"
#include "common/cache/redis_pipeline.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::cache {
namespace {

class RedisCache final : public Cache {
 public:
  explicit RedisCache(RedisOptions options) : redis_(std::move(options), "cache") {}

  void GetManyAsync(std::span<const std::string_view> keys, ManyDone done) override {
    // Made on first use: a process that never reads this way keeps no extra connection or thread.
    std::call_once(pipeline_once_,
                   [this] { pipeline_ = std::make_unique<RedisPipeline>(redis_.options()); });
    pipeline_->MGet(keys, std::move(done));
  }

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

  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      std::span<const std::string_view> keys) override {
    std::vector<std::string_view> args = {"MGET"};
    args.insert(args.end(), keys.begin(), keys.end());
    ASSIGN_OR_RETURN(RedisReply reply, redis_.Command(args));
    return MGetValues(*reply, keys.size());
  }

  absl::Status Set(std::string_view key, std::string_view value,
                   std::chrono::milliseconds ttl) override {
    const std::string ms = absl::StrCat(std::max<int64_t>(1, ttl.count()));
    return Command({"SET", key, value, "PX", ms}).status();
  }

  absl::Status Delete(std::string_view key) override { return Command({"DEL", key}).status(); }

  absl::Status DeleteMany(std::span<const std::string> keys) override {
    constexpr size_t kBatch = 500;  // keys per DEL: one round trip each, bounded argv
    for (size_t i = 0; i < keys.size(); i += kBatch) {
      std::vector<std::string_view> args = {"DEL"};
      for (size_t j = i; j < std::min(keys.size(), i + kBatch); ++j) {
        args.emplace_back(keys[j]);
      }
      RETURN_IF_ERROR(redis_.Command(args).status());
    }
    return absl::OkStatus();
  }

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

  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   std::chrono::milliseconds ttl) override {
    const std::string ms = absl::StrCat(std::max<int64_t>(1, ttl.count()));
    auto reply = Command({"SET", key, value, "NX", "PX", ms});
    if (!reply.ok()) {
      return reply.status();
    }
    return (*reply)->type == REDIS_REPLY_STATUS;  // +OK; nil when the key exists
  }

  absl::StatusOr<bool> ExtendIfEquals(std::string_view key, std::string_view value,
                                      std::chrono::milliseconds ttl) override {
    static constexpr std::string_view kScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then "
        "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    const std::string ms = absl::StrCat(std::max<int64_t>(1, ttl.count()));
    return IntegerReply(Command({"EVAL", kScript, "1", key, value, ms}), "PEXPIRE");
  }

  absl::StatusOr<bool> DeleteIfEquals(std::string_view key, std::string_view value) override {
    static constexpr std::string_view kScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then "
        "return redis.call('DEL', KEYS[1]) else return 0 end";
    return IntegerReply(Command({"EVAL", kScript, "1", key, value}), "DEL");
  }

 private:
  // 1 → true, 0 → false.
  static absl::StatusOr<bool> IntegerReply(absl::StatusOr<RedisReply> reply,
                                           std::string_view what) {
    if (!reply.ok()) {
      return reply.status();
    }
    if ((*reply)->type != REDIS_REPLY_INTEGER) {
      return absl::InternalError(absl::StrCat("unexpected reply to the compare-and-", AV(what)));
    }
    return (*reply)->integer == 1;
  }

  absl::StatusOr<RedisReply> Command(std::initializer_list<std::string_view> args) {
    return redis_.Command(args);
  }

  RedisConnections redis_;
  std::once_flag pipeline_once_;
  std::unique_ptr<RedisPipeline> pipeline_;
};

}  // namespace

std::unique_ptr<Cache> NewRedisCache(RedisOptions options) {
  return std::make_unique<RedisCache>(std::move(options));
}

}  // namespace dj::cache
