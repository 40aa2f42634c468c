# Labs' gating in and out (issue 16): `run --export-gatingml` round trip
# (every population count of the run reproduced by `cytogate gate` on the
# export, which validates against the ISAC XSD) and openCyto CSV gating
# templates (`run -c template.csv`).
cg_add_test(export_gml cli sh ${CG_TESTS_DIR}/cli/test_export_gml.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR} ${CG_SHARED_DIR}
            ${CG_TEST_OUT})
set_tests_properties(export_gml PROPERTIES TIMEOUT 300)
cg_add_test(opencyto_template cli sh ${CG_TESTS_DIR}/cli/test_opencyto.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR} ${CG_SHARED_DIR}
            ${CG_TEST_OUT})
set_tests_properties(opencyto_template PROPERTIES TIMEOUT 300)
