// Boost.Beast sessions: read a request, hand it to the gateway, write the answer from the thread
// the backend's callback runs on (ReplyOnAnyThread), then await the next request.
#include "gateway/src/http_server.h"

#include <algorithm>
#include <map>
#include <string_view>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
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
#include "gateway/src/request_body.h"

namespace dj::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

struct HttpServer::Impl {
  Impl(Gateway& g, HttpServerOptions o)
      : gateway(g), options(std::move(o)), ios(MakeContexts(options.threads)),
        acceptor(*ios[0]), accept_retry(*ios[0]) {}

  // One io_context per thread, each run by its thread alone: a connection's events are handled
  // where its socket is polled, with no hand-off between threads sharing one context (which cost
  // a futex wake-up per event; bench/README.md).
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, n); ++i) {
      out.push_back(std::make_unique<asio::io_context>(1));
    }
    return out;
  }
  // The context a new connection goes to (round robin).
  asio::io_context& NextContext() { return *ios[next_context++ % ios.size()]; }

  Gateway& gateway;
  HttpServerOptions options;
  // Before `ios`: sessions that their destructors destroy still count themselves out.
  std::atomic<int> connections{0};  // sessions serving requests (at most max_connections)
  std::atomic<int> rejecting{0};    // sessions answering 503 over the cap
  std::vector<std::unique_ptr<asio::io_context>> ios;
  // Keeps each thread's run() going while its context has no connection.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  size_t next_context = 0;  // only the acceptor's handler uses it
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;  // a pause after a failed accept (out of descriptors)
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};

  void Accept();
};

