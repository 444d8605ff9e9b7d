// Step 6 item 7: calls straight to a service port without a principal cost no audit write each.
// A real dj-org takes a flood of them; its audit log, read through the gateway like an auditor
// would, holds a bounded number of rows per (reason, address), each carrying its count, and the
// chains still verify.
#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "tests/integration/suite_fixture.h"

namespace dj {
namespace {

// "PRINCIPAL_MISSING x41 from ... to ..." counts 41; the reason alone (a first call) counts 1.
int64_t CountIn(const std::string& detail) {
  const size_t x = detail.find(" x");
  if (x == std::string::npos) {
    return 1;
  }
  const size_t end = detail.find(' ', x + 2);
  int64_t n = 0;
  EXPECT_TRUE(absl::SimpleAtoi(detail.substr(x + 2, end - x - 2), &n)) << detail;
  return n;
}

TEST_F(Distributed, UnauthenticatedCallsToAServicePortAreCountedNotWrittenEach) {
  constexpr int kCalls = 300;
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (i % 3 == 2) {
      // Somebody's own access token is not a principal: still no principal.
      context.AddMetadata("authorization", "Bearer x.y.z");
    }
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/dangjian.org.v1.OrganizationService/GetOrganization", {}, &request,
                   &response, [&](grpc::Status st) { done.set_value(std::move(st)); });
    ASSERT_EQ(done.get_future().get().error_code(), grpc::UNAUTHENTICATED) << i;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Listing flushes the counts: an auditor sees every call at once.
  HttpResponse log = Http(http_port_, "GET", "/v1/auditLogs/org/entries?pageSize=500");
  ASSERT_EQ(log.status, 200) << log.body;
  int rows = 0;
  int64_t counted = 0;
  std::map<std::string, int> rows_per_address;
  const auto page = ParseStruct(log.body);
  for (const auto& v : page.fields().at("entries").list_value().values()) {
    const auto& f = v.struct_value().fields();
    if (f.at("action").string_value() != "rpc.authenticate") {
      continue;
    }
    ++rows;
    const std::string detail = f.at("detail").string_value();
    EXPECT_TRUE(absl::StartsWith(detail, "PRINCIPAL_MISSING")) << detail;
    EXPECT_FALSE(absl::StrContains(detail, "Bearer")) << detail;
    EXPECT_EQ(f.at("actor").string_value(), "anonymous");
    EXPECT_EQ(f.at("outcome").string_value(), "UNAUTHENTICATED");
    const std::string address = f.at("clientIp").string_value();
    EXPECT_EQ(address, "127.0.0.1") << "the address without the connection's port";
    ++rows_per_address[address];
    counted += CountIn(detail);
  }
  std::cout << rows << " audit rows for " << kCalls << " calls in " << seconds << " s\n";
  EXPECT_EQ(counted, kCalls) << "every call is counted";
  // One row for the first call and one per count interval (2 s) after it, whatever the number
  // of calls: the bound follows from how long the flood took, not from kCalls.
  EXPECT_GE(rows, 1);
  EXPECT_LE(rows, 2 + static_cast<int>(seconds / 2.0) + 1)
      << rows << " rows in " << seconds << " s";
  EXPECT_LT(rows, kCalls / 10);

  HttpResponse verified = Http(http_port_, "GET", "/v1/auditLogs/org:verify");
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_TRUE(ParseStruct(verified.body).fields().at("intact").bool_value()) << verified.body;
}

}  // namespace
}  // namespace dj
