# agentq_write_if_changed(PATH TEXT): writes TEXT to PATH only when it differs
# from what is there, so regenerating a header at every configure rebuilds
# nothing that includes it. Shared by the embed_*.cmake scripts.
function(agentq_write_if_changed path text)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE "${path}" "${text}")
  endif()
endfunction()
