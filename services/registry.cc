#include "services/registry.h"

#include "services/member/src/module.h"
#include "services/org/src/module.h"

namespace dj::services {

const runtime::Modules& Modules() {
  // A new service: its folder under services/, and one line here.
  static const runtime::Modules modules = {
      &org::kModule,
      &member::kModule,
  };
  return modules;
}

}  // namespace dj::services
