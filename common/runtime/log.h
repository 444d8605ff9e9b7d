// JSON logs, one object per line on stderr: {"ts","level","service","msg", ...fields}.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace dj::log {

using Field = std::pair<std::string_view, std::string_view>;

// Sets the service name stamped on every line and the minimum level. Call once at start-up.
void Init(std::string_view service, std::string_view level);

void Debug(std::string_view msg, std::initializer_list<Field> fields = {});
void Info(std::string_view msg, std::initializer_list<Field> fields = {});
void Warn(std::string_view msg, std::initializer_list<Field> fields = {});
void Error(std::string_view msg, std::initializer_list<Field> fields = {});

// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view s);

}  // namespace dj::log
