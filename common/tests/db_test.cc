// The MySQL driver, pool, transactions and migrations against a real MariaDB; typed database
// errors (db/errors.h) on both databases.
#include <thread>

#include "common/db/errors.h"
#include "common/db/migrate.h"
#include "common/db/mysql_driver.h"
#include "common/db/sqlite_driver.h"
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

// --- typed errors, on both databases ---

class DbErrorTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    pool_ = db_->NewPool(3);
    const bool mysql = GetParam() == Dialect::kMySql;
    // The unique indexes are named the same way in both dialects, as the services' schemas do.
    const std::vector<std::string> ddl =
        mysql ? std::vector<std::string>{
                    "CREATE TABLE owner (id BIGINT NOT NULL, scope BIGINT NOT NULL, name "
                    "VARCHAR(40) NOT NULL, code VARCHAR(20) NULL, PRIMARY KEY (id), UNIQUE KEY "
                    "uk_owner_scope_name (scope, name), UNIQUE KEY uk_owner_code (code)) "
                    "ENGINE=InnoDB",
                    "CREATE TABLE pet (id BIGINT NOT NULL, owner_id BIGINT NOT NULL, PRIMARY KEY "
                    "(id), CONSTRAINT fk_pet_owner FOREIGN KEY (owner_id) REFERENCES owner (id)) "
                    "ENGINE=InnoDB",
                    "CREATE TABLE tag (owner_id BIGINT NOT NULL, position INT NOT NULL, "
                    "PRIMARY KEY (owner_id, position)) ENGINE=InnoDB"}
              : std::vector<std::string>{
                    "CREATE TABLE owner (id INTEGER NOT NULL PRIMARY KEY, scope INTEGER NOT NULL, "
                    "name TEXT NOT NULL, code TEXT NULL)",
                    "CREATE UNIQUE INDEX uk_owner_scope_name ON owner (scope, name)",
                    "CREATE UNIQUE INDEX uk_owner_code ON owner (code)",
                    "CREATE INDEX idx_owner_name ON owner (name)",
                    "CREATE TABLE pet (id INTEGER NOT NULL PRIMARY KEY, owner_id INTEGER NOT NULL, "
                    "CONSTRAINT fk_pet_owner FOREIGN KEY (owner_id) REFERENCES owner (id))",
                    "CREATE TABLE tag (owner_id INTEGER NOT NULL, position INTEGER NOT NULL, "
                    "PRIMARY KEY (owner_id, position))"};
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    for (const std::string& sql : ddl) {
      ASSERT_TRUE((*lease)->Execute(sql).ok()) << sql;
    }
    ASSERT_TRUE((*lease)
                    ->Exec("INSERT INTO owner (id, scope, name, code) VALUES (1, 7, ?, 'C-1')",
                           {std::string(kName)})
                    .ok());
  }

  static constexpr std::string_view kName = "Zhang San 张三";

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Pool> pool_;
};

TEST_P(DbErrorTest, DuplicateKeyNamesTheIndexAndNeverTheValue) {
  auto lease = pool_->Acquire();
  struct Case {
    std::string what;
    std::string sql;
    std::string index;
  } cases[] = {
      {"a named unique index over two columns",
       "INSERT INTO owner (id, scope, name) VALUES (2, 7, 'Zhang San 张三')",
       "uk_owner_scope_name"},
      {"a named unique index over one column",
       "INSERT INTO owner (id, scope, name, code) VALUES (3, 8, 'x', 'C-1')", "uk_owner_code"},
      {"the primary key (an id collision)",
       "INSERT INTO owner (id, scope, name) VALUES (1, 9, 'Zhang San 张三')",
       std::string(kPrimaryKey)},
      {"a primary key over two columns", "INSERT INTO tag VALUES (1, 1), (1, 1)",
       std::string(kPrimaryKey)},
  };
  for (const Case& c : cases) {
    auto r = (*lease)->Execute(c.sql);
    const absl::Status& s = r.status();
    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << c.what << ": " << s;
    EXPECT_EQ(KindOf(s), ErrorKind::kDuplicateKey) << c.what;
    EXPECT_EQ(ConstraintName(s), c.index) << c.what << ": " << s;
    EXPECT_TRUE(DuplicateKeyOn(s, c.index)) << c.what;
    EXPECT_TRUE(IsDuplicateKey(s)) << c.what;
    EXPECT_EQ(std::string(s.message()).find("Zhang"), std::string::npos) << c.what << ": " << s;
    EXPECT_EQ(std::string(s.message()).find("C-1"), std::string::npos) << c.what << ": " << s;
  }
  // A name collision and an id collision are told apart.
  auto by_name = (*lease)->Execute(cases[0].sql);
  auto by_id = (*lease)->Execute(cases[2].sql);
  EXPECT_FALSE(DuplicateKeyOn(by_id.status(), "uk_owner_scope_name"));
  EXPECT_FALSE(DuplicateKeyOn(by_name.status(), kPrimaryKey));
  EXPECT_FALSE(DuplicateKeyOn(by_name.status(), ""));
  // And neither shows the caller more than the generic message.
  const grpc::Status wire = rpc::ToGrpcStatus(by_name.status(), "test.dangjian");
  EXPECT_EQ(wire.error_message(), "the resource already exists");
  EXPECT_EQ(wire.error_details().find("uk_owner"), std::string::npos);
  EXPECT_TRUE((*lease)->Healthy());
}

