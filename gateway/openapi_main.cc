// dj-openapi: prints the OpenAPI 3 document for the gateway's routes (the embedded descriptor
// set's google.api.http annotations) to stdout. scripts/openapi writes it to docs/openapi.json.
#include <iostream>
#include <string>

#include "gateway/src/openapi.h"

int main(int argc, char** argv) {
  if (argc > 1) {
    std::cerr << "usage: " << argv[0] << " > docs/openapi.json\n";
    return 2;
  }
  auto doc = dj::gateway::DescriptorSetOpenApiDocument();
  if (!doc.ok()) {
    std::cerr << "dj-openapi: " << doc.status().ToString() << "\n";
    return 1;
  }
  std::cout << *doc << std::flush;
  if (!std::cout) {
    std::cerr << "dj-openapi: cannot write the document\n";
    return 1;
  }
  return 0;
}
