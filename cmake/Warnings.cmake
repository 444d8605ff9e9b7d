# Warnings for the project's own code (generated code is compiled without them). As errors when
# DJ_WERROR is on, as scripts/test and CI build: a new compiler's false positive then stops
# nobody who just wants to build, while nothing lands with a warning.
option(DJ_WERROR "Treat warnings in the project's own code as errors" OFF)
set(dj_warning_flags -Wall -Wextra)
if(DJ_WERROR)
  list(APPEND dj_warning_flags -Werror)
endif()
# Designated initializers lean on member defaults.
list(APPEND dj_warning_flags -Wno-unused-parameter -Wno-missing-field-initializers)
if(DJ_SANITIZE)
  # GCC documents false -Wmaybe-uninitialized under the sanitizers (std::regex, std::function).
  list(APPEND dj_warning_flags -Wno-maybe-uninitialized)
endif()
add_library(dj_warnings INTERFACE)
target_compile_options(dj_warnings INTERFACE ${dj_warning_flags})
