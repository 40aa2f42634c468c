# KDE, auto gates and the data simulator (gating/kde.c, gating/autogate*.c,
# pipeline/simulate.c, pipeline/cmd_simulate.c).
cg_test_program(test_kde unit/test_kde.c)
cg_add_test(kde unit $<TARGET_FILE:test_kde>)
cg_test_program(test_autogate unit/test_autogate.c)
cg_add_test(autogate unit $<TARGET_FILE:test_autogate>)
cg_test_program(test_simulate_gating unit/test_simulate_gating.c)
cg_add_test(simulate_gating unit $<TARGET_FILE:test_simulate_gating>)
cg_test_program(test_simulate unit/test_simulate.c)
cg_add_test(simulate unit $<TARGET_FILE:test_simulate>)
# Real panels from other labs (../shared/realdata) with the shipped
# configs, and per-sample overrides (issues 13 and 17).
cg_add_test(realpanels cli sh ${CG_TESTS_DIR}/cli/test_realpanels.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR} ${CG_SHARED_DIR}
            ${CG_TEST_OUT})
