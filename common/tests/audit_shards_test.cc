// The audit log's chains on MariaDB and SQLite: writes of different organizations append to
// different chains without waiting for each other, every chain still verifies and shows its
// tampering, a database written with the single chain migrates, and unauthenticated calls are
// counted rather than written one row each.
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/audit/audit_log.h"
#include "common/audit/recorder.h"
#include "common/crypto/crypto.h"
#include "common/db/migrate.h"
#include "common/rpc/errors.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj::audit {
namespace {

const std::string kKey(32, 'k');

// Organization paths whose entries land in `n` different chains.
std::vector<std::string> PathsInDistinctShards(int n) {
  std::vector<std::string> out;
  std::set<int32_t> seen;
  for (int64_t org = 100; static_cast<int>(out.size()) < n; ++org) {
    std::string path = absl::StrCat("/1/", org, "/");
    if (seen.insert(ShardOf(path)).second) {
      out.push_back(std::move(path));
    }
  }
  return out;
}

class AuditShardsTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  void SetUp() override { Fresh(); }

  void Fresh() {
    auto db = testing::TestDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    pool_.reset();
    db_ = *std::move(db);
    pool_ = db_->NewPool(6);
    ASSERT_TRUE(db::Migrate(*pool_, Schema(GetParam()), "audit").ok());
  }

  Entry Sample(int i, const std::string& path) {
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
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Execute(sql).ok()) << sql;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<db::Pool> pool_;
  AuditLog log_{kKey};
};

TEST(ShardOfTest, OneOrganizationOneChainWhereverItMoves) {
  EXPECT_EQ(ShardOf("/1/5/7/"), ShardOf("/2/7/"));  // the organization, not its ancestors
  EXPECT_EQ(ShardOf("/1/5/7/"), ShardOf("/1/5/7"));
  EXPECT_EQ(ShardOf("/"), ShardOf(""));
  // An entry with no organization (a sign-in at "/") joins its actor's chain.
  Entry login;
  login.org_path = "/";
  login.actor = "accounts/12";
  EXPECT_EQ(ShardFor(login), ShardOf("/1/12/"));
  Entry placed = login;
  placed.org_path = "/1/5/";
  EXPECT_EQ(ShardFor(placed), ShardOf("/1/5/"));
  std::set<int32_t> used;
  for (int org = 1; org <= 200; ++org) {
    const int32_t s = ShardOf(absl::StrCat("/1/", org, "/"));
    ASSERT_GE(s, 0);
    ASSERT_LT(s, kShards);
    used.insert(s);
  }
  EXPECT_EQ(static_cast<int32_t>(used.size()), kShards) << "200 organizations use every chain";
}

// Concurrent writes in eight organizations: every chain verifies, each organization's entries
// are in one chain in the order they were written, and the log is numbered causally.
TEST_P(AuditShardsTest, ConcurrentWritesInDifferentOrganizationsVerify) {
  const std::vector<std::string> paths = PathsInDistinctShards(8);
  constexpr int kEach = 25;
  std::vector<std::vector<Entry>> written(paths.size());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < paths.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto e = log_.AppendAlone(*pool_, Sample(static_cast<int>(t) * 100 + i, paths[t]));
        if (e.ok()) {
          written[t].push_back(*e);
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  ASSERT_EQ(failures.load(), 0);
  auto v = log_.Verify(*pool_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, static_cast<int64_t>(paths.size()) * kEach);
  std::set<std::pair<int64_t, int32_t>> positions;
  for (size_t t = 0; t < paths.size(); ++t) {
    ASSERT_EQ(written[t].size(), static_cast<size_t>(kEach));
    for (size_t i = 0; i < written[t].size(); ++i) {
      EXPECT_EQ(written[t][i].shard, ShardOf(paths[t]));
      if (i > 0) {
        // One thread's appends follow each other: the later one has the larger seq, and it
        // names the earlier one as what it follows.
        EXPECT_GT(written[t][i].seq, written[t][i - 1].seq);
        EXPECT_EQ(written[t][i].prev_seq, written[t][i - 1].seq);
      }
      EXPECT_TRUE(positions.insert({written[t][i].seq, written[t][i].shard}).second);
    }
  }
  // Newest first over all chains, each entry once.
  auto all = log_.List(*pool_, 0, 0, 1000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), positions.size());
  for (size_t i = 1; i < all->size(); ++i) {
    const Entry& a = (*all)[i - 1];
    const Entry& b = (*all)[i];
    EXPECT_TRUE(a.seq > b.seq || (a.seq == b.seq && a.shard > b.shard));
  }
}

