# Plots (pipeline/plot*.c, png_write.c): images decoded and checked pixel
# by pixel, tEXt metadata, byte-identical re-renders, render time.
cg_test_program(test_plot unit/test_plot.c)
cg_add_test(plot_panels unit $<TARGET_FILE:test_plot>)
cg_test_program(test_plot_bench unit/test_plot_bench.c)
cg_add_test(plot_bench_1m "unit;slow" $<TARGET_FILE:test_plot_bench>)
cg_test_program(test_plot_figs unit/test_plot_figs.c)
cg_add_test(plot_figures unit $<TARGET_FILE:test_plot_figs>)
cg_test_program(test_plot_cli unit/test_plot_cli.c)
cg_add_test(plot_cli cli $<TARGET_FILE:test_plot_cli>)
cg_test_program(test_plot_mem unit/test_plot_mem.c)
cg_add_test(plot_mem unit $<TARGET_FILE:test_plot_mem>)
cg_test_program(test_plot_cuts unit/test_plot_cuts.c)
cg_add_test(plot_cuts unit $<TARGET_FILE:test_plot_cuts>)
