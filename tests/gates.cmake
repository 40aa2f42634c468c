# Gates, gate trees and Gating-ML (issue 5).
cg_test_program(test_gate unit/test_gate.c)
cg_add_test(unit_gate unit $<TARGET_FILE:test_gate>)
cg_test_program(test_gatetree unit/test_gatetree.c)
cg_add_test(unit_gatetree unit $<TARGET_FILE:test_gatetree>)
cg_test_program(test_gatingml conformance/test_gatingml.c)
cg_add_test(conformance_gatingml conformance $<TARGET_FILE:test_gatingml>)
cg_add_test(cli_gate cli sh ${CG_TESTS_DIR}/cli/test_gate.sh
  $<TARGET_FILE:cytogate> ${CG_SHARED_DIR} ${CG_TEST_OUT})
