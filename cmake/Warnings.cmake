# Warnings as errors for the project's own code (generated code is compiled without them).
add_library(dj_warnings INTERFACE)
target_compile_options(dj_warnings INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter
  -Wno-missing-field-initializers)  # designated initializers lean on member defaults
