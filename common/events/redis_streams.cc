// The Redis Streams bus: XADD to publish; per subscription a consumer loop of XAUTOCLAIM (stuck
// messages), XREADGROUP (new ones), the handler, then XACK or, after too many deliveries, the
// dead-letter stream.
#include "common/events/redis_streams.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <atomic>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::events {

struct RedisStreamsBus::Subscription {
  std::string stream;
  std::string group;
  std::string key;
  std::mutex handler_mu;
  Handler handler;  // guarded by handler_mu (a later Subscribe replaces it)
  std::thread thread;
  // Loop state, touched only by the subscription's thread.
  bool group_ready = false;
  bool failing = false;  // the last Redis call failed (logged once per streak)
  std::string claim_cursor = "0-0";
  std::chrono::steady_clock::time_point next_claim;
  std::chrono::steady_clock::time_point next_forget;
};

namespace {

struct BusMetrics {
  metrics::Series<prometheus::Counter> published;
  metrics::Series<prometheus::Counter> consumed;
  metrics::Series<prometheus::Counter> failed;
  metrics::Series<prometheus::Counter> dead_lettered;
};

BusMetrics& Metrics() {
  static BusMetrics m{
      {prometheus::BuildCounter()
           .Name("dj_events_published_total")
           .Help("Events appended to a Redis stream.")
           .Register(metrics::Registry()),
       {"stream"}},
      {prometheus::BuildCounter()
           .Name("dj_events_consumed_total")
           .Help("Events a consumer group handled and acknowledged.")
           .Register(metrics::Registry()),
       {"stream", "group"}},
      {prometheus::BuildCounter()
           .Name("dj_events_handler_failures_total")
           .Help("Deliveries whose handler failed (left pending, delivered again).")
           .Register(metrics::Registry()),
       {"stream", "group"}},
      {prometheus::BuildCounter()
           .Name("dj_events_dead_lettered_total")
           .Help("Events moved to a dead-letter stream after too many failed deliveries.")
           .Register(metrics::Registry()),
       {"stream", "group"}},
  };
  return m;
}

std::string DefaultConsumerName() {
  static std::atomic<int> buses{0};
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid(), "-", buses.fetch_add(1) + 1);
}

bool IsText(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

std::string_view Text(const redisReply* r) { return {r->str, r->len}; }

bool IsArray(const redisReply* r, size_t min_elements = 0) {
  return r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements >= min_elements;
}

// A stream entry is [id, [field, value, ...]]; the fields are nil when the message was deleted
// (trimmed) while pending.
bool IsEntry(const redisReply* r) { return IsArray(r, 2) && IsText(r->element[0]); }

std::string_view EntryId(const redisReply& entry) { return Text(entry.element[0]); }

bool EntryDeleted(const redisReply& entry) { return !IsArray(entry.element[1]); }

absl::StatusOr<Event> Decode(const redisReply& entry) {
  const redisReply& fields = *entry.element[1];
  std::map<std::string_view, std::string_view> f;
  for (size_t i = 0; i + 1 < fields.elements; i += 2) {
    if (!IsText(fields.element[i]) || !IsText(fields.element[i + 1])) {
      return absl::DataLossError("a field is not a string");
    }
    f[Text(fields.element[i])] = Text(fields.element[i + 1]);
  }
  Event e;
  if (!absl::SimpleAtoi(AV(f["id"]), &e.id) || e.id == 0) {
    return absl::DataLossError("no event id");
  }
  if (!absl::SimpleAtoi(AV(f["occurred_us"]), &e.occurred_us)) {
    return absl::DataLossError("no occurred_us");
  }
  if (f["type"].empty()) {
    return absl::DataLossError("no type");
  }
  e.stream = f["stream"];
  e.type = f["type"];
  e.key = f["key"];
  e.payload = f["payload"];
  if (auto it = f.find("sequence");
      it != f.end() && !absl::SimpleAtoi(AV(it->second), &e.sequence)) {
    return absl::DataLossError("unreadable sequence");
  }
  return e;
}

// The group is gone: its key was deleted (a blocked read then ends with UNBLOCKED) or Redis
// restarted without it.
bool GroupGone(const absl::Status& s) {
  return absl::StrContains(s.message(), "NOGROUP") || absl::StrContains(s.message(), "UNBLOCKED");
}

}  // namespace

RedisStreamsBus::RedisStreamsBus(RedisStreamsOptions options)
    : options_(std::move(options)),
      consumer_(options_.consumer.empty() ? DefaultConsumerName() : options_.consumer),
      redis_(options_.redis, "events") {}

