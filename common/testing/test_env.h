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

namespace dj::testing {

// The value of an environment variable the test suite needs; fails the test (with a hint to
// run scripts/test) when it is missing.
std::string RequireEnv(const char* name);

// A uniquely named database on the test MariaDB server, dropped on destruction.
class TestDatabase final {
 public:
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create();
  ~TestDatabase();

  const std::string& url() const { return url_; }  // mysql://user:pass@host:port/name
  const std::string& name() const { return name_; }
  // A pool on this database.
  std::unique_ptr<db::Pool> NewPool(int size = 4) const;

 private:
  TestDatabase() = default;
  std::string admin_url_;
  std::string url_;
  std::string name_;
};

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

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:port. status 0 when the connection failed.
HttpResponse Http(int port, const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {});

// Polls `ready` every 50 ms until true or `timeout`.
bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

}  // namespace dj::testing
