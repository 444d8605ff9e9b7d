// Routing, transcoding and backend calls for the HTTP/JSON gateway.
#include "gateway/src/gateway.h"

#include <algorithm>
#include <fstream>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/errors.h"
#include "common/runtime/embedded_file.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"
#include "common/time/clock.h"
#include "dangjian/api/annotations.pb.h"
#include "dangjian/member/v1/auth.grpc.pb.h"
#include "gateway/src/binding.h"
#include "gateway/src/request_body.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/byte_buffer.h"

namespace dj::descriptors {
std::span<const dj::EmbeddedFile> Files();
}  // namespace dj::descriptors

namespace dj::gateway {
namespace {

namespace gpb = google::protobuf;

struct ClientMetrics {
  metrics::Series<prometheus::Counter> handled;
  metrics::Series<prometheus::Histogram> seconds;
  metrics::Series<prometheus::Counter> requests;
  metrics::Series<prometheus::Histogram> duration;
  metrics::Series<prometheus::Counter> auth_refused;
  metrics::Series<prometheus::Counter> rate_limited;
};

ClientMetrics& Metrics() {
  static ClientMetrics m{
      {prometheus::BuildCounter()
           .Name("grpc_client_handled_total")
           .Help("RPCs completed by the gateway, by status code.")
           .Register(metrics::Registry()),
       {"grpc_service", "grpc_method", "grpc_code"}},
      {prometheus::BuildHistogram()
           .Name("grpc_client_handling_seconds")
           .Help("Time from starting an RPC to its status, seen by the gateway.")
           .Register(metrics::Registry()),
       {"grpc_service", "grpc_method"},
       metrics::LatencyBuckets()},
      {prometheus::BuildCounter()
           .Name("http_requests_total")
           .Help("HTTP requests served by the gateway.")
           .Register(metrics::Registry()),
       {"method", "route", "code"}},
      {prometheus::BuildHistogram()
           .Name("http_request_duration_seconds")
           .Help("Time to serve an HTTP request.")
           .Register(metrics::Registry()),
       {"method", "route"},
       metrics::LatencyBuckets()},
      {prometheus::BuildCounter()
           .Name("gateway_auth_refused_total")
           .Help("Requests refused for a missing or bad access token, by reason.")
           .Register(metrics::Registry()),
       {"reason"}},
      {prometheus::BuildCounter()
           .Name("gateway_rate_limited_total")
           .Help("Requests refused by a rate limit (ip or principal).")
           .Register(metrics::Registry()),
       {"limit"}},
  };
  return m;
}

const char* const kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

// The longest path a log line or an audit row keeps of a request.
constexpr size_t kMaxLoggedPath = 256;

// What the access log keeps of a request target: the path (clipped) and the names of its query
// parameters ("/v1/organizations?pageSize&pageToken"), never their values.
std::string AccessLogTarget(std::string_view target) {
  const size_t q = target.find('?');
  std::string out = Clip(target.substr(0, q), kMaxLoggedPath);
  if (q == std::string_view::npos) {
    return out;
  }
  int kept = 0;
  for (absl::string_view pair : absl::StrSplit(AV(target.substr(q + 1)), '&', absl::SkipEmpty())) {
    if (++kept > 20) {
      out += "&...";
      break;
    }
    absl::StrAppend(&out, kept == 1 ? "?" : "&", Clip(SV(pair.substr(0, pair.find('='))), 64));
  }
  return out;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat(absl::Hex(rng(), absl::kZeroPad16), absl::Hex(rng(), absl::kZeroPad16));
}

bool ValidRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string ErrorJson(int grpc_code, const std::string& message, const google::rpc::Status* details,
                      int http_status) {
  std::string out = absl::StrCat("{\"error\":{\"code\":", http_status, ",\"message\":\"",
                                 log::JsonEscape(message), "\",\"status\":\"",
                                 GrpcCodeName(grpc_code), "\",\"details\":[");
  bool first = true;
  if (details != nullptr) {
    for (const gpb::Any& any : details->details()) {
      std::string json;
      if (gpb::util::MessageToJsonString(any, &json).ok()) {
        absl::StrAppend(&out, first ? "" : ",", json);
        first = false;
      }
    }
  }
  absl::StrAppend(&out, "]}}");
  return out;
}

// A service's google.rpc.RetryInfo as whole seconds for Retry-After (rounded up), 0 if none.
int64_t RetryAfterSeconds(const google::rpc::Status& details) {
  for (const gpb::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry) && retry.has_retry_delay()) {
      const auto& d = retry.retry_delay();
      return std::max<int64_t>(1, d.seconds() + (d.nanos() > 0 ? 1 : 0));
    }
  }
  return 0;
}

}  // namespace

