# Only the store touches PostgreSQL (docs/design.md): no source outside
# queue/store/ may include a libpqxx header or the generated agentq/sql.hpp.
# tests/ and bench/ are exempt (they may run raw SQL) and are not scanned.
#
# Three ways in:
#   include(cmake/enforce_layers.cmake) from the top CMakeLists: checks the
#     tree at configure time, and adds the target agentq_layers that checks
#     it again at build time whenever a scanned file changed;
#   cmake -DROOT=<tree> -P cmake/enforce_layers.cmake: checks <tree> and
#     fails (FATAL_ERROR, exit status 1) naming each offending file and line.
# The libraries back it up: agentq_store links libpqxx, libpq and agentq_sql
# PRIVATE, so code that links the store does not get sql.hpp's directory.

set(AGENTQ_LAYER_DIRS queue client runner worker reviewer)
set(AGENTQ_LAYER_EXEMPT "queue/store/")
# #include <pqxx/...>, "pqxx/...", <pqxx> and <agentq/sql.hpp>, with any spacing.
set(AGENTQ_LAYER_PATTERN
    "^[ \t]*#[ \t]*include[ \t]*[<\"](pqxx(/[^>\"]*)?|agentq/sql\\.hpp)[>\"]")

# The scanned files of `root`, relative to it, in `out`.
function(agentq_layer_files root out)
  set(files)
  foreach(dir IN LISTS AGENTQ_LAYER_DIRS)
    file(GLOB_RECURSE found RELATIVE "${root}"
         "${root}/${dir}/*.cpp" "${root}/${dir}/*.cc" "${root}/${dir}/*.hpp"
         "${root}/${dir}/*.h" "${root}/${dir}/*.ipp")
    list(APPEND files ${found})
  endforeach()
  list(FILTER files EXCLUDE REGEX "^${AGENTQ_LAYER_EXEMPT}")
  list(SORT files)
  set(${out} ${files} PARENT_SCOPE)
endfunction()

function(agentq_enforce_layers root)
  agentq_layer_files("${root}" files)
  set(violations)
  foreach(file IN LISTS files)
    file(STRINGS "${root}/${file}" lines REGEX "#[ \t]*include")
    foreach(line IN LISTS lines)
      if(line MATCHES "${AGENTQ_LAYER_PATTERN}")
        string(STRIP "${line}" line)
        list(APPEND violations "  ${file}: ${line}")
      endif()
    endforeach()
  endforeach()
  if(violations)
    list(JOIN violations "\n" listed)
    message(FATAL_ERROR
      "Only the store touches PostgreSQL: outside queue/store/ (tests/ and bench/ "
      "excepted) no file may include a libpqxx header or agentq/sql.hpp "
      "(docs/design.md; cmake/enforce_layers.cmake). Call a store method "
      "instead (queue/store/store.hpp) and catch agentq::database_unavailable.\n"
      "${listed}\n")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P enforce_layers.cmake")
  endif()
  agentq_enforce_layers("${ROOT}")
else()
  agentq_enforce_layers("${PROJECT_SOURCE_DIR}")
  # Again at build time, when a scanned file changed since (an edit after
  # configuring must not slip through): agentq_store depends on it.
  agentq_layer_files("${PROJECT_SOURCE_DIR}" agentq_layer_sources)
  list(TRANSFORM agentq_layer_sources PREPEND "${PROJECT_SOURCE_DIR}/")
  set(agentq_layer_stamp "${PROJECT_BINARY_DIR}/agentq_layers.stamp")
  add_custom_command(
    OUTPUT "${agentq_layer_stamp}"
    COMMAND "${CMAKE_COMMAND}" -DROOT=${PROJECT_SOURCE_DIR} -P
            "${CMAKE_CURRENT_LIST_FILE}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${agentq_layer_stamp}"
    DEPENDS ${agentq_layer_sources} "${CMAKE_CURRENT_LIST_FILE}"
    COMMENT "Checking that only queue/store/ includes pqxx and agentq/sql.hpp"
    VERBATIM)
  add_custom_target(agentq_layers ALL DEPENDS "${agentq_layer_stamp}")
endif()
