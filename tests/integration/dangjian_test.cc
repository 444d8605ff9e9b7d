// The embedded binary as a user meets it: the demo city, restarts, a second instance on the same
// data, unusable or corrupt data, and kill -9 in the middle of writes.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/db/pool.h"
#include "common/db/sqlite_driver.h"
#include "common/testing/test_env.h"
#include "dangjian/org/v1/org.pb.h"
#include "dangjian/org/v1/statistics.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dj {
namespace {

namespace pb = dangjian::org::v1;
using testing::Http;
using testing::HttpResponse;

using testing::BinDir;

// 1 work committee + every organ in the demo file with its branches and party groups.
int ExpectedDemoOrganizations() {
  std::ifstream in(std::string(DJ_SOURCE_DIR) + "/embedded/demo/organizations.tsv");
  int total = 1;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    int branches = 0;
    int groups = 0;
    EXPECT_TRUE(absl::SimpleAtoi(cols.at(3), &branches) && absl::SimpleAtoi(cols.at(4), &groups));
    total += 1 + branches + groups;
  }
  return total;
}

class DangjianTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("dangjian");
  }

  std::unique_ptr<testing::Process> Launch(const std::string& data_dir, int port,
                                           std::vector<std::string> args = {}) {
    return std::make_unique<testing::Process>(
        BinDir() + "/dangjian", std::move(args),
        std::map<std::string, std::string>{
            {"DJ_HTTP_LISTEN", absl::StrCat("127.0.0.1:", port)},
            {"DJ_METRICS_LISTEN", absl::StrCat("127.0.0.1:", testing::FreePort())},
            {"DJ_DATA_DIR", data_dir},
            {"DJ_BOOTSTRAP_ADMIN_PASSWORD", testing::kAdminInitialPassword}},
        dir_ + "/dangjian-" + std::to_string(launches_++) + ".log");
  }

  // Ready, and signed in as the administrator.
  bool Ready(int port) {
    if (!testing::WaitFor([&] { return Http(port, "GET", "/readyz").status == 200; },
                          std::chrono::seconds(60))) {
      return false;
    }
    token_ = testing::SignIn(port, "admin", testing::kAdminInitialPassword,
                             testing::kAdminPassword);
    return !token_.empty();
  }

  // HTTP as the signed-in administrator.
  HttpResponse Http(int port, const std::string& method, const std::string& target,
                    const std::string& body = "") {
    return testing::Http(port, method, target, body,
                         token_.empty() ? std::map<std::string, std::string>{}
                                        : std::map<std::string, std::string>{
                                              {"Authorization", "Bearer " + token_}});
  }
  std::string token_;

  int CountAll(int port) {
    HttpResponse roots = Http(port, "GET", "/v1/organizations");
    pb::ListOrganizationsResponse list;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(roots.body, &list).ok()) << roots.body;
    int total = list.organizations_size();
    for (const auto& root : list.organizations()) {
      std::string token;
      do {
        HttpResponse r = Http(port, "GET", "/v1/" + root.name() + ":listDescendants?pageSize=500" +
                                               (token.empty() ? "" : "&pageToken=" + token));
        pb::ListDescendantsResponse page;
        EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &page).ok()) << r.body;
        total += page.organizations_size();
        token = page.next_page_token();
      } while (!token.empty());
    }
    return total;
  }

  std::string dir_;
  int launches_ = 0;
};