TEST_P(DbErrorTest, GenericMakesAnUnclaimedDuplicateRetryable) {
  auto lease = pool_->Acquire();
  auto by_id = (*lease)->Execute("INSERT INTO owner (id, scope, name) VALUES (1, 9, 'y')");
  const absl::Status generic = Generic(by_id.status());
  EXPECT_EQ(generic.code(), absl::StatusCode::kAborted) << generic;
  EXPECT_TRUE(DuplicateKeyOn(generic, kPrimaryKey));
  EXPECT_EQ(rpc::ToGrpcStatus(generic, "test.dangjian").error_message(),
            "the change conflicted with a concurrent one; retry it");
  // Anything that is not a duplicate key is left as it is.
  auto fk = (*lease)->Execute("INSERT INTO pet (id, owner_id) VALUES (1, 404)");
  EXPECT_EQ(Generic(fk.status()), fk.status());
  const absl::Status reason = rpc::Error(absl::StatusCode::kAlreadyExists, "X_TAKEN", "taken");
  EXPECT_EQ(Generic(reason), reason);
  EXPECT_EQ(KindOf(reason), ErrorKind::kOther);
  EXPECT_EQ(KindOf(absl::OkStatus()), ErrorKind::kOther);
  EXPECT_TRUE(Generic(absl::OkStatus()).ok());
}

TEST_P(DbErrorTest, ForeignKeyFailureIsTyped) {
  auto lease = pool_->Acquire();
  // SQLite does not say which constraint failed; MySQL names it.
  const std::string name = GetParam() == Dialect::kMySql ? "fk_pet_owner" : "";
  auto missing = (*lease)->Execute("INSERT INTO pet (id, owner_id) VALUES (1, 404)");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition) << missing.status();
  EXPECT_EQ(KindOf(missing.status()), ErrorKind::kForeignKey);
  EXPECT_EQ(ConstraintName(missing.status()), name) << missing.status();
  ASSERT_TRUE((*lease)->Execute("INSERT INTO pet (id, owner_id) VALUES (1, 1)").ok());
  auto referenced = (*lease)->Execute("DELETE FROM owner WHERE id = 1");
  EXPECT_EQ(referenced.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(KindOf(referenced.status()), ErrorKind::kForeignKey);
  EXPECT_EQ(ConstraintName(referenced.status()), name) << referenced.status();
  EXPECT_FALSE(IsDuplicateKey(referenced.status()));
}

TEST_P(DbErrorTest, LockConflictIsTypedAsDeadlock) {
  if (GetParam() == Dialect::kSqlite) {
    // One writer at a time: a second writer that may not wait is refused with SQLITE_BUSY.
    auto holder = pool_->Acquire();
    ASSERT_TRUE((*holder)->Begin().ok());
    auto impatient = std::make_unique<Pool>(
        NewSqliteDriver({.path = db_->path(), .busy_timeout = std::chrono::milliseconds(0)}),
        PoolOptions{.name = "impatient", .size = 1});
    auto lease = impatient->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    const absl::Status busy = (*lease)->Begin();
    EXPECT_EQ(busy.code(), absl::StatusCode::kAborted) << busy;
    EXPECT_EQ(KindOf(busy), ErrorKind::kDeadlock) << busy;
    EXPECT_TRUE((*holder)->Rollback().ok());
    return;
  }
  // Two transactions lock two rows in opposite orders: InnoDB detects the cycle at once and
  // rolls one back (1213), and the other goes on. No timing: each first lock is taken before
  // either second one is asked for; the lock wait timeout only bounds a broken detector (1205,
  // typed the same way).
  ASSERT_TRUE(
      (*pool_->Acquire())->Execute("INSERT INTO owner (id, scope, name) VALUES (2, 7, 'b')").ok());
  auto a = pool_->Acquire();
  auto b = pool_->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  for (auto* lease : {&*a, &*b}) {
    ASSERT_TRUE((*lease)->Execute("SET SESSION innodb_lock_wait_timeout = 20").ok());
    ASSERT_TRUE((*lease)->Begin().ok());
  }
  ASSERT_TRUE((*a)->Execute("UPDATE owner SET code = 'a1' WHERE id = 1").ok());
  ASSERT_TRUE((*b)->Execute("UPDATE owner SET code = 'b2' WHERE id = 2").ok());
  absl::Status sa;
  absl::Status sb;
  std::thread ta([&] { sa = (*a)->Execute("UPDATE owner SET code = 'a2' WHERE id = 2").status(); });
  std::thread tb([&] { sb = (*b)->Execute("UPDATE owner SET code = 'b1' WHERE id = 1").status(); });
  ta.join();
  tb.join();
  EXPECT_NE(sa.ok(), sb.ok()) << sa << " / " << sb;
  const absl::Status& victim = sa.ok() ? sb : sa;
  EXPECT_EQ(victim.code(), absl::StatusCode::kAborted) << victim;
  EXPECT_EQ(KindOf(victim), ErrorKind::kDeadlock) << victim;
  EXPECT_TRUE((*a)->Rollback().ok());
  EXPECT_TRUE((*b)->Rollback().ok());
}

