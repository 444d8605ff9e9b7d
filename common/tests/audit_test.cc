// The audit chain on MariaDB and SQLite: appended with the write or not at all, and every kind
// of tampering found.
#include <thread>

#include "common/audit/audit_log.h"
#include "common/audit/recorder.h"
#include "common/db/migrate.h"
#include "common/rpc/errors.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::audit {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1'000'000;

class AuditTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool(6);
    ASSERT_TRUE(db::Migrate(*pool_, Schema(GetParam()), "audit").ok());
  }

  Entry Sample(int i, const std::string& path = "/1/5/") {
    return {.time_us = 1'800'000'000'000'000 + i,
            .actor = "accounts/1",
            .action = "org.organizations.update",
            .resource = "organizations/" + std::to_string(i),
            .org_path = path,
            .client_ip = "10.1.2.3",
            .request_id = "req-" + std::to_string(i),
            .outcome = "OK",
            .detail = "display_name"};
  }

  void Exec(const std::string& sql) {
    auto lease = pool_->Acquire();
    ASSERT_TRUE((*lease)->Execute(sql).ok()) << sql;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;
  AuditLog log_{std::string(32, 'k')};
};

TEST_P(AuditTest, AppendsChainAndVerifies) {
  for (int i = 1; i <= 5; ++i) {
    auto e = log_.AppendAlone(*pool_, Sample(i));
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->seq, i);
  }
  auto v = log_.Verify(*pool_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 5);
}

TEST_P(AuditTest, RolledBackWritesLeaveNoRecord) {
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(1)).ok());
  absl::Status s = pool_->Transact([&](db::Connection& c) -> absl::Status {
    EXPECT_TRUE(log_.Append(c, Sample(2)).ok());
    return absl::FailedPreconditionError("the write failed");
  });
  EXPECT_FALSE(s.ok());
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(3)).ok());
  auto v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 2);
}

TEST_P(AuditTest, FindsEveryKindOfTampering) {
  struct Case {
    std::string name;
    std::string sql;
    int64_t bad_seq;
  };
  const std::vector<Case> cases = {
      {"changed detail", "UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 3", 3},
      {"changed outcome", "UPDATE audit_log SET outcome = 'PERMISSION_DENIED' WHERE seq = 2", 2},
      {"deleted middle", "DELETE FROM audit_log WHERE seq = 2", 2},
      {"deleted newest", "DELETE FROM audit_log WHERE seq = 4", 4},
      {"rehashed without the key", "UPDATE audit_log SET hash = prev_hash WHERE seq = 1", 1},
  };
  for (const Case& c : cases) {
    SetUp();  // a fresh database per case
    for (int i = 1; i <= 4; ++i) {
      ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(i)).ok());
    }
    Exec(c.sql);
    auto v = log_.Verify(*pool_);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->intact) << c.name;
    EXPECT_EQ(v->first_bad_seq, c.bad_seq) << c.name << ": " << v->problem;
  }
}

TEST_P(AuditTest, ConcurrentAppendsStayOneChain) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!log_.AppendAlone(*pool_, Sample(t * 100 + i)).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  auto v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 100);
}

TEST_P(AuditTest, ListsByScopeNewestFirst) {
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(1, "/1/5/")).ok());
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(2, "/1/50/")).ok());
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(3, "/1/5/7/")).ok());
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(4, "/2/")).ok());
  auto under5 = log_.List(*pool_, 5, 0, 10);
  ASSERT_TRUE(under5.ok());
  ASSERT_EQ(under5->size(), 2u);  // not /1/50/, not /2/
  EXPECT_EQ((*under5)[0].seq, 3);
  EXPECT_EQ((*under5)[1].seq, 1);
  EXPECT_EQ(log_.List(*pool_, 0, 0, 10)->size(), 4u);
  EXPECT_EQ(log_.List(*pool_, 0, 3, 10)->size(), 2u);  // paging: older than seq 3
}

TEST_P(AuditTest, RetentionMovesTheAnchor) {
  const int64_t t0 = 1'800'000'000'000'000;
  for (int i = 1; i <= 6; ++i) {
    Entry e = Sample(i);
    e.time_us = t0 + i * 30 * kDay;  // one a month
    ASSERT_TRUE(log_.AppendAlone(*pool_, e).ok());
  }
  EXPECT_FALSE(log_.Purge(*pool_, t0, std::chrono::days(30)).ok());  // below 180 days
  // Entries at days 30, 60, ..., 180. On day 270 the cut-off is day 90: entries 1 and 2 go
  // (older than the cut-off), entry 3 (exactly day 90) stays.
  ASSERT_TRUE(log_.Purge(*pool_, t0 + 270 * kDay, std::chrono::days(180)).ok());
  auto v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 4);
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(7)).ok());
  EXPECT_TRUE(log_.Verify(*pool_)->intact);
}

// Refusals are appended off the request path: by the recorder's thread within moments, by any
// Flush, by List (so an auditor sees them at once) and at destruction, in one chain.
TEST_P(AuditTest, RefusalsAreAppendedInBatchesOffTheRequestPath) {
  const absl::Status hidden =
      rpc::Error(absl::StatusCode::kNotFound, "ORGANIZATION_NOT_FOUND", "no such organization");
  {
    Recorder recorder(*pool_, std::string(32, 'k'), "auditLogs/test");
    for (int i = 1; i <= 3; ++i) {
      recorder.Refuse(Sample(i), hidden);
    }
    // The thread appends them without anyone asking.
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          auto rows = log_.List(*pool_, 0, 0, 10);
          return rows.ok() && rows->size() == 3;
        },
        std::chrono::seconds(5)));
    auto rows = log_.List(*pool_, 0, 0, 10);
    ASSERT_TRUE(rows.ok());
    for (const Entry& e : *rows) {
      EXPECT_EQ(e.outcome, "NOT_FOUND");
      EXPECT_EQ(e.detail, "display_name") << "a detail given is kept";
    }
    // List flushes first: what was refused a moment ago is on the page.
    Entry no_detail = Sample(4);
    no_detail.detail.clear();
    recorder.Refuse(no_detail, hidden);
    dangjian::audit::v1::ListAuditEntriesRequest request;
    request.set_parent("auditLogs/test");
    auto page = recorder.List(auth::SystemPrincipal(), request);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->entries_size(), 4);
    EXPECT_EQ(page->entries(0).detail(), "ORGANIZATION_NOT_FOUND") << "else the reason";
    // The destructor appends what is left.
    recorder.Refuse(Sample(5), hidden);
  }
  auto rows = log_.List(*pool_, 0, 0, 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 5u);
  auto v = log_.Verify(*pool_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact) << v->problem;
}

// A flood of refusals faster than they can be written is bounded: beyond the queue's limit
// they are counted, and one row says how many were dropped.
TEST_P(AuditTest, RefusalsBeyondTheQueueAreCountedNotKept) {
  Recorder recorder(*pool_, std::string(32, 'k'), "auditLogs/test", /*max_queued=*/2);
  const absl::Status denied = absl::PermissionDeniedError("no");
  for (int i = 1; i <= 5; ++i) {
    recorder.Refuse(Sample(i), denied);
  }
  ASSERT_TRUE(recorder.Flush().ok());
  auto rows = log_.List(*pool_, 0, 0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->front().action, "audit.refusals_dropped");
  EXPECT_EQ(rows->front().detail.substr(0, 2), "3 ");
  EXPECT_EQ((*rows)[1].outcome, "PERMISSION_DENIED");
}

INSTANTIATE_TEST_SUITE_P(Databases, AuditTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::audit
