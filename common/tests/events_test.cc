// Outbox, relay, in-process bus and processed-event records on MariaDB and SQLite: events written
// with a rolled-back change never leave, order is kept, a failing consumer gets the event again
// and the others do not apply it twice, and a relay that died leaves nothing behind.
#include "common/db/migrate.h"
#include "common/events/events.h"
#include "common/rpc/errors.h"
#include "common/testing/test_env.h"
#include "common/runtime/status_macros.h"
#include "gtest/gtest.h"

namespace dj::events {
namespace {

class EventsTest : public ::testing::TestWithParam<db::Dialect> {
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

  // Writes `n` events in one committed transaction (or a rolled-back one).
  void Write(int n, bool commit = true, const std::string& key = "organizations/1") {
    absl::Status s = pool_->Transact([&](db::Connection& c) -> absl::Status {
      for (int i = 0; i < n; ++i) {
        auto e = Append(c, ids_, {.stream = "org.organizations", .type = "Created", .key = key,
                                  .payload = std::string("p\0\xff", 3) + std::to_string(i)},
                        1);
        if (!e.ok()) {
          return e.status();
        }
      }
      return commit ? absl::OkStatus() : absl::AbortedError("roll back");
    });
    EXPECT_EQ(s.ok(), commit) << s;
  }

  // A consumer that applies each event once (its effect and the record in one transaction).
  EventBus::Handler Consumer(const std::string& name, std::vector<Event>* seen) {
    return [this, name, seen](const Event& e) -> absl::Status {
      return pool_->Transact([&](db::Connection& c) -> absl::Status {
        auto first = MarkProcessed(c, name, e.id, 1);
        if (!first.ok()) {
          return first.status();
        }
        if (*first) {
          seen->push_back(e);
          return c.Exec("INSERT INTO applied VALUES (?, ?)", {name, e.id}).status();
        }
        return absl::OkStatus();
      });
    };
  }

  int64_t Applied(const std::string& consumer) {
    auto lease = pool_->Acquire();
    return (*lease)->Exec("SELECT COUNT(*) FROM applied WHERE consumer = ?", {consumer})
        ->rows[0].Int(0);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;
  ids::IdGenerator ids_{5};
};

TEST_P(EventsTest, CommittedEventsArriveInOrderRolledBackOnesNever) {
  auto bus = NewInProcessBus();
  std::vector<Event> seen;
  bus->Subscribe("org.organizations", "ledger", Consumer("ledger", &seen));
  Write(3);
  Write(2, /*commit=*/false);
  Write(2);
  OutboxRelay relay(*pool_, *bus, {.batch = 2});
  auto n = relay.RelayOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 5);
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_LT(seen[i - 1].id, seen[i].id);
  }
  EXPECT_EQ(seen[0].payload, std::string("p\0\xff", 3) + "0");  // binary-safe
  EXPECT_EQ(seen[0].key, "organizations/1");
  EXPECT_EQ(*relay.Backlog(), 0);
  EXPECT_EQ(*relay.RelayOnce(), 0);  // nothing twice
}

TEST_P(EventsTest, AFailingConsumerGetsItAgainAndOthersApplyOnce) {
  auto bus = NewInProcessBus();
  std::vector<Event> eval_seen;
  std::vector<Event> ledger_seen;
  bool ledger_down = true;
  bus->Subscribe("org.organizations", "eval", Consumer("eval", &eval_seen));
  auto ledger = Consumer("ledger", &ledger_seen);
  bus->Subscribe("org.organizations", "ledger", [&](const Event& e) {
    return ledger_down ? absl::UnavailableError("ledger down") : ledger(e);
  });
  Write(2);
  OutboxRelay relay(*pool_, *bus);
  EXPECT_EQ(*relay.RelayOnce(), 0);  // the first event is blocked by the failing consumer
  EXPECT_EQ(*relay.RelayOnce(), 0);  // and offered again (eval sees a redelivery)
  EXPECT_EQ(*relay.Backlog(), 2);
  ledger_down = false;
  EXPECT_EQ(*relay.RelayOnce(), 2);
  EXPECT_EQ(Applied("eval"), 2);  // redelivered, applied once
  EXPECT_EQ(Applied("ledger"), 2);
  EXPECT_EQ(eval_seen.size(), 2u);
}

TEST_P(EventsTest, ARelayThatDiedLeavesNothingBehind) {
  auto bus = NewInProcessBus();
  std::vector<Event> seen;
  bus->Subscribe("org.organizations", "ledger", Consumer("ledger", &seen));
  Write(3);
  {
    // A relay that never ran (the process died after the commit).
    OutboxRelay dead(*pool_, *bus);
  }
  OutboxRelay relay(*pool_, *bus);
  relay.Start();
  EXPECT_TRUE(testing::WaitFor([&] { return *relay.Backlog() == 0; }, std::chrono::seconds(20)));
  relay.Stop();
  EXPECT_EQ(Applied("ledger"), 3);

  // A delivery whose "published" mark was lost (crash between deliver and mark) is redelivered
  // and skipped by the consumer.
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE((*lease)->Exec("UPDATE outbox SET published_us = NULL", {}).ok());
  }
  EXPECT_EQ(*relay.RelayOnce(), 3);
  EXPECT_EQ(Applied("ledger"), 3);
}

