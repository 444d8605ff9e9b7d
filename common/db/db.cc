// Values, rows and the small SQL builders every store shares.
#include "common/db/db.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dj::db {

Value TextOrNull(std::string_view s) {
  if (s.empty()) {
    return Null();
  }
  return std::string(s);
}

std::string SubtreeUpperBound(std::string_view path) {
  std::string upper(path);
  if (!upper.empty()) {
    upper.back() = '0';
  }
  return upper;
}

std::vector<int64_t> PathIds(std::string_view path) {
  std::vector<int64_t> ids;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(path.data(), path.size()), '/', absl::SkipEmpty())) {
    int64_t id = 0;
    if (absl::SimpleAtoi(part, &id)) {
      ids.push_back(id);
    }
  }
  return ids;
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.append(i == 0 ? "?" : ", ?");
  }
  return out;
}

Value DateOrNull(const std::optional<time::CivilDate>& date) {
  return date.has_value() ? Value(time::ToIso(*date)) : Null();
}

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values.at(i)); }

int64_t Row::Int(size_t i) const {
  const Value& v = values.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) {
    return *n;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return static_cast<int64_t>(*d);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    return absl::SimpleAtoi(*s, &out) ? out : 0;
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  if (const auto* n = std::get_if<int64_t>(&v)) {
    return absl::StrCat(*n);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return absl::StrCat(*d);
  }
  return "";
}

std::optional<std::string> Row::OptionalText(size_t i) const {
  if (IsNull(i)) {
    return std::nullopt;
  }
  return Text(i);
}

std::optional<time::CivilDate> Row::OptionalDate(size_t i) const {
  if (IsNull(i)) {
    return std::nullopt;
  }
  auto date = time::ParseIso(Text(i).substr(0, 10));
  return date.ok() ? std::optional<time::CivilDate>(*date) : std::nullopt;
}

}  // namespace dj::db
