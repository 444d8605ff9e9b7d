# dj_embed_files(TARGET name NAMESPACE ns FILES f1 f2 ...): compiles files into a static library
# exposing `std::span<const dj::EmbeddedFile> ns::Files()`, so binaries carry their migrations
# and descriptor sets with them (no install paths to get wrong in a container).
function(dj_embed_files)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;BASE" "FILES;DEPENDS" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_TARGET}_embedded.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${E_NAMESPACE} -DBASE=${E_BASE}
            "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    DEPENDS ${E_FILES} ${E_DEPENDS} ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    COMMENT "Embedding files into ${E_TARGET}"
    VERBATIM)
  add_library(${E_TARGET} STATIC ${out})
  target_include_directories(${E_TARGET} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