TEST_F(DangjianTest, DemoCityLoadsOnceAndSurvivesRestarts) {
  const int port = testing::FreePort();
  const std::string data = dir_ + "/data";
  auto first = Launch(data, port, {"--demo"});
  ASSERT_TRUE(Ready(port)) << first->Log();
  const int expected = ExpectedDemoOrganizations();
  EXPECT_EQ(CountAll(port), expected);
  HttpResponse roots = Http(port, "GET", "/v1/organizations");
  EXPECT_NE(roots.body.find("中共启东市委市级机关工作委员会"), std::string::npos) << roots.body;
  // Seed 003's shape: 8 communities over the 58 organs, 207 pairings, the 58 organs stationed in
  // 37 residential communities, 5 organs under dual leadership (their branches with them).
  pb::ListOrganizationsResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(roots.body, &list).ok());
  HttpResponse stats = Http(port, "GET", "/v1/" + list.organizations(0).name() + ":statistics");
  ASSERT_EQ(stats.status, 200) << stats.body;
  pb::OrganizationStatistics all;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(stats.body, &all).ok()) << stats.body;
  EXPECT_EQ(all.total(), expected);
  int communities = 0;
  int64_t in_communities = 0;
  for (const auto& c : all.by_community()) {
    if (!c.community().empty()) {
      ++communities;
      in_communities += c.organizations();
    }
  }
  EXPECT_EQ(communities, 8);
  EXPECT_EQ(in_communities, 58);
  EXPECT_EQ(all.pairings(), 207);
  EXPECT_EQ(all.stations(), 58);
  EXPECT_EQ(all.residential_communities(), 37);
  int64_t dual = 0;
  for (const auto& m : all.by_leadership_mode()) {
    if (m.leadership_mode() == pb::DUAL) {
      dual = m.count();
    }
  }
  EXPECT_GE(dual, 5);
  EXPECT_EQ(first->Stop(), 0) << first->Log();

  // Started again with --demo: the data is there and is not loaded twice.
  auto second = Launch(data, port, {"--demo"});
  ASSERT_TRUE(Ready(port)) << second->Log();
  EXPECT_EQ(CountAll(port), expected);
  EXPECT_EQ(second->Stop(), 0);
  EXPECT_TRUE(std::filesystem::exists(data + "/org.db"));
}

// A demo load cut short (here: everything after the pairings lost, as if the process had been
// killed there) is completed by the next start with --demo, without duplicating what exists.
TEST_F(DangjianTest, ADemoCutShortIsCompletedByTheNextStart) {
  const int port = testing::FreePort();
  const std::string data = dir_ + "/data";
  auto first = Launch(data, port, {"--demo"});
  ASSERT_TRUE(Ready(port)) << first->Log();
  ASSERT_EQ(first->Stop(), 0) << first->Log();
  {
    db::Pool pool(db::NewSqliteDriver({.path = data + "/org.db"}), {.size = 1});
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Exec("DELETE FROM stations", {}).ok());
  }
  auto second = Launch(data, port, {"--demo"});
  ASSERT_TRUE(Ready(port)) << second->Log();
  EXPECT_EQ(CountAll(port), ExpectedDemoOrganizations());
  HttpResponse roots = Http(port, "GET", "/v1/organizations");
  pb::ListOrganizationsResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(roots.body, &list).ok());
  ASSERT_EQ(list.organizations_size(), 1) << roots.body;
  HttpResponse stats = Http(port, "GET", "/v1/" + list.organizations(0).name() + ":statistics");
  pb::OrganizationStatistics all;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(stats.body, &all).ok()) << stats.body;
  EXPECT_EQ(all.stations(), 58);
  EXPECT_EQ(all.pairings(), 207);
  EXPECT_EQ(second->Stop(), 0) << second->Log();
}

