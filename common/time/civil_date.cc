// Civil date validation and conversion.
#include "common/time/civil_date.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/rpc/errors.h"
#include "common/runtime/strings.h"

namespace dj::time {

bool IsLeapYear(int32_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int32_t DaysInMonth(int32_t year, int32_t month) {
  static constexpr int32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) {
    return 0;
  }
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

absl::StatusOr<CivilDate> FromProto(const google::type::Date& date, std::string_view field,
                                    int32_t min_year) {
  const std::string f(field);
  if (date.year() < min_year || date.year() > 9999) {
    return rpc::InvalidArgument(
        {{f + ".year", absl::StrFormat("must be between %d and 9999", min_year)}});
  }
  if (date.month() < 1 || date.month() > 12) {
    return rpc::InvalidArgument({{f + ".month", "must be between 1 and 12"}});
  }
  const int32_t days = DaysInMonth(date.year(), date.month());
  if (date.day() < 1 || date.day() > days) {
    return rpc::InvalidArgument(
        {{f + ".day", absl::StrFormat("must be between 1 and %d for %04d-%02d", days,
                                      date.year(), date.month())}});
  }
  return CivilDate{date.year(), date.month(), date.day()};
}

google::type::Date ToProto(const CivilDate& d) {
  google::type::Date out;
  out.set_year(d.year);
  out.set_month(d.month);
  out.set_day(d.day);
  return out;
}

std::string ToIso(const CivilDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year, d.month, d.day);
}

absl::StatusOr<CivilDate> ParseIso(std::string_view text) {
  CivilDate d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !absl::SimpleAtoi(AV(text.substr(0, 4)), &d.year) ||
      !absl::SimpleAtoi(AV(text.substr(5, 2)), &d.month) ||
      !absl::SimpleAtoi(AV(text.substr(8, 2)), &d.day) || d.month < 1 || d.month > 12 ||
      d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a YYYY-MM-DD date", AV(text)));
  }
  return d;
}

namespace {

constexpr CivilDate kFirst{1, 1, 1};
constexpr CivilDate kLast{9999, 12, 31};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), in
// 64 bits so no amount a caller passes can wrap.
int64_t DaysFromCivil(const CivilDate& d) {
  const int64_t y = int64_t{d.year} - (d.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (d.month + 9) % 12;  // March = 0
  const int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return CivilDate{static_cast<int32_t>(year), static_cast<int32_t>(month),
                   static_cast<int32_t>(day)};
}

absl::Status OutOfRange(const CivilDate& from, std::string_view what) {
  return absl::OutOfRangeError(
      absl::StrFormat("%s %s leaves the calendar (0001-01-01 to 9999-12-31)", ToIso(from),
                      AV(what)));
}

}  // namespace

absl::StatusOr<CivilDate> AddDays(const CivilDate& date, int64_t days) {
  const int64_t from = DaysFromCivil(date);
  if (days > DaysFromCivil(kLast) - from || days < DaysFromCivil(kFirst) - from) {
    return OutOfRange(date, absl::StrFormat("%+d days", days));
  }
  return CivilFromDays(from + days);
}

absl::StatusOr<CivilDate> AddMonths(const CivilDate& date, int32_t months) {
  // Months since year 0 in 64 bits: no int32 amount can overflow it.
  const int64_t index = int64_t{date.year} * 12 + (date.month - 1) + months;
  if (index < int64_t{kFirst.year} * 12 || index > int64_t{kLast.year} * 12 + 11) {
    return OutOfRange(date, absl::StrFormat("%+d months", months));
  }
  CivilDate out{static_cast<int32_t>(index / 12), static_cast<int32_t>(index % 12) + 1, 0};
  out.day = std::min(date.day, DaysInMonth(out.year, out.month));
  return out;
}

absl::StatusOr<CivilDate> AddYears(const CivilDate& date, int32_t years) {
  if (years > 9999 || years < -9999) {  // beyond any date's reach; keeps years * 12 in range
    return OutOfRange(date, absl::StrFormat("%+d years", years));
  }
  return AddMonths(date, years * 12);
}

int64_t DaysBetween(const CivilDate& a, const CivilDate& b) {
  return DaysFromCivil(b) - DaysFromCivil(a);
}

CivilDate ShanghaiDate(int64_t unix_seconds) {
  const std::chrono::sys_days days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds(std::chrono::seconds(unix_seconds + 8 * 3600)));
  const std::chrono::year_month_day ymd(days);
  return CivilDate{static_cast<int32_t>(ymd.year()), static_cast<int32_t>(unsigned(ymd.month())),
                   static_cast<int32_t>(unsigned(ymd.day()))};
}

int64_t ShanghaiMidnightMicros(const CivilDate& date) {
  return (DaysFromCivil(date) * 86400 - 8 * 3600) * 1'000'000;
}

}  // namespace dj::time
