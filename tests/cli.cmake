# CLI contract: the command table, help, version, unknown commands.
cg_test_program(test_usage cli/test_usage.c)
cg_add_test(cli_usage cli $<TARGET_FILE:test_usage>)

# "did you mean": the edit distance and the suggestion rules.
cg_test_program(test_suggest unit/test_suggest.c)
cg_add_test(unit_suggest unit $<TARGET_FILE:test_suggest>)

# The one error line: file, line and byte once each, command name first.
cg_test_program(test_error_format unit/test_error_format.c)
cg_add_test(unit_error_format unit $<TARGET_FILE:test_error_format>)
