// The org service's migrations, compiled into the binary (services/org/schema/<dialect>/).
#pragma once

#include <span>

#include "common/runtime/embedded_file.h"

namespace dj::org {

std::span<const EmbeddedFile> MySqlSchema();

}  // namespace dj::org
