# Source lint: no function in fcs/, gating/ or pipeline/ over 150 lines
# (issue #15).  scripts/lint-funclen.sh lists the offenders with their
# file, line and length; it needs universal-ctags (scripts/install-deps.sh).
cg_add_test(lint_function_length unit
  sh ${PROJECT_SOURCE_DIR}/scripts/lint-funclen.sh ${PROJECT_SOURCE_DIR} 150)
# The checker itself must be able to fail: with a limit of 20 lines the
# tree has offenders, and the script must exit 1 and name one.
cg_add_test(lint_function_length_selftest unit
  sh -c "sh '${PROJECT_SOURCE_DIR}/scripts/lint-funclen.sh' '${PROJECT_SOURCE_DIR}' 20 | grep -q 'lines (limit 20)'; test $? -eq 0 && ! sh '${PROJECT_SOURCE_DIR}/scripts/lint-funclen.sh' '${PROJECT_SOURCE_DIR}' 20 >/dev/null 2>&1")
find_program(CG_CTAGS NAMES ctags-universal universal-ctags ctags)
if(NOT CG_CTAGS)
  message(WARNING "universal-ctags not found: lint_function_length will "
                  "fail (apt-get install universal-ctags)")
endif()
