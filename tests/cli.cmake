# CLI contract: the command table, help, version, unknown commands.
cg_test_program(test_usage cli/test_usage.c)
cg_add_test(cli_usage cli $<TARGET_FILE:test_usage>)
