// JSON log lines through spdlog (which owns buffering, levels and the clock).
#include "common/runtime/log.h"

#include "common/runtime/utf8.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace dj::log {
namespace {

void Write(spdlog::level::level_enum level, std::string_view msg,
           std::initializer_list<Field> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) {
    return;
  }
  std::string body = "\"msg\":\"";
  body += JsonEscape(msg);
  body += '"';
  for (const auto& [key, value] : fields) {
    body += ",\"";
    body += JsonEscape(key);
    body += "\":\"";
    body += JsonEscape(value);
    body += '"';
  }
  logger->log(level, body);
}

}  // namespace

void Init(std::string_view service, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("dj");
  logger->set_pattern(
      "{\"ts\":\"%Y-%m-%dT%H:%M:%S.%fZ\",\"level\":\"%l\",\"service\":\"" + JsonEscape(service) +
          "\",%v}",
      spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void Debug(std::string_view msg, std::initializer_list<Field> f) {
  Write(spdlog::level::debug, msg, f);
}
void Info(std::string_view msg, std::initializer_list<Field> f) {
  Write(spdlog::level::info, msg, f);
}
void Warn(std::string_view msg, std::initializer_list<Field> f) {
  Write(spdlog::level::warn, msg, f);
}
void Error(std::string_view msg, std::initializer_list<Field> f) {
  Write(spdlog::level::err, msg, f);
}


// Invalid UTF-8 becomes \ufffd, so what is written is always valid JSON in UTF-8 whatever bytes
// a caller sent.
std::string JsonEscape(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t skip = 0;
      const size_t n = utf8::SequenceLength(s, i, &skip);
      if (n == 0) {
        out += "\\ufffd";
        i += skip;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace dj::log
