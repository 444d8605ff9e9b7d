// google.api.http path templates (parsing and matching) and the table that picks the route for
// an HTTP method and path.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dj::gateway {

// A parsed template such as `/v1/{name=organizations/*}:listDescendants`:
//   Template = "/" Segments [ ":" Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;  FieldPath = IDENT { "." IDENT } ;
// `{field}` means `{field=*}`; `**` (zero or more segments) may only come last.
class PathTemplate final {
 public:
  enum class SegmentKind { kLiteral, kSingle, kMulti };
  struct Segment {
    SegmentKind kind = SegmentKind::kLiteral;
    std::string literal;  // kLiteral only
  };
  struct Variable {
    std::string field_path;  // "organization.name"
    size_t begin = 0;        // first segment it captures
    size_t end = 0;          // one past the last segment it captures
  };
  // A successful match: the values captured for each variable, in variables() order, already
  // percent-decoded (`organizations/123` for `{name=organizations/*}`).
  struct Captures {
    std::vector<std::string> values;
  };

  static absl::StatusOr<PathTemplate> Parse(std::string_view text);

  // Matches a request path (no query string, still percent-encoded). Returns false when the
  // path does not fit. A segment whose percent-encoding is malformed does not match.
  bool Match(std::string_view path, Captures* captures) const;

  const std::string& text() const { return text_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const std::vector<Variable>& variables() const { return variables_; }
  const std::string& verb() const { return verb_; }
  // How many literal segments it has: more literals make a more specific template.
  size_t LiteralCount() const;
  bool HasMulti() const;

 private:
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

// Percent-decodes `in` ("%2F" -> "/"); `plus_is_space` for query strings. False on a malformed
// escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Routes by HTTP method and path template. Built once at start-up, then read concurrently.
class RouteTable final {
 public:
  struct Match {
    enum class Outcome { kFound, kMethodNotAllowed, kNotFound };
    Outcome outcome = Outcome::kNotFound;
    size_t route_id = 0;                // kFound: the id given to Add()
    PathTemplate::Captures captures;    // kFound
    std::vector<std::string> allowed;   // kMethodNotAllowed: the methods the path accepts, sorted
    std::string template_text;          // kFound / kMethodNotAllowed: the template that matched
  };

  // Adds a route; `http_method` is upper case ("GET", or a custom verb). Fails on a duplicate
  // method and template.
  absl::Status Add(std::string_view http_method, PathTemplate path_template, size_t route_id);

  // When several templates fit, the most specific wins: one with a verb, then more literal
  // segments, then one without `**`, then the first added.
  Match Find(std::string_view http_method, std::string_view path) const;

  size_t size() const { return routes_.size(); }

 private:
  struct Route {
    std::string method;
    PathTemplate path_template;
    size_t id = 0;
  };
  std::vector<Route> routes_;
};

}  // namespace dj::gateway
