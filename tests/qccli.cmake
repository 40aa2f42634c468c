# `cytogate qc` end to end on simulated samples (issue 8 CLI).
cg_add_test(cli_qc cli sh ${CG_TESTS_DIR}/cli/test_qc.sh
  $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}/configs/treg_th17.yaml
  ${CG_TEST_OUT})
# Issue 8 acceptance: 20 clean simulated samples never fail; every
# injected anomaly is caught by its check.
cg_add_test(qc_simulated "cli;slow" sh ${CG_TESTS_DIR}/cli/test_qc_sim.sh
  $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}/configs/treg_th17.yaml
  ${CG_TEST_OUT})
