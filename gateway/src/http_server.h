// An asynchronous HTTP/1.1 server on Boost.Beast: N io threads, one strand per connection,
// keep-alive, a body size limit, and graceful stop. It knows nothing of routes; a handler gets
// each request and answers through a Reply, from any thread, whenever it is ready.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::gateway {

struct HttpRequest {
  std::string method;        // "GET", "POST", ... as sent
  std::string target;        // "/v1/organizations?parent=organizations%2F1"
  std::string content_type;  // "" when absent
  std::string request_id;    // the x-request-id header as sent ("" when absent)
  std::string body;
  std::string remote;        // "127.0.0.1:50123"
  bool body_too_large = false;  // the body exceeded max_body_bytes and was not read
  std::chrono::steady_clock::time_point received;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// How a handler answers one request. Post() may be called from any thread, exactly once; `make`
// then runs on the connection's strand and what it returns is written.
class Reply final {
 public:
  using PostFn = std::function<void(std::function<HttpResponse()>)>;
  explicit Reply(PostFn post) : post_(std::move(post)) {}

  void Post(std::function<HttpResponse()> make) const { post_(std::move(make)); }
  void Send(HttpResponse response) const {
    post_([r = std::move(response)]() { return r; });
  }

 private:
  PostFn post_;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Runs on the connection's strand (an io thread): must not block.
  virtual void Handle(HttpRequest request, Reply reply) = 0;
};

class HttpServer final {
 public:
  struct Options {
    std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
    int threads = 2;
    uint64_t max_body_bytes = 1 << 20;
    std::chrono::seconds idle_timeout{60};  // an idle keep-alive connection is closed after this
  };

  // Binds, listens and starts the io threads. `handler` must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const Options& options,
                                                           HttpHandler* handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }

  // Stops accepting and closes idle connections; requests in flight get their answers, then
  // their connections close.
  void StopAccepting();
  // Waits until no request is in flight; false if `deadline` passed first.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  // Stops the io threads (answers still queued are dropped) and joins them.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace dj::gateway