int HttpStatusFromGrpc(int code) {
  switch (code) {
    case 0:
      return 200;
    case 1:
      return 499;
    case 3:
    case 9:
    case 11:
      return 400;
    case 4:
      return 504;
    case 5:
      return 404;
    case 6:
    case 10:
      return 409;
    case 7:
      return 403;
    case 8:
      return 429;
    case 12:
      return 501;
    case 14:
      return 503;
    case 16:
      return 401;
    default:
      return 500;
  }
}

std::string GrpcCodeName(int code) {
  return code >= 0 && code <= 16 ? kCodeNames[code] : "UNKNOWN";
}

HttpResponse Gateway::ErrorResponse(int grpc_code, const std::string& message,
                                    const std::string& field, int http_status,
                                    const std::string& reason) {
  google::rpc::Status details;
  google::rpc::ErrorInfo info;
  info.set_reason(reason.empty() ? GrpcCodeName(grpc_code) : reason);
  info.set_domain("gateway.dangjian");
  details.add_details()->PackFrom(info);
  if (!field.empty()) {
    google::rpc::BadRequest bad;
    auto* v = bad.add_field_violations();
    v->set_field(field);
    v->set_description(message);
    details.add_details()->PackFrom(bad);
  }
  HttpResponse r;
  r.status = http_status != 0 ? http_status : HttpStatusFromGrpc(grpc_code);
  r.body = ErrorJson(grpc_code, message, &details, r.status);
  return r;
}

void Gateway::ReportRefusal(const HttpResponse& response, const std::string& remote,
                            const std::string& target, const std::string& request_id) {
  if (refusals_ && !response.refused_reason.empty()) {
    refusals_->Report(response.refused_reason, remote,
                      Clip(target.substr(0, target.find('?')), kMaxLoggedPath), request_id,
                      response.refused_code);
  }
}

absl::StatusOr<auth::Principal> Gateway::Verify(std::string_view token) {
  constexpr int64_t kLeewaySeconds = 30;  // for a signer whose clock runs a little ahead (iat)
  const int64_t now = time::NowSeconds();
  std::optional<VerifiedToken> verified = verified_.Find(token, now);
  if (!verified.has_value()) {
    // No leeway on exp: a token is never accepted at or after its expiry, cached or not.
    auto claims = verifier_->Verify(token, now, kLeewaySeconds, /*expiry_leeway_seconds=*/0);
    if (!claims.ok()) {
      return claims.status();
    }
    auto principal = auth::FromClaims(*claims);
    if (!principal.ok()) {
      return rpc::Error(absl::StatusCode::kUnauthenticated, "TOKEN_MALFORMED",
                        SV(principal.status().message()));
    }
    verified =
        VerifiedToken{*std::move(principal), claims->session_id, claims->epoch, claims->expires_at};
    verified_.Put(token, *verified, claims->expires_at);
  }
  if (revocations_ &&
      revocations_->Revoked(verified->principal.subject, verified->session_id, verified->epoch)) {
    return rpc::Error(absl::StatusCode::kUnauthenticated, "TOKEN_REVOKED",
                      "the session has ended (signed out, or the account's password or lock "
                      "changed); sign in again");
  }
  return std::move(verified->principal);
}

