// A file compiled into a binary by cmake/Embed.cmake (migrations, descriptor sets).
#pragma once

#include <span>
#include <string_view>

namespace dj {

struct EmbeddedFile {
  std::string_view path;
  std::string_view data;
};

}  // namespace dj
