// Civil date validation and conversion.
#include "common/time/civil_date.h"

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

CivilDate ShanghaiDate(int64_t unix_seconds) {
  const std::chrono::sys_days days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds(std::chrono::seconds(unix_seconds + 8 * 3600)));
  const std::chrono::year_month_day ymd(days);
  return CivilDate{static_cast<int32_t>(ymd.year()), static_cast<int32_t>(unsigned(ymd.month())),
                   static_cast<int32_t>(unsigned(ymd.day()))};
}

}  // namespace dj::time
