// dj-services: prints the suite's services in start order, one per line, as
// "<name> <signs_tokens: 0|1> <callee> <callee>..." — for the scripts (dev-up, dev-down), so
// they loop over the same registry as the binaries.
#include <iostream>

#include "services/registry.h"

int main() {
  for (const dj::runtime::ServiceModule* m : dj::services::Modules()) {
    std::cout << m->name << ' ' << (m->signs_tokens ? 1 : 0);
    for (const std::string& callee : m->calls) {
      std::cout << ' ' << callee;
    }
    std::cout << '\n';
  }
  return 0;
}
