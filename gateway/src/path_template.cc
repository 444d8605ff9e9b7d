// Path template parser and backtracking matcher.
#include "gateway/src/path_template.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(std::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  if (text.empty() || text.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("template must start with '/': ", AV(text)));
  }
  std::string_view rest = text.substr(1);
  // The verb follows the last ':' that is outside braces.
  int depth = 0;
  size_t verb_at = std::string_view::npos;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '{') ++depth;
    if (rest[i] == '}') --depth;
    if (rest[i] == ':' && depth == 0) verb_at = i;
  }
  if (verb_at != std::string_view::npos) {
    t.verb_ = std::string(rest.substr(verb_at + 1));
    rest = rest.substr(0, verb_at);
  }
  auto add_segment = [&](std::string_view seg) -> absl::Status {
    if (seg == "*") {
      t.segments_.push_back({Segment::kStar, ""});
    } else if (seg == "**") {
      t.segments_.push_back({Segment::kDoubleStar, ""});
    } else if (seg.empty() || seg.find_first_of("{}=*") != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad segment '", AV(seg), "' in ", AV(text)));
    } else {
      t.segments_.push_back({Segment::kLiteral, std::string(seg)});
    }
    return absl::OkStatus();
  };
  size_t i = 0;
  while (i <= rest.size()) {
    if (i < rest.size() && rest[i] == '{') {
      const size_t close = rest.find('}', i);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("unclosed '{' in ", AV(text)));
      }
      std::string_view inner = rest.substr(i + 1, close - i - 1);
      Variable v;
      const size_t eq = inner.find('=');
      v.field_path = std::string(inner.substr(0, eq));
      v.begin = t.segments_.size();
      if (eq == std::string_view::npos) {
        t.segments_.push_back({Segment::kStar, ""});
      } else {
        for (absl::string_view seg : absl::StrSplit(AV(inner.substr(eq + 1)), '/')) {
          RETURN_IF_ERROR(add_segment(SV(seg)));
        }
      }
      v.end = t.segments_.size();
      t.variables_.push_back(std::move(v));
      i = close + 1;
    } else {
      size_t slash = rest.find('/', i);
      if (slash == std::string_view::npos) {
        slash = rest.size();
      }
      RETURN_IF_ERROR(add_segment(rest.substr(i, slash - i)));
      i = slash;
    }
    if (i < rest.size() && rest[i] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("expected '/' after a variable in ", AV(text)));
    }
    ++i;
  }
  return t;
}

int PathTemplate::literal_count() const {
  int n = 0;
  for (const Segment& s : segments_) {
    n += s.kind == Segment::kLiteral ? 1 : 0;
  }
  return n + (verb_.empty() ? 0 : 1);
}

std::vector<std::string> PathTemplate::variables() const {
  std::vector<std::string> out;
  for (const Variable& v : variables_) {
    out.push_back(v.field_path);
  }
  return out;
}

bool PathTemplate::MatchFrom(const std::vector<std::string_view>& parts, size_t si, size_t pi,
                             std::vector<size_t>& ends) const {
  // ends[k] = the number of parts consumed after segment k.
  if (si == segments_.size()) {
    return pi == parts.size();
  }
  const Segment& seg = segments_[si];
  if (seg.kind == Segment::kDoubleStar) {
    for (size_t take = parts.size() - pi + 1; take-- > 0;) {
      ends[si] = pi + take;
      if (MatchFrom(parts, si + 1, pi + take, ends)) {
        return true;
      }
    }
    return false;
  }
  if (pi >= parts.size() || parts[pi].empty()) {
    return false;
  }
  if (seg.kind == Segment::kLiteral && parts[pi] != seg.literal) {
    return false;
  }
  ends[si] = pi + 1;
  return MatchFrom(parts, si + 1, pi + 1, ends);
}

std::optional<RequestPath> PathTemplate::Split(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return std::nullopt;
  }
  RequestPath out;
  std::string_view rest = path.substr(1);
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  if (colon != std::string_view::npos) {
    out.has_verb = true;
    out.verb = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  for (absl::string_view p : absl::StrSplit(AV(rest), '/')) {
    out.parts.push_back(SV(p));
  }
  return out;
}

std::optional<std::map<std::string, std::string>> PathTemplate::Match(std::string_view path) const {
  auto split = Split(path);
  if (!split.has_value()) {
    return std::nullopt;
  }
  return Match(*split);
}

std::optional<std::map<std::string, std::string>> PathTemplate::Match(
    const RequestPath& path) const {
  if (path.has_verb != !verb_.empty() || (path.has_verb && path.verb != verb_)) {
    return std::nullopt;  // a custom method this template does not have, or another one
  }
  // The first literal settles most templates without walking the rest.
  if (!segments_.empty() && segments_[0].kind == Segment::kLiteral &&
      (path.parts.empty() || path.parts[0] != segments_[0].literal)) {
    return std::nullopt;
  }
  const std::vector<std::string_view>& parts = path.parts;
  std::vector<size_t> ends(segments_.size(), 0);
  if (!MatchFrom(parts, 0, 0, ends)) {
    return std::nullopt;
  }
  std::map<std::string, std::string> vars;
  for (const Variable& v : variables_) {
    const size_t from = v.begin == 0 ? 0 : ends[v.begin - 1];
    const size_t to = v.end == 0 ? 0 : ends[v.end - 1];
    std::string value;
    for (size_t k = from; k < to; ++k) {
      if (k > from) value += '/';
      value += PercentDecode(parts[k]);
    }
    vars[v.field_path] = value;
  }
  return vars;
}

}  // namespace dj::gateway
