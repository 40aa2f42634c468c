# Fast paths of `cytogate run` (issue 9): the radix-sorted statistics and
# selection quantiles against naive references, bit for bit.
cg_test_program(test_stats_fast unit/test_stats_fast.c)
cg_add_test(run_stats_fast unit $<TARGET_FILE:test_stats_fast>)
cg_test_program(test_png_write unit/test_png_write.c)
cg_add_test(plot_png_write unit $<TARGET_FILE:test_png_write>)