std::variant<auth::Principal, HttpResponse> Gateway::Authenticate(const HttpRequest& request,
                                                                  const Route& route,
                                                                  const std::string& request_id) {
  if (route.allow_anonymous) {
    return auth::Principal{};
  }
  auto refuse = [&](const std::string& reason, const std::string& message) {
    HttpResponse r = ErrorResponse(16, message, "", 0, reason);
    r.headers.emplace_back(
        "www-authenticate",
        reason == "TOKEN_MISSING"
            ? "Bearer realm=\"dangjian\""
            : absl::StrCat("Bearer realm=\"dangjian\", error=\"invalid_token\""));
    // A security event the services never see: logged and counted here, and reported in
    // batches to the member service's audit log.
    const std::string path =
        Clip(request.target.substr(0, request.target.find('?')), kMaxLoggedPath);
    log::Warn("security", {{"event", "token_refused"},
                           {"reason", reason},
                           {"remote", request.remote},
                           {"path", path},
                           {"request_id", request_id}});
    Metrics()
        .auth_refused
        .With({metrics::OneOf(reason, {"TOKEN_MISSING", "TOKEN_MALFORMED", "TOKEN_ALGORITHM",
                                       "TOKEN_KEY_UNKNOWN", "TOKEN_SIGNATURE", "TOKEN_ISSUER",
                                       "TOKEN_EXPIRED", "TOKEN_NOT_YET_VALID", "TOKEN_REVOKED"})})
        .Increment();
    if (refusals_) {
      refusals_->Report(reason, request.remote, path, request_id);
    }
    return r;
  };
  auto it = request.headers.find("authorization");
  if (it == request.headers.end() || it->second.empty()) {
    return refuse("TOKEN_MISSING",
                  "sign in first: send Authorization: Bearer <access token> "
                  "(POST /v1/auth:login gives one)");
  }
  constexpr std::string_view kBearer = "bearer ";
  if (it->second.size() <= kBearer.size() ||
      absl::AsciiStrToLower(it->second.substr(0, kBearer.size())) != kBearer) {
    return refuse("TOKEN_MALFORMED", "the Authorization header must be 'Bearer <access token>'");
  }
  auto principal = Verify(std::string_view(it->second).substr(kBearer.size()));
  if (!principal.ok()) {
    return refuse(rpc::Reason(principal.status()), std::string(SV(principal.status().message())));
  }
  return *std::move(principal);
}

std::optional<HttpResponse> Gateway::OverLimit(const std::string& key, int limit) {
  const RateLimiter::Decision d = limiter_->Admit(key, limit);
  if (d.admitted) {
    return std::nullopt;
  }
  const int64_t retry = d.retry_after.count();
  HttpResponse r =
      ErrorResponse(8, absl::StrCat("too many requests; retry after ", retry, " seconds"), "", 429,
                    "RATE_LIMITED");
  r.headers.emplace_back("retry-after", absl::StrCat(retry));
  r.refused_reason = "RATE_LIMITED";
  r.refused_code = 8;
  Metrics()
      .rate_limited
      .With({key.find(":ip:") != std::string::npos       ? "ip"
             : key.find(":signin:") != std::string::npos ? "sign_in"
                                                         : "principal"})
      .Increment();
  return r;
}

Gateway::Done Gateway::Finisher(const HttpRequest& request, std::string request_id, Done done) {
  const auto start = std::chrono::steady_clock::now();
  // Wraps `done`: request id header, metrics and the access log, once per request. Labels come
  // from closed sets (the method's, the route templates) and the log keeps the path and the
  // names of the query parameters, never their values (tokens, page tokens, names searched).
  return [this, done = std::move(done), request_id = std::move(request_id), start,
          method = std::string(metrics::HttpMethodLabel(request.method)),
          target = AccessLogTarget(request.target),
          remote = request.remote](HttpResponse r) mutable {
    r.headers.emplace_back("x-request-id", request_id);
    ReportRefusal(r, remote, target, request_id);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string status = absl::StrCat(r.status);
    Metrics().requests.With({method, r.route, status}).Increment();
    Metrics().duration.With({method, r.route}).Observe(seconds);
    log::Info("http", {{"method", method},
                       {"path", target},
                       {"status", status},
                       {"ms", absl::StrCat(seconds * 1000)},
                       {"request_id", request_id},
                       {"remote", remote}});
    done(std::move(r));
    // Let go of the connection now: this closure may live on in a gRPC callback until after
    // the HTTP server (and its io_context) is gone at shutdown.
    done = nullptr;
  };
}

