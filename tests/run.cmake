# `cytogate run` (issue 6): config, panel, sheet and stats unit tests;
# end-to-end CLI tests on generated data (errors, -j1 vs -j2, accuracy,
# golden outputs, a slow 24-sample accuracy run); config fuzz replay.
cg_test_program(test_config unit/test_config.c)
cg_add_test(run_config unit $<TARGET_FILE:test_config>)
cg_test_program(test_panel unit/test_panel.c)
cg_add_test(run_panel unit $<TARGET_FILE:test_panel>)
cg_test_program(test_sheet unit/test_sheet.c)
cg_add_test(run_sheet unit $<TARGET_FILE:test_sheet>)
cg_test_program(test_stats unit/test_stats.c)
cg_add_test(run_stats unit $<TARGET_FILE:test_stats>)

add_executable(run_gen cli/run_gen.c)
target_link_libraries(run_gen PRIVATE fcs m)
foreach(mode errors threads accuracy golden slow)
  if(mode STREQUAL "golden")
    set(lbl golden)
  elseif(mode STREQUAL "slow")
    set(lbl slow)
  else()
    set(lbl cli)
  endif()
  cg_add_test(run_${mode} ${lbl} sh ${CG_TESTS_DIR}/cli/test_run.sh
              $<TARGET_FILE:cytogate> $<TARGET_FILE:run_gen>
              ${PROJECT_SOURCE_DIR} ${CG_TEST_OUT}/run_${mode} ${mode})
endforeach()

add_executable(fuzz_config_replay fuzz/replay.c fuzz/fuzz_config.c)
target_link_libraries(fuzz_config_replay PRIVATE cgpipeline)
cg_add_test(run_fuzz_config_replay fuzz $<TARGET_FILE:fuzz_config_replay>
            ${CG_TESTS_DIR}/fuzz/corpus/config)
if(CYTOGATE_FUZZ)
  # coverage feedback from the config and sheet parsers themselves (the
  # config layer, and the qc and util layers it calls), not only the target
  foreach(layer cg_config cg_qc cg_util)
    target_compile_options(${layer} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
  add_executable(fuzz_config fuzz/fuzz_config.c)
  target_compile_options(fuzz_config PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_config PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_config PRIVATE cg_config)
endif()

# Acceptance: accuracy against `cytogate simulate` truth sidecars, on the
# shipped samples/ (README command 1) and on 24 fresh simulated samples
# (Treg 2-15 %, Th17 0.3-5 %, bd and cytek namings, both byte orders).
cg_test_program(test_run_samples cli/test_run_samples.c)
cg_add_test(run_samples_demo cli $<TARGET_FILE:test_run_samples> demo)
cg_add_test(run_samples_sim slow $<TARGET_FILE:test_run_samples> sim 24)
