// The Redis Streams bus against the test Redis (DJ_TEST_REDIS_URL): every field arrives, every
// group sees every event, consumers of one group share the work, a failed handler gets the event
// again, a poison event ends in the dead-letter stream, and with ApplyOnce and the outbox relay
// (MariaDB and SQLite) each event takes effect once even across redeliveries and a Redis outage.
// Each test uses key prefixes of its own, so runs and tests never see each other's streams.
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/db/migrate.h"
#include "common/events/events.h"
#include "common/events/redis_streams.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::events {
namespace {

constexpr auto kDeadline = std::chrono::seconds(30);
constexpr char kStream[] = "org.organizations";

db::RedisUrl TestRedisUrl() {
  auto url = db::ParseRedisUrl(testing::RequireEnv("DJ_TEST_REDIS_URL"));
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : db::RedisUrl{};
}

std::string UniquePrefix() {
  static std::atomic<int> n{0};
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat("test:", getpid(), ":", test->name(), ":", n.fetch_add(1), ":",
                      std::chrono::steady_clock::now().time_since_epoch().count(), ":");
}

// Short waits everywhere so the tests run quickly; correctness never depends on them.
RedisStreamsOptions FastOptions(const std::string& prefix) {
  return {.redis = {.url = TestRedisUrl()},
          .key_prefix = prefix,
          .block = std::chrono::milliseconds(100),
          .min_idle = std::chrono::milliseconds(200),
          .max_deliveries = 100,
          .retry_after = std::chrono::milliseconds(100)};
}

// What handlers saw, from the consumer threads.
class Seen {
 public:
  void Add(const Event& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
  }
  std::vector<Event> Get() {
    std::lock_guard lock(mu_);
    return events_;
  }
  size_t Size() {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  EventBus::Handler Handler() {
    return [this](const Event& e) {
      Add(e);
      return absl::OkStatus();
    };
  }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
};

// Looks at the streams directly.
class RedisProbe {
 public:
  RedisProbe() : redis_({.url = TestRedisUrl()}, "test") {}

  int64_t Len(const std::string& key) {
    auto r = redis_.Command({"XLEN", key});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)->integer : -1;
  }

  int64_t Pending(const std::string& key, const std::string& group) {
    auto r = redis_.Command({"XPENDING", key, group});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && (*r)->type == REDIS_REPLY_ARRAY ? (*r)->element[0]->integer : -1;
  }

  // The fields of every entry of `key`, oldest first.
  std::vector<std::map<std::string, std::string>> Entries(const std::string& key) {
    std::vector<std::map<std::string, std::string>> out;
    auto r = redis_.Command({"XRANGE", key, "-", "+"});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) {
      return out;
    }
    for (size_t i = 0; i < (*r)->elements; ++i) {
      const redisReply* fields = (*r)->element[i]->element[1];
      auto& m = out.emplace_back();
      for (size_t j = 0; j + 1 < fields->elements; j += 2) {
        m[std::string(fields->element[j]->str, fields->element[j]->len)] =
            std::string(fields->element[j + 1]->str, fields->element[j + 1]->len);
      }
    }
    return out;
  }

  // The consumer names of a group.
  std::set<std::string> Consumers(const std::string& key, const std::string& group) {
    std::set<std::string> names;
    auto r = redis_.Command({"XINFO", "CONSUMERS", key, group});
    EXPECT_TRUE(r.ok()) << r.status();
    for (size_t i = 0; r.ok() && i < (*r)->elements; ++i) {
      const redisReply* c = (*r)->element[i];
      names.insert(std::string(c->element[1]->str, c->element[1]->len));  // [name, <name>, ...]
    }
    return names;
  }

  absl::StatusOr<cache::RedisReply> Command(std::initializer_list<std::string_view> args) {
    return redis_.Command(args);
  }

  absl::Status Add(const std::string& key, std::initializer_list<std::string_view> fields) {
    std::vector<std::string_view> args = {"XADD", key, "*"};
    args.insert(args.end(), fields);
    return redis_.Command(args).status();
  }

 private:
  cache::RedisConnections redis_;
};

