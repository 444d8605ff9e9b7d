// Settings from flags, environment and file, in that order of precedence.
#include "common/runtime/config.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/runtime/strings.h"

extern char** environ;

namespace dj::runtime {
namespace {

const Setting* FindSetting(std::span<const Setting> settings, std::string_view flag) {
  for (const Setting& s : settings) {
    if (s.flag == flag) {
      return &s;
    }
  }
  return nullptr;
}

absl::StatusOr<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("--config: cannot read ", path));
  }
  std::map<std::string, std::string> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l.front() == '#') {
      continue;
    }
    size_t eq = l.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config: ", path, ":", number, ": expected NAME=value"));
    }
    out[std::string(absl::StripAsciiWhitespace(l.substr(0, eq)))] =
        std::string(absl::StripAsciiWhitespace(l.substr(eq + 1)));
  }
  return out;
}

}  // namespace

std::string Config::EnvName(std::string_view flag) {
  std::string name = "DJ_";
  for (char c : flag) {
    name.push_back(c == '-' ? '_' : absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

namespace {

struct Flags {
  std::map<std::string, std::string> values;  // flag -> value
  std::string config_file;                     // --config, if given
};

// --name=value, --name value, or --name alone for a boolean; every name must be a setting.
absl::StatusOr<Flags> ParseFlags(std::span<const Setting> settings, int argc,
                                 const char* const* argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name;
    std::string value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else if (const Setting* s = FindSetting(settings, std::string(arg));
               s != nullptr && s->boolean) {
      name = std::string(arg);
      value = "true";
    } else {
      name = std::string(arg);
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
      }
      value = argv[++i];
    }
    if (name == "config") {
      flags.config_file = value;
      continue;
    }
    if (FindSetting(settings, name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": unknown flag"));
    }
    flags.values[name] = value;
  }
  return flags;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv = *e;
    if (size_t eq = kv.find('='); eq != std::string_view::npos) {
      environment.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return environment;
}

// The config file's NAME=value lines; every NAME must be a setting's DJ_ name.
absl::StatusOr<std::map<std::string, std::string>> ReadKnownSettings(
    std::span<const Setting> settings, const std::string& path) {
  auto file = ReadConfigFile(path);
  if (!file.ok()) {
    return file.status();
  }
  for (const auto& [key, unused] : *file) {
    bool known = false;
    for (const Setting& s : settings) {
      known = known || Config::EnvName(s.flag) == key;
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown setting in ", path));
    }
  }
  return file;
}

}  // namespace

absl::StatusOr<Config> Config::Load(std::span<const Setting> settings, int argc,
                                    const char* const* argv,
                                    const std::map<std::string, std::string>* env) {
  auto flags = ParseFlags(settings, argc, argv);
  if (!flags.ok()) {
    return flags.status();
  }
  const std::map<std::string, std::string> environment =
      env != nullptr ? *env : ProcessEnvironment();
  std::string config_file = flags->config_file;
  if (config_file.empty()) {
    if (auto it = environment.find("DJ_CONFIG"); it != environment.end()) {
      config_file = it->second;
    }
  }
  std::map<std::string, std::string> file;
  if (!config_file.empty()) {
    auto read = ReadKnownSettings(settings, config_file);
    if (!read.ok()) {
      return read.status();
    }
    file = *std::move(read);
  }

  Config config;
  for (const Setting& s : settings) {
    const std::string env_name = EnvName(s.flag);
    std::string value = s.default_value;
    std::string source = "default";
    if (auto it = file.find(env_name); it != file.end()) {
      value = it->second;
      source = config_file;
    }
    if (auto it = environment.find(env_name); it != environment.end()) {
      value = it->second;
      source = "environment";
    }
    if (auto it = flags->values.find(s.flag); it != flags->values.end()) {
      value = it->second;
      source = "flag";
    }
    if (value.empty()) {
      if (s.required) {
        return absl::InvalidArgumentError(absl::StrCat(
            env_name, ": missing (set ", env_name, " or --", s.flag, "): ", s.help));
      }
    } else if (s.validate || s.boolean) {
      if (absl::Status st = s.boolean ? ValidateBool(value) : s.validate(value); !st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(env_name, ": ", st.message(), " (from ", source, ")"));
      }
    }
    config.values_[s.flag] = value;
  }
  return config;
}

Config Config::LoadOrExit(std::string_view program, std::span<const Setting> settings, int argc,
                          const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << "Usage: " << program << " [--flag=value ...] [--config FILE]\n\n";
      for (const Setting& s : settings) {
        std::cout << "  --" << s.flag << " / " << EnvName(s.flag)
                  << (s.boolean ? " (switch)" : "") << (s.required ? " (required)" : "")
                  << (s.default_value.empty() ? "" : " [default " + s.default_value + "]")
                  << "\n      " << s.help << "\n";
      }
      std::exit(0);
    }
  }
  auto config = Load(settings, argc, argv);
  if (!config.ok()) {
    std::cerr << program << ": " << config.status().message() << std::endl;
    std::exit(2);
  }
  return *std::move(config);
}

const std::string& Config::Get(std::string_view flag) const {
  static const std::string kEmpty;
  auto it = values_.find(flag);
  return it == values_.end() ? kEmpty : it->second;
}

int64_t Config::GetInt(std::string_view flag) const {
  int64_t v = 0;
  return absl::SimpleAtoi(Get(flag), &v) ? v : 0;
}

absl::Status ValidateHostPort(std::string_view value) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", AV(value), "' is not host:port"));
  }
  int port = 0;
  if (!absl::SimpleAtoi(AV(value.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", AV(value), "' has no valid port (0-65535)"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePositiveInt(std::string_view value) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(AV(value), &v) || v <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", AV(value), "' is not a positive integer"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSecret(std::string_view value) {
  if (value.size() < 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be at least 32 characters (it has ", value.size(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBool(std::string_view value) {
  if (value == "true" || value == "false" || value == "1" || value == "0") {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("'", AV(value), "' is not true or false"));
}

absl::Status ValidateLogLevel(std::string_view value) {
  for (std::string_view l : {"trace", "debug", "info", "warn", "error"}) {
    if (value == l) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", AV(value), "' is not one of trace, debug, info, warn, error"));
}

}  // namespace dj::runtime
