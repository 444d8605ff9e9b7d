// Settings precedence (flag > environment > file) and the one-line errors for bad settings.
#include <fstream>

#include "common/runtime/config.h"
#include "gtest/gtest.h"

namespace dj::runtime {
namespace {

std::vector<Setting> Settings() {
  return {
      {"grpc-listen", "0.0.0.0:9090", false, "listen", ValidateHostPort},
      {"mysql-url", "", true, "the database", nullptr},
      {"grpc-threads", "16", false, "threads", ValidatePositiveInt},
      {"demo", "false", false, "load the demo", nullptr, /*boolean=*/true},
  };
}

absl::StatusOr<Config> Load(std::vector<const char*> args,
                            std::map<std::string, std::string> env) {
  args.insert(args.begin(), "prog");
  auto settings = Settings();
  return Config::Load(settings, static_cast<int>(args.size()), args.data(), &env);
}

TEST(ConfigTest, DefaultsApplyWhenNothingSetsThem) {
  auto c = Load({}, {{"DJ_MYSQL_URL", "mysql://u@h/d"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Get("grpc-listen"), "0.0.0.0:9090");
  EXPECT_EQ(c->GetInt("grpc-threads"), 16);
}

TEST(ConfigTest, FlagBeatsEnvironmentBeatsFile) {
  const std::string file = ::testing::TempDir() + "/dj.conf";
  std::ofstream(file) << "# comment\nDJ_GRPC_LISTEN = 1.1.1.1:1\nDJ_GRPC_THREADS=3\n"
                         "DJ_MYSQL_URL=mysql://file@h/d\n";
  auto c = Load({"--config", file.c_str(), "--grpc-listen=3.3.3.3:3"},
                {{"DJ_GRPC_LISTEN", "2.2.2.2:2"}, {"DJ_MYSQL_URL", "mysql://env@h/d"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Get("grpc-listen"), "3.3.3.3:3");
  EXPECT_EQ(c->Get("mysql-url"), "mysql://env@h/d");
  EXPECT_EQ(c->GetInt("grpc-threads"), 3);
}

TEST(ConfigTest, FlagWithSeparateValue) {
  auto c = Load({"--mysql-url", "mysql://u@h/d"}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Get("mysql-url"), "mysql://u@h/d");
}

TEST(ConfigTest, ErrorsNameTheSetting) {
  struct Case {
    std::vector<const char*> args;
    std::map<std::string, std::string> env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, {}, "DJ_MYSQL_URL: missing"},
      {{}, {{"DJ_MYSQL_URL", "x"}, {"DJ_GRPC_LISTEN", "nonsense"}}, "DJ_GRPC_LISTEN:"},
      {{}, {{"DJ_MYSQL_URL", "x"}, {"DJ_GRPC_LISTEN", "h:99999"}}, "DJ_GRPC_LISTEN:"},
      {{}, {{"DJ_MYSQL_URL", "x"}, {"DJ_GRPC_THREADS", "0"}}, "DJ_GRPC_THREADS:"},
      {{"--no-such-flag=1"}, {{"DJ_MYSQL_URL", "x"}}, "--no-such-flag: unknown flag"},
      {{"--grpc-threads"}, {{"DJ_MYSQL_URL", "x"}}, "--grpc-threads: missing value"},
      {{"stray"}, {{"DJ_MYSQL_URL", "x"}}, "unexpected argument"},
      {{"--config", "/nonexistent/file"}, {}, "--config: cannot read"},
  };
  for (const Case& c : cases) {
    auto loaded = Load(c.args, c.env);
    ASSERT_FALSE(loaded.ok()) << c.expected;
    EXPECT_NE(std::string(loaded.status().message()).find(c.expected), std::string::npos)
        << loaded.status().message();
  }
}

TEST(ConfigTest, UnknownKeyInFileIsAnError) {
  const std::string file = ::testing::TempDir() + "/bad.conf";
  std::ofstream(file) << "DJ_MYSQL_URL=x\nDJ_TYPO=1\n";
  auto c = Load({"--config", file.c_str()}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("DJ_TYPO"), std::string::npos);
}

TEST(ConfigTest, Switches) {
  auto on = Load({"--demo", "--mysql-url", "m"}, {});
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->GetBool("demo"));
  EXPECT_EQ(on->Get("mysql-url"), "m");
  auto off = Load({"--demo=false"}, {{"DJ_MYSQL_URL", "m"}});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->GetBool("demo"));
  EXPECT_TRUE(Load({}, {{"DJ_MYSQL_URL", "m"}, {"DJ_DEMO", "1"}})->GetBool("demo"));
  auto bad = Load({}, {{"DJ_MYSQL_URL", "m"}, {"DJ_DEMO", "yes please"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("DJ_DEMO"), std::string::npos);
}

TEST(ConfigTest, EnvName) {
  EXPECT_EQ(Config::EnvName("grpc-listen"), "DJ_GRPC_LISTEN");
  EXPECT_EQ(Config::EnvName("org-addr"), "DJ_ORG_ADDR");
}

}  // namespace
}  // namespace dj::runtime
