// dj-echo: the test-only echo service as its own process.
#include "tests/echo/src/module.h"

int main(int argc, char** argv) { return dj::runtime::ServiceMain(dj::echo::kModule, argc, argv); }