// The point of the chains: two transactions of different organizations both hold their audit
// append uncommitted at once. On MariaDB, with two connections and a one-second lock wait, the
// second append would fail if it waited for the first; in one chain it does.
TEST_P(AuditShardsTest, AppendsInDifferentChainsDoNotWaitForEachOther) {
  if (GetParam() != db::Dialect::kMySql) {
    GTEST_SKIP() << "SQLite has one writer at a time whatever the schema";
  }
  const std::vector<std::string> paths = PathsInDistinctShards(2);
  auto a = pool_->Acquire();
  auto b = pool_->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*b)->Execute("SET SESSION innodb_lock_wait_timeout = 1").ok());
  ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(1, paths[0])).ok());

  ASSERT_TRUE((*a)->Begin().ok());
  auto in_a = log_.Append(**a, Sample(2, paths[0]));
  ASSERT_TRUE(in_a.ok()) << in_a.status();
  ASSERT_TRUE((*b)->Begin().ok());
  auto in_b = log_.Append(**b, Sample(3, paths[1]));  // a is still open
  ASSERT_TRUE(in_b.ok()) << "the second chain waited for the first: " << in_b.status();
  ASSERT_TRUE((*b)->Commit().ok());
  ASSERT_TRUE((*a)->Commit().ok());
  // Neither saw the other's head: the two share a seq, and (seq, shard) still orders them.
  EXPECT_EQ(in_a->seq, in_b->seq);
  EXPECT_NE(in_a->shard, in_b->shard);

  // The control: in the same chain the second append does wait (and here gives up).
  ASSERT_TRUE((*a)->Begin().ok());
  ASSERT_TRUE(log_.Append(**a, Sample(4, paths[0])).ok());
  ASSERT_TRUE((*b)->Begin().ok());
  auto same = log_.Append(**b, Sample(5, paths[0]));
  EXPECT_EQ(same.status().code(), absl::StatusCode::kAborted) << same.status();
  ASSERT_TRUE((*b)->Rollback().ok());
  ASSERT_TRUE((*a)->Commit().ok());

  auto v = log_.Verify(*pool_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 4);

  // Paging one entry at a time across the tie neither skips nor repeats an entry.
  Recorder recorder(*pool_, kKey, "auditLogs/test");
  dangjian::audit::v1::ListAuditEntriesRequest request;
  request.set_parent("auditLogs/test");
  request.set_page_size(1);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto got = recorder.List(auth::SystemPrincipal(), request);
    ASSERT_TRUE(got.ok()) << got.status();
    for (const auto& e : got->entries()) {
      seen.push_back(e.request_id());
    }
    if (got->next_page_token().empty()) {
      break;
    }
    request.set_page_token(got->next_page_token());
  }
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], "req-4");
  EXPECT_EQ(std::set<std::string>(seen.begin() + 1, seen.begin() + 3),
            (std::set<std::string>{"req-2", "req-3"}));
  EXPECT_EQ(seen[3], "req-1");
}