RedisStreamsBus::~RedisStreamsBus() { Stop(); }

std::string RedisStreamsBus::StreamKey(std::string_view stream) const {
  return absl::StrCat(options_.key_prefix, AV(stream));
}

std::string RedisStreamsBus::DeadLetterKey(std::string_view stream) const {
  return absl::StrCat(StreamKey(stream), ":dead");
}

absl::Status RedisStreamsBus::Publish(const Event& event) {
  const std::string key = StreamKey(event.stream);
  const std::string max_len = absl::StrCat(options_.max_len);
  const std::string id = absl::StrCat(event.id);
  const std::string occurred = absl::StrCat(event.occurred_us);
  const std::string sequence = absl::StrCat(event.sequence);
  auto reply = redis_.Command(
      {"XADD",     key,      "MAXLEN",     "~",           max_len,       "*",     "id",
       id,         "stream", event.stream, "type",        event.type,    "key",   event.key,
       "sequence", sequence, "payload",    event.payload, "occurred_us", occurred});
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat("publish to ", key, ": ", reply.status().message()));
  }
  if (!IsText(reply->get())) {
    return absl::InternalError(absl::StrCat("publish to ", key, ": unexpected reply to XADD"));
  }
  Metrics().published.With({event.stream}).Increment();
  return absl::OkStatus();
}

void RedisStreamsBus::Subscribe(const std::string& stream, const std::string& group,
                                Handler handler) {
  std::lock_guard lock(mu_);
  for (auto& sub : subscriptions_) {
    if (sub->stream == stream && sub->group == group) {
      std::lock_guard handler_lock(sub->handler_mu);
      sub->handler = std::move(handler);
      return;
    }
  }
  auto sub = std::make_unique<Subscription>();
  sub->stream = stream;
  sub->group = group;
  sub->key = StreamKey(stream);
  sub->handler = std::move(handler);
  if (started_ && !stop_) {
    sub->thread = std::thread([this, s = sub.get()] { Run(*s); });
  }
  subscriptions_.push_back(std::move(sub));
}

void RedisStreamsBus::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) {
    return;
  }
  started_ = true;
  for (auto& sub : subscriptions_) {
    sub->thread = std::thread([this, s = sub.get()] { Run(*s); });
  }
}

void RedisStreamsBus::Stop() {
  std::vector<Subscription*> subs;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (auto& sub : subscriptions_) {
      subs.push_back(sub.get());
    }
  }
  stopped_.notify_all();
  // Subscribe starts no thread once stop_ is set, so these are all the threads there are.
  for (Subscription* sub : subs) {
    if (sub->thread.joinable()) {
      sub->thread.join();
    }
  }
}

void RedisStreamsBus::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  stopped_.wait_for(lock, d, [&] { return stop_; });
}

void RedisStreamsBus::Run(Subscription& sub) {
  const auto claim_every = std::max(options_.min_idle / 2, std::chrono::milliseconds(10));
  const auto forget_every =
      std::max(options_.forget_consumer_after / 2, std::chrono::milliseconds(10));
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        return;
      }
    }
    absl::Status s = EnsureGroup(sub);
    if (s.ok() && std::chrono::steady_clock::now() >= sub.next_claim) {
      bool more = false;
      s = ClaimStuck(sub, &more);
      if (s.ok() && !more) {
        sub.next_claim = std::chrono::steady_clock::now() + claim_every;
      }
    }
    if (s.ok() && std::chrono::steady_clock::now() >= sub.next_forget) {
      s = ForgetDeadConsumers(sub);
      if (s.ok()) {
        sub.next_forget = std::chrono::steady_clock::now() + forget_every;
      }
    }
    if (s.ok()) {
      s = ReadNew(sub);
    }
    if (s.ok()) {
      if (sub.failing) {
        sub.failing = false;
        log::Info("event consumer reading again", {{"stream", sub.key}, {"group", sub.group}});
      }
      continue;
    }
    if (GroupGone(s)) {
      sub.group_ready = false;  // recreated (from what the stream holds) on the next pass
    }
    if (!sub.failing) {
      sub.failing = true;
      log::Warn("event consumer cannot read; retrying",
                {{"stream", sub.key}, {"group", sub.group}, {"error", SV(s.message())}});
    }
    SleepUnlessStopped(options_.retry_after);
  }
}