TEST_P(DbErrorTest, LostConnectionIsTyped) {
  if (GetParam() == Dialect::kSqlite) {
    GTEST_SKIP() << "a SQLite connection is a file handle: there is no server to lose";
  }
  auto lease = pool_->Acquire();
  const int64_t conn_id = (*lease)->Execute("SELECT CONNECTION_ID()")->rows[0].Int(0);
  {
    auto admin = pool_->Acquire();  // another connection of the same pool
    ASSERT_TRUE((*admin)->Exec("KILL ?", {conn_id}).ok());
  }
  auto r = (*lease)->Execute("SELECT 1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(KindOf(r.status()), ErrorKind::kConnectionLost) << r.status();
  EXPECT_FALSE((*lease)->Healthy());
}

INSTANTIATE_TEST_SUITE_P(Databases, DbErrorTest,
                         ::testing::Values(Dialect::kMySql, Dialect::kSqlite),
                         testing::DialectName);

// The server's text, parsed without a server: MariaDB names the key, MySQL 8 qualifies it with
// the table, and a value may contain anything (even "for key").
TEST(ErrorStatusTest, MySqlMessagesOfEitherServer) {
  const absl::Status mariadb =
      MySqlErrorStatus(1062, "Duplicate entry '7-Zhang' for key 'uk_owner_scope_name'");
  EXPECT_TRUE(DuplicateKeyOn(mariadb, "uk_owner_scope_name")) << mariadb;
  const absl::Status mysql8 =
      MySqlErrorStatus(1062, "Duplicate entry 'x' for key 'owner.uk_owner_scope_name'");
  EXPECT_TRUE(DuplicateKeyOn(mysql8, "uk_owner_scope_name")) << mysql8;
  const absl::Status tricky =
      MySqlErrorStatus(1062, "Duplicate entry 'a' for key 'b.c' x' for key 'PRIMARY'");
  EXPECT_TRUE(DuplicateKeyOn(tricky, kPrimaryKey)) << tricky;
  EXPECT_EQ(std::string(tricky.message()).find("a' for"), std::string::npos) << tricky;
  const absl::Status fk = MySqlErrorStatus(
      1452,
      "Cannot add or update a child row: a foreign key constraint fails (`d`.`pet`, CONSTRAINT "
      "`fk_pet_owner` FOREIGN KEY (`owner_id`) REFERENCES `owner` (`id`))");
  EXPECT_EQ(KindOf(fk), ErrorKind::kForeignKey);
  EXPECT_EQ(ConstraintName(fk), "fk_pet_owner");
  EXPECT_EQ(KindOf(MySqlErrorStatus(1205, "Lock wait timeout exceeded")), ErrorKind::kDeadlock);
  EXPECT_EQ(KindOf(MySqlErrorStatus(2006, "MySQL server has gone away")),
            ErrorKind::kConnectionLost);
  EXPECT_EQ(KindOf(MySqlErrorStatus(1064, "syntax")), ErrorKind::kOther);
  EXPECT_EQ(MySqlErrorStatus(1064, "syntax").code(), absl::StatusCode::kInternal);
}

TEST(ErrorStatusTest, SqliteIndexOnAnExpressionIsNamedByTheMessage) {
  const absl::Status s = SqliteErrorStatus(2067, "UNIQUE constraint failed: index 'uk_lower'");
  EXPECT_TRUE(DuplicateKeyOn(s, "uk_lower")) << s;
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
