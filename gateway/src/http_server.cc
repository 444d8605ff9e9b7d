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
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"

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
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    r.remote = ep_ec ? "" : ep.address().to_string();

    const std::string path = r.target.substr(0, r.target.find('?'));
    if ((path == "/healthz" || path == "/readyz" || path == "/metrics") && r.method != "GET") {
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
    if (r.method == "GET" && path == "/metrics") {
      HttpResponse m;
      m.body = metrics::Serialize();
      m.headers.emplace_back("content-type", "text/plain; version=0.0.4");
      Reply(std::move(m), keep_alive_);
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
                    : "{\"status\":\"NOT_SERVING\",\"detail\":\"" + log::JsonEscape(detail) +
                          "\"}";
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
    res->set(http::field::cache_control, "no-store");
    res->set("x-content-type-options", "nosniff");
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
    stream_.async_read_some(
        asio::buffer(drain_buffer_),
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

std::vector<runtime::Setting> HttpSettings(const std::string& default_listen) {
  return {
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
  return {.listen = config.Get("http-listen"),
          .threads = static_cast<int>(config.GetInt("http-threads")),
          .max_body_bytes = static_cast<size_t>(config.GetInt("max-body-bytes"))};
}

GatewayOptions GatewayOptionsFrom(const runtime::Config& config) {
  return {.request_timeout = std::chrono::milliseconds(config.GetInt("request-timeout-ms"))};
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
}

}  // namespace dj::gateway
