// dj-org: the organization service process.
#include "services/org/src/module.h"

int main(int argc, char** argv) { return dj::runtime::ServiceMain(dj::org::kModule, argc, argv); }