TEST_P(EventsTest, PurgeKeepsRecentAndPendingEvents) {
  auto bus = NewInProcessBus();
  Write(2);
  OutboxRelay relay(*pool_, *bus, {.keep_published = std::chrono::hours(1)});
  ASSERT_EQ(*relay.RelayOnce(), 2);  // no subscribers: taken by nobody, fine
  Write(1);                          // pending
  const int64_t two_hours_later =
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(2))
          .count();
  ASSERT_TRUE(relay.Purge(two_hours_later).ok());
  auto lease = pool_->Acquire();
  EXPECT_EQ((*lease)->Exec("SELECT COUNT(*) FROM outbox", {})->rows[0].Int(0), 1);
}

TEST_P(EventsTest, EachKeyHasItsOwnGaplessSequenceThatTheRelayCarries) {
  auto bus = NewInProcessBus();
  std::vector<Event> seen;
  bus->Subscribe("org.organizations", "ledger", Consumer("ledger", &seen));
  Write(2, true, "organizations/1");
  Write(1, true, "organizations/2");
  Write(3, /*commit=*/false, "organizations/1");  // rolled back: its numbers are not used
  Write(1, true, "organizations/1");
  OutboxRelay relay(*pool_, *bus);
  ASSERT_EQ(*relay.RelayOnce(), 4);
  ASSERT_EQ(seen.size(), 4u);
  std::vector<std::pair<std::string, int64_t>> got;
  for (const Event& e : seen) {
    got.emplace_back(e.key, e.sequence);
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, int64_t>>{{"organizations/1", 1},
                                                               {"organizations/1", 2},
                                                               {"organizations/2", 1},
                                                               {"organizations/1", 3}}));
  auto lease = pool_->Acquire();
  EXPECT_EQ(*LastSequence(**lease, "organizations/1"), 3);
  EXPECT_EQ(*LastSequence(**lease, "organizations/9"), 0);
}

