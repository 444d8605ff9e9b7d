// The data directory: created, checked, locked against a second process.
#include "embedded/src/data_dir.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace dj::embedded {
namespace {

std::string Fresh(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/datadir-" + std::to_string(getpid()) + "-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(DataDirTest, CreatesAndLocks) {
  const std::string dir = Fresh("lock") + "/nested/deeper";
  auto first = DataDir::Open(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(first->DatabaseFile("org"), dir + "/org.db");

  // flock is per open file description: a second process is refused, naming the holder.
  const pid_t child = fork();
  if (child == 0) {
    auto second = DataDir::Open(dir);
    const bool refused = !second.ok() &&
                         std::string(second.status().message()).find("another dangjian") !=
                             std::string::npos &&
                         std::string(second.status().message()).find(std::to_string(getppid())) !=
                             std::string::npos;
    _exit(refused ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(DataDirTest, LockIsReleasedWhenTheHolderGoes) {
  const std::string dir = Fresh("release");
  { auto first = DataDir::Open(dir); ASSERT_TRUE(first.ok()); }
  EXPECT_TRUE(DataDir::Open(dir).ok());
}

TEST(DataDirTest, UnusablePathsAreRefusedClearly) {
  const std::string base = Fresh("bad");
  std::filesystem::create_directories(base);
  const std::string file = base + "/a-file";
  std::ofstream(file) << "x";
  for (const std::string& path : {file, file + "/below", std::string("/proc/dangjian-test")}) {
    auto d = DataDir::Open(path);
    EXPECT_FALSE(d.ok()) << path;
    EXPECT_NE(std::string(d.status().message()).find(path), std::string::npos)
        << d.status().message();
  }
}

}  // namespace
}  // namespace dj::embedded
