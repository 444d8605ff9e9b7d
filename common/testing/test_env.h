// Test support shared by every suite: a fresh MariaDB database per test (from
// DJ_TEST_MYSQL_URL, which scripts/test sets), the test Redis, free ports, child processes and a
// small blocking HTTP client for driving the gateway like a client would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "gtest/gtest.h"

namespace dj::testing {

// The value of an environment variable the test suite needs; fails the test (with a hint to
// run scripts/test) when it is missing.
std::string RequireEnv(const char* name);

// A fresh database, removed on destruction: a uniquely named one on the test MariaDB server, or
// a new SQLite file in the test's temp dir.
class TestDatabase final {
 public:
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create(
      db::Dialect dialect = db::Dialect::kMySql);
  ~TestDatabase();

  db::Dialect dialect() const { return dialect_; }
  const std::string& url() const { return url_; }  // MySQL: mysql://user:pass@host:port/name
  const std::string& path() const { return path_; }  // SQLite: the file
  const std::string& name() const { return name_; }
  // A pool on this database.
  std::unique_ptr<db::Pool> NewPool(int size = 4) const;

 private:
  TestDatabase() = default;
  db::Dialect dialect_ = db::Dialect::kMySql;
  std::string path_;
  std::string admin_url_;
  std::string url_;
  std::string name_;
};

// For INSTANTIATE_TEST_SUITE_P over both databases: "MySql" / "Sqlite".
std::string DialectName(const ::testing::TestParamInfo<db::Dialect>& info);

// Where the built binaries are: DJ_BIN_DIR, else the build tree's bin/.
std::string BinDir();

// A TCP port nobody listens on right now (bind to 0, read it, close).
int FreePort();

// A child process with its output in a log file.
class Process final {
 public:
  Process(std::string path, std::vector<std::string> args, std::map<std::string, std::string> env,
          std::string log_path);
  ~Process();  // SIGKILL if still running

  pid_t pid() const { return pid_; }
  bool Running();
  // SIGTERM, then SIGKILL after `grace`; returns the exit status as from waitpid (or -1).
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits for the process to exit by itself; returns its exit code (or -1 on timeout).
  int Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

// An empty directory of this test's own: <test temp dir>/<prefix>-<pid>-<test name> ('/' of a
// parameterized name made '_'), emptied if an earlier run left it.
std::string FreshTestDir(const std::string& prefix);

// A redis-server of the test's own on 127.0.0.1:`port`, without persistence, its files and
// redis.log in `dir` (DJ_REDIS_SERVER, else /usr/bin/redis-server); `extra` adds arguments
// ("--requirepass", ...). The caller waits until it answers.
std::unique_ptr<Process> StartRedisServer(int port, const std::string& dir,
                                          std::vector<std::string> extra = {});

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:port. status 0 when the connection failed.
HttpResponse Http(int port, const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {});

// Sends `bytes` as they are to 127.0.0.1:port and returns everything read back until the server
// closes the connection or `timeout` passes ("" when the connection failed): for requests a
// well-behaved client could not send.
std::string RawHttp(int port, const std::string& bytes,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The status code of the first response line in `raw` ("HTTP/1.1 431 ..." -> 431), 0 if none.
int RawStatus(const std::string& raw);

// The resident memory of process `pid` in bytes (VmRSS), 0 when unknown.
int64_t ResidentBytes(pid_t pid);

// Signs in through the gateway on `port` and returns the access token ("" on failure). When the
// password must be changed first (a bootstrap or initial password), changes it to
// `new_password`; when `password` no longer works, tries `new_password` (changed earlier).
std::string SignIn(int port, const std::string& username, const std::string& password,
                   const std::string& new_password);

// The bootstrap administrator the tests start every suite with, and the password they change
// it to at first sign-in.
inline constexpr char kAdminInitialPassword[] = "Initial#Pass2026";
inline constexpr char kAdminPassword[] = "Admin#Pass2026x";

// Polls `ready` every 50 ms until true or `timeout`.
bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

}  // namespace dj::testing
