# `cytogate qc` end to end on simulated samples (issue 8 CLI).
cg_add_test(cli_qc cli sh ${CG_TESTS_DIR}/cli/test_qc.sh
  $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}/configs/treg_th17.yaml
  ${CG_TEST_OUT})