Event MakeEvent(int64_t id, std::string type = "Created") {
  return {.id = id,
          .stream = kStream,
          .type = std::move(type),
          .key = absl::StrCat("organizations/", id),
          .sequence = id % 7 + 1,
          .payload = std::string("p\0\xff", 3) + std::to_string(id),
          .occurred_us = 1'700'000'000'000'000 + id};
}

bool Eventually(const std::function<bool()>& ready) { return testing::WaitFor(ready, kDeadline); }

TEST(RedisStreamsTest, PublishedEventArrivesWithEveryField) {
  RedisStreamsBus bus(FastOptions(UniquePrefix()));
  Seen seen;
  bus.Subscribe(kStream, "ledger", seen.Handler());
  bus.Start();
  const Event sent = MakeEvent(42);
  ASSERT_TRUE(bus.Publish(sent).ok());
  ASSERT_TRUE(Eventually([&] { return seen.Size() == 1; }));
  const Event got = seen.Get()[0];
  EXPECT_EQ(got.id, sent.id);
  EXPECT_EQ(got.stream, sent.stream);
  EXPECT_EQ(got.type, sent.type);
  EXPECT_EQ(got.key, sent.key);
  EXPECT_EQ(got.sequence, sent.sequence);
  EXPECT_EQ(got.payload, sent.payload);  // binary-safe
  EXPECT_EQ(got.occurred_us, sent.occurred_us);
  RedisProbe probe;
  EXPECT_EQ(probe.Len(bus.StreamKey(kStream)), 1);
  EXPECT_TRUE(Eventually([&] { return probe.Pending(bus.StreamKey(kStream), "ledger") == 0; }));
}

TEST(RedisStreamsTest, EveryGroupSeesEveryEventInOrder) {
  RedisStreamsBus bus(FastOptions(UniquePrefix()));
  Seen ledger;
  Seen eval;
  bus.Subscribe(kStream, "ledger", ledger.Handler());
  bus.Subscribe(kStream, "eval", eval.Handler());
  bus.Start();
  for (int64_t id = 1; id <= 5; ++id) {
    ASSERT_TRUE(bus.Publish(MakeEvent(id)).ok());
  }
  ASSERT_TRUE(Eventually([&] { return ledger.Size() == 5 && eval.Size() == 5; }));
  for (Seen* s : {&ledger, &eval}) {
    const auto events = s->Get();
    for (int64_t i = 0; i < 5; ++i) {
      EXPECT_EQ(events[i].id, i + 1);
    }
  }
}

TEST(RedisStreamsTest, ConsumersOfOneGroupShareTheWork) {
  const std::string prefix = UniquePrefix();
  RedisStreamsOptions options = FastOptions(prefix);
  options.read_count = 1;  // one message at a time, so the other consumer gets a turn
  RedisStreamsBus a(options);
  RedisStreamsBus b(options);
  ASSERT_NE(a.consumer(), b.consumer());
  Seen seen_a;
  Seen seen_b;
  // Slow handlers: while one consumer is busy, the other takes the next message.
  auto slow = [](Seen* seen) {
    return [seen](const Event& e) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      seen->Add(e);
      return absl::OkStatus();
    };
  };
  a.Subscribe(kStream, "workers", slow(&seen_a));
  b.Subscribe(kStream, "workers", slow(&seen_b));
  constexpr int kEvents = 30;
  for (int64_t id = 1; id <= kEvents; ++id) {
    ASSERT_TRUE(a.Publish(MakeEvent(id)).ok());
  }
  a.Start();
  b.Start();
  ASSERT_TRUE(Eventually([&] { return seen_a.Size() + seen_b.Size() == kEvents; }));
  EXPECT_GT(seen_a.Size(), 0u);
  EXPECT_GT(seen_b.Size(), 0u);
  std::set<int64_t> ids;
  for (Seen* s : {&seen_a, &seen_b}) {
    for (const Event& e : s->Get()) {
      EXPECT_TRUE(ids.insert(e.id).second) << "event " << e.id << " handled twice";
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
}

TEST(RedisStreamsTest, AFailedHandlerLeavesTheEventPendingUntilItSucceeds) {
  RedisStreamsBus bus(FastOptions(UniquePrefix()));
  std::atomic<int> attempts{0};
  std::atomic<bool> healthy{false};
  Seen seen;
  bus.Subscribe(kStream, "ledger", [&](const Event& e) {
    ++attempts;
    if (!healthy) {
      return absl::UnavailableError("ledger database down");
    }
    seen.Add(e);
    return absl::OkStatus();
  });
  bus.Start();
  ASSERT_TRUE(bus.Publish(MakeEvent(7)).ok());
  // Delivered again after failing (claimed back once idle for min_idle), and still pending.
  ASSERT_TRUE(Eventually([&] { return attempts >= 2; }));
  RedisProbe probe;
  EXPECT_EQ(probe.Pending(bus.StreamKey(kStream), "ledger"), 1);
  EXPECT_EQ(seen.Size(), 0u);
  healthy = true;
  ASSERT_TRUE(Eventually([&] { return seen.Size() == 1; }));
  EXPECT_EQ(seen.Get()[0].id, 7);
  EXPECT_TRUE(Eventually([&] { return probe.Pending(bus.StreamKey(kStream), "ledger") == 0; }));
  EXPECT_EQ(probe.Len(bus.DeadLetterKey(kStream)), 0);
}

TEST(RedisStreamsTest, APoisonEventGoesToTheDeadLetterStreamAndOthersFlow) {
  RedisStreamsOptions options = FastOptions(UniquePrefix());
  options.max_deliveries = 3;
  RedisStreamsBus bus(options);
  std::atomic<int> poison_attempts{0};
  Seen good;
  bus.Subscribe(kStream, "ledger", [&](const Event& e) {
    if (e.type == "Poison") {
      ++poison_attempts;
      return absl::InvalidArgumentError("cannot apply");
    }
    good.Add(e);
    return absl::OkStatus();
  });
  RedisProbe probe;
  const std::string key = bus.StreamKey(kStream);
  const std::string dead = bus.DeadLetterKey(kStream);
  ASSERT_TRUE(bus.Publish(MakeEvent(1)).ok());
  ASSERT_TRUE(bus.Publish(MakeEvent(2, "Poison")).ok());
  // Not an event at all: dead-lettered at first sight, the handler never sees it.
  ASSERT_TRUE(probe.Add(key, {"junk", "x"}).ok());
  ASSERT_TRUE(bus.Publish(MakeEvent(3)).ok());
  bus.Start();

  ASSERT_TRUE(Eventually([&] { return probe.Len(dead) == 2; }));
  ASSERT_TRUE(Eventually([&] { return good.Size() == 2; }));
  EXPECT_EQ(poison_attempts, 3);  // max_deliveries tries, then given up on
  EXPECT_TRUE(Eventually([&] { return probe.Pending(key, "ledger") == 0; }));

  auto letters = probe.Entries(dead);
  ASSERT_EQ(letters.size(), 2u);
  std::map<std::string, std::string> junk = letters[0];
  std::map<std::string, std::string> poison = letters[1];
  if (junk.count("id") != 0) {
    std::swap(junk, poison);
  }
  EXPECT_EQ(junk["junk"], "x");
  EXPECT_EQ(junk["dead_reason"].rfind("undecodable", 0), 0u) << junk["dead_reason"];
  EXPECT_EQ(poison["id"], "2");
  EXPECT_EQ(poison["type"], "Poison");
  EXPECT_EQ(poison["payload"], MakeEvent(2).payload);
  EXPECT_EQ(poison["dead_group"], "ledger");
  EXPECT_EQ(poison["dead_deliveries"], "4");  // the fourth delivery was the one given up
  EXPECT_FALSE(poison["dead_message_id"].empty());
}

TEST(RedisStreamsTest, AnEventHeldByADeadConsumerIsClaimedAndTheDeadConsumerForgotten) {
  RedisStreamsOptions options = FastOptions(UniquePrefix());
  options.forget_consumer_after = std::chrono::milliseconds(300);
  RedisStreamsBus bus(options);
  const std::string key = bus.StreamKey(kStream);
  RedisProbe probe;
  ASSERT_TRUE(bus.Publish(MakeEvent(5)).ok());
  // A consumer of another process read it and died before acknowledging it.
  ASSERT_TRUE(probe.Command({"XGROUP", "CREATE", key, "ledger", "0", "MKSTREAM"}).ok());
  ASSERT_TRUE(probe.Command({"XREADGROUP", "GROUP", "ledger", "ghost-1", "COUNT", "1",
                             "STREAMS", key, ">"})
                  .ok());
  ASSERT_EQ(probe.Pending(key, "ledger"), 1);

  Seen seen;
  bus.Subscribe(kStream, "ledger", seen.Handler());
  bus.Start();
  ASSERT_TRUE(Eventually([&] { return seen.Size() == 1; }));
  EXPECT_EQ(seen.Get()[0].id, 5);
  EXPECT_TRUE(Eventually([&] { return probe.Pending(key, "ledger") == 0; }));
  EXPECT_TRUE(Eventually([&] { return probe.Consumers(key, "ledger").count("ghost-1") == 0; }));
  EXPECT_EQ(probe.Consumers(key, "ledger").count(bus.consumer()), 1u);
}

TEST(RedisStreamsTest, AStreamThatVanishedIsReadAgainOnceRecreated) {
  // Redis restarted without persistence: the key and its groups are gone.
  RedisStreamsBus bus(FastOptions(UniquePrefix()));
  Seen seen;
  bus.Subscribe(kStream, "ledger", seen.Handler());
  bus.Start();
  ASSERT_TRUE(bus.Publish(MakeEvent(1)).ok());
  ASSERT_TRUE(Eventually([&] { return seen.Size() == 1; }));
  RedisProbe probe;
  ASSERT_TRUE(probe.Command({"DEL", bus.StreamKey(kStream)}).ok());
  ASSERT_TRUE(bus.Publish(MakeEvent(2)).ok());
  ASSERT_TRUE(Eventually([&] { return seen.Size() == 2; }));
  EXPECT_EQ(seen.Get()[1].id, 2);
}

TEST(RedisStreamsTest, ARedisThatDoesNotAnswerTimesOutPublish) {
  // Accepts connections (the kernel's backlog) but never replies: a hung server.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  RedisStreamsOptions options = FastOptions(UniquePrefix());
  options.redis.url = {.host = "127.0.0.1", .port = ntohs(addr.sin_port)};
  RedisStreamsBus bus(options);
  EXPECT_EQ(bus.Publish(MakeEvent(1)).code(), absl::StatusCode::kUnavailable);
  close(fd);
}

TEST(RedisStreamsTest, UnreachableRedisFailsPublishAndStopStillReturns) {
  RedisStreamsOptions options = FastOptions(UniquePrefix());
  options.redis.url = {.host = "127.0.0.1", .port = testing::FreePort()};
  RedisStreamsBus bus(options);
  bus.Subscribe(kStream, "ledger", [](const Event&) { return absl::OkStatus(); });
  bus.Start();
  absl::Status s = bus.Publish(MakeEvent(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // Again while the connection breaker is open: still an error, not a hang.
  EXPECT_EQ(bus.Publish(MakeEvent(1)).code(), absl::StatusCode::kUnavailable);
  bus.Stop();  // the consumer loop, retrying all along, ends
}

// With a database: ApplyOnce and the outbox, on MariaDB and SQLite.
class RedisStreamsDbTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool();
    ASSERT_TRUE(db::Migrate(*pool_, Schema(GetParam()), "events").ok());
    auto lease = pool_->Acquire();
    ASSERT_TRUE((*lease)->Exec("CREATE TABLE applied (consumer VARCHAR(64), event_id BIGINT)", {})
                    .ok());
  }

  // A handler whose effect is a row in `applied`, once per event.
  EventBus::Handler Applier(const std::string& consumer, std::atomic<int>* calls) {
    return [this, consumer, calls](const Event& e) {
      ++*calls;
      return ApplyOnce(
          *pool_, consumer, e,
          [&](db::Connection& c) {
            return c.Exec("INSERT INTO applied VALUES (?, ?)", {consumer, e.id}).status();
          },
          1);
    };
  }

  int64_t Applied(const std::string& consumer) {
    auto lease = pool_->Acquire();
    return (*lease)->Exec("SELECT COUNT(*) FROM applied WHERE consumer = ?", {consumer})
        ->rows[0].Int(0);
  }

  std::vector<int64_t> AppliedIds(const std::string& consumer) {
    auto lease = pool_->Acquire();
    auto r = (*lease)->Exec(
        "SELECT event_id FROM applied WHERE consumer = ? ORDER BY event_id", {consumer});
    std::vector<int64_t> ids;
    for (const db::Row& row : r->rows) {
      ids.push_back(row.Int(0));
    }
    return ids;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;
  ids::IdGenerator ids_{6};
};

TEST_P(RedisStreamsDbTest, ApplyOnceTakesEffectOnceAndNotAfterAFailedEffect) {
  const Event e = MakeEvent(11);
  auto insert = [&](db::Connection& c) {
    return c.Exec("INSERT INTO applied VALUES ('direct', ?)", {e.id}).status();
  };
  // A failed effect rolls its processed-event record back too: the redelivery applies it.
  absl::Status failed = ApplyOnce(
      *pool_, "direct", e, [](db::Connection&) { return absl::InternalError("boom"); }, 1);
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Applied("direct"), 0);
  ASSERT_TRUE(ApplyOnce(*pool_, "direct", e, insert, 1).ok());
  ASSERT_TRUE(ApplyOnce(*pool_, "direct", e, insert, 1).ok());  // a redelivery: no effect
  EXPECT_EQ(Applied("direct"), 1);
  // Another consumer has its own record.
  ASSERT_TRUE(ApplyOnce(
                  *pool_, "other", e,
                  [&](db::Connection& c) {
                    return c.Exec("INSERT INTO applied VALUES ('other', ?)", {e.id}).status();
                  },
                  1)
                  .ok());
  EXPECT_EQ(Applied("other"), 1);
}

TEST_P(RedisStreamsDbTest, AnEventDeliveredTwiceIsAppliedOnce) {
  RedisStreamsBus bus(FastOptions(UniquePrefix()));
  std::atomic<int> calls{0};
  bus.Subscribe(kStream, "ledger", Applier("ledger", &calls));
  bus.Start();
  // The relay publishes an event twice when it died between XADD and marking the row.
  ASSERT_TRUE(bus.Publish(MakeEvent(21)).ok());
  ASSERT_TRUE(bus.Publish(MakeEvent(21)).ok());
  ASSERT_TRUE(bus.Publish(MakeEvent(22)).ok());
  // One consumer thread handles them in order, so once 22 is applied both 21s were handled.
  ASSERT_TRUE(Eventually([&] { return AppliedIds("ledger") == std::vector<int64_t>{21, 22}; }));
  EXPECT_EQ(calls, 3);
}

TEST_P(RedisStreamsDbTest, OutboxThroughRedisToAConsumerSurvivesARedisOutage) {
  const std::string prefix = UniquePrefix();
  // Three events committed with their (here: absent) change.
  ASSERT_TRUE(pool_
                  ->Transact([&](db::Connection& c) -> absl::Status {
                    for (int i = 0; i < 3; ++i) {
                      auto e = Append(c, ids_,
                                      {.stream = kStream, .type = "Created",
                                       .key = absl::StrCat("organizations/", i),
                                       .payload = std::string("\0z", 2)},
                                      1);
                      if (!e.ok()) {
                        return e.status();
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());

  // Redis unreachable: nothing leaves the outbox, and the backlog says so.
  {
    RedisStreamsOptions down = FastOptions(prefix);
    down.redis.url = {.host = "127.0.0.1", .port = testing::FreePort()};
    RedisStreamsBus unreachable(down);
    OutboxRelay relay(*pool_, unreachable);
    auto n = relay.RelayOnce();
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 0);
    EXPECT_EQ(*relay.Backlog(), 3);
  }

  // Redis back (a relay started again): everything is published, consumed and applied once.
  RedisStreamsBus consumer(FastOptions(prefix));
  std::atomic<int> calls{0};
  consumer.Subscribe(kStream, "ledger", Applier("ledger", &calls));
  consumer.Start();
  RedisStreamsBus producer(FastOptions(prefix));
  OutboxRelay relay(*pool_, producer, {.poll_interval = std::chrono::milliseconds(50)});
  relay.Start();
  ASSERT_TRUE(Eventually([&] { return *relay.Backlog() == 0; }));
  ASSERT_TRUE(Eventually([&] { return Applied("ledger") == 3; }));
  relay.Stop();

  // The outbox order is the stream order.
  std::vector<int64_t> outbox_ids;
  {
    auto lease = pool_->Acquire();
    auto rows = (*lease)->Exec("SELECT id FROM outbox ORDER BY id", {});
    ASSERT_TRUE(rows.ok()) << rows.status();
    for (const db::Row& r : rows->rows) {
      outbox_ids.push_back(r.Int(0));
    }
  }
  RedisProbe probe;
  auto entries = probe.Entries(producer.StreamKey(kStream));
  ASSERT_EQ(entries.size(), 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i]["id"], std::to_string(outbox_ids[i]));
    EXPECT_EQ(entries[i]["payload"], std::string("\0z", 2));
  }
  EXPECT_EQ(AppliedIds("ledger"), outbox_ids);
}

INSTANTIATE_TEST_SUITE_P(Databases, RedisStreamsDbTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::events
