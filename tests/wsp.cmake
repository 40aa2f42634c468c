# FlowJo workspaces (issue 16): pipeline/wsp/ and `cytogate wsp`, on
# FlowKit's public workspaces in ${CG_SHARED_DIR}/realdata/flowjo (skipped,
# exit 77, when that folder is absent).
cg_test_program(test_wsp unit/test_wsp.c)
target_link_libraries(test_wsp PRIVATE cg_wsp)
cg_add_test(unit_wsp unit $<TARGET_FILE:test_wsp>)
set_tests_properties(unit_wsp PROPERTIES SKIP_RETURN_CODE 77)
cg_add_test(cli_wsp cli sh ${CG_TESTS_DIR}/cli/test_wsp.sh
            $<TARGET_FILE:cytogate> ${CG_SHARED_DIR} ${CG_TEST_OUT})
set_tests_properties(cli_wsp PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
# Workspaces written by the test over a simulated sample: compensation,
# logicle/biex/fasinh/log axes, ellipse, booleans, --to-config round trip,
# and an independent (Python) count of compensated rectangles.
cg_add_test(cli_wsp_synth cli sh ${CG_TESTS_DIR}/cli/test_wsp_synth.sh
            $<TARGET_FILE:cytogate> ${CG_TEST_OUT})
set_tests_properties(cli_wsp_synth PROPERTIES TIMEOUT 300)
