// dj-member: the member service process (accounts and sign-in so far).
#include "services/member/src/module.h"

int main(int argc, char** argv) {
  return dj::runtime::ServiceMain(dj::member::kModule, argc, argv);
}
