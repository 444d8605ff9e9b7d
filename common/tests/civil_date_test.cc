// Civil dates at the edges: leap days, month ends, year ends, the Shanghai day boundary.
#include "common/time/civil_date.h"

#include <cstdint>
#include <vector>

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
  // And back: each day begins at 16:00 UTC the day before.
  EXPECT_EQ(ShanghaiMidnightMicros({2028, 2, 29}), int64_t{1835366400} * 1'000'000);
  EXPECT_EQ(ShanghaiMidnightMicros({2027, 1, 1}), int64_t{1798732800} * 1'000'000);
  EXPECT_EQ(ShanghaiMidnightMicros({1970, 1, 1}), int64_t{-8} * 3600 * 1'000'000);
}

TEST(CivilDateTest, AddMonthsAndYearsTakeTheMonthsLastDayWhenTheDayIsMissing) {
  struct Case {
    CivilDate from;
    int32_t amount;
    bool years;  // else months
    CivilDate want;
  };
  const std::vector<Case> cases = {
      {{2020, 2, 29}, 3, true, {2023, 2, 28}},  // 民法典 art. 201: no 29 Feb in 2023
      {{2020, 2, 29}, 4, true, {2024, 2, 29}},  // a leap year again
      {{2020, 2, 29}, -1, true, {2019, 2, 28}},
      {{2096, 2, 29}, 4, true, {2100, 2, 28}},  // 2100 is not a leap year
      {{1996, 2, 29}, 4, true, {2000, 2, 29}},  // 2000 is
      {{2021, 2, 28}, 3, true, {2024, 2, 28}},  // the 28th stays the 28th
      {{2023, 12, 31}, 1, true, {2024, 12, 31}},
      {{2024, 1, 1}, 0, true, {2024, 1, 1}},
      {{2024, 3, 1}, -5, true, {2019, 3, 1}},
      {{2021, 1, 31}, 1, false, {2021, 2, 28}},
      {{2024, 1, 31}, 1, false, {2024, 2, 29}},
      {{2024, 3, 31}, -1, false, {2024, 2, 29}},
      {{2023, 3, 31}, -1, false, {2023, 2, 28}},
      {{2024, 1, 31}, 3, false, {2024, 4, 30}},
      {{2024, 12, 31}, 1, false, {2025, 1, 31}},   // across the year end
      {{2025, 1, 15}, -1, false, {2024, 12, 15}},  // and back
      {{2024, 11, 30}, 14, false, {2026, 1, 30}},
      {{2024, 2, 29}, 12, false, {2025, 2, 28}},
      {{2024, 2, 29}, -12, false, {2023, 2, 28}},
      {{2026, 1, 10}, -13, false, {2024, 12, 10}},
      {{2026, 5, 31}, 0, false, {2026, 5, 31}},
  };
  for (const Case& c : cases) {
    auto got = c.years ? AddYears(c.from, c.amount) : AddMonths(c.from, c.amount);
    const std::string label =
        ToIso(c.from) + (c.years ? " years " : " months ") + std::to_string(c.amount);
    ASSERT_TRUE(got.ok()) << label << ": " << got.status();
    EXPECT_EQ(ToIso(*got), ToIso(c.want)) << label;
  }
}

TEST(CivilDateTest, AddDaysAndDaysBetweenAgree) {
  struct Case {
    CivilDate from;
    int64_t days;
    CivilDate want;
  };
  const std::vector<Case> cases = {
      {{2024, 2, 28}, 1, {2024, 2, 29}},
      {{2024, 2, 29}, 1, {2024, 3, 1}},
      {{2023, 2, 28}, 1, {2023, 3, 1}},
      {{2024, 12, 31}, 1, {2025, 1, 1}},
      {{2025, 1, 1}, -1, {2024, 12, 31}},
      {{2024, 3, 1}, -1, {2024, 2, 29}},
      {{2024, 1, 1}, 366, {2025, 1, 1}},  // a leap year has 366 days
      {{2025, 1, 1}, 365, {2026, 1, 1}},
      {{1970, 1, 1}, 0, {1970, 1, 1}},
      {{1969, 12, 31}, 1, {1970, 1, 1}},  // before the Unix epoch
      {{1900, 3, 1}, -1, {1900, 2, 28}},  // 1900 was not a leap year
      {{2000, 3, 1}, -1, {2000, 2, 29}},  // 2000 was
      {{2020, 2, 29}, 1095, {2023, 2, 28}},
  };
  for (const Case& c : cases) {
    auto got = AddDays(c.from, c.days);
    ASSERT_TRUE(got.ok()) << ToIso(c.from) << " " << c.days << ": " << got.status();
    EXPECT_EQ(ToIso(*got), ToIso(c.want)) << ToIso(c.from) << " + " << c.days << " days";
    EXPECT_EQ(DaysBetween(c.from, c.want), c.days) << ToIso(c.from) << " .. " << ToIso(c.want);
    EXPECT_EQ(DaysBetween(c.want, c.from), -c.days);
  }
  EXPECT_EQ(DaysBetween({1970, 1, 1}, {2026, 6, 30}), 20634);
  EXPECT_EQ(DaysBetween({1, 1, 1}, {9999, 12, 31}), 3652058);
}

TEST(CivilDateTest, ArithmeticLeavingTheCalendarIsRefused) {
  // The calendar ends at 9999-12-31 (four-digit ISO years) and begins at 0001-01-01; the 1900
  // floor belongs to FromProto (dates users enter), so arithmetic below it still works.
  EXPECT_EQ(ToIso(*AddDays({9999, 12, 30}, 1)), "9999-12-31");
  EXPECT_EQ(AddDays({9999, 12, 31}, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddDays({1, 1, 1}, -1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToIso(*AddDays({1900, 1, 1}, -1)), "1899-12-31");
  EXPECT_EQ(AddDays({2026, 1, 1}, INT64_MAX).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddDays({2026, 1, 1}, INT64_MIN).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToIso(*AddMonths({9999, 11, 30}, 1)), "9999-12-30");
  EXPECT_EQ(AddMonths({9999, 12, 1}, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddMonths({1, 1, 31}, -1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddMonths({2026, 1, 1}, INT32_MAX).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddMonths({2026, 1, 1}, INT32_MIN).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddYears({9998, 2, 1}, 5).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddYears({2026, 1, 1}, INT32_MAX).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(AddYears({2026, 1, 1}, INT32_MIN).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToIso(*AddYears({2026, 1, 1}, 7973)), "9999-01-01");
}

}  // namespace
}  // namespace dj::time
