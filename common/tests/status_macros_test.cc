// RETURN_IF_ERROR and ASSIGN_OR_RETURN: errors pass through unchanged (payloads included), values
// are moved out, and the expression is evaluated once.
#include "common/runtime/status_macros.h"

#include <memory>
#include <string>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace dj {
namespace {

absl::Status Check(bool ok) {
  if (ok) {
    return absl::OkStatus();
  }
  absl::Status s = absl::InvalidArgumentError("organization.kind: must be a branch");
  s.SetPayload("type.googleapis.com/google.rpc.BadRequest", absl::Cord("violations"));
  return s;
}

absl::StatusOr<std::unique_ptr<std::string>> Make(bool ok, int* calls) {
  ++*calls;
  if (!ok) {
    return absl::NotFoundError("organizations/7 not found");
  }
  return std::make_unique<std::string>("第一党支部");
}

absl::Status Both(bool check, bool make, int* calls, std::string* out) {
  RETURN_IF_ERROR(Check(check));
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> name, Make(make, calls));  // move-only
  *out = *name;
  return absl::OkStatus();
}

absl::StatusOr<size_t> Length(bool make, int* calls) {
  std::unique_ptr<std::string> name;
  ASSIGN_OR_RETURN(name, Make(make, calls));  // into an existing lvalue
  ASSIGN_OR_RETURN(const size_t twice, absl::StatusOr<size_t>(name->size() * 2));
  return twice;
}

TEST(StatusMacrosTest, ErrorsPassThroughUnchangedAndValuesAreMovedOut) {
  int calls = 0;
  std::string out;
  EXPECT_TRUE(Both(true, true, &calls, &out).ok());
  EXPECT_EQ(out, "第一党支部");
  EXPECT_EQ(calls, 1);  // evaluated once

  const absl::Status invalid = Both(false, true, &calls, &out);
  EXPECT_EQ(invalid, Check(false));  // message and payload kept
  EXPECT_TRUE(invalid.GetPayload("type.googleapis.com/google.rpc.BadRequest").has_value());
  EXPECT_EQ(calls, 1);  // nothing after the failed check ran

  EXPECT_EQ(Both(true, false, &calls, &out).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 2);

  auto length = Length(true, &calls);
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, std::string("第一党支部").size() * 2);
  EXPECT_EQ(Length(false, &calls).status().message(), "organizations/7 not found");
}

}  // namespace
}  // namespace dj
