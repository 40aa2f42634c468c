# The study store and batch control (issue 21): tests/cli/test_study.sh.
#   study_store    three batches via `run --db` == one run (longitudinal),
#                  reruns, config versions, concurrency, schema (cli)
#   study_kill     kill -9 mid-transaction and mid-batch: store unchanged
#   study_control  Levey-Jennings limits, Westgard 1-2s/1-3s, qc exit 3
foreach(mode store kill control)
  cg_add_test(study_${mode} cli sh ${CG_TESTS_DIR}/cli/test_study.sh
              $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}
              ${CG_TEST_OUT}/study_${mode} ${mode})
  set_tests_properties(study_${mode} PROPERTIES TIMEOUT 300)
endforeach()

# unit_study: Westgard 1-2s/1-3s and the limits (qc_control.c), the sheet
# column role, the store's schema version.
cg_test_program(test_study unit/test_study.c)
target_link_libraries(test_study PRIVATE PkgConfig::SQLITE3)
cg_add_test(unit_study unit $<TARGET_FILE:test_study>)

# study_report: `cytogate study`'s report.html, checked with libxml2's
# HTML parser (test_study_html): parses, every sample by subject, sheet
# markup escaped, provenance, figures linked, the same bytes twice.
cg_test_program(test_study_html cli/test_study_html.c)
target_link_libraries(test_study_html PRIVATE PkgConfig::XML2)
cg_add_test(study_report cli sh ${CG_TESTS_DIR}/cli/test_study.sh
            $<TARGET_FILE:cytogate> ${PROJECT_SOURCE_DIR}
            ${CG_TEST_OUT}/study_report report
            $<TARGET_FILE:test_study_html>)
set_tests_properties(study_report PROPERTIES TIMEOUT 300)