absl::Status RedisStreamsBus::EnsureGroup(Subscription& sub) {
  if (sub.group_ready) {
    return absl::OkStatus();
  }
  // From "0": what the stream already holds counts for a new group, since the relay does not
  // wait for consumers to exist.
  auto reply = redis_.Command({"XGROUP", "CREATE", sub.key, sub.group, "0", "MKSTREAM"});
  if (!reply.ok() && !absl::StrContains(reply.status().message(), "BUSYGROUP")) {
    return reply.status();
  }
  sub.group_ready = true;
  return absl::OkStatus();
}

absl::Status RedisStreamsBus::ClaimStuck(Subscription& sub, bool* more) {
  const std::string min_idle = absl::StrCat(options_.min_idle.count());
  const std::string count = absl::StrCat(options_.read_count);
  auto reply = redis_.Command(
      {"XAUTOCLAIM", sub.key, sub.group, consumer_, min_idle, sub.claim_cursor, "COUNT", count});
  if (!reply.ok()) {
    return reply.status();
  }
  const redisReply* r = reply->get();
  if (!IsArray(r, 2) || !IsText(r->element[0]) || !IsArray(r->element[1])) {
    return absl::InternalError("redis: unexpected reply to XAUTOCLAIM");
  }
  sub.claim_cursor = Text(r->element[0]);
  *more = sub.claim_cursor != "0-0";
  const redisReply& claimed = *r->element[1];
  for (size_t i = 0; i < claimed.elements; ++i) {
    const redisReply* entry = claimed.element[i];
    if (!IsEntry(entry)) {
      continue;
    }
    // XAUTOCLAIM counted this delivery; XPENDING on the one id says how many there have been.
    const std::string id(EntryId(*entry));
    auto pending = redis_.Command({"XPENDING", sub.key, sub.group, id, id, "1"});
    if (!pending.ok()) {
      return pending.status();
    }
    const redisReply* p = pending->get();
    if (!IsArray(p, 1) || !IsArray(p->element[0], 4) ||
        p->element[0]->element[3]->type != REDIS_REPLY_INTEGER) {
      continue;  // no longer pending: acknowledged meanwhile by its first consumer
    }
    RETURN_IF_ERROR(Deliver(sub, *entry, p->element[0]->element[3]->integer));
  }
  return absl::OkStatus();
}

absl::Status RedisStreamsBus::ForgetDeadConsumers(Subscription& sub) {
  auto reply = redis_.Command({"XINFO", "CONSUMERS", sub.key, sub.group});
  if (!reply.ok()) {
    return reply.status();
  }
  const redisReply* r = reply->get();
  if (!IsArray(r)) {
    return absl::InternalError("redis: unexpected reply to XINFO CONSUMERS");
  }
  for (size_t i = 0; i < r->elements; ++i) {  // each [name, n, pending, n, idle, n, ...]
    const redisReply* c = r->element[i];
    if (!IsArray(c)) {
      continue;
    }
    std::string name;
    int64_t pending = -1;
    int64_t idle_ms = -1;
    for (size_t j = 0; j + 1 < c->elements; j += 2) {
      if (!IsText(c->element[j])) {
        continue;
      }
      const std::string_view field = Text(c->element[j]);
      const redisReply* v = c->element[j + 1];
      if (field == "name" && IsText(v)) {
        name = Text(v);
      } else if (field == "pending" && v->type == REDIS_REPLY_INTEGER) {
        pending = v->integer;
      } else if (field == "idle" && v->type == REDIS_REPLY_INTEGER) {
        idle_ms = v->integer;
      }
    }
    // Nothing pending means nothing is lost by forgetting it; a live consumer that was merely
    // quiet is recreated by its next XREADGROUP.
    if (name.empty() || name == consumer_ || pending != 0 ||
        idle_ms < options_.forget_consumer_after.count()) {
      continue;
    }
    if (auto del = redis_.Command({"XGROUP", "DELCONSUMER", sub.key, sub.group, name}); !del.ok()) {
      return del.status();
    }
    log::Info("forgot an idle event consumer",
              {{"stream", sub.key}, {"group", sub.group}, {"consumer", name}});
  }
  return absl::OkStatus();
}