TEST_F(DangjianTest, ASecondInstanceOnTheSameDataIsRefused) {
  const int port = testing::FreePort();
  auto first = Launch(dir_ + "/data", port);
  ASSERT_TRUE(Ready(port)) << first->Log();
  auto second = Launch(dir_ + "/data", testing::FreePort());
  EXPECT_NE(second->Wait(std::chrono::seconds(30)), 0);
  const std::string log = second->Log();
  EXPECT_NE(log.find("another dangjian"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_EQ(Http(port, "GET", "/healthz").status, 200);  // the first one is unharmed
  EXPECT_EQ(first->Stop(), 0);
}

TEST_F(DangjianTest, UnusableOrCorruptDataFailsWithOneLineAndResetsNothing) {
  const std::string file = dir_ + "/a-file";
  std::ofstream(file) << "not a directory";
  const std::string corrupt_dir = dir_ + "/corrupt";
  std::filesystem::create_directories(corrupt_dir);
  const std::string garbage(16384, '\x5a');
  std::ofstream(corrupt_dir + "/org.db") << garbage;

  struct Case {
    std::string data_dir;
    std::string mentions;
  };
  for (const Case& c : {Case{file, "DJ_DATA_DIR"}, Case{file + "/below", "DJ_DATA_DIR"},
                        Case{corrupt_dir, "org.db"}}) {
    auto p = Launch(c.data_dir, testing::FreePort());
    const int code = p->Wait(std::chrono::seconds(30));
    EXPECT_NE(code, 0) << c.data_dir;
    EXPECT_NE(code, -1) << c.data_dir << " did not exit";
    const std::string log = p->Log();
    EXPECT_NE(log.find(c.mentions), std::string::npos) << log;
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  }
  std::ifstream in(corrupt_dir + "/org.db", std::ios::binary);
  std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, garbage) << "the corrupt file was changed";
}

TEST_F(DangjianTest, KillNineLosesNoAcknowledgedWrite) {
  const int port = testing::FreePort();
  const std::string data = dir_ + "/data";
  auto server = Launch(data, port);
  ASSERT_TRUE(Ready(port)) << server->Log();
  HttpResponse root = Http(port, "POST", "/v1/organizations",
                           R"({"displayName":"工委","kind":"WORK_COMMITTEE"})");
  ASSERT_EQ(root.status, 200) << root.body;
  pb::Organization parent;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(root.body, &parent).ok());

  // Write until the process is killed under us; remember every write that was acknowledged.
  std::vector<std::string> acknowledged;
  std::atomic<int> acks{0};
  std::thread killer([&] {
    testing::WaitFor([&] { return acks.load() >= 40; }, std::chrono::seconds(60));
    kill(server->pid(), SIGKILL);
  });
  for (int i = 0; i < 100000; ++i) {
    HttpResponse r = Http(port, "POST", "/v1/organizations",
                          absl::StrCat(R"({"displayName":"支部)", i,
                                       R"(","kind":"BRANCH","parent":")", parent.name(), R"("})"));
    if (r.status != 200) {
      break;  // killed
    }
    pb::Organization created;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &created).ok());
    acknowledged.push_back(created.name());
    ++acks;
  }
  killer.join();
  server->Wait(std::chrono::seconds(10));
  ASSERT_GE(acknowledged.size(), 40u);

  auto restarted = Launch(data, port);
  ASSERT_TRUE(Ready(port)) << restarted->Log();
  for (const std::string& name : acknowledged) {
    EXPECT_EQ(Http(port, "GET", "/v1/" + name).status, 200) << name << " was lost";
  }
  EXPECT_EQ(restarted->Stop(), 0);
}

TEST_F(DangjianTest, MySqlAndRedisAreASettingNotARebuild) {
  auto db = testing::TestDatabase::Create(db::Dialect::kMySql);
  ASSERT_TRUE(db.ok()) << db.status();
  const int port = testing::FreePort();
  auto server = Launch(dir_ + "/data", port,
                       {"--mysql-url", (*db)->url(), "--redis-url",
                        testing::RequireEnv("DJ_TEST_REDIS_URL")});
  ASSERT_TRUE(Ready(port)) << server->Log();
  EXPECT_NE(server->Log().find("mysql://"), std::string::npos) << server->Log();
  EXPECT_NE(server->Log().find("\"cache\":\"redis\""), std::string::npos) << server->Log();
  HttpResponse created = Http(port, "POST", "/v1/organizations",
                              R"({"displayName":"工委","kind":"WORK_COMMITTEE"})");
  ASSERT_EQ(created.status, 200) << created.body;
  pb::Organization org;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(created.body, &org).ok());
  EXPECT_EQ(Http(port, "GET", "/v1/" + org.name()).status, 200);
  // The row is in MariaDB, not in a SQLite file.
  auto pool = (*db)->NewPool(1);
  auto lease = pool->Acquire();
  EXPECT_EQ((*lease)->Exec("SELECT COUNT(*) FROM organizations", {})->rows[0].Int(0), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/org.db"));
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace dj
