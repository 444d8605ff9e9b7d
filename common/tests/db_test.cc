// The MySQL driver, pool, transactions and migrations against a real MariaDB.
#include <thread>

#include "common/db/migrate.h"
#include "common/db/mysql_driver.h"
#include "common/rpc/errors.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::db {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool(2);
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)
                    ->Exec("CREATE TABLE parent (id BIGINT PRIMARY KEY, name VARCHAR(20) "
                           "NOT NULL UNIQUE, note TEXT NULL, score DOUBLE NULL, day DATE NULL) "
                           "ENGINE=InnoDB",
                           {})
                    .ok());
    ASSERT_TRUE((*lease)
                    ->Exec("CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL,"
                           " FOREIGN KEY (parent_id) REFERENCES parent(id)) ENGINE=InnoDB",
                           {})
                    .ok());
  }

  int64_t Count(std::string_view table) {
    auto lease = pool_->Acquire();
    auto r = (*lease)->Execute(std::string("SELECT COUNT(*) FROM ") + std::string(table));
    return r->rows[0].Int(0);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(DbTest, ValuesRoundTrip) {
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  const std::string chinese = "市直机关工委第一党支部";
  ASSERT_TRUE((*lease)
                  ->Exec("INSERT INTO parent (id, name, note, score, day) VALUES (?,?,?,?,?)",
                         {int64_t{9223372036854775807}, chinese, Null(), 2.5,
                          std::string("2024-02-29")})
                  .ok());
  auto r = (*lease)->Exec("SELECT id, name, note, score, day FROM parent", {});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].Int(0), 9223372036854775807);
  EXPECT_EQ(r->rows[0].Text(1), chinese);
  EXPECT_TRUE(r->rows[0].IsNull(2));
  EXPECT_EQ(r->rows[0].OptionalText(2), std::nullopt);
  EXPECT_EQ(std::get<double>(r->rows[0].values[3]), 2.5);
  EXPECT_EQ(r->rows[0].Text(4), "2024-02-29");
}

TEST_F(DbTest, StrictModeRejectsInvalidDates) {
  auto lease = pool_->Acquire();
  auto r = (*lease)->Exec("INSERT INTO parent (id, name, day) VALUES (?,?,?)",
                          {int64_t{1}, std::string("a"), std::string("2023-02-29")});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count("parent"), 0);
}

TEST_F(DbTest, ErrorsAreClassified) {
  auto lease = pool_->Acquire();
  ASSERT_TRUE((*lease)->Exec("INSERT INTO parent (id, name) VALUES (1, 'a')", {}).ok());
  auto dup = (*lease)->Exec("INSERT INTO parent (id, name) VALUES (2, 'a')", {});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  auto fk = (*lease)->Exec("INSERT INTO child (id, parent_id) VALUES (1, 99)", {});
  EXPECT_EQ(fk.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*lease)->Exec("INSERT INTO child (id, parent_id) VALUES (1, 1)", {}).ok());
  auto restrict = (*lease)->Exec("DELETE FROM parent WHERE id = 1", {});
  EXPECT_EQ(restrict.status().code(), absl::StatusCode::kFailedPrecondition);
  auto syntax = (*lease)->Exec("SELEC nonsense", {});
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE((*lease)->Healthy());
}