// Tampering in one chain is found and named, with the other chains intact around it.
TEST_P(AuditShardsTest, FindsTamperingInEachChain) {
  const std::vector<std::string> paths = PathsInDistinctShards(3);
  struct Case {
    std::string name;
    // SQL with {s} for the shard of paths[1] and {n} for the seq of its k-th entry.
    std::function<std::string(int32_t shard, const std::vector<int64_t>& seqs)> sql;
    std::function<int64_t(const std::vector<int64_t>& seqs)> bad_seq;
  };
  const std::vector<Case> cases = {
      {"changed detail",
       [](int32_t s, const std::vector<int64_t>& q) {
         return absl::StrCat("UPDATE audit_log SET detail = 'x' WHERE shard = ", s,
                             " AND seq = ", q[1]);
       },
       [](const std::vector<int64_t>& q) { return q[1]; }},
      {"deleted middle",
       [](int32_t s, const std::vector<int64_t>& q) {
         return absl::StrCat("DELETE FROM audit_log WHERE shard = ", s, " AND seq = ", q[1]);
       },
       [](const std::vector<int64_t>& q) { return q[1]; }},
      {"deleted newest",
       [](int32_t s, const std::vector<int64_t>& q) {
         return absl::StrCat("DELETE FROM audit_log WHERE shard = ", s, " AND seq = ", q[2]);
       },
       [](const std::vector<int64_t>& q) { return q[2]; }},
      {"renumbered",
       [](int32_t s, const std::vector<int64_t>& q) {
         return absl::StrCat("UPDATE audit_log SET seq = ", q[1] + 1000, " WHERE shard = ", s,
                             " AND seq = ", q[1]);
       },
       [](const std::vector<int64_t>& q) { return q[1]; }},
  };
  for (const Case& c : cases) {
    Fresh();
    std::vector<int64_t> seqs;
    for (int i = 0; i < 3; ++i) {
      for (size_t p = 0; p < paths.size(); ++p) {
        auto e = log_.AppendAlone(*pool_, Sample(i * 10 + static_cast<int>(p), paths[p]));
        ASSERT_TRUE(e.ok());
        if (p == 1) {
          seqs.push_back(e->seq);
        }
      }
    }
    const int32_t shard = ShardOf(paths[1]);
    Exec(c.sql(shard, seqs));
    auto v = log_.Verify(*pool_);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->intact) << c.name;
    EXPECT_EQ(v->first_bad_shard, shard) << c.name << ": " << v->problem;
    EXPECT_EQ(v->first_bad_seq, c.bad_seq(seqs)) << c.name << ": " << v->problem;
  }

  // A row moved to another chain breaks both.
  Fresh();
  for (int i = 0; i < 2; ++i) {
    for (const std::string& p : paths) {
      ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(i, p)).ok());
    }
  }
  // seq 2: the first entry of paths[1].
  Exec(absl::StrCat("UPDATE audit_log SET shard = ", ShardOf(paths[2]),
                    " WHERE shard = ", ShardOf(paths[1]), " AND seq = 2"));
  EXPECT_FALSE(log_.Verify(*pool_)->intact);

  // A row in no chain, and a chain without its head.
  for (const std::string& sql :
       {std::string("UPDATE audit_log SET shard = 99 WHERE seq = 1"),
        absl::StrCat("DELETE FROM audit_head WHERE id = ", ShardOf(paths[0]))}) {
    Fresh();
    for (const std::string& p : paths) {
      ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(1, p)).ok());
    }
    Exec(sql);
    auto v = log_.Verify(*pool_);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->intact) << sql;
  }
}

