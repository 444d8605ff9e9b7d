// The org service's migrations, compiled into the binary (services/org/schema/<dialect>/).
#pragma once

#include <span>

#include "common/db/db.h"
#include "common/runtime/embedded_file.h"

namespace dj::org {

std::span<const EmbeddedFile> Schema(db::Dialect dialect);

}  // namespace dj::org
