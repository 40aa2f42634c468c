# The installed library as a tool outside the tree would use it:
# `cmake --install` into a temporary prefix, then examples/read_and_gate.c
# built with `cc $(pkg-config --cflags --libs cytogate)` (shared, and
# static through --static), every installed header compiled as C++, and a
# find_package(cytogate) project configured and built; each program gates
# samples/S01_V1.fcs and its count is checked against `cytogate dump`.
cg_add_test(install_library cli sh ${CG_TESTS_DIR}/cli/test_install.sh
  ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} $<TARGET_FILE:cytogate>
  ${CG_TEST_OUT}/install ${CMAKE_C_COMPILER}
  $<IF:$<BOOL:${CYTOGATE_SANITIZE}>,san,plain>)
set_tests_properties(install_library PROPERTIES TIMEOUT 300)