std::variant<const Route*, HttpResponse> Gateway::MatchRoute(
    const std::string& method, const std::string& path,
    std::map<std::string, std::string>* vars) const {
  std::vector<std::string> allowed;
  const std::optional<RequestPath> split = PathTemplate::Split(path);
  for (const Route& r : routes_) {
    if (!split.has_value()) {
      break;
    }
    auto m = r.path.Match(*split);
    if (!m.has_value()) {
      continue;
    }
    if (r.http_method == method) {
      *vars = *std::move(m);
      return &r;
    }
    if (std::find(allowed.begin(), allowed.end(), r.http_method) == allowed.end()) {
      allowed.push_back(r.http_method);
    }
  }
  if (!allowed.empty()) {
    HttpResponse r = ErrorResponse(
        12,
        absl::StrCat("method ", Clip(method, 32), " is not allowed on ", Clip(path, kMaxLoggedPath),
                     "; allowed: ", absl::StrJoin(allowed, ", ")),
        "", 405);
    r.headers.emplace_back("allow", absl::StrJoin(allowed, ", "));
    return r;
  }
  return ErrorResponse(5, absl::StrCat("no route for ", Clip(path, kMaxLoggedPath)));
}

std::variant<std::shared_ptr<gpb::Message>, HttpResponse> Gateway::BindRequest(
    const HttpRequest& request, const Route& route, const std::map<std::string, std::string>& vars,
    const std::string& query) {
  std::shared_ptr<gpb::Message> message(factory_.GetPrototype(route.method->input_type())->New());
  auto fail = [&](int code, const std::string& msg, const std::string& field = "") {
    HttpResponse r = ErrorResponse(code, msg, field);
    r.route = route.path.text();
    return r;
  };

  // The body first; path variables then override anything it set.
  std::vector<std::string> bound;
  if (!route.body.empty()) {
    if (!request.body.empty()) {
      // Only RFC 8259 JSON labelled application/json in UTF-8 (request_body.h); protobuf's
      // parser alone would take unquoted keys and more.
      auto ct = request.headers.find("content-type");
      if (absl::Status s = CheckJsonContentType(ct == request.headers.end()
                                                    ? std::nullopt
                                                    : std::optional<std::string_view>(ct->second));
          !s.ok()) {
        HttpResponse r = ErrorResponse(3, std::string(SV(s.message())), "", 415);
        r.route = route.path.text();
        r.refused_reason = "UNSUPPORTED_MEDIA_TYPE";
        r.refused_code = 3;
        return r;
      }
      if (absl::Status s = CheckStrictJson(request.body); !s.ok()) {
        return fail(3, std::string(SV(s.message())));
      }
    }
    const std::string json = request.body.empty() ? "{}" : request.body;
    gpb::Message* target = message.get();
    if (route.body != "*") {
      const gpb::FieldDescriptor* f = route.method->input_type()->FindFieldByName(route.body);
      target = message->GetReflection()->MutableMessage(message.get(), f, &factory_);
    }
    gpb::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    if (auto st = gpb::util::JsonStringToMessage(json, target, opts); !st.ok()) {
      const std::string detail = st.message().as_string();
      return fail(3, absl::StrCat("invalid JSON body: ", detail),
                  FieldOfJsonError(detail, route.body == "*" ? "" : route.body));
    }
    bound.push_back(route.body == "*" ? "*" : route.body);
  }
  for (const auto& [field_path, value] : vars) {
    gpb::Message* holder = nullptr;
    std::string canonical;
    const gpb::FieldDescriptor* f = Walk(*message, field_path, &holder, &canonical);
    if (f == nullptr || f->cpp_type() != gpb::FieldDescriptor::CPPTYPE_STRING) {
      return fail(13, "route configuration error");
    }
    holder->GetReflection()->SetString(holder, f, value);
    bound.push_back(canonical);  // a query parameter may not override the path
  }
  if (absl::Status s = BindQuery(query, *message, bound); !s.ok()) {
    // The message starts with the parameter's name in quotes or before ':'.
    const std::string msg(SV(s.message()));
    std::string param;
    if (const size_t q1 = msg.find('\'');
        q1 != std::string::npos && msg.find('\'', q1 + 1) != std::string::npos) {
      param = msg.substr(q1 + 1, msg.find('\'', q1 + 1) - q1 - 1);
    }
    if (msg.find("query parameter") == std::string::npos) {
      param = msg.substr(0, msg.find(':'));
    }
    return fail(3, msg, param);
  }

  return message;
}