// A database written with the one chain (migration 001 only) migrates: its rows become chain 1
// and still verify, and the chains grow on from there.
TEST_P(AuditShardsTest, TheSingleChainMigratesAsChainOne) {
  // A fresh database with only the first migration.
  auto db = testing::TestDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok());
  pool_.reset();
  db_ = *std::move(db);
  pool_ = db_->NewPool(4);
  std::vector<EmbeddedFile> first;
  for (const EmbeddedFile& f : Schema(GetParam())) {
    if (f.path.find("001_") != std::string_view::npos) {
      first.push_back(f);
    }
  }
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(db::Migrate(*pool_, first, "audit").ok());
  // Rows as the single-chain code wrote them: seq 1, 2, 3 and the hash over the fields alone.
  std::string prev(64, '0');
  for (int64_t seq = 1; seq <= 3; ++seq) {
    std::string canonical;
    auto field = [&](const std::string& v) { absl::StrAppend(&canonical, v.size(), ":", v, ";"); };
    const std::string path = seq == 2 ? "/1/7/" : "/1/5/";
    const std::string time = absl::StrCat(1'800'000'000'000'000 + seq);
    field(absl::StrCat(seq));
    field(time);
    for (const std::string& f :
         {std::string("accounts/1"), std::string("org.x"), std::string("organizations/5"), path,
          std::string("10.0.0.1"), absl::StrCat("old-", seq), std::string("OK"), std::string(""),
          prev}) {
      field(f);
    }
    const std::string hash = crypto::HmacHex(crypto::Digest::kSm3, kKey, canonical);
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(
        (*lease)
            ->Exec("INSERT INTO audit_log (seq, time_us, actor, action, resource, "
                   "org_path, client_ip, request_id, outcome, detail, prev_hash, hash) "
                   "VALUES (?, ?, 'accounts/1', 'org.x', 'organizations/5', ?, "
                   "'10.0.0.1', ?, 'OK', '', ?, ?)",
                   {seq, 1'800'000'000'000'000 + seq, path, absl::StrCat("old-", seq), prev, hash})
            .ok());
    ASSERT_TRUE(
        (*lease)->Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", {seq, hash}).ok());
    prev = hash;
  }
  ASSERT_TRUE(db::Migrate(*pool_, Schema(GetParam()), "audit").ok());
  auto v = log_.Verify(*pool_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 3);
  auto old = log_.List(*pool_, 0, 0, 10);
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 3u);
  EXPECT_EQ(old->front().shard, 1);
  EXPECT_EQ(old->front().format, 1);

  // New entries number on from the old chain, in every chain, chain 1 included.
  std::string in_chain_one;
  for (int org = 100; in_chain_one.empty(); ++org) {
    if (ShardOf(absl::StrCat("/1/", org, "/")) == 1) {
      in_chain_one = absl::StrCat("/1/", org, "/");
    }
  }
  auto next = log_.AppendAlone(*pool_, Sample(4, in_chain_one));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 4);
  EXPECT_EQ(next->prev_seq, 3);
  for (const std::string& p : PathsInDistinctShards(4)) {
    ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(5, p)).ok());
  }
  v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 8);
  // The old rows are still what a changed one is checked against.
  Exec("UPDATE audit_log SET detail = 'x' WHERE seq = 2 AND format = 1");
  v = log_.Verify(*pool_);
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_bad_shard, 1);
  EXPECT_EQ(v->first_bad_seq, 2);
}

// Retention moves the anchor of each chain on its own.
TEST_P(AuditShardsTest, RetentionKeepsEveryChainVerifiable) {
  constexpr int64_t kDay = 24LL * 3600 * 1'000'000;
  const int64_t t0 = 1'800'000'000'000'000;
  const std::vector<std::string> paths = PathsInDistinctShards(3);
  for (int i = 1; i <= 6; ++i) {
    for (const std::string& p : paths) {
      Entry e = Sample(i, p);
      e.time_us = t0 + i * 30 * kDay;
      ASSERT_TRUE(log_.AppendAlone(*pool_, e).ok());
    }
  }
  ASSERT_TRUE(log_.Purge(*pool_, t0 + 270 * kDay, std::chrono::days(180)).ok());
  auto v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->checked, 12);  // 4 of 6 in each of 3 chains
  for (const std::string& p : paths) {
    ASSERT_TRUE(log_.AppendAlone(*pool_, Sample(7, p)).ok());
  }
  EXPECT_TRUE(log_.Verify(*pool_)->intact);
}

int64_t CountOf(const Entry& e) {
  // "PRINCIPAL_MISSING x41 from ... to ..." counts 41; a row of its own counts 1.
  const size_t x = e.detail.find(" x");
  if (x == std::string::npos) {
    return 1;
  }
  int64_t n = 0;
  const size_t end = e.detail.find(' ', x + 2);
  EXPECT_TRUE(absl::SimpleAtoi(e.detail.substr(x + 2, end - x - 2), &n)) << e.detail;
  return n;
}

