// Boost.Beast sessions: read a request, hand it to the gateway, write the answer when the
// backend's callback posts it back onto the connection's strand.
#include "gateway/src/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/jwt.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "gateway/src/openapi.h"

namespace dj::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

struct HttpServer::Impl {
  Impl(Gateway& g, HttpServerOptions o)
      : gateway(g), options(std::move(o)), io(options.threads), acceptor(io) {}

  Gateway& gateway;
  HttpServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};

  void Accept();
};

namespace {

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(server_.options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

 private:
  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      drain_ = true;  // the client is still sending: read and drop it so it sees the 413
      Reply(Gateway::ErrorResponse(3,
                                   "the body is larger than the limit of " +
                                       std::to_string(server_.options.max_body_bytes) + " bytes",
                                   "", 413),
            false);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive() && !server_.stopping;
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& f : req) {
      r.headers[absl::AsciiStrToLower(std::string(f.name_string()))] = std::string(f.value());
    }
    r.body = std::move(req.body());
    if (auto o = r.headers.find("origin"); o != r.headers.end()) {
      const auto& allowed = server_.options.cors_origins;
      cors_origin_ =
          std::find(allowed.begin(), allowed.end(), o->second) != allowed.end() ? o->second : "";
      if (r.method == "OPTIONS" && r.headers.contains("access-control-request-method")) {
        Reply(Preflight(!cors_origin_.empty()), keep_alive_);
        return;
      }
    } else {
      cors_origin_.clear();
    }
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    r.remote = ep_ec ? "" : ep.address().to_string();

    const std::string path = r.target.substr(0, r.target.find('?'));
    if ((path == "/healthz" || path == "/readyz" || path == "/openapi.json") && r.method != "GET") {
      HttpResponse bad = Gateway::ErrorResponse(12, "only GET is allowed on " + path, "", 405);
      bad.headers.emplace_back("allow", "GET");
      Reply(std::move(bad), keep_alive_);
      return;
    }
    if (r.method == "GET" && path == "/healthz") {
      HttpResponse h;
      h.body = "{\"status\":\"SERVING\"}";
      Reply(std::move(h), keep_alive_);
      return;
    }
    if (r.method == "GET" && path == "/openapi.json") {
      // The API description, generated from the same routes the gateway serves.
      static const std::string document = OpenApiDocument(server_.gateway.routes());
      HttpResponse doc;
      doc.body = document;
      Reply(std::move(doc), keep_alive_);
      return;
    }
    ++server_.in_flight;
    auto self = shared_from_this();
    auto post_back = [self](HttpResponse resp) {
      asio::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        self->Reply(std::move(resp), self->keep_alive_);
        --self->server_.in_flight;
      });
    };
    if (r.method == "GET" && path == "/readyz") {
      server_.gateway.CheckReady([post_back](bool ok, std::string detail) {
        HttpResponse h;
        h.status = ok ? 200 : 503;
        h.body = ok ? "{\"status\":\"SERVING\"}"
                    : "{\"status\":\"NOT_SERVING\",\"detail\":\"" + log::JsonEscape(detail) + "\"}";
        post_back(std::move(h));
      });
      return;
    }
    server_.gateway.Handle(r, std::move(post_back));
  }

  void Reply(HttpResponse r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    bool has_type = false;
    for (auto& [k, v] : r.headers) {
      res->set(k, v);
      has_type = has_type || k == "content-type";
    }
    if (!has_type) {
      res->set(http::field::content_type, "application/json; charset=utf-8");
    }
    // Security headers on every answer: an API, never rendered or framed, never cached.
    res->set(http::field::cache_control, "no-store");
    res->set("x-content-type-options", "nosniff");
    res->set("x-frame-options", "DENY");
    res->set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
    res->set("referrer-policy", "no-referrer");
    res->set("strict-transport-security", "max-age=31536000; includeSubDomains");
    if (!cors_origin_.empty()) {
      res->set("access-control-allow-origin", cors_origin_);
      res->set("access-control-expose-headers", "x-request-id, retry-after, www-authenticate");
    }
    res->set(http::field::vary, "origin");
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (!ec && self->drain_) {
                          self->Drain();
                          return;
                        }
                        if (ec || !keep_alive) {
                          self->Close();
                          return;
                        }
                        self->Read();
                      });
  }

  // The answer to a CORS preflight: which methods and headers a browser may send.
  static HttpResponse Preflight(bool allowed) {
    if (!allowed) {
      return Gateway::ErrorResponse(7, "this origin may not call the API from a browser", "", 403,
                                    "CORS_ORIGIN_NOT_ALLOWED");
    }
    HttpResponse r;
    r.status = 204;
    r.headers = {{"access-control-allow-methods", "GET, POST, PATCH, DELETE"},
                 {"access-control-allow-headers", "authorization, content-type, x-request-id"},
                 {"access-control-max-age", "600"}};
    return r;
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Half-closes and discards what the client still sends (bounded by time and size), so closing
  // does not reset the connection before the client has read the answer.
  void Drain() {
    Close();
    stream_.expires_after(std::chrono::seconds(5));
    drain_buffer_.resize(64 * 1024);
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < 64 * 1024 * 1024) {
                                self->Drain();
                              }
                            });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool drain_ = false;
  std::string cors_origin_;  // the request's Origin when it is an allowed one
  std::vector<char> drain_buffer_;
  size_t drained_ = 0;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping) {
        Accept();
      }
      return;
    }
    std::make_shared<Session>(std::move(socket), *this)->Read();
    Accept();
  });
}

