// Test databases, processes and HTTP for the test suites.
#include "common/testing/test_env.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/db/mysql_driver.h"
#include "common/db/sqlite_driver.h"
#include "common/db/url.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dj::testing {

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << name << " is not set: run the tests with scripts/test, which starts "
                  << "MariaDB and Redis and sets it";
    return "";
  }
  return v;
}

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create(db::Dialect dialect) {
  std::unique_ptr<TestDatabase> t(new TestDatabase());
  t->dialect_ = dialect;
  std::random_device rd;
  t->name_ = absl::StrCat("dj_test_", getpid(), "_", rd() % 1000000000);
  if (dialect == db::Dialect::kSqlite) {
    t->path_ = absl::StrCat(::testing::TempDir(), "/", t->name_, ".db");
    return t;
  }
  t->admin_url_ = RequireEnv("DJ_TEST_MYSQL_URL");
  auto admin = db::ParseMySqlUrl(t->admin_url_);
  if (!admin.ok()) {
    return admin.status();
  }
  db::MySqlUrl url = *admin;
  url.database.clear();
  auto conn = db::NewMySqlDriver({.url = url})->Connect();
  if (!conn.ok()) {
    return conn.status();
  }
  auto created = (*conn)->Exec(absl::StrCat("CREATE DATABASE ", t->name_,
                                                 " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"), {});
  if (!created.ok()) {
    return created.status();
  }
  t->url_ = absl::StrCat("mysql://", url.user, ":", url.password, "@", url.host, ":", url.port,
                         "/", t->name_);
  return t;
}

TestDatabase::~TestDatabase() {
  if (dialect_ == db::Dialect::kSqlite) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove((path_ + suffix).c_str());
    }
    return;
  }
  auto admin = db::ParseMySqlUrl(admin_url_);
  if (!admin.ok()) {
    return;
  }
  admin->database.clear();
  auto conn = db::NewMySqlDriver({.url = *admin})->Connect();
  if (conn.ok()) {
    (void)(*conn)->Exec(absl::StrCat("DROP DATABASE IF EXISTS ", name_), {});
  }
}

std::string DialectName(const ::testing::TestParamInfo<db::Dialect>& info) {
  return info.param == db::Dialect::kMySql ? "MySql" : "Sqlite";
}

std::unique_ptr<db::Pool> TestDatabase::NewPool(int size) const {
  if (dialect_ == db::Dialect::kSqlite) {
    return std::make_unique<db::Pool>(db::NewSqliteDriver({.path = path_}),
                                      db::PoolOptions{.name = name_, .size = size});
  }
  return std::make_unique<db::Pool>(db::NewMySqlDriver({.url = *db::ParseMySqlUrl(url_)}),
                                    db::PoolOptions{.name = name_, .size = size});
}

std::string BinDir() {
  const char* env = std::getenv("DJ_BIN_DIR");
  return env != nullptr && *env != '\0' ? env : DJ_BUILD_BIN_DIR;
}

namespace {

// The first port of the kernel's ephemeral range (32768 unless configured otherwise).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return in >> low && low > 11000 ? low : 32768;
}

bool CanBind(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

// Below the ephemeral range: a port from there (what bind to port 0 hands out) can become the
// local end of some outgoing connection (to MariaDB, Redis, a service) before the child process
// binds it, and the child then fails to start with EADDRINUSE.
std::string FreshTestDir(const std::string& prefix) {
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(test.begin(), test.end(), '/', '_');
  const std::string dir =
      ::testing::TempDir() + "/" + prefix + "-" + std::to_string(getpid()) + "-" + test;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::unique_ptr<Process> StartRedisServer(int port, const std::string& dir,
                                          std::vector<std::string> extra) {
  const char* env = std::getenv("DJ_REDIS_SERVER");
  std::vector<std::string> args = {"--port", std::to_string(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<Process>(env != nullptr && *env != '\0' ? env : "/usr/bin/redis-server",
                                   std::move(args), std::map<std::string, std::string>{},
                                   dir + "/redis.log");
}

int FreePort() {
  static const int low = EphemeralLow();
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(10000, low - 1);
  for (int i = 0; i < 200; ++i) {
    const int port = pick(rng);
    if (CanBind(port)) {
      return port;
    }
  }
  ADD_FAILURE() << "no free port below " << low;
  return 0;
}

Process::Process(std::string path, std::vector<std::string> args,
                 std::map<std::string, std::string> env, std::string log_path)
    : log_path_(std::move(log_path)) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    // The parent may block signals; the child must get SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env) {
      setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> argv;
    argv.push_back(path.data());
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (Running()) {
    kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
}

bool Process::Running() {
  if (pid_ <= 0 || status_.has_value()) {
    return false;
  }
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

int Process::Wait(std::chrono::milliseconds timeout) {
  WaitFor([&] { return !Running(); }, timeout);
  if (!status_.has_value()) {
    return -1;
  }
  return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
}

int Process::Stop(std::chrono::milliseconds grace) {
  if (Running()) {
    kill(pid_, SIGTERM);
    if (Wait(grace) == -1) {
      kill(pid_, SIGKILL);
      Wait(std::chrono::seconds(5));
    }
  }
  if (!status_.has_value()) {
    return -1;
  }
  return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
}

std::string Process::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResponse Http(int port, const std::string& method, const std::string& target,
                  const std::string& body, const std::map<std::string, std::string>& headers) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResponse out;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<unsigned short>(port)));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, absl::StrCat("127.0.0.1:", port));
    bool has_content_type = false;
    for (const auto& [k, v] : headers) {
      req.set(k, v);
      has_content_type = has_content_type || absl::AsciiStrToLower(k) == "content-type";
    }
    if (!body.empty()) {
      if (!has_content_type) {
        req.set(http::field::content_type, "application/json");
      }
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto res = parser.release();
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    out.body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

std::string RawHttp(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return "";
  }
  timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
             .tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        break;  // the server may answer and close before reading everything
      }
      sent += static_cast<size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    char buf[16384];
    while (true) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

int RawStatus(const std::string& raw) {
  int status = 0;
  if (raw.size() >= 12 && raw.starts_with("HTTP/1.")) {
    absl::SimpleAtoi(raw.substr(9, 3), &status);
  }
  return status;
}

int64_t ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) {
      int64_t kib = 0;
      std::istringstream(line.substr(6)) >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

namespace {

std::string JsonField(const std::string& json, const std::string& field) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(json, &s).ok()) {
    return "";
  }
  auto it = s.fields().find(field);
  return it == s.fields().end() ? "" : it->second.string_value();
}

std::string JsonString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string SignIn(int port, const std::string& username, const std::string& password,
                   const std::string& new_password) {
  const std::map<std::string, std::string> json = {{"Content-Type", "application/json"}};
  auto login = [&](const std::string& pw) {
    return Http(port, "POST", "/v1/auth:login",
                "{\"username\":" + JsonString(username) + ",\"password\":" + JsonString(pw) + "}",
                json);
  };
  HttpResponse r = login(password);
  if (r.status == 400 && r.body.find("PASSWORD_CHANGE_REQUIRED") != std::string::npos) {
    HttpResponse changed = Http(port, "POST", "/v1/auth:changePassword",
                                "{\"username\":" + JsonString(username) +
                                    ",\"oldPassword\":" + JsonString(password) +
                                    ",\"newPassword\":" + JsonString(new_password) + "}",
                                json);
    if (changed.status != 200) {
      return "";
    }
    r = login(new_password);
  } else if (r.status == 401) {
    r = login(new_password);
  }
  return r.status == 200 ? JsonField(r.body, "accessToken") : "";
}

bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ready()) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace dj::testing