TEST_F(DbTest, FailedTransactionLeavesNothing) {
  absl::Status s = pool_->Transact([](Connection& c) -> absl::Status {
    if (auto r = c.Exec("INSERT INTO parent (id, name) VALUES (1, 'a')", {}); !r.ok()) {
      return r.status();
    }
    // The second write fails: the first must not survive.
    return c.Exec("INSERT INTO child (id, parent_id) VALUES (1, 404)", {}).status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("parent"), 0);
  EXPECT_EQ(Count("child"), 0);

  absl::Status domain = pool_->Transact([](Connection& c) -> absl::Status {
    (void)c.Exec("INSERT INTO parent (id, name) VALUES (2, 'b')", {});
    return rpc::Error(absl::StatusCode::kAborted, "ETAG_MISMATCH", "stale");
  });
  EXPECT_EQ(rpc::Reason(domain), "ETAG_MISMATCH");
  EXPECT_EQ(Count("parent"), 0);

  ASSERT_TRUE(pool_
                  ->Transact([](Connection& c) {
                    return c.Exec("INSERT INTO parent (id, name) VALUES (3, 'c')", {}).status();
                  })
                  .ok());
  EXPECT_EQ(Count("parent"), 1);
}

TEST_F(DbTest, DeadlockIsRetried) {
  ASSERT_TRUE(pool_
                  ->Transact([](Connection& c) {
                    return c.Exec("INSERT INTO parent (id, name) VALUES (1, 'a')", {}).status();
                  })
                  .ok());
  int calls = 0;
  absl::Status s = pool_->Transact([&](Connection& c) -> absl::Status {
    ++calls;
    if (calls == 1) {
      return rpc::DatabaseError(absl::StatusCode::kAborted, "mysql error 1213: deadlock");
    }
    return c.Exec("UPDATE parent SET note = 'x' WHERE id = 1", {}).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(calls, 2);
}

TEST_F(DbTest, PoolIsBoundedAndTimesOut) {
  auto pool = std::make_unique<Pool>(
      NewMySqlDriver({.url = *ParseMySqlUrl(db_->url())}),
      PoolOptions{.name = "tiny", .size = 1, .acquire_timeout = std::chrono::milliseconds(100)});
  {
    auto first = pool->Acquire();
    ASSERT_TRUE(first.ok());
    auto second = pool->Acquire();
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_TRUE(pool->Acquire().ok());  // released on scope exit
}

TEST_F(DbTest, ConnectionToNowhereIsUnavailable) {
  const int port = testing::FreePort();
  auto pool = std::make_unique<Pool>(
      NewMySqlDriver({.url = {"u", "p", "127.0.0.1", port, "d"},
                      .connect_timeout = std::chrono::seconds(1)}),
      PoolOptions{});
  EXPECT_EQ(pool->Acquire().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(DbTest, KilledConnectionIsDroppedAndReplaced) {
  int64_t conn_id = 0;
  {
    auto lease = pool_->Acquire();
    conn_id = (*lease)->Exec("SELECT CONNECTION_ID()", {})->rows[0].Int(0);
  }
  {
    auto other = testing::TestDatabase::Create();  // a separate admin connection
    ASSERT_TRUE(other.ok());
    auto admin = (*other)->NewPool(1);
    auto lease = admin->Acquire();
    ASSERT_TRUE((*lease)->Exec("KILL ?", {conn_id}).ok());
  }
  {
    auto lease = pool_->Acquire();  // gets the killed connection back
    auto r = (*lease)->Exec("SELECT 1", {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_FALSE((*lease)->Healthy());
  }
  auto lease = pool_->Acquire();  // a fresh one
  EXPECT_TRUE((*lease)->Exec("SELECT 1", {}).ok());
}

EmbeddedFile File(std::string_view path, std::string_view data) { return {path, data}; }

TEST_F(DbTest, MigrationsApplyOnceAndDetectEdits) {
  const std::vector<EmbeddedFile> v1 = {
      File("schema/mysql/002_b.sql", "-- second\nALTER TABLE m_a ADD COLUMN b INT NULL;\n"),
      File("schema/mysql/001_a.sql",
           "-- first\nCREATE TABLE m_a (id BIGINT PRIMARY KEY);\nINSERT INTO m_a VALUES (1);"),
  };
  ASSERT_TRUE(Migrate(*pool_, v1).ok());
  ASSERT_TRUE(Migrate(*pool_, v1).ok());  // again: nothing to do
  EXPECT_EQ(Count("m_a"), 1);
  EXPECT_EQ(Count("schema_migrations"), 2);

  const std::vector<EmbeddedFile> edited = {
      File("schema/mysql/001_a.sql", "CREATE TABLE m_a (id BIGINT PRIMARY KEY, x INT);"),
      v1[0],
  };
  absl::Status s = Migrate(*pool_, edited);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("001_a.sql"), std::string::npos);

  const std::vector<EmbeddedFile> badly_named = {File("x/first.sql", "SELECT 1;")};
  EXPECT_FALSE(Migrate(*pool_, badly_named).ok());

  const std::vector<EmbeddedFile> broken = {v1[0], v1[1],
                                            File("003_c.sql", "CREATE TABLE oops (;")};
  EXPECT_FALSE(Migrate(*pool_, broken).ok());
  EXPECT_EQ(Count("schema_migrations"), 2);  // the failed one is not recorded
}

TEST_F(DbTest, ConcurrentMigrationsApplyOnce) {
  const std::vector<EmbeddedFile> files = {
      File("001_a.sql", "CREATE TABLE race (id BIGINT PRIMARY KEY);")};
  std::vector<absl::Status> results(4);
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Pool>> pools;
  for (int i = 0; i < 4; ++i) {
    pools.push_back(db_->NewPool(1));
  }
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = Migrate(*pools[i], files); });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok()) << r;
  }
  EXPECT_EQ(Count("schema_migrations"), 1);
}

TEST(SplitStatementsTest, SplitsOnLineEndingSemicolons) {
  auto s = SplitStatements(
      "-- header\nCREATE TABLE a (\n  x INT -- inline\n);\n\nINSERT INTO a VALUES (1);\n"
      "INSERT INTO a VALUES (2)");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], "INSERT INTO a VALUES (1)");
  EXPECT_EQ(s[2], "INSERT INTO a VALUES (2)");
}

}  // namespace
}  // namespace dj::db
