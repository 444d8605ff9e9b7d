// Parsing and matching of google.api.http path templates, and route selection.
#include "gateway/src/route_table.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"

namespace dj::gateway {
namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool IsLiteralChar(char c) {
  return c != '/' && c != '{' && c != '}' && c != '*' && c != ':' && c != '=' && c != '?' &&
         c != '#' && c > ' ' && c != 0x7f;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Recursive-descent parser over the template text.
class TemplateParser final {
 public:
  explicit TemplateParser(std::string_view text) : text_(text) {}

  absl::Status Parse(std::vector<PathTemplate::Segment>* segments,
                     std::vector<PathTemplate::Variable>* variables, std::string* verb) {
    segments_ = segments;
    variables_ = variables;
    if (!Consume('/')) {
      return Error("must start with '/'");
    }
    if (absl::Status s = ParseSegments(/*in_variable=*/false); !s.ok()) {
      return s;
    }
    if (Consume(':')) {
      const size_t start = pos_;
      while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) {
        ++pos_;
      }
      if (pos_ == start) {
        return Error("empty verb after ':'");
      }
      *verb = std::string(text_.substr(start, pos_ - start));
    }
    if (pos_ != text_.size()) {
      return Error(absl::StrCat("unexpected '", AV(text_.substr(pos_, 1)), "'"));
    }
    for (size_t i = 0; i < segments->size(); ++i) {
      if ((*segments)[i].kind == PathTemplate::SegmentKind::kMulti && i + 1 != segments->size()) {
        return Error("'**' must be the last segment");
      }
    }
    return absl::OkStatus();
  }

 private:
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("path template '", AV(text_), "': ", AV(what), " at offset ", pos_));
  }

  absl::Status ParseSegments(bool in_variable) {
    while (true) {
      if (absl::Status s = ParseSegment(in_variable); !s.ok()) {
        return s;
      }
      if (!Consume('/')) {
        return absl::OkStatus();
      }
    }
  }

  absl::Status ParseSegment(bool in_variable) {
    if (pos_ >= text_.size()) {
      return Error("empty segment");
    }
    PathTemplate::Segment seg;
    if (Consume('*')) {
      seg.kind = Consume('*') ? PathTemplate::SegmentKind::kMulti
                              : PathTemplate::SegmentKind::kSingle;
      segments_->push_back(std::move(seg));
      return absl::OkStatus();
    }
    if (text_[pos_] == '{') {
      if (in_variable) {
        return Error("nested variable");
      }
      ++pos_;
      return ParseVariable();
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) {
      ++pos_;
    }
    if (pos_ == start) {
      return Error("empty segment");
    }
    seg.literal = std::string(text_.substr(start, pos_ - start));
    segments_->push_back(std::move(seg));
    return absl::OkStatus();
  }

  absl::Status ParseVariable() {
    PathTemplate::Variable var;
    const size_t start = pos_;
    while (true) {
      if (pos_ >= text_.size() || !IsIdentStart(text_[pos_])) {
        return Error("expected a field name");
      }
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) {
        ++pos_;
      }
      if (!Consume('.')) {
        break;
      }
    }
    var.field_path = std::string(text_.substr(start, pos_ - start));
    for (const PathTemplate::Variable& v : *variables_) {
      if (v.field_path == var.field_path) {
        return Error(absl::StrCat("field '", var.field_path, "' bound twice"));
      }
    }
    var.begin = segments_->size();
    if (Consume('=')) {
      if (absl::Status s = ParseSegments(/*in_variable=*/true); !s.ok()) {
        return s;
      }
    } else {
      segments_->push_back({PathTemplate::SegmentKind::kSingle, ""});
    }
    if (!Consume('}')) {
      return Error("expected '}'");
    }
    var.end = segments_->size();
    variables_->push_back(std::move(var));
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<PathTemplate::Segment>* segments_ = nullptr;
  std::vector<PathTemplate::Variable>* variables_ = nullptr;
};

