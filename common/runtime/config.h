// Process settings: each has a flag (--grpc-listen), an environment variable (DJ_GRPC_LISTEN)
// and an entry in an optional config file; flags win over the environment, which wins over the
// file. A bad or missing setting stops the process with one line that names it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dj::runtime {

struct Setting {
  std::string flag;           // "grpc-listen"; the variable is DJ_ + upper snake ("DJ_GRPC_LISTEN")
  std::string default_value;  // used when nothing sets it
  bool required = false;      // true: missing is an error
  std::string help;
  // Returns an error describing what is wrong with the value (not naming the setting).
  std::function<absl::Status(std::string_view)> validate;
  // A switch: `--flag` alone means "true"; the variable and file take true/false/1/0.
  bool boolean = false;
};

class Config final {
 public:
  // Reads argv (`--flag=value` or `--flag value`; `--config FILE` names a file of
  // `DJ_NAME=value` lines), then the environment `env` (null: the process environment).
  static absl::StatusOr<Config> Load(std::span<const Setting> settings, int argc,
                                     const char* const* argv,
                                     const std::map<std::string, std::string>* env = nullptr);

  // Load(), or print "<program>: <error>" to stderr and exit(2). `--help` prints the settings.
  static Config LoadOrExit(std::string_view program, std::span<const Setting> settings, int argc,
                           const char* const* argv);

  const std::string& Get(std::string_view flag) const;
  int64_t GetInt(std::string_view flag) const;
  bool Has(std::string_view flag) const { return !Get(flag).empty(); }
  bool GetBool(std::string_view flag) const { return Get(flag) == "true" || Get(flag) == "1"; }

  static std::string EnvName(std::string_view flag);

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Adds `more` to the end of `settings` (assembling a process's settings from groups).
inline void Append(std::vector<Setting>& settings, std::vector<Setting> more) {
  for (Setting& s : more) {
    settings.push_back(std::move(s));
  }
}

// Validators for common setting shapes.
absl::Status ValidateHostPort(std::string_view value);
absl::Status ValidatePositiveInt(std::string_view value);
absl::Status ValidateLogLevel(std::string_view value);
absl::Status ValidateBool(std::string_view value);
// A key or shared secret: at least 32 characters. Never echoes the value.
absl::Status ValidateSecret(std::string_view value);

}  // namespace dj::runtime
