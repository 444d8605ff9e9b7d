# Finds the Debian 12 packages the suite builds against (scripts/install-deps installs them).
find_package(Threads REQUIRED)
find_package(Protobuf 3.21 REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# Spreadsheets (member import and export): .xlsx read with libzip + pugixml, written with
# libxlsxwriter.
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)
find_package(pugixml CONFIG REQUIRED)

# Debian ships no CMake or pkg-config file for Connector/C++ 1.1.
find_path(MYSQLCPPCONN_INCLUDE_DIR NAMES cppconn/driver.h mysql_driver.h REQUIRED)
find_library(MYSQLCPPCONN_LIBRARY NAMES mysqlcppconn REQUIRED)
add_library(mysqlcppconn::mysqlcppconn UNKNOWN IMPORTED)
set_target_properties(mysqlcppconn::mysqlcppconn PROPERTIES
  IMPORTED_LOCATION ${MYSQLCPPCONN_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${MYSQLCPPCONN_INCLUDE_DIR})

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# The canonical google/api, google/rpc and google/type protos, as Debian packages them.
set(DJ_GOOGLEAPIS_DIR /usr/share/gocode/src/github.com/gogo/googleapis
    CACHE PATH "Directory holding google/api/annotations.proto and friends")
if(NOT EXISTS ${DJ_GOOGLEAPIS_DIR}/google/api/annotations.proto)
  message(FATAL_ERROR "google/api/annotations.proto not found under DJ_GOOGLEAPIS_DIR="
                      "${DJ_GOOGLEAPIS_DIR}; run scripts/install-deps")
endif()
