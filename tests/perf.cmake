# Fast paths of `cytogate run` (issue 9): the radix-sorted statistics and
# selection quantiles against naive references, bit for bit.
cg_test_program(test_stats_fast unit/test_stats_fast.c)
cg_add_test(run_stats_fast unit $<TARGET_FILE:test_stats_fast>)
cg_test_program(test_png_write unit/test_png_write.c)
cg_add_test(plot_png_write unit $<TARGET_FILE:test_png_write>)
# Issue 14 memory paths: huge-page allocations, the two-thread frame
# decode against single-column decodes bit for bit, zero-filled added
# columns and exact subsets.
cg_test_program(test_frame_big unit/test_frame_big.c)
cg_add_test(frame_big_decode unit $<TARGET_FILE:test_frame_big>)
# The float store (frame.h, CG_FRAME_FLOAT): every corpus file, every
# channel, every way of reading it, compensated on read, against the
# ordinary frame bit for bit.
cg_test_program(test_frame_float unit/test_frame_float.c)
cg_add_test(frame_float_store unit $<TARGET_FILE:test_frame_float>)
