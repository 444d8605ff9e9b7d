// Id generation: time order, node bits, sequence overflow and a clock that steps back.
#include "common/ids/id_generator.h"

#include <set>

#include "gtest/gtest.h"

namespace dj::ids {
namespace {

TEST(IdGeneratorTest, EncodesTimeAndNode) {
  int64_t now = IdGenerator::kEpochMs + 123456;
  IdGenerator gen(7, [&] { return now; });
  const int64_t id = gen.Next();
  EXPECT_GT(id, 0);
  EXPECT_EQ(IdGenerator::MillisOf(id), now);
  EXPECT_EQ(IdGenerator::NodeOf(id), 7);
}

TEST(IdGeneratorTest, StrictlyIncreasingEvenWhenTheClockStepsBack) {
  int64_t now = IdGenerator::kEpochMs + 1000;
  IdGenerator gen(1, [&] { return now; });
  int64_t last = gen.Next();
  for (int64_t t : {now, now + 5, now - 100, now - 100, now + 1}) {
    now = t;
    const int64_t id = gen.Next();
    EXPECT_GT(id, last);
    last = id;
  }
}

TEST(IdGeneratorTest, SequenceOverflowBorrowsTheNextMillisecond) {
  const int64_t now = IdGenerator::kEpochMs + 50;
  IdGenerator gen(3, [&] { return now; });
  std::set<int64_t> seen;
  int64_t last = 0;
  for (int i = 0; i < 5000; ++i) {
    const int64_t id = gen.Next();
    EXPECT_GT(id, last);
    last = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(IdGenerator::MillisOf(last), now + 1);
}

TEST(IdGeneratorTest, RejectsBadNode) {
  EXPECT_THROW(IdGenerator(1024), std::invalid_argument);
  EXPECT_THROW(IdGenerator(-1), std::invalid_argument);
  const int node = IdGenerator::DefaultNodeId();
  EXPECT_GE(node, 0);
  EXPECT_LE(node, 1023);
}

}  // namespace
}  // namespace dj::ids
