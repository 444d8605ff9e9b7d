// Every service of the suite, in start order (a service after the services it calls). What
// dangjian, the test fixture, the scripts (through dj-services) and the gateway loop over.
#pragma once

#include "common/runtime/module.h"

namespace dj::services {

const runtime::Modules& Modules();

}  // namespace dj::services
