# Transforms and compensation (gating/xform*.c, comp.c, matrix.c, unmix.c;
# pipeline/cmd_transform.c, cmd_compensate.c, bench_xform.c).
cg_test_program(test_xform unit/test_xform.c)
cg_add_test(unit_xform unit $<TARGET_FILE:test_xform>)

cg_test_program(test_xform_conformance conformance/test_transforms.c)
cg_add_test(conformance_transforms conformance
  $<TARGET_FILE:test_xform_conformance>)

cg_test_program(test_comp unit/test_comp.c)
cg_add_test(unit_comp unit $<TARGET_FILE:test_comp>)

cg_test_program(test_xform_cli unit/test_xform_cli.c)
cg_add_test(cli_transform_compensate cli $<TARGET_FILE:test_xform_cli>)

cg_test_program(test_xform_bench unit/test_xform_bench.c)
cg_add_test(slow_xform_bench slow $<TARGET_FILE:test_xform_bench>)
