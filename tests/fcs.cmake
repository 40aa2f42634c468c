# fcs/: reader and writer tests (unit, conformance against the shared
# corpus, fuzz-corpus replay, slow >100 MB round trip), plus the libFuzzer
# target when -DCYTOGATE_FUZZ=ON (clang).
cg_test_program(test_fcs_corpus conformance/test_fcs_corpus.c)
cg_add_test(fcs_corpus conformance $<TARGET_FILE:test_fcs_corpus>)

# Fuzz corpus replay: the same LLVMFuzzerTestOneInput, no libFuzzer.
add_executable(fuzz_fcs_replay fuzz/replay.c fuzz/fuzz_fcs_read.c)
target_link_libraries(fuzz_fcs_replay PRIVATE fcs)
cg_add_test(fcs_fuzz_replay fuzz $<TARGET_FILE:fuzz_fcs_replay>
            ${CG_TESTS_DIR}/fuzz/corpus/fcs)

if(CYTOGATE_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CYTOGATE_FUZZ needs clang (CC=clang)")
  endif()
  # coverage feedback from the library itself, not only the target
  target_compile_options(fcs PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(fuzz_fcs_read fuzz/fuzz_fcs_read.c)
  target_compile_options(fuzz_fcs_read PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_fcs_read PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_fcs_read PRIVATE fcs)
endif()

foreach(t read quirks spill write)
  cg_test_program(test_fcs_${t} unit/test_fcs_${t}.c unit/test_fcs_build.c)
  cg_add_test(fcs_${t} unit $<TARGET_FILE:test_fcs_${t}>)
endforeach()
cg_add_test(fcs_write_big slow $<TARGET_FILE:test_fcs_write> big)
cg_test_program(test_fcs_cli unit/test_fcs_cli.c)
cg_add_test(fcs_cli cli $<TARGET_FILE:test_fcs_cli>)
