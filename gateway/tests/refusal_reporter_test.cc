// The gateway's token-refusal reports: counted per (reason, address), bounded, kept on failure.
// The integration suite checks they reach the member service's audit log on both topologies.
#include "gateway/src/refusal_reporter.h"

#include <vector>

#include "gtest/gtest.h"

namespace dj::gateway {
namespace {

namespace pb = dangjian::member::v1;

TEST(RefusalReporterTest, CountsPerReasonAndAddressAndKeepsWhatFailedToSend) {
  std::vector<pb::RecordTokenRefusalsRequest> sent;
  absl::Status answer = absl::UnavailableError("member service down");
  RefusalReporter reporter(
      [&](const pb::RecordTokenRefusalsRequest& r) {
        if (answer.ok()) {
          sent.push_back(r);
        }
        return answer;
      },
      {.max_pairs = 2});
  EXPECT_TRUE(reporter.Flush().ok()) << "nothing to send";
  reporter.Report("TOKEN_MISSING", "10.0.0.1", "/v1/organizations", "r1");
  reporter.Report("TOKEN_MISSING", "10.0.0.1", "/v1/organizations/7", "r2");
  reporter.Report("TOKEN_SIGNATURE", "10.0.0.2", "/v1/organizations", "r3");
  reporter.Report("TOKEN_SIGNATURE", "10.0.0.3", "/v1/organizations", "r4");  // over max_pairs
  EXPECT_FALSE(reporter.Flush().ok());
  reporter.Report("TOKEN_MISSING", "10.0.0.1", "/v1/auditLogs/org/entries", "r5");
  answer = absl::OkStatus();
  ASSERT_TRUE(reporter.Flush().ok());
  ASSERT_EQ(sent.size(), 1u);
  std::map<std::pair<std::string, std::string>, pb::TokenRefusal> got;
  for (const pb::TokenRefusal& r : sent[0].refusals()) {
    got[{r.reason(), r.client_ip()}] = r;
  }
  ASSERT_GE(got.size(), 2u);
  EXPECT_TRUE(got.contains({"TOKEN_SIGNATURE", "(other addresses)"}));
  const pb::TokenRefusal& missing = got[{"TOKEN_MISSING", "10.0.0.1"}];
  EXPECT_EQ(missing.count(), 3) << "two before the failed send, one after";
  EXPECT_EQ(missing.request_id(), "r1") << "the first refusal names the batch";
  EXPECT_EQ(missing.path(), "/v1/organizations");
  EXPECT_LE(missing.first_time().seconds(), missing.last_time().seconds());
  int64_t signature = 0;
  for (const auto& [key, r] : got) {
    signature += key.first == "TOKEN_SIGNATURE" ? r.count() : 0;
  }
  EXPECT_EQ(signature, 2) << "no refusal is lost, even past max_pairs";
  EXPECT_TRUE(reporter.Flush().ok());
  EXPECT_EQ(sent.size(), 1u) << "sent once";
}

}  // namespace
}  // namespace dj::gateway