TEST_P(EventsTest, AnEventIsNeverAppliedBeforeTheOnesOfItsKeyBeforeIt) {
  std::vector<int64_t> applied;
  auto apply = [&](const Event& e) {
    return ApplyInOrder(
        *pool_, "member.accounts", e,
        [&](db::Connection& c) -> absl::Status {
          applied.push_back(e.sequence);
          return c.Exec("INSERT INTO applied VALUES (?, ?)", {std::string("accounts"), e.id})
              .status();
        },
        1);
  };
  auto event = [](int64_t id, const std::string& key, int64_t sequence) {
    return Event{.id = id, .stream = "org.organizations", .type = "Moved", .key = key,
                 .sequence = sequence};
  };
  // Event 2 arrives first (event 1 failed and is pending): it waits, and nothing is applied.
  absl::Status early = apply(event(12, "organizations", 2));
  EXPECT_EQ(early.code(), absl::StatusCode::kUnavailable) << early;
  EXPECT_NE(early.message().find("waits for event 1"), std::string_view::npos) << early;
  EXPECT_TRUE(applied.empty());
  // Another key is not held up by it.
  EXPECT_TRUE(apply(event(13, "organizations/5", 1)).ok());
  // Then 1, then 2 again; redeliveries of either change nothing.
  EXPECT_TRUE(apply(event(11, "organizations", 1)).ok());
  EXPECT_TRUE(apply(event(12, "organizations", 2)).ok());
  EXPECT_TRUE(apply(event(11, "organizations", 1)).ok());
  EXPECT_TRUE(apply(event(12, "organizations", 2)).ok());
  EXPECT_EQ(applied, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(Applied("accounts"), 3);
  auto position = [&](const std::string& consumer, const std::string& key) {
    auto lease = pool_->Acquire();
    return *AppliedSequence(**lease, consumer, key);
  };
  EXPECT_EQ(position("member.accounts", "organizations"), 2);
  EXPECT_EQ(position("member.accounts", "organizations/5"), 1);
  EXPECT_EQ(position("community", "organizations"), 0);  // per consumer

  // A failing effect leaves the position where it was: the event comes again.
  absl::Status failed = ApplyInOrder(
      *pool_, "member.accounts", event(14, "organizations", 3),
      [](db::Connection&) { return absl::UnavailableError("database busy"); }, 1);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(position("member.accounts", "organizations"), 2);
  EXPECT_EQ(apply(event(15, "organizations", 4)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(apply(event(14, "organizations", 3)).ok());
  EXPECT_TRUE(apply(event(15, "organizations", 4)).ok());
  EXPECT_EQ(applied.back(), 4);
}

// A consumer that joins late (its key's events 1-5 gone from a trimmed stream) starts from a
// snapshot at 5: 5 and earlier are skipped, 7 waits for 6, then 6 and 7 apply. A start below
// the position does not move it back, and one in a rolled-back transaction leaves nothing.
TEST_P(EventsTest, ALateConsumerStartsFromItsSnapshot) {
  std::vector<int64_t> applied;
  auto apply = [&](const std::string& consumer, int64_t sequence) {
    const Event e{.id = 100 + sequence, .stream = "org.organizations", .type = "Moved",
                  .key = "organizations", .sequence = sequence};
    return ApplyInOrder(
        *pool_, consumer, e,
        [&](db::Connection&) -> absl::Status {
          applied.push_back(sequence);
          return absl::OkStatus();
        },
        1);
  };
  auto position = [&](const std::string& consumer) {
    auto lease = pool_->Acquire();
    return *AppliedSequence(**lease, consumer, "organizations");
  };
  auto start_at = [&](const std::string& consumer, int64_t sequence, bool commit = true) {
    return pool_->Transact([&](db::Connection& c) -> absl::Status {
      RETURN_IF_ERROR(StartAt(c, consumer, "organizations", sequence, 1));
      return commit ? absl::OkStatus() : absl::AbortedError("roll back");
    });
  };

  // Without a start, a late consumer waits for event 1 forever.
  EXPECT_EQ(apply("ledger.late", 6).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(start_at("ledger.late", 5).ok());
  EXPECT_EQ(position("ledger.late"), 5);
  EXPECT_TRUE(apply("ledger.late", 5).ok());  // in the snapshot already
  EXPECT_TRUE(apply("ledger.late", 2).ok());
  EXPECT_EQ(apply("ledger.late", 7).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(applied.empty());
  EXPECT_TRUE(apply("ledger.late", 6).ok());
  EXPECT_TRUE(apply("ledger.late", 7).ok());
  EXPECT_EQ(applied, (std::vector<int64_t>{6, 7}));

  // Never backwards; a start beyond the position moves it on; a rolled-back start is no start.
  ASSERT_TRUE(start_at("ledger.late", 3).ok());
  EXPECT_EQ(position("ledger.late"), 7);
  ASSERT_TRUE(start_at("ledger.late", 9).ok());
  EXPECT_EQ(position("ledger.late"), 9);
  EXPECT_FALSE(start_at("eval.late", 4, /*commit=*/false).ok());
  EXPECT_EQ(position("eval.late"), 0);
  ASSERT_TRUE(start_at("eval.late", 0).ok());  // from the beginning: nothing recorded
  EXPECT_EQ(position("eval.late"), 0);
  EXPECT_FALSE(start_at("eval.late", -1).ok());
}

INSTANTIATE_TEST_SUITE_P(Databases, EventsTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::events
