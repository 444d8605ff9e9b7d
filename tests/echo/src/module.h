// The echo service as a module of the suite (common/runtime/module.h): a service that exists
// only in test code. dj-echo is ServiceMain over it; a test starts it next to the registry's.
#pragma once

#include "common/runtime/module.h"

namespace dj::echo {

extern const runtime::ServiceModule kModule;

}  // namespace dj::echo
