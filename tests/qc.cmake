# QC engine (issue 8): synthetic anomalies and clean seeds; real corpus.
cg_test_program(test_qc unit/test_qc.c)
cg_add_test(qc_synthetic unit $<TARGET_FILE:test_qc>)
cg_test_program(test_qc_corpus unit/test_qc_corpus.c)
cg_add_test(qc_corpus "unit;conformance" $<TARGET_FILE:test_qc_corpus>)