HttpResponse Gateway::Answer(const gpb::MethodDescriptor* method, const std::string& route_text,
                             const grpc::Status& status, grpc::ByteBuffer& response) {
  HttpResponse r;
  r.route = route_text;
  if (!status.ok()) {
    google::rpc::Status details;
    const bool has =
        !status.error_details().empty() && details.ParseFromString(status.error_details());
    if (!has) {
      // Not from our services (the channel itself failed): say so plainly.
      const std::string message = status.error_code() == grpc::StatusCode::UNAVAILABLE
                                      ? "the service is unavailable; retry later"
                                      : status.error_message();
      HttpResponse e = ErrorResponse(status.error_code(), message);
      e.route = route_text;
      return e;
    }
    r.status = HttpStatusFromGrpc(status.error_code());
    r.body = ErrorJson(status.error_code(), status.error_message(), &details, r.status);
    if (auto retry = RetryAfterSeconds(details); retry > 0) {
      r.headers.emplace_back("retry-after", absl::StrCat(retry));
    }
    return r;
  }
  std::vector<grpc::Slice> slices;
  std::string raw;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      raw.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  const std::string& type = method->output_type()->full_name();
  if (auto hit = json_cache_.Find(type, raw)) {
    r.body = *std::move(hit);
    return r;
  }
  std::unique_ptr<gpb::Message> out(factory_.GetPrototype(method->output_type())->New());
  gpb::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  std::string json;
  if (!out->ParseFromString(raw) || !gpb::util::MessageToJsonString(*out, &json, opts).ok()) {
    HttpResponse e = ErrorResponse(13, "internal error");
    e.route = route_text;
    return e;
  }
  json_cache_.Put(type, raw, json);
  r.body = std::move(json);
  return r;
}

void Gateway::Handle(const HttpRequest& request, Done done) {
  std::string request_id;
  if (auto it = request.headers.find("x-request-id");
      it != request.headers.end() && ValidRequestId(it->second)) {
    request_id = it->second;
  } else {
    request_id = NewRequestId();
  }
  Done finish = Finisher(request, request_id, std::move(done));
  if (auto limited =
          OverLimit(absl::StrCat("gw:v1:rl:ip:", request.remote), options_.limits.per_ip)) {
    finish(*std::move(limited));
    return;
  }
  const size_t q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);

  std::map<std::string, std::string> vars;
  auto matched = MatchRoute(request.method, path, &vars);
  if (HttpResponse* none = std::get_if<HttpResponse>(&matched)) {
    finish(std::move(*none));
    return;
  }
  const Route* route = std::get<const Route*>(matched);
  if (!stubs_.contains(route->backend)) {
    HttpResponse r =
        ErrorResponse(14, absl::StrCat("the ", route->backend, " service is not running here"));
    r.route = route->path.text();
    finish(std::move(r));
    return;
  }
  if (route->sign_in) {
    // Password guessing from one address, over any names: its own, smaller limit.
    if (auto limited = OverLimit(absl::StrCat("gw:v1:rl:signin:", request.remote),
                                 options_.limits.sign_in_per_ip)) {
      limited->route = route->path.text();
      finish(*std::move(limited));
      return;
    }
  }
  auto who = Authenticate(request, *route, request_id);
  if (HttpResponse* refused = std::get_if<HttpResponse>(&who)) {
    refused->route = route->path.text();
    finish(std::move(*refused));
    return;
  }
  auth::Principal& principal = std::get<auth::Principal>(who);
  if (!principal.anonymous()) {
    if (auto limited = OverLimit(absl::StrCat("gw:v1:rl:sub:", principal.subject),
                                 options_.limits.per_principal)) {
      limited->route = route->path.text();
      finish(*std::move(limited));
      return;
    }
  }
  principal.client_ip = request.remote;
  principal.request_id = request_id;

  auto bound_message = BindRequest(request, *route, vars, query);
  if (HttpResponse* invalid = std::get_if<HttpResponse>(&bound_message)) {
    finish(std::move(*invalid));
    return;
  }
  const std::shared_ptr<gpb::Message>& message = std::get<0>(bound_message);

  CallBackend(*route, request, request_id, principal, *message, std::move(finish));
}

