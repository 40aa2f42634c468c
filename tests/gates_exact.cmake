# Fast gate paths (band index, cell grid, SSE2 words) vs plain loops.
cg_test_program(test_gate_exact unit/test_gate_exact.c)
cg_add_test(unit_gate_exact unit $<TARGET_FILE:test_gate_exact>)
