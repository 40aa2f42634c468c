# `cytogate bench` (issue 9): a smoke run at tiny sizes checking the JSON
# shape (every row present, positive finite figures).  The benchmark itself
# is run by `make bench`, never by ctest: no speed is asserted here.
cg_test_program(test_bench_json cli/test_bench_json.c)
cg_add_test(cli_bench_smoke cli $<TARGET_FILE:test_bench_json>)
# `cytogate bench --whole` (issue 14): cg_bench_widen against the source
# file value for value, and a quick whole-process run whose table has a
# figure for every user command and the scaling row that fits.
cg_test_program(test_bench_whole cli/test_bench_whole.c)
cg_add_test(cli_bench_whole_smoke cli $<TARGET_FILE:test_bench_whole>)