void Gateway::CallBackend(const Route& route, const HttpRequest& request,
                          const std::string& request_id, const auth::Principal& principal,
                          const gpb::Message& message, Done finish) {
  std::shared_ptr<Call> call = StartCall();
  call->context.set_deadline(std::chrono::system_clock::now() + options_.request_timeout);
  call->context.AddMetadata(std::string(rpc::kRequestIdKey), request_id);
  call->context.AddMetadata(auth::kPrincipalMetadata,
                            internal_->Vouch(principal, time::NowSeconds()));
  if (auto it = request.headers.find("x-forwarded-for"); it != request.headers.end()) {
    call->context.AddMetadata("x-forwarded-for", it->second);
  }
  std::string bytes;
  message.SerializeToString(&bytes);
  grpc::Slice slice(bytes);
  call->request = grpc::ByteBuffer(&slice, 1);

  const gpb::MethodDescriptor* method = route.method;
  const std::string rpc_path =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  const auto call_start = std::chrono::steady_clock::now();
  stubs_.find(route.backend)
      ->second->UnaryCall(
          &call->context, rpc_path, grpc::StubOptions(), &call->request, &call->response,
          [this, call, method, call_start, finish = std::move(finish),
           route_text = route.path.text()](grpc::Status status) mutable {
            const std::string code = GrpcCodeName(status.error_code());
            const std::string& service = method->service()->full_name();
            Metrics().handled.With({service, method->name(), code}).Increment();
            Metrics()
                .seconds.With({service, method->name()})
                .Observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start)
                        .count());
            finish(Answer(method, route_text, status, call->response));
            finish = nullptr;
            EndCall(std::move(call));  // last: the gateway may be waiting in WaitIdle
          });
}

std::shared_ptr<Gateway::Call> Gateway::StartCall() {
  auto call = std::make_shared<Call>();
  std::lock_guard lock(calls_mu_);
  calls_.insert(&call->context);
  return call;
}

void Gateway::EndCall(std::shared_ptr<Call> call) {
  grpc::ClientContext* key = &call->context;
  call.reset();
  std::lock_guard lock(calls_mu_);
  calls_.erase(key);
  calls_done_.notify_all();
}

void Gateway::FlushReports() {
  if (refusals_) {
    refusals_->Stop();
    (void)refusals_->Flush();
  }
}

void Gateway::CancelAll() {
  std::lock_guard lock(calls_mu_);
  for (grpc::ClientContext* c : calls_) {
    c->TryCancel();
  }
}

bool Gateway::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(calls_mu_);
  return calls_done_.wait_until(lock, deadline, [&] { return calls_.empty(); });
}

void Gateway::CheckReady(std::function<void(bool, std::string)> done) {
  struct State {
    std::mutex mu;
    int pending = 0;
    bool ok = true;
    std::string detail;
    std::function<void(bool, std::string)> done;
  };
  auto state = std::make_shared<State>();
  state->pending = static_cast<int>(stubs_.size());
  state->done = std::move(done);
  if (revocations_ && !revocations_->loaded()) {
    // Until it knows which tokens were revoked, the gateway would accept them.
    state->ok = false;
    state->detail = "revoked tokens not listed yet";
  }
  if (state->pending == 0) {
    state->done(state->ok, state->detail);
    return;
  }
  for (auto& [name, stub] : stubs_) {
    std::shared_ptr<Call> probe = StartCall();
    probe->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::Slice empty("");
    probe->request = grpc::ByteBuffer(&empty, 1);
    stub->UnaryCall(&probe->context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                    &probe->request, &probe->response,
                    [this, state, probe, backend = name](grpc::Status status) mutable {
                      std::vector<grpc::Slice> slices;
                      std::string raw;
                      if (status.ok() && probe->response.Dump(&slices).ok()) {
                        for (const auto& s : slices) {
                          raw.append(reinterpret_cast<const char*>(s.begin()), s.size());
                        }
                      }
                      // HealthCheckResponse{status: SERVING} is field 1 = 1: bytes 08 01.
                      const bool serving = status.ok() && raw == std::string("\x08\x01", 2);
                      std::unique_lock lock(state->mu);
                      if (!serving) {
                        state->ok = false;
                        absl::StrAppend(&state->detail, state->detail.empty() ? "" : "; ", backend,
                                        " not serving");
                      }
                      if (--state->pending == 0) {
                        state->done(state->ok, state->detail);
                        state->done = nullptr;
                      }
                      lock.unlock();
                      EndCall(std::move(probe));
                    });
  }
}

void Gateway::StopBackgroundWork() {
  if (revocations_) {
    revocations_->Stop();
  }
}

}  // namespace dj::gateway
