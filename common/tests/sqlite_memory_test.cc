// The SQLite driver (WAL, one writer, errors, corrupt and unwritable files) and the in-process
// cache (LRU by entries and bytes, TTL).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/db/migrate.h"
#include "common/db/sqlite_driver.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::db {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create(Dialect::kSqlite);
    ASSERT_TRUE(db.ok());
    db_ = *std::move(db);
    pool_ = db_->NewPool(4);
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
                               "UNIQUE, note TEXT, score REAL)", {}).ok());
    ASSERT_TRUE((*lease)->Exec("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                               "NOT NULL REFERENCES parent(id))", {}).ok());
  }

  int64_t Count(const std::string& table) {
    auto lease = pool_->Acquire();
    return (*lease)->Execute("SELECT COUNT(*) FROM " + table)->rows[0].Int(0);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(SqliteTest, ValuesAndErrors) {
  auto lease = pool_->Acquire();
  ASSERT_TRUE((*lease)->Exec("INSERT INTO parent VALUES (?,?,?,?)",
                             {int64_t{9223372036854775807}, std::string("第一党支部"), Null(), 1.5})
                  .ok());
  auto r = (*lease)->Exec("SELECT id, name, note, score FROM parent", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 9223372036854775807);
  EXPECT_EQ(r->rows[0].Text(1), "第一党支部");
  EXPECT_TRUE(r->rows[0].IsNull(2));
  auto dup = (*lease)->Exec("INSERT INTO parent (id, name) VALUES (2, '第一党支部')", {});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  auto pk = (*lease)->Exec("INSERT INTO parent (id, name) VALUES (9223372036854775807, 'x')", {});
  EXPECT_EQ(pk.status().code(), absl::StatusCode::kAlreadyExists);
  auto fk = (*lease)->Exec("INSERT INTO child VALUES (1, 404)", {});
  EXPECT_EQ(fk.status().code(), absl::StatusCode::kFailedPrecondition);
  auto bad = (*lease)->Exec("SELEC 1", {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  auto upd = (*lease)->Exec("UPDATE parent SET note = 'n' WHERE id > 0", {});
  EXPECT_EQ(upd->affected_rows, 1);
}

TEST_F(SqliteTest, FailedTransactionLeavesNothing) {
  absl::Status s = pool_->Transact([](Connection& c) -> absl::Status {
    (void)c.Exec("INSERT INTO parent (id, name) VALUES (1, 'a')", {});
    return c.Exec("INSERT INTO child VALUES (1, 404)", {}).status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("parent"), 0);
}

TEST_F(SqliteTest, ConcurrentWritersQueueAndAllCommit) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t id = t * 1000 + i;
        absl::Status s = pool_->Transact([&](Connection& c) {
          return c.Exec("INSERT INTO parent (id, name) VALUES (?, ?)",
                        {id, absl::StrCat("n", id)})
              .status();
        });
        if (!s.ok()) {
          ++failures;
        }
        // Readers run alongside the writers (WAL).
        auto lease = pool_->Acquire();
        if (!lease.ok() || !(*lease)->Exec("SELECT COUNT(*) FROM parent", {}).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("parent"), kThreads * kPerThread);
}

TEST_F(SqliteTest, MigrationsAreAtomic) {
  const std::vector<EmbeddedFile> files = {
      {"001_a.sql", "CREATE TABLE m (id INTEGER PRIMARY KEY);\nINSERT INTO m VALUES (1);\n"
                    "CREATE TABLE broken (;"}};
  EXPECT_FALSE(Migrate(*pool_, files).ok());
  auto lease = pool_->Acquire();
  // The table from the failed migration's first statement was rolled back with it.
  EXPECT_FALSE((*lease)->Exec("SELECT COUNT(*) FROM m", {}).ok());
  const std::vector<EmbeddedFile> good = {{"001_a.sql", "CREATE TABLE m (id INTEGER);"}};
  EXPECT_TRUE(Migrate(*pool_, good).ok());
  EXPECT_TRUE(Migrate(*pool_, good).ok());
}

TEST(SqliteFilesTest, CorruptOrUnwritableFilesFailClearly) {
  // StrCat, not operator+: GCC 12 at -O3 raises a false -Wrestrict on chained string +.
  const std::string dir = absl::StrCat(::testing::TempDir(), "/sqlite-files-", getpid());
  std::filesystem::create_directories(dir);
  const std::string corrupt = absl::StrCat(dir, "/corrupt.db");
  std::ofstream(corrupt) << std::string(8192, 'z');
  auto bad = NewSqliteDriver({.path = corrupt})->Connect();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("corrupt.db"), std::string::npos);
  // The file was not reset.
  EXPECT_EQ(std::filesystem::file_size(corrupt), 8192u);

  auto missing_dir = NewSqliteDriver({.path = absl::StrCat(dir, "/no/such/dir/x.db")})->Connect();
  EXPECT_EQ(missing_dir.status().code(), absl::StatusCode::kUnavailable);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dj::db

namespace dj::cache {
namespace {

TEST(MemoryCacheTest, LruByEntriesAndBytes) {
  auto cache = NewMemoryCache({.max_entries = 2, .max_bytes = 1000});
  ASSERT_TRUE(cache->Set("a", "1", std::chrono::seconds(60)).ok());
  ASSERT_TRUE(cache->Set("b", "2", std::chrono::seconds(60)).ok());
  EXPECT_TRUE(cache->Get("a")->has_value());  // a is now most recent
  ASSERT_TRUE(cache->Set("c", "3", std::chrono::seconds(60)).ok());
  EXPECT_FALSE(cache->Get("b")->has_value());  // least recently used went
  EXPECT_EQ(**cache->Get("a"), "1");
  EXPECT_EQ(**cache->Get("c"), "3");

  auto small = NewMemoryCache({.max_entries = 100, .max_bytes = 10});
  ASSERT_TRUE(small->Set("k1", "12345", std::chrono::seconds(60)).ok());  // 7 bytes
  ASSERT_TRUE(small->Set("k2", "12345", std::chrono::seconds(60)).ok());  // 14 > 10: k1 goes
  EXPECT_FALSE(small->Get("k1")->has_value());
  EXPECT_TRUE(small->Get("k2")->has_value());
  ASSERT_TRUE(small->Set("huge", std::string(100, 'x'), std::chrono::seconds(60)).ok());
  EXPECT_FALSE(small->Get("huge")->has_value());
  EXPECT_TRUE(small->Get("k2")->has_value());  // not evicted for an entry that cannot fit
}

TEST(MemoryCacheTest, ExpiresAndDeletes) {
  auto cache = NewMemoryCache();
  ASSERT_TRUE(cache->Set("gone", "v", std::chrono::milliseconds(0)).ok());
  EXPECT_FALSE(cache->Get("gone")->has_value());
  ASSERT_TRUE(cache->Set("k", "v", std::chrono::seconds(60)).ok());
  ASSERT_TRUE(cache->Set("k", "v2", std::chrono::seconds(60)).ok());
  EXPECT_EQ(**cache->Get("k"), "v2");
  ASSERT_TRUE(cache->Delete("k").ok());
  EXPECT_FALSE(cache->Get("k")->has_value());
}

}  // namespace
}  // namespace dj::cache