// Decodes one path segment; with `keep_slash`, "%2F" stays encoded so that joining the segments
// of a `**` capture with '/' remains unambiguous.
bool DecodeSegment(std::string_view in, bool keep_slash, std::string* out) {
  if (!keep_slash) {
    return PercentDecode(in, /*plus_is_space=*/false, out);
  }
  out->clear();
  size_t start = 0;
  while (true) {
    size_t slash = std::string::npos;
    for (size_t i = start; i + 2 < in.size(); ++i) {
      if (in[i] == '%' && in[i + 1] == '2' && (in[i + 2] == 'F' || in[i + 2] == 'f')) {
        slash = i;
        break;
      }
    }
    std::string part;
    if (!PercentDecode(in.substr(start, slash == std::string::npos ? std::string::npos
                                                                    : slash - start),
                       false, &part)) {
      return false;
    }
    out->append(part);
    if (slash == std::string::npos) {
      return true;
    }
    out->append("%2F");
    start = slash + 3;
  }
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return false;
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(std::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  TemplateParser parser(text);
  if (absl::Status s = parser.Parse(&t.segments_, &t.variables_, &t.verb_); !s.ok()) {
    return s;
  }
  return t;
}

size_t PathTemplate::LiteralCount() const {
  return static_cast<size_t>(std::count_if(segments_.begin(), segments_.end(), [](const auto& s) {
    return s.kind == SegmentKind::kLiteral;
  }));
}

bool PathTemplate::HasMulti() const {
  return !segments_.empty() && segments_.back().kind == SegmentKind::kMulti;
}

bool PathTemplate::Match(std::string_view path, Captures* captures) const {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  path.remove_prefix(1);
  std::vector<std::string_view> raw;
  while (true) {
    const size_t slash = path.find('/');
    raw.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  if (!verb_.empty()) {
    std::string_view& last = raw.back();
    if (last.size() < verb_.size() + 1 || last.substr(last.size() - verb_.size()) != verb_ ||
        last[last.size() - verb_.size() - 1] != ':') {
      return false;
    }
    last.remove_suffix(verb_.size() + 1);
  }
  const size_t n = raw.size();
  const bool multi = HasMulti();
  const size_t fixed = multi ? segments_.size() - 1 : segments_.size();
  if (multi ? n < fixed : n != fixed) {
    return false;
  }
  // Template segment i matches path segment i; a trailing `**` takes the rest.
  std::vector<std::string> decoded(n);
  for (size_t i = 0; i < n; ++i) {
    if (!DecodeSegment(raw[i], /*keep_slash=*/i >= fixed, &decoded[i])) {
      return false;
    }
  }
  for (size_t i = 0; i < fixed; ++i) {
    const Segment& seg = segments_[i];
    if (seg.kind == SegmentKind::kLiteral ? decoded[i] != seg.literal : raw[i].empty()) {
      return false;
    }
  }
  if (captures != nullptr) {
    captures->values.clear();
    for (const Variable& v : variables_) {
      const size_t end = (multi && v.end == segments_.size()) ? n : v.end;
      std::string value;
      for (size_t i = v.begin; i < end; ++i) {
        if (i > v.begin) {
          value.push_back('/');
        }
        value.append(decoded[i]);
      }
      captures->values.push_back(std::move(value));
    }
  }
  return true;
}

absl::Status RouteTable::Add(std::string_view http_method, PathTemplate path_template,
                             size_t route_id) {
  for (const Route& r : routes_) {
    if (r.method == http_method && r.path_template.text() == path_template.text()) {
      return absl::AlreadyExistsError(absl::StrCat("route ", AV(http_method), " ",
                                                   path_template.text(), " is declared twice"));
    }
  }
  routes_.push_back({std::string(http_method), std::move(path_template), route_id});
  return absl::OkStatus();
}

RouteTable::Match RouteTable::Find(std::string_view http_method, std::string_view path) const {
  Match result;
  const Route* best = nullptr;
  const Route* best_any = nullptr;
  bool verb_matched = false;
  auto rank = [](const Route& r) {
    return std::make_tuple(!r.path_template.verb().empty(), r.path_template.LiteralCount(),
                           !r.path_template.HasMulti());
  };
  std::vector<const Route*> fitting;
  for (const Route& r : routes_) {
    if (r.path_template.Match(path, nullptr)) {
      fitting.push_back(&r);
      verb_matched = verb_matched || !r.path_template.verb().empty();
    }
  }
  for (const Route* r : fitting) {
    // A path ending in a known `:verb` is meant for the custom method, never for a template
    // whose last variable would swallow the verb.
    if (verb_matched && r->path_template.verb().empty()) {
      continue;
    }
    if (best_any == nullptr || rank(*r) > rank(*best_any)) {
      best_any = r;
    }
    if (r->method == http_method && (best == nullptr || rank(*r) > rank(*best))) {
      best = r;
    }
    if (std::find(result.allowed.begin(), result.allowed.end(), r->method) ==
        result.allowed.end()) {
      result.allowed.push_back(r->method);
    }
  }
  if (best != nullptr) {
    result.outcome = Match::Outcome::kFound;
    result.route_id = best->id;
    result.template_text = best->path_template.text();
    best->path_template.Match(path, &result.captures);
    result.allowed.clear();
    return result;
  }
  if (best_any != nullptr) {
    result.outcome = Match::Outcome::kMethodNotAllowed;
    result.template_text = best_any->path_template.text();
    std::sort(result.allowed.begin(), result.allowed.end());
    return result;
  }
  result.allowed.clear();
  return result;
}

}  // namespace dj::gateway
