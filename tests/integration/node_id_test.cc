// Node ids across real dj-org processes on one Redis and one database: a second process given
// the same DJ_NODE_ID refuses to start, naming the setting; processes without one lease
// different ids, and a process that stops gives its id back.
#include <unistd.h>

#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/cache/cache.h"
#include "common/testing/test_env.h"
#include "gtest/gtest.h"

namespace dj {
namespace {

using testing::BinDir;
using testing::Http;

class NodeIdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("dj-node-id");
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    redis_port_ = testing::FreePort();
    redis_ = testing::StartRedisServer(redis_port_, dir_);
    redis_cache_ = cache::NewRedisCache(
        {.url = {"", "127.0.0.1", redis_port_, 0}, .retry_after = std::chrono::milliseconds(10)});
    ASSERT_TRUE(
        testing::WaitFor([&] { return redis_cache_->Get("ping").ok(); }, std::chrono::seconds(20)))
        << redis_->Log();
  }

  void TearDown() override {
    for (auto& p : orgs_) {
      p->Stop();
    }
    orgs_.clear();
    if (redis_) {
      redis_->Stop();
    }
  }

  struct Started {
    testing::Process* process;
    int metrics_port;
  };

  // A dj-org on the test's database and Redis; `node_id` empty: none given.
  Started StartOrg(const std::string& node_id, std::map<std::string, std::string> more = {}) {
    const int metrics_port = testing::FreePort();
    std::map<std::string, std::string> env = {
        {"DJ_MYSQL_URL", db_->url()},
        {"DJ_REDIS_URL", absl::StrCat("redis://127.0.0.1:", redis_port_, "/0")},
        {"DJ_GRPC_LISTEN", absl::StrCat("127.0.0.1:", testing::FreePort())},
        {"DJ_METRICS_LISTEN", absl::StrCat("127.0.0.1:", metrics_port)},
        {"DJ_INTERNAL_SECRET", "it-internal-secret-0123456789abcdef"},
        {"DJ_AUDIT_KEY", "it-audit-key-0123456789abcdef-0123"},
        {"DJ_LOG_LEVEL", "info"}};
    if (!node_id.empty()) {
      env["DJ_NODE_ID"] = node_id;
    }
    env.merge(more);
    orgs_.push_back(
        std::make_unique<testing::Process>(BinDir() + "/dj-org", std::vector<std::string>{}, env,
                                           absl::StrCat(dir_, "/org-", orgs_.size(), ".log")));
    return {orgs_.back().get(), metrics_port};
  }

  static bool Ready(const Started& s) {
    return testing::WaitFor([&] { return Http(s.metrics_port, "GET", "/metrics").status == 200; },
                            std::chrono::seconds(60));
  }

  // The node id a process logged at start-up, -1 if none.
  static int LoggedNodeId(testing::Process& p) {
    static const std::regex kLine(R"re("msg":"node id held","node_id":"(\d+)")re");
    std::smatch m;
    const std::string log = p.Log();
    int id = -1;
    if (std::regex_search(log, m, kLine) && absl::SimpleAtoi(m[1].str(), &id)) {
      return id;
    }
    return -1;
  }

  std::string dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  int redis_port_ = 0;
  std::unique_ptr<testing::Process> redis_;
  std::unique_ptr<cache::Cache> redis_cache_;
  std::vector<std::unique_ptr<testing::Process>> orgs_;
};

TEST_F(NodeIdTest, SecondProcessWithTheSameNodeIdRefusesToStart) {
  const Started first = StartOrg("dj-org-7");  // a StatefulSet pod name: ordinal 7
  ASSERT_TRUE(Ready(first)) << first.process->Log();
  EXPECT_EQ(LoggedNodeId(*first.process), 7) << first.process->Log();

  const Started second = StartOrg("7");
  const int code = second.process->Wait(std::chrono::seconds(60));
  EXPECT_NE(code, 0) << second.process->Log();
  EXPECT_NE(code, -1) << "still running: " << second.process->Log();
  const std::string log = second.process->Log();
  EXPECT_NE(log.find("dj-org: DJ_NODE_ID: node id 7 is already held by dj-org on "),
            std::string::npos)
      << log;
  EXPECT_TRUE(first.process->Running());

  // Stopped, the first gives its id back: a third process with it starts at once.
  EXPECT_EQ(first.process->Stop(), 0) << first.process->Log();
  const Started third = StartOrg("7");
  ASSERT_TRUE(Ready(third)) << third.process->Log();
  EXPECT_EQ(LoggedNodeId(*third.process), 7);
}

TEST_F(NodeIdTest, ProcessesWithoutANodeIdLeaseDifferentOnes) {
  const Started a = StartOrg("");
  const Started b = StartOrg("");
  ASSERT_TRUE(Ready(a)) << a.process->Log();
  ASSERT_TRUE(Ready(b)) << b.process->Log();
  const int id_a = LoggedNodeId(*a.process);
  const int id_b = LoggedNodeId(*b.process);
  ASSERT_GE(id_a, 0) << a.process->Log();
  ASSERT_GE(id_b, 0) << b.process->Log();
  EXPECT_NE(id_a, id_b);
  EXPECT_TRUE(redis_cache_->Get(absl::StrCat("dj:v1:node:", id_a))->has_value());
  EXPECT_TRUE(redis_cache_->Get(absl::StrCat("dj:v1:node:", id_b))->has_value());
}

// Someone else took the id while the process ran (its lease had run out): it stops with
// kExitNodeIdLost rather than make ids another process makes too.
TEST_F(NodeIdTest, ProcessWhoseIdIsTakenOverExits) {
  const Started s = StartOrg("", {{"DJ_NODE_LEASE_SECONDS", "3"}});
  ASSERT_TRUE(Ready(s)) << s.process->Log();
  const int id = LoggedNodeId(*s.process);
  ASSERT_GE(id, 0);
  ASSERT_TRUE(
      redis_cache_
          ->Set(absl::StrCat("dj:v1:node:", id), "another process", std::chrono::seconds(60))
          .ok());
  // Renewed every second (a 3 s lease): the next renewal finds the other holder.
  EXPECT_EQ(s.process->Wait(std::chrono::seconds(60)), 75) << s.process->Log();
  EXPECT_NE(s.process->Log().find("node id lost"), std::string::npos) << s.process->Log();
}

}  // namespace
}  // namespace dj