std::vector<runtime::Setting> HttpSettings(const std::string& default_listen, bool keys_required) {
  return {
      auth::JwtKeysSetting(keys_required),
      {"internal-secret", "", keys_required,
       "secret shared with the services; the gateway vouches for each caller with it (32+ "
       "characters)",
       runtime::ValidateSecret},
      {"cors-origins", "", false,
       "comma-separated web origins allowed to call from a browser (https://host[:port])"},
      {"rate-limit-per-ip", "1200", false, "requests per window from one client address",
       runtime::ValidatePositiveInt},
      {"rate-limit-per-principal", "600", false, "requests per window by one account",
       runtime::ValidatePositiveInt},
      {"rate-limit-window-seconds", "60", false, "length of a rate-limit window",
       runtime::ValidatePositiveInt},
      {"sign-in-limit-per-ip", "20", false,
       "sign-ins and password changes per window from one client address, whatever the names",
       runtime::ValidatePositiveInt},
      {"revocation-poll-ms", "1000", false,
       "how often revoked access tokens are asked of the member service (a revoked token stops "
       "working within about this long)",
       runtime::ValidatePositiveInt},
      {"http-listen", default_listen, false, "host:port for the HTTP/JSON API",
       runtime::ValidateHostPort},
      {"http-threads", "2", false, "threads serving HTTP", runtime::ValidatePositiveInt},
      {"request-timeout-ms", "10000", false, "deadline of each backend call",
       runtime::ValidatePositiveInt},
      {"max-body-bytes", "1048576", false, "largest request body accepted",
       runtime::ValidatePositiveInt},
  };
}

HttpServerOptions HttpServerOptionsFrom(const runtime::Config& config) {
  HttpServerOptions o{.listen = config.Get("http-listen"),
                      .threads = static_cast<int>(config.GetInt("http-threads")),
                      .max_body_bytes = static_cast<size_t>(config.GetInt("max-body-bytes"))};
  for (absl::string_view origin :
       absl::StrSplit(config.Get("cors-origins"), ',', absl::SkipWhitespace())) {
    o.cors_origins.emplace_back(absl::StripAsciiWhitespace(origin));
  }
  return o;
}

GatewayOptions GatewayOptionsFrom(const runtime::Config& config) {
  GatewayOptions o{
      .request_timeout = std::chrono::milliseconds(config.GetInt("request-timeout-ms")),
      .internal_secret = config.Get("internal-secret")};
  if (auto keys = auth::ParseSigningKeys(config.Get("jwt-keys")); keys.ok()) {
    o.jwt_keys = *std::move(keys);
  }
  o.limits.per_ip = static_cast<int>(config.GetInt("rate-limit-per-ip"));
  o.limits.per_principal = static_cast<int>(config.GetInt("rate-limit-per-principal"));
  o.limits.window = std::chrono::seconds(config.GetInt("rate-limit-window-seconds"));
  o.limits.sign_in_per_ip = static_cast<int>(config.GetInt("sign-in-limit-per-ip"));
  o.revocation_poll_interval = std::chrono::milliseconds(config.GetInt("revocation-poll-ms"));
  return o;
}

HttpServer::HttpServer(Gateway& gateway, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(gateway, std::move(options))) {}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<int> HttpServer::Start() {
  const std::string& listen = impl_->options.listen;
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("'", listen, "' is not host:port"));
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(listen.substr(0, colon), ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("'", listen, "': ", ec.message()));
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, ": ", ec.message()));
  }
  const int bound = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < impl_->options.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return bound;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  if (impl_->threads.empty()) {
    return;
  }
  impl_->stopping = true;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Calls still running past the grace period are cancelled, and their callbacks (which touch
  // the gateway and post to these threads) must finish before the threads stop.
  impl_->gateway.CancelAll();
  impl_->gateway.WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    t.join();
  }
  impl_->threads.clear();
  impl_->gateway.FlushReports();
}

}  // namespace dj::gateway
