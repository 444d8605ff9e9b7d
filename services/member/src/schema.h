// The member service's migrations, compiled into the binary (services/member/schema/<dialect>/).
#pragma once

#include <span>

#include "common/db/db.h"
#include "common/runtime/embedded_file.h"

namespace dj::member {

std::span<const EmbeddedFile> Schema(db::Dialect dialect);

}  // namespace dj::member
