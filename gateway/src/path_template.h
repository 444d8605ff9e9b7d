// google.api.http path templates ("/v1/{name=organizations/*}:listDescendants"): parsing and
// matching a request path against one, capturing the variables.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dj::gateway {

// A request path split once for matching against every template: its segments and, after a
// ':' in the last one, its verb. Views into the path it was split from.
struct RequestPath {
  std::vector<std::string_view> parts;
  bool has_verb = false;
  std::string_view verb;
};

class PathTemplate final {
 public:
  // Grammar (google/api/http.proto): "/" Segments [":" Verb]; a segment is a literal, "*",
  // "**" or a variable "{field.path}" / "{field.path=Segments}".
  static absl::StatusOr<PathTemplate> Parse(std::string_view text);

  // `path` split for Match; nullopt unless it starts with '/'.
  static std::optional<RequestPath> Split(std::string_view path);

  // The variables (field path -> value, percent-decoded) when `path` matches, else nullopt.
  std::optional<std::map<std::string, std::string>> Match(const RequestPath& path) const;
  std::optional<std::map<std::string, std::string>> Match(std::string_view path) const;

  const std::string& text() const { return text_; }
  const std::string& verb() const { return verb_; }
  int literal_count() const;  // more literals: a more specific route
  std::vector<std::string> variables() const;  // the field paths it binds

 private:
  struct Segment {
    enum Kind { kLiteral, kStar, kDoubleStar } kind = kLiteral;
    std::string literal;
  };
  struct Variable {
    std::string field_path;
    size_t begin = 0;  // segment range it captures
    size_t end = 0;
  };

  bool MatchFrom(const std::vector<std::string_view>& parts, size_t si, size_t pi,
                 std::vector<size_t>& ends) const;

  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

std::string PercentDecode(std::string_view s);

}  // namespace dj::gateway
