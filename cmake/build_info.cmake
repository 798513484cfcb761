# agentq_build_info: a generated header with the version and the git commit
# this build was configured from, for `agentq --version`.
#
# The commit comes from -DAGENTQ_GIT_COMMIT=... when given (the Docker image's
# build context has no .git: the Dockerfile passes its AGENTQ_GIT_COMMIT build
# argument), else from `git rev-parse` at configure time, else "unknown" (a
# source tarball). It is read at configure time: a new commit shows after the
# next cmake run.
set(AGENTQ_GIT_COMMIT "" CACHE STRING "git commit to report in --version (empty: ask git)")
set(agentq_commit "${AGENTQ_GIT_COMMIT}")
if(agentq_commit STREQUAL "")
  find_program(GIT_PROGRAM git)
  if(GIT_PROGRAM)
    execute_process(COMMAND "${GIT_PROGRAM}" rev-parse --short=12 HEAD
                    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
                    OUTPUT_VARIABLE agentq_commit OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET RESULT_VARIABLE git_result)
    if(NOT git_result EQUAL 0)
      set(agentq_commit "")
    endif()
  endif()
endif()
if(agentq_commit STREQUAL "")
  set(agentq_commit "unknown")
endif()

set(agentq_build_info_dir "${CMAKE_BINARY_DIR}/generated/build_info")
configure_file("${CMAKE_SOURCE_DIR}/cmake/build_info.hpp.in"
               "${agentq_build_info_dir}/agentq/build_info.hpp" @ONLY)
add_library(agentq_build_info INTERFACE)
target_include_directories(agentq_build_info INTERFACE "${agentq_build_info_dir}")
