// Civil dates at the edges: leap days, month ends, year ends, the Shanghai day boundary.
#include "common/time/civil_date.h"

#include "common/rpc/errors.h"
#include "gtest/gtest.h"

namespace dj::time {
namespace {

google::type::Date D(int y, int m, int d) {
  google::type::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

TEST(CivilDateTest, ValidatesAtTheEdges) {
  struct Case {
    int y, m, d;
    bool ok;
    std::string bad_field;
  };
  const std::vector<Case> cases = {
      {2024, 2, 29, true, ""},          {2023, 2, 29, false, "f.day"},
      {2000, 2, 29, true, ""},          {1900, 2, 29, false, "f.day"},
      {2100, 2, 29, false, "f.day"},    {2026, 1, 31, true, ""},
      {2026, 4, 31, false, "f.day"},    {2026, 6, 30, true, ""},
      {2026, 7, 1, true, ""},           {2026, 12, 31, true, ""},
      {2026, 13, 1, false, "f.month"},  {2026, 0, 10, false, "f.month"},
      {2026, 1, 0, false, "f.day"},     {1899, 12, 31, false, "f.year"},
      {0, 0, 0, false, "f.year"},       {10000, 1, 1, false, "f.year"},
  };
  for (const Case& c : cases) {
    auto r = FromProto(D(c.y, c.m, c.d), "f");
    EXPECT_EQ(r.ok(), c.ok) << c.y << "-" << c.m << "-" << c.d;
    if (!r.ok()) {
      ASSERT_EQ(rpc::Violations(r.status()).size(), 1u);
      EXPECT_EQ(rpc::Violations(r.status())[0].field, c.bad_field);
    }
  }
}

TEST(CivilDateTest, IsoRoundTrip) {
  EXPECT_EQ(ToIso({2019, 7, 1}), "2019-07-01");
  EXPECT_EQ(*ParseIso("2024-02-29"), (CivilDate{2024, 2, 29}));
  EXPECT_FALSE(ParseIso("2023-02-29").ok());
  EXPECT_FALSE(ParseIso("2023-2-28").ok());
  EXPECT_FALSE(ParseIso("2023-02-28T00").ok());
  EXPECT_EQ(ToProto({2021, 7, 1}).month(), 7);
}

TEST(CivilDateTest, DaysInMonth) {
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2025, 2), 28);
  EXPECT_EQ(DaysInMonth(2025, 12), 31);
  EXPECT_EQ(DaysInMonth(2025, 11), 30);
  EXPECT_EQ(DaysInMonth(2025, 13), 0);
}

TEST(CivilDateTest, ShanghaiDayStartsAt1600Utc) {
  // 2026-06-30T15:59:59Z is still 30 June in Shanghai; one second later it is 1 July.
  EXPECT_EQ(ShanghaiDate(1782835199), (CivilDate{2026, 6, 30}));
  EXPECT_EQ(ShanghaiDate(1782835200), (CivilDate{2026, 7, 1}));
  // New Year: 2026-12-31T16:00:00Z is 2027-01-01 in Shanghai.
  EXPECT_EQ(ShanghaiDate(1798732800), (CivilDate{2027, 1, 1}));
  EXPECT_EQ(ShanghaiDate(1798732799), (CivilDate{2026, 12, 31}));
  // Leap day 2028-02-29 00:00 Shanghai = 2028-02-28T16:00:00Z.
  EXPECT_EQ(ShanghaiDate(1835366400), (CivilDate{2028, 2, 29}));
}

}  // namespace
}  // namespace dj::time
