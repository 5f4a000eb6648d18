# Shared build helpers: warnings, plugins and tests.

function(loupe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(LOUPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# loupe_add_plugin(<name> SOURCES ... [LIBS ...] [OUTPUT_DIR dir])
# Builds a Qt plugin (MODULE library) that the host finds in the plugins folder.
function(loupe_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${LOUPE_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE loupe_sdk ${ARG_LIBS})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    AUTOMOC ON)
  loupe_warnings(${name})
  if(ARG_OUTPUT_DIR STREQUAL LOUPE_PLUGIN_OUTPUT_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/loupe/plugins)
  endif()
endfunction()

# loupe_add_test(<name> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s] [GUI] [XVFB])
# One Qt Test executable per class or behaviour, registered with CTest.
# GUI tests run with the offscreen platform unless XVFB is given (OpenGL needs a real X server).
function(loupe_add_test name)
  cmake_parse_arguments(ARG "GUI;XVFB" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE
    LOUPE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    LOUPE_BINARY_DIR="${CMAKE_BINARY_DIR}"
    LOUPE_SHARED_DATA_DIR="${CMAKE_SOURCE_DIR}/../shared/data")
  set_target_properties(${name} PROPERTIES AUTOMOC ON
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  loupe_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(env "LOUPE_PLUGIN_PATH=${LOUPE_PLUGIN_OUTPUT_DIR}")
  if(ARG_GUI AND NOT ARG_XVFB)
    list(APPEND env "QT_QPA_PLATFORM=offscreen")
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${env}" LABELS "${ARG_LABELS}")
endfunction()
