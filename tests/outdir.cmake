# The output folder of `cytogate run` and `merge` (issue 18): lock,
# staging, run.json as the completion marker, reruns, signals, kill -9,
# failed writes (an LD_PRELOAD shim, and a real full tmpfs when the
# sandbox allows `unshare -rm`), sample-id limits and --safe-tsv.  See
# tests/cli/test_outdir.sh for what each mode checks.
#
# The shim is built without the sanitizer flags: it is preloaded into the
# (possibly sanitized) cytogate and only wraps fopen, which ASan's own
# interceptor forwards to it.
add_library(cg_failwrite SHARED cli/failwrite_shim.c)
set(cg_failwrite_opts -Wall -Wextra -Wshadow)
if(CYTOGATE_WERROR)
  list(APPEND cg_failwrite_opts -Werror)
endif()
set_target_properties(cg_failwrite PROPERTIES COMPILE_OPTIONS
                      "${cg_failwrite_opts}" LINK_OPTIONS "")
target_link_libraries(cg_failwrite PRIVATE ${CMAKE_DL_LIBS})

foreach(mode rerun lock kill9 faults tmpfs sheet safe_tsv merge)
  cg_add_test(outdir_${mode} cli sh ${CG_TESTS_DIR}/cli/test_outdir.sh
              $<TARGET_FILE:cytogate> $<TARGET_FILE:cg_failwrite>
              ${PROJECT_SOURCE_DIR} ${CG_TEST_OUT}/outdir_${mode} ${mode})
  set_tests_properties(outdir_${mode} PROPERTIES TIMEOUT 300)
endforeach()