namespace {

// More header fields than this is answered 431 (the header's 16 KiB limit bounds their size).
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kMaxHeaderBytes = 16 * 1024;

std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

// RFC 9112 §3.2: a Host is a reg-name or IP literal with an optional port (RFC 3986 characters).
bool ValidHost(std::string_view host) {
  for (char c : host) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("-._~!$&'()*+,;=%:[]").find(c) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

class Session final : public std::enable_shared_from_this<Session> {
 public:
  // `counted`: one of the server's `connections` (else one of `rejecting`), released on close.
  Session(tcp::socket socket, HttpServer::Impl& server, bool counted)
      : stream_(std::move(socket)),
        server_(server),
        timer_(stream_.get_executor()),
        counted_(counted) {
    // Synchronous writes (ReplyOnAnyThread) report would_block instead of waiting; the
    // asynchronous operations work as before.
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
  }
  ~Session() { --(counted_ ? server_.connections : server_.rejecting); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Waits for a request (the first one on a new connection, or the next one).
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    cors_origin_.clear();
    if (buffer_.size() > 0) {
      ReadHeader();  // pipelined: the next request has started already
      return;
    }
    // Nothing of a request yet: an idle connection, which closes silently when nothing comes.
    const auto idle =
        std::chrono::duration_cast<std::chrono::milliseconds>(server_.options.idle_timeout);
    Arm(first_ ? std::min(idle, server_.options.request_read_timeout) : idle);
    stream_.expires_never();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->Disarm();
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  // Over the connection cap: 503, then close.
  void Reject() {
    HttpResponse r = Gateway::ErrorResponse(
        14, "the server has too many open connections; try again later", "", 503);
    r.headers.emplace_back("retry-after", "1");
    Refuse(std::move(r));
  }

 private:
  // A request has begun: its header and body must arrive within request_read_timeout.
  void ReadHeader() {
    first_ = false;
    Arm(server_.options.request_read_timeout);
    stream_.expires_never();
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec || timed_out_) {  // timed_out_: the deadline passed as the header completed
      OnReadError(ec);
      return;
    }
    const auto& req = parser_->get();
    if (auto refused = CheckHeader(req)) {
      Disarm();
      Refuse(*std::move(refused));
      return;
    }
    if (ExpectsContinue(req) && !parser_->is_done()) {
      // The client waits for this before it sends the body (RFC 9110 §10.1.1).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec || self->timed_out_) {
                            self->OnReadError(ec);
                            return;
                          }
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  // The answer to a header that RFC 9112 says to refuse, or none.
  std::optional<HttpResponse> CheckHeader(const http::request<http::string_body>& req) {
    const auto bad = [](const std::string& what) {
      return Gateway::ErrorResponse(3, what, "", 400);
    };
    if (static_cast<size_t>(std::distance(req.begin(), req.end())) > kMaxHeaderFields) {
      return Gateway::ErrorResponse(
          3, absl::StrCat("the request has more than ", kMaxHeaderFields, " header fields"), "",
          431);
    }
    const size_t hosts = req.count(http::field::host);
    if (hosts > 1) {
      return bad("the request has more than one Host header");
    }
    if (hosts == 0 && req.version() >= 11) {
      return bad("an HTTP/1.1 request needs a Host header");
    }
    if (hosts == 1 && !ValidHost(Std(req[http::field::host]))) {
      return bad("the Host header is not a valid host[:port]");
    }
    // Beast refuses conflicting values; repeated or listed ones are refused too, so that no two
    // readers of this request can disagree about where it ends.
    const size_t lengths = req.count(http::field::content_length);
    if (lengths > 1 || (lengths == 1 && Std(req[http::field::content_length]).find(',') !=
                                            std::string_view::npos)) {
      return bad("the request has more than one Content-Length");
    }
    if (req.count(http::field::transfer_encoding) > 0) {
      const std::string te =
          absl::AsciiStrToLower(std::string(StripOws(Std(req[http::field::transfer_encoding]))));
      if (req.count(http::field::transfer_encoding) > 1 || req.version() < 11 ||
          !te.ends_with("chunked")) {
        return bad("the request's Transfer-Encoding does not frame its body (RFC 9112 §6.3)");
      }
      if (te != "chunked") {
        return Gateway::ErrorResponse(12, "only the chunked transfer coding is supported", "", 501);
      }
    }
    if (req.version() >= 11 && req.count(http::field::expect) > 0 && !ExpectsContinue(req)) {
      return Gateway::ErrorResponse(9, "the only expectation supported is 100-continue", "", 417);
    }
    return std::nullopt;
  }

  // An HTTP/1.1 request with exactly `Expect: 100-continue` (HTTP/1.0 expectations are ignored).
  static bool ExpectsContinue(const http::request<http::string_body>& req) {
    return req.version() >= 11 && req.count(http::field::expect) == 1 &&
           absl::AsciiStrToLower(std::string(StripOws(Std(req[http::field::expect])))) ==
               "100-continue";
  }

  // A request that did not arrive whole: answered (then closed) when the client can still read
  // it, else closed.
  void OnReadError(beast::error_code ec) {
    Disarm();
    if (timed_out_) {
      Refuse(
          Gateway::ErrorResponse(4,
                                 absl::StrCat("the request did not arrive within ",
                                              server_.options.request_read_timeout.count(), " ms"),
                                 "", 408));
      return;
    }
    if (ec == http::error::body_limit) {
      Refuse(Gateway::ErrorResponse(3,
                                    "the body is larger than the limit of " +
                                        std::to_string(server_.options.max_body_bytes) + " bytes",
                                    "", 413));
      return;
    }
    if (ec == http::error::header_limit) {
      Refuse(Gateway::ErrorResponse(
          3, absl::StrCat("the request header is larger than ", kMaxHeaderBytes, " bytes"), "",
          431));
      return;
    }
    if (ec == http::error::partial_message) {
      Refuse(Gateway::ErrorResponse(3, "the request ended before it was complete", "", 400));
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream) {
      // Malformed framing: two different Content-Lengths, Content-Length with chunked, a
      // negative length, a bad chunk, a bad request line or field.
      Refuse(Gateway::ErrorResponse(3, absl::StrCat("malformed request: ", ec.message()), "", 400));
      return;
    }
    Close();  // the client went away, or the socket failed
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    Disarm();
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
    r.remote = Remote();

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
    auto answer = [self](HttpResponse resp) {
      self->ReplyOnAnyThread(std::move(resp));
      --self->server_.in_flight;
    };
    if (r.method == "GET" && path == "/readyz") {
      server_.gateway.CheckReady([answer](bool ok, std::string detail) {
        HttpResponse h;
        h.status = ok ? 200 : 503;
        h.body = ok ? "{\"status\":\"SERVING\"}"
                    : "{\"status\":\"NOT_SERVING\",\"detail\":\"" + log::JsonEscape(detail) + "\"}";
        answer(std::move(h));
      });
      return;
    }
    server_.gateway.Handle(r, std::move(answer));
  }

  // The answer to a request the gateway served, from whichever thread has it (a backend's
  // callback, or this connection's strand when the gateway answered at once). Nothing else runs
  // on the connection meanwhile: its read has completed and its deadline is disarmed. The answer
  // is written at once when the socket takes it whole, as it almost always does, and the next
  // request is awaited from here, so that the backend's answer does not cost a hand-off back to
  // an HTTP thread. The rest of an answer the socket did not take continues on the strand;
  // answers that close or drain the connection take the strand's path.
  void ReplyOnAnyThread(HttpResponse r) {
    if (!keep_alive_ || drain_) {
      asio::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable {
        self->Reply(std::move(r), self->keep_alive_);
      });
      return;
    }
    auto res = Build(std::move(r), true);
    auto sr = std::make_shared<http::response_serializer<http::string_body>>(*res);
    beast::error_code ec;
    http::write(stream_.socket(), *sr, ec);  // the socket is non-blocking: never waits
    if (!ec) {
      Read();
      return;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      Close();  // the client went away
      return;
    }
    Send(std::move(res), std::move(sr), true);
  }

  // The response to send for `r`, with the headers every answer carries.
  std::shared_ptr<http::response<http::string_body>> Build(HttpResponse r, bool keep_alive) {
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
    return res;
  }

  void Reply(HttpResponse r, bool keep_alive) {
    auto res = Build(std::move(r), keep_alive);
    Send(res, std::make_shared<http::response_serializer<http::string_body>>(*res), keep_alive);
  }

  // Writes what `sr` has left of `res` on the strand; then drains, closes or awaits the next
  // request.
  void Send(std::shared_ptr<http::response<http::string_body>> res,
            std::shared_ptr<http::response_serializer<http::string_body>> sr, bool keep_alive) {
    stream_.expires_after(server_.options.idle_timeout);  // a client that does not read
    http::async_write(stream_, *sr, [self = shared_from_this(), res, sr,
                                     keep_alive](beast::error_code ec, size_t) {
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

  // Answers a request that will not be served, then closes (after draining what the client
  // still sends, so that it sees the answer).
  void Refuse(HttpResponse r) {
    drain_ = true;
    keep_alive_ = false;
    cors_origin_.clear();
    Report(r);
    Reply(std::move(r), false);
  }

  // A request refused before the gateway saw it, for the audit log (per reason and address).
  void Report(HttpResponse& r) {
    struct Reason {
      const char* name;
      int grpc_code;
    };
    static const std::map<int, Reason> kReasons = {
        {400, {"MALFORMED_REQUEST", 3}},    {408, {"REQUEST_TIMEOUT", 4}},
        {413, {"BODY_TOO_LARGE", 3}},       {417, {"EXPECTATION_FAILED", 3}},
        {431, {"HEADER_TOO_LARGE", 3}},     {501, {"NOT_IMPLEMENTED", 12}},
        {503, {"TOO_MANY_CONNECTIONS", 14}}};
    auto it = kReasons.find(r.status);
    if (it == kReasons.end()) {
      return;
    }
    r.refused_reason = it->second.name;
    r.refused_code = it->second.grpc_code;
    std::string target;
    if (parser_.has_value() && parser_->is_header_done()) {
      target = std::string(parser_->get().target());
    }
    server_.gateway.ReportRefusal(r, Remote(), target, "");
  }

  // Starts the deadline of the read about to start: when it passes, the read is cancelled and
  // its handler sees timed_out_.
  void Arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->timer_generation_) {
        return;  // disarmed, or re-armed for a later read
      }
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Half-closes and discards what the client still sends (bounded by time and size), so closing
  // does not reset the connection before the client has read the answer.
  void Drain() {
    if (drain_buffer_.empty()) {
      // One deadline for the whole drain, so a client trickling bytes cannot hold it open.
      Close();
      stream_.expires_after(std::chrono::seconds(5));
      drain_buffer_.resize(16 * 1024);
    }
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < 64 * 1024 * 1024) {
                                self->Drain();
                              }
                            });
  }

  // The peer's address, asked of the socket once per connection (a getpeername each request was
  // a system call on the hot path); "" when the socket cannot say.
  const std::string& Remote() {
    if (!remote_known_) {
      beast::error_code ec;
      auto ep = stream_.socket().remote_endpoint(ec);
      remote_ = ec ? "" : ep.address().to_string();
      remote_known_ = true;
    }
    return remote_;
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  std::string remote_;
  bool remote_known_ = false;
  asio::steady_timer timer_;       // the deadline of the read in progress (see Arm)
  // Which Arm the timer's wait belongs to. Atomic: the next read is armed from the thread that
  // wrote the answer (ReplyOnAnyThread) while a deadline that expired just too late may still be
  // running its handler on the connection's strand.
  std::atomic<uint64_t> timer_generation_{0};
  bool timed_out_ = false;         // the read in progress was cancelled by its deadline
  bool first_ = true;              // no request has started on this connection yet
  bool counted_;
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
  acceptor.async_accept(asio::make_strand(NextContext()), [this](beast::error_code ec,
                                                                 tcp::socket socket) {
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) {
        return;
      }
      // Out of descriptors (or another transient failure): pause instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopping) {
          Accept();
        }
      });
      return;
    }
    if (connections.load() >= options.max_connections) {
      // Over the cap: a 503 while few are refused at once, else just the close.
      if (rejecting.load() < options.max_connections) {
        ++rejecting;
        std::make_shared<Session>(std::move(socket), *this, /*counted=*/false)->Reject();
      }
    } else {
      ++connections;
      std::make_shared<Session>(std::move(socket), *this, /*counted=*/true)->Read();
    }
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
      {"max-connections", "1024", false,
       "HTTP connections open at once; one more is answered 503 and closed",
       runtime::ValidatePositiveInt},
      {"request-read-timeout-ms", "10000", false,
       "time a client has to send a whole request once it has begun; then 408",
       runtime::ValidatePositiveInt},
  };
}

HttpServerOptions HttpServerOptionsFrom(const runtime::Config& config) {
  HttpServerOptions o{
      .listen = config.Get("http-listen"),
      .threads = static_cast<int>(config.GetInt("http-threads")),
      .max_body_bytes = static_cast<size_t>(config.GetInt("max-body-bytes")),
      .max_connections = static_cast<int>(config.GetInt("max-connections")),
      .request_read_timeout = std::chrono::milliseconds(config.GetInt("request-read-timeout-ms"))};
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
  for (auto& io : impl_->ios) {
    impl_->keep_running.push_back(asio::make_work_guard(*io));
    impl_->threads.emplace_back([ctx = io.get()] { ctx->run(); });
  }
  return bound;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  if (impl_->threads.empty()) {
    return;
  }
  impl_->stopping = true;
  asio::post(*impl_->ios[0], [this] {
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
  impl_->keep_running.clear();
  for (auto& io : impl_->ios) {
    io->stop();
  }
  for (auto& t : impl_->threads) {
    t.join();
  }
  impl_->threads.clear();
  impl_->gateway.FlushReports();
}

}  // namespace dj::gateway
