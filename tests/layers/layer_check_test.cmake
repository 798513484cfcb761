# Proves cmake/enforce_layers.cmake works: run as
#   cmake -DENFORCE=<enforce_layers.cmake> -DWORK=<scratch dir> -P layer_check_test.cmake
# It builds small source trees in WORK and runs the check on each as the
# build does (cmake -DROOT=<tree> -P ...), expecting it to fail exactly when a
# file outside queue/store/, tests/ and bench/ includes pqxx or agentq/sql.hpp,
# and to name that file.

function(check_tree name expect_failure)
  set(root "${WORK}/${name}")
  file(REMOVE_RECURSE "${root}")
  set(i 2)
  while(i LESS ARGC)
    math(EXPR j "${i} + 1")
    set(path "${ARGV${i}}")
    set(text "${ARGV${j}}")
    file(WRITE "${root}/${path}" "${text}\n")
    math(EXPR i "${i} + 2")
  endwhile()
  execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${root} -P "${ENFORCE}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_failure)
    if(status EQUAL 0)
      message(FATAL_ERROR "${name}: the check passed a tree that breaks the rule")
    endif()
    if(NOT err MATCHES "${expect_failure}")
      message(FATAL_ERROR "${name}: the failure does not name ${expect_failure}:\n${err}")
    endif()
    if(NOT err MATCHES "Only the store touches PostgreSQL")
      message(FATAL_ERROR "${name}: the failure does not state the rule:\n${err}")
    endif()
  elseif(NOT status EQUAL 0)
    message(FATAL_ERROR "${name}: the check refused a tree that keeps the rule:\n${err}")
  endif()
  message(STATUS "${name}: as expected")
endfunction()

set(clean_store "#include <pqxx/pqxx>\n#include <agentq/sql.hpp>")

check_tree(pqxx_in_http "queue/http/handler\\.cpp"
  queue/store/store.cpp "${clean_store}"
  queue/http/handler.cpp "#include \"store/store.hpp\"\n#include <pqxx/except>")
check_tree(sql_header_in_runner "runner/job\\.hpp"
  runner/job.hpp "  #  include \"agentq/sql.hpp\"")
check_tree(bare_pqxx_in_client "client/client\\.cpp"
  client/client.cpp "#include <pqxx>")
check_tree(pqxx_in_worker_and_git "queue/git/merger\\.cpp.*worker/main\\.cpp"
  queue/git/merger.cpp "#include <pqxx/pqxx>"
  worker/main.cpp "#include <pqxx/connection>")
# Allowed: the store itself, tests/, bench/, and mentions that include nothing.
check_tree(allowed FALSE
  queue/store/store.cpp "${clean_store}"
  tests/store/claim_test.cpp "${clean_store}"
  bench/store_rows.cpp "${clean_store}"
  queue/http/handler.cpp "// once: #include <pqxx/pqxx>\n#include \"store/store.hpp\""
  queue/http/notes.hpp "const char* text = \"pqxx/pqxx\";")
