# The review report, report.html (issue 21): tests/cli/test_report.sh
# with test_report_html (libxml2's HTML parser, libpng) as the checker.
#   report_demo      samples/ + an error row + HTML in a sheet column:
#                    every sample with its verdict, escaped text, links,
#                    size, `cytogate report` rebuilds the same bytes
#   report_merge     the merged folder's report
#   report_refuse    not a run folder, malformed files, usage errors
#   report_big       96 simulated samples under 25 MB (slow)
#   report_chromium  headless Chromium screenshot; skipped (77) when
#                    /usr/bin/chromium is not installed
cg_test_program(test_report_html cli/test_report_html.c)
target_link_libraries(test_report_html PRIVATE PkgConfig::XML2
  PkgConfig::PNG)
foreach(mode demo merge refuse big chromium)
  set(_label cli)
  if(mode STREQUAL "big")
    set(_label slow)
  endif()
  cg_add_test(report_${mode} ${_label} sh ${CG_TESTS_DIR}/cli/test_report.sh
              $<TARGET_FILE:cytogate> $<TARGET_FILE:test_report_html>
              ${PROJECT_SOURCE_DIR} ${CG_TEST_OUT}/report_${mode} ${mode})
  set_tests_properties(report_${mode} PROPERTIES TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endforeach()
