// The gateway's core, independent of the HTTP transport: routes derived from the google.api.http
// annotations in the embedded descriptor set, JSON and query parameters transcoded to protobuf,
// the backend called through a generic gRPC callback stub (no thread blocked per request), and
// the answer (or a google.rpc.Status as AIP-193 JSON) transcoded back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/auth/token_cache.h"
#include "common/cache/cache.h"
#include "gateway/src/binding.h"
#include "gateway/src/json_cache.h"
#include "gateway/src/path_template.h"
#include "gateway/src/rate_limiter.h"
#include "gateway/src/refusal_reporter.h"
#include "gateway/src/revocations.h"
#include "google/api/http.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"

namespace dj::gateway {

struct HttpRequest {
  std::string method;                          // "GET"
  std::string target;                          // "/v1/organizations?parent=..."
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // client address, for logs
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string route = "unmatched";  // the template that served it, for metrics
  // Set when the gateway refused the request itself, before any service saw it (a rate limit,
  // a wrong media type): the reason and gRPC code reported for the audit log.
  std::string refused_reason;
  int refused_code = 0;
};

struct RateLimits {
  cache::Cache* counters = nullptr;  // Redis or in-process; null: no limits
  int per_ip = 1200;                 // requests per window from one client address
  int per_principal = 600;           // requests per window by one signed-in account
  int sign_in_per_ip = 20;  // password-taking requests (sign-in) per window from one address
  std::chrono::seconds window{60};
};

struct GatewayOptions {
  std::chrono::milliseconds request_timeout{10000};
  // Verify access tokens (every key verifies; see auth::JwtKeysSetting). Required.
  std::vector<auth::SigningKey> jwt_keys;
  // Shared with the services: the gateway vouches for each caller with it. Required.
  std::string internal_secret;
  RateLimits limits;
  // How often token refusals are sent to the member service's audit log.
  std::chrono::milliseconds refusal_report_interval{2000};
  // How often the member service is asked for revoked access tokens.
  std::chrono::milliseconds revocation_poll_interval{1000};
  // Whether to run the threads that report refusals and poll revocations (false: the routes
  // only, as dj-openapi needs them, with no backend to talk to).
  bool background = true;
  // Services to route beyond those of the embedded descriptor set (proto/dangjian): sets written
  // by protoc --include_imports --descriptor_set_out, merged after it in order; a file the
  // gateway already has (google/api/annotations.proto, ...) is skipped. A backend they add gets
  // its routes like any other, answering 503 when it has no channel.
  std::vector<google::protobuf::FileDescriptorSet> extra_descriptor_sets;
};

// The descriptor sets in the files at `paths` (comma-separated; empty: none), for
// GatewayOptions::extra_descriptor_sets. An error names the file that is missing or not a
// descriptor set.
absl::StatusOr<std::vector<google::protobuf::FileDescriptorSet>> ReadDescriptorSets(
    std::string_view paths);

struct Route {
  std::string http_method;
  PathTemplate path;
  std::string body;  // "", "*" or a field name
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string backend;           // "org" for package dangjian.org.v1
  bool allow_anonymous = false;  // (dangjian.api.allow_anonymous): no access token needed
  bool sign_in = false;          // (dangjian.api.sign_in): counted against the sign-in limit
  int binding = 0;  // which of the method's HTTP rules: 0 the rule, then additional_bindings
};

class Gateway final {
 public:
  // Stops the gateway's own background work (the revocation poller) before the services it
  // asks are shut down (the one-process binary shuts its in-process server down after the
  // HTTP server and then this).
  void StopBackgroundWork();

  // The backends the descriptor set has services for ("org", ...), in order.
  static std::vector<std::string> BackendNames();
  // Those and then the backends `options.extra_descriptor_sets` add.
  static std::vector<std::string> BackendNames(const GatewayOptions& options);

  // `channels` must hold member's; a backend without one has its routes answer 503.
  static absl::StatusOr<std::unique_ptr<Gateway>> Create(
      std::map<std::string, std::shared_ptr<grpc::Channel>> channels, GatewayOptions options);

  using Done = std::function<void(HttpResponse)>;
  // Serves one request; `done` runs exactly once, possibly on a gRPC thread.
  void Handle(const HttpRequest& request, Done done);

  // Asks every backend's grpc.health.v1 Check; `done(ok, detail)`.
  void CheckReady(std::function<void(bool, std::string)> done);

  const std::vector<Route>& routes() const { return routes_; }

