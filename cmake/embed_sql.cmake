# Turns sql/ into a header of string constants, so C++ holds no SQL text of its
# own and a misspelt query name is a compile error.
#   queries/NAME.sql        -> agentq::sql::NAME
#   migrations/NNNN_x.sql   -> agentq::sql::migrations[] {version, name, text}
# Run as: cmake -DSQL_DIR=... -DOUT=... -P embed_sql.cmake
file(GLOB queries "${SQL_DIR}/queries/*.sql")
file(GLOB migrations "${SQL_DIR}/migrations/*.sql")
list(SORT queries)
list(SORT migrations)

set(text "// Generated from sql/ by cmake/embed_sql.cmake. Do not edit.\n#pragma once\n#include <array>\n#include <string_view>\n\nnamespace agentq::sql {\n\n")
foreach(file IN LISTS queries)
  get_filename_component(name "${file}" NAME_WE)
  file(READ "${file}" body)
  string(APPEND text "inline constexpr std::string_view ${name} = R\"agentq_sql(${body})agentq_sql\";\n\n")
endforeach()

string(APPEND text "struct migration {\n  int version;\n  std::string_view name;\n  std::string_view text;\n};\n\n")
list(LENGTH migrations count)
string(APPEND text "inline constexpr std::array<migration, ${count}> migrations{{\n")
foreach(file IN LISTS migrations)
  get_filename_component(name "${file}" NAME_WE)
  string(REGEX MATCH "^[0-9]+" version "${name}")
  math(EXPR version "${version}")
  file(READ "${file}" body)
  string(APPEND text "  {${version}, \"${name}\", R\"agentq_sql(${body})agentq_sql\"},\n")
endforeach()
string(APPEND text "}};\n\n}  // namespace agentq::sql\n")

# Only touch the header when it changed, so a reconfigure rebuilds nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
