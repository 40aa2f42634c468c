# Hostile inputs (issue #18): non-regular files, empty/truncated files, a
# file truncated while it is read, a gzip bomb, $PAR vs file size, a
# 100,000-parameter file, HEADER/TEXT offset disagreements; and a `run`
# batch mixing those with a good sample.
cg_test_program(test_fcs_hostile unit/test_fcs_hostile.c unit/test_fcs_build.c)
cg_add_test(fcs_hostile unit $<TARGET_FILE:test_fcs_hostile>)
set_tests_properties(fcs_hostile PROPERTIES TIMEOUT 120)

cg_add_test(cli_hostile_batch cli sh ${CG_TESTS_DIR}/cli/test_hostile_batch.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}
            ${CG_TEST_OUT}/cli_hostile_batch)
set_tests_properties(cli_hostile_batch PROPERTIES TIMEOUT 120)