  // Cancels every backend call in flight (shutdown after the grace period).
  void CancelAll();
  // Stops the background reports and sends what the gateway still holds for the services (token
  // refusals for the audit log); called once serving has stopped, while the services are up.
  void FlushReports();
  // Waits until no backend callback is pending, or `deadline`; true when idle.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  // An AIP-193 error body for a gateway-made error: ErrorInfo (domain gateway.dangjian) and, when
  // `field` is set, a BadRequest violation. `http_status` 0 means the one `grpc_code` maps to.
  // `reason` defaults to the code's name.
  // A request the gateway refused itself (answered `response`, with refused_reason set), counted
  // per (reason, address) for the member service's audit log. The HTTP server calls it for what
  // it refuses before the gateway sees a request (an oversized body).
  void ReportRefusal(const HttpResponse& response, const std::string& remote,
                     const std::string& target, const std::string& request_id);
  static HttpResponse ErrorResponse(int grpc_code, const std::string& message,
                                    const std::string& field = "", int http_status = 0,
                                    const std::string& reason = "");

 private:
  Gateway() = default;
  absl::Status BuildRoutes();
  // The route of one of `method`'s HTTP rules (none for a rule without a pattern); an error when
  // its template, body field or path variables do not fit the request message.
  absl::Status AddRoute(const google::protobuf::MethodDescriptor* method,
                        const google::api::HttpRule& rule, int binding,
                        const std::string& backend);
  // The caller of `request` on `route`: anonymous on an anonymous route, else from the bearer
  // token (an error response when it is missing or bad).
  std::variant<auth::Principal, HttpResponse> Authenticate(const HttpRequest& request,
                                                           const Route& route,
                                                           const std::string& request_id);
  // The principal of an access token: from the verified-token cache, else verified (and cached
  // until the token expires, never beyond). Either way refused (TOKEN_REVOKED) when its session
  // or its account's earlier tokens were revoked.
  absl::StatusOr<auth::Principal> Verify(std::string_view token);
  // Wraps `done`: the request id header, metrics and the access log, once per request.
  Done Finisher(const HttpRequest& request, std::string request_id, Done done);
  // The route for (method, path), its path variables in `vars`; else the 404 or 405 to answer.
  std::variant<const Route*, HttpResponse> MatchRoute(
      const std::string& method, const std::string& path,
      std::map<std::string, std::string>* vars) const;
  // The request message from the body, then the path variables, then the query; else the 4xx.
  std::variant<std::shared_ptr<google::protobuf::Message>, HttpResponse> BindRequest(
      const HttpRequest& request, const Route& route,
      const std::map<std::string, std::string>& vars, const std::string& query);
  // The HTTP answer to a backend's reply (JSON of the message, or its google.rpc.Status).
  HttpResponse Answer(const google::protobuf::MethodDescriptor* method,
                      const std::string& route_text, const grpc::Status& status,
                      grpc::ByteBuffer& response);
  // Sends `message` to the route's backend, vouching for `principal`; `finish` gets the answer.
  void CallBackend(const Route& route, const HttpRequest& request, const std::string& request_id,
                   const auth::Principal& principal, const google::protobuf::Message& message,
                   Done finish);
  // A 429 when `key` is over `limit` in the current window.
  std::optional<HttpResponse> OverLimit(const std::string& key, int limit);

  // The embedded descriptor set with options_.extra_descriptor_sets merged in; pool_ is built
  // from it.
  google::protobuf::FileDescriptorSet descriptors_;
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  JsonCache json_cache_;  // answers already transcoded, keyed by their bytes
  std::vector<Route> routes_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;
  GatewayOptions options_;
  std::optional<auth::JwtSigner> verifier_;
  std::optional<auth::InternalAuth> internal_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<RefusalReporter> refusals_;  // token refusals -> the member service's audit log
  std::unique_ptr<Revocations> revocations_;   // sessions and accounts revoked before expiry
  struct VerifiedToken {
    auth::Principal principal;
    std::string session_id;
    int64_t epoch = 0;
    int64_t expires_at = 0;  // seconds since the epoch
  };
  auth::TokenCache<VerifiedToken> verified_{20'000};

  // A backend call in flight: registered so shutdown can cancel it and wait for its callback.
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };
  std::shared_ptr<Call> StartCall();
  // The last step of a call's callback: lets go of the call (its context and buffers) and then
  // tells WaitIdle. gRPC may keep the callback's closure alive after it ran, until after the
  // gateway is gone; nothing of the call may be left in it then.
  void EndCall(std::shared_ptr<Call> call);

  std::mutex calls_mu_;
  std::condition_variable calls_done_;
  std::set<grpc::ClientContext*> calls_;  // guarded by calls_mu_: backend calls in flight
};

// gRPC status code -> HTTP status (grpc-gateway's table).
int HttpStatusFromGrpc(int grpc_code);
// "INVALID_ARGUMENT" for 3, ...
std::string GrpcCodeName(int grpc_code);

}  // namespace dj::gateway