absl::Status RedisStreamsBus::ReadNew(Subscription& sub) {
  const std::string count = absl::StrCat(options_.read_count);
  const std::string block = absl::StrCat(options_.block.count());
  const std::string_view args[] = {"XREADGROUP", "GROUP", sub.group, consumer_, "COUNT", count,
                                   "BLOCK",      block,   "STREAMS", sub.key,   ">"};
  auto reply = redis_.Command(args, options_.block);
  if (!reply.ok()) {
    return reply.status();
  }
  const redisReply* r = reply->get();
  if (r->type == REDIS_REPLY_NIL) {
    return absl::OkStatus();  // nothing new within `block`
  }
  if (!IsArray(r)) {
    return absl::InternalError("redis: unexpected reply to XREADGROUP");
  }
  for (size_t i = 0; i < r->elements; ++i) {  // [[key, [entry, ...]], ...]: one key here
    const redisReply* stream = r->element[i];
    if (!IsArray(stream, 2) || !IsArray(stream->element[1])) {
      return absl::InternalError("redis: unexpected reply to XREADGROUP");
    }
    for (size_t j = 0; j < stream->element[1]->elements; ++j) {
      const redisReply* entry = stream->element[1]->element[j];
      if (!IsEntry(entry)) {
        continue;
      }
      RETURN_IF_ERROR(Deliver(sub, *entry, 1));
    }
  }
  return absl::OkStatus();
}

absl::Status RedisStreamsBus::Deliver(Subscription& sub, const redisReply& entry,
                                      int64_t deliveries) {
  const std::string id(EntryId(entry));
  if (EntryDeleted(entry)) {
    // Trimmed away while pending: nothing left to deliver.
    return redis_.Command({"XACK", sub.key, sub.group, id}).status();
  }
  auto event = Decode(entry);
  if (!event.ok()) {
    return DeadLetter(sub, entry, deliveries,
                      absl::StrCat("undecodable: ", event.status().message()));
  }
  if (deliveries > options_.max_deliveries) {
    return DeadLetter(sub, entry, deliveries,
                      absl::StrCat("failed ", deliveries - 1, " deliveries"));
  }
  if (event->stream.empty()) {
    event->stream = sub.stream;
  }
  Handler handler;
  {
    std::lock_guard lock(sub.handler_mu);
    handler = sub.handler;
  }
  if (absl::Status s = handler(*event); !s.ok()) {
    // Left pending: XAUTOCLAIM hands it out again once it has been idle for min_idle.
    Metrics().failed.With({sub.stream, sub.group}).Increment();
    log::Warn("event handler failed; will deliver again", {{"stream", sub.key},
                                                           {"group", sub.group},
                                                           {"event_id", absl::StrCat(event->id)},
                                                           {"type", event->type},
                                                           {"deliveries", absl::StrCat(deliveries)},
                                                           {"error", SV(s.message())}});
    return absl::OkStatus();
  }
  if (auto ack = redis_.Command({"XACK", sub.key, sub.group, id}); !ack.ok()) {
    return ack.status();  // handled but still pending: delivered again, skipped by ApplyOnce
  }
  Metrics().consumed.With({sub.stream, sub.group}).Increment();
  return absl::OkStatus();
}

absl::Status RedisStreamsBus::DeadLetter(Subscription& sub, const redisReply& entry,
                                         int64_t deliveries, std::string_view reason) {
  const std::string id(EntryId(entry));
  const std::string dead_key = DeadLetterKey(sub.stream);
  const std::string max_len = absl::StrCat(options_.max_len);
  const std::string delivered = absl::StrCat(deliveries);
  // The original fields, then where it came from and why it was given up on.
  std::vector<std::string_view> args = {"XADD", dead_key, "MAXLEN", "~", max_len, "*"};
  const redisReply& fields = *entry.element[1];
  for (size_t i = 0; i + 1 < fields.elements; i += 2) {
    if (IsText(fields.element[i]) && IsText(fields.element[i + 1])) {
      args.push_back(Text(fields.element[i]));
      args.push_back(Text(fields.element[i + 1]));
    }
  }
  const std::string_view extra[] = {"dead_group",      sub.group, "dead_message_id", id,
                                    "dead_deliveries", delivered, "dead_reason",     reason};
  args.insert(args.end(), std::begin(extra), std::end(extra));
  // Added before the XACK: a crash in between leaves a duplicate dead letter, never a loss.
  if (auto added = redis_.Command(args); !added.ok()) {
    return added.status();
  }
  if (auto ack = redis_.Command({"XACK", sub.key, sub.group, id}); !ack.ok()) {
    return ack.status();
  }
  Metrics().dead_lettered.With({sub.stream, sub.group}).Increment();
  log::Error("event moved to the dead-letter stream", {{"stream", sub.key},
                                                       {"group", sub.group},
                                                       {"message_id", id},
                                                       {"dead_letter", dead_key},
                                                       {"reason", reason}});
  return absl::OkStatus();
}

}  // namespace dj::events
