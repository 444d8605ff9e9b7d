// The HTTP/1.1 side of the gateway on Boost.Beast: N io threads (an io_context each), a strand
// per connection, keep-alive, a body size limit, /healthz /readyz /openapi.json, and graceful
// shutdown. Malformed framing (RFC 9112) is answered 400, oversized headers 431, a slow request
// 408, an unknown expectation 417, a connection over the cap 503, each then closed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/runtime/config.h"
#include "gateway/src/gateway.h"

namespace dj::gateway {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};  // an idle keep-alive connection closes after this
  // Connections open at once; one more is answered 503 and closed.
  int max_connections = 1024;
  // Once a request's first byte has arrived, the time the client has to send the rest (headers
  // and body); then it is answered 408 and the connection closed. A connection that sends nothing
  // closes silently: after this on a new connection, after idle_timeout between requests.
  std::chrono::milliseconds request_read_timeout{10000};
  // Web origins allowed to call the API from a browser ("https://dj.example.gov.cn"); empty:
  // none (same-origin and non-browser clients only).
  std::vector<std::string> cors_origins;
};

// http-listen (default `default_listen`), http-threads, request-timeout-ms, max-body-bytes,
// cors-origins, rate limits, max-connections, request-read-timeout-ms, and the keys: jwt-keys and
// internal-secret (`keys_required`: the distributed gateway; the embedded binary makes its own when
// they are not given).
std::vector<runtime::Setting> HttpSettings(const std::string& default_listen,
                                           bool keys_required);
// The server and gateway options those settings give.
HttpServerOptions HttpServerOptionsFrom(const runtime::Config& config);
GatewayOptions GatewayOptionsFrom(const runtime::Config& config);

class HttpServer final {
 public:
  // `gateway` must outlive the server.
  HttpServer(Gateway& gateway, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads; returns the bound port.
  absl::StatusOr<int> Start();
  // Stops accepting, gives requests in flight up to `grace`, then stops the io threads.
  void Shutdown(std::chrono::milliseconds grace);

  struct Impl;  // named by the sessions in http_server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dj::gateway
