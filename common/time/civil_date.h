// Civil dates (YYYY-MM-DD, no time zone), as google.type.Date on the wire and ISO text in the
// database. Every date a user enters passes through here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/type/date.pb.h"

namespace dj::time {

struct CivilDate {
  int32_t year = 0;
  int32_t month = 0;
  int32_t day = 0;

  auto operator<=>(const CivilDate&) const = default;
};

bool IsLeapYear(int32_t year);
int32_t DaysInMonth(int32_t year, int32_t month);

// A complete date between `min_year` and 9999, or INVALID_ARGUMENT naming `field`
// ("organization.established_date"). Partial dates (year only) are refused: the suite's rules
// all need a day.
absl::StatusOr<CivilDate> FromProto(const google::type::Date& date, std::string_view field,
                                    int32_t min_year = 1900);
google::type::Date ToProto(const CivilDate& date);

std::string ToIso(const CivilDate& date);  // "2019-07-01"
absl::StatusOr<CivilDate> ParseIso(std::string_view text);

// Calendar arithmetic on valid dates (as FromProto and ParseIso give). Results are kept within
// 0001-01-01..9999-12-31, the range ToIso writes; one outside it is OUT_OF_RANGE (the 1900 floor
// is FromProto's policy for dates users enter, not a limit of the arithmetic).
absl::StatusOr<CivilDate> AddDays(const CivilDate& date, int64_t days);
// Months and years keep the day of the month, or take the month's last day when it has no such
// day (民法典 art. 201: 2020-02-29 + 3 years = 2023-02-28; 2021-01-31 + 1 month = 2021-02-28).
// Negative amounts count back the same way.
absl::StatusOr<CivilDate> AddMonths(const CivilDate& date, int32_t months);
absl::StatusOr<CivilDate> AddYears(const CivilDate& date, int32_t years);
// Days from `a` to `b`: b - a, negative when `b` is earlier.
int64_t DaysBetween(const CivilDate& a, const CivilDate& b);

// Today in Asia/Shanghai (UTC+8, no daylight saving) for a Unix time in seconds.
CivilDate ShanghaiDate(int64_t unix_seconds);
// The microsecond that `date` begins in Asia/Shanghai (its 00:00, 16:00 UTC the day before): the
// inverse of ShanghaiDate, for clocks that must land on a given day.
int64_t ShanghaiMidnightMicros(const CivilDate& date);

}  // namespace dj::time