// Calls straight to a service port with no principal: the first of each (reason, address) is a
// row as it happened, the rest of the interval one row with the count.
TEST_P(AuditShardsTest, UnauthenticatedCallsAreCountedPerReasonAndAddress) {
  const absl::Status missing = rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING",
                                          "calls must come through the gateway");
  const absl::Status forged = rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_FORGED",
                                         "the caller's identity was not vouched for");
  // An interval no test reaches: only Flush ends one.
  Recorder recorder(*pool_, kKey, "auditLogs/test", Recorder::kMaxQueued, std::chrono::hours(1));
  constexpr int kFlood = 200;
  for (int i = 0; i < kFlood; ++i) {
    // A new connection each time: the port changes, the address does not.
    recorder.Unauthenticated(absl::StrCat("ipv4:10.0.0.9:", 40000 + i), absl::StrCat("r", i),
                             missing);
  }
  for (int i = 0; i < 30; ++i) {
    recorder.Unauthenticated("ipv4:10.0.0.9:41000", "f", forged);
    recorder.Unauthenticated(absl::StrCat("ipv6:[2001:db8::7]:", 5000 + i), "m", missing);
  }
  ASSERT_TRUE(recorder.Flush().ok());
  auto rows = log_.List(*pool_, 0, 0, 1000);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 6u) << "two rows per (reason, address): the first and the count";
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const Entry& e : *rows) {
    EXPECT_EQ(e.action, "rpc.authenticate");
    EXPECT_EQ(e.actor, "anonymous");
    EXPECT_EQ(e.outcome, "UNAUTHENTICATED");
    EXPECT_EQ(e.org_path, "/");
    EXPECT_TRUE(e.client_ip == "10.0.0.9" || e.client_ip == "2001:db8::7") << e.client_ip;
    const std::string reason = e.detail.substr(0, e.detail.find(' '));
    EXPECT_TRUE(reason == "PRINCIPAL_MISSING" || reason == "PRINCIPAL_FORGED") << e.detail;
    EXPECT_TRUE(e.detail == reason || absl::StrContains(e.detail, " from ")) << e.detail;
    counts[{reason, e.client_ip}] += CountOf(e);
  }
  EXPECT_EQ(counts[std::make_pair(std::string("PRINCIPAL_MISSING"), std::string("10.0.0.9"))],
            kFlood);
  EXPECT_EQ(counts[std::make_pair(std::string("PRINCIPAL_FORGED"), std::string("10.0.0.9"))], 30);
  EXPECT_EQ(counts[std::make_pair(std::string("PRINCIPAL_MISSING"), std::string("2001:db8::7"))],
            30);

  // The flood goes on: a pair still counting gets only its count row, not a first row again.
  for (int i = 0; i < 50; ++i) {
    recorder.Unauthenticated("ipv4:10.0.0.9:1", "again", missing);
  }
  ASSERT_TRUE(recorder.Flush().ok());
  rows = log_.List(*pool_, 0, 0, 1000);
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_EQ(CountOf(rows->front()), 50);
  EXPECT_EQ(rows->front().request_id, "again");
  // Quiet for an interval, a pair is forgotten: its next call is a row of its own again.
  ASSERT_TRUE(recorder.Flush().ok());
  recorder.Unauthenticated("ipv4:10.0.0.9:1", "later", forged);
  ASSERT_TRUE(recorder.Flush().ok());
  rows = log_.List(*pool_, 0, 0, 1000);
  ASSERT_EQ(rows->size(), 8u);
  EXPECT_EQ(rows->front().detail, "PRINCIPAL_FORGED");
  EXPECT_EQ(rows->front().request_id, "later");
  auto v = log_.Verify(*pool_);
  EXPECT_TRUE(v->intact) << v->problem;
}

// A distributed flood is bounded too: past the pair limit, calls are counted together.
TEST_P(AuditShardsTest, UnauthenticatedCallsFromTooManyAddressesAreCountedTogether) {
  const absl::Status missing =
      rpc::Error(absl::StatusCode::kUnauthenticated, "PRINCIPAL_MISSING", "no principal");
  Recorder recorder(*pool_, kKey, "auditLogs/test", Recorder::kMaxQueued, std::chrono::hours(1));
  const int addresses = static_cast<int>(Recorder::kMaxCountedPairs) + 500;
  for (int i = 0; i < addresses; ++i) {
    recorder.Unauthenticated(absl::StrCat("ipv4:10.", i / 250, ".", i % 250, ".1:1"), "", missing);
  }
  ASSERT_TRUE(recorder.Flush().ok());
  auto rows = log_.List(*pool_, 0, 0, 5000);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(static_cast<int>(rows->size()), static_cast<int>(Recorder::kMaxCountedPairs) + 1);
  EXPECT_EQ(rows->front().client_ip, "(other addresses)");
  EXPECT_EQ(CountOf(rows->front()), 500);
}

INSTANTIATE_TEST_SUITE_P(Databases, AuditShardsTest,
                         ::testing::Values(db::Dialect::kMySql, db::Dialect::kSqlite),
                         testing::DialectName);

}  // namespace
}  // namespace dj::audit
