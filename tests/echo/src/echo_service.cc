#include "tests/echo/src/echo_service.h"

#include <chrono>

#include "absl/strings/match.h"
#include "common/rpc/handler.h"
#include "common/runtime/status_macros.h"
#include "dangjian/org/v1/org.grpc.pb.h"

namespace dj::echo {
namespace {

namespace pb = dangjian::echo::v1;
namespace orgpb = dangjian::org::v1;

constexpr char kErrorDomain[] = "echo.dangjian";

absl::Status Check(const pb::EchoRequest& request) {
  if (request.message().empty() || request.message().size() > 200) {
    return rpc::InvalidArgument({{"message", "required, at most 200 characters"}});
  }
  if (!request.organization().empty() &&
      !absl::StartsWith(request.organization(), "organizations/")) {
    return rpc::InvalidArgument({{"organization", "expected organizations/{id}"}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::EchoReply> EchoService::Echo(const auth::Principal& who,
                                                const pb::EchoRequest& request) {
  RETURN_IF_ERROR(Check(request));
  pb::EchoReply reply;
  reply.set_message(request.message());
  reply.set_subject(who.subject);
  reply.set_request_id(who.request_id);
  if (request.organization().empty()) {
    ASSIGN_OR_RETURN(const orgpb::ListOrganizationsResponse roots,
                     org_.Call(who, &orgpb::OrganizationService::Stub::ListOrganizations,
                               orgpb::ListOrganizationsRequest()));
    reply.set_organization_count(roots.organizations_size());
  } else {
    orgpb::GetOrganizationRequest get;
    get.set_name(request.organization());
    ASSIGN_OR_RETURN(const orgpb::Organization org,
                     org_.Call(who, &orgpb::OrganizationService::Stub::GetOrganization, get));
    reply.set_organization_display_name(org.display_name());
  }
  ASSIGN_OR_RETURN(
      const int64_t recorded, pool_.Run([&](db::Connection& c) -> absl::StatusOr<int64_t> {
        RETURN_IF_ERROR(c.Exec("INSERT INTO echoes (subject, request_id, message) VALUES (?, ?, ?)",
                               {who.subject, who.request_id, request.message()})
                            .status());
        ASSIGN_OR_RETURN(const db::Result count, c.Exec("SELECT COUNT(*) FROM echoes", {}));
        return count.rows.at(0).Int(0);
      }));
  reply.set_echoes_recorded(recorded);
  // Measured last, after the org call: what is left for the answer to travel back.
  reply.set_deadline_remaining_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      who.deadline - std::chrono::system_clock::now())
                                      .count());
  return reply;
}

grpc::Status EchoService::Echo(grpc::ServerContext* context, const pb::EchoRequest* request,
                               pb::EchoReply* response) {
  auto who = auth_.Caller(*context);
  if (!who.ok()) {
    return rpc::Reply(*context, kErrorDomain, who.status());
  }
  who->deadline = context->deadline();
  return rpc::Reply(*context, kErrorDomain, Echo(*who, *request), response);
}

}  // namespace dj::echo
