# fcs/: reader and writer tests (unit, conformance against the shared
# corpus, fuzz-corpus replay, slow >100 MB round trip), plus the libFuzzer
# target when -DCYTOGATE_FUZZ=ON (clang).
cg_test_program(test_fcs_corpus conformance/test_fcs_corpus.c)
cg_add_test(fcs_corpus conformance $<TARGET_FILE:test_fcs_corpus>)
