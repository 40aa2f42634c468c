# libcytogate: the installable library, fcs/ + gating/ (not pipeline/).
#
# Built from the object files of the internal static libraries `fcs` and
# `cggating` ($<TARGET_OBJECTS>), so every source compiles once and the
# tests, the fuzz targets and their per-target flags keep using `fcs` and
# `cggating` unchanged.  Those two are compiled position-independent for
# the shared library.
#
#   cytogate_shared  libcytogate.so.0.1.0 (SONAME libcytogate.so.0, from
#                    PROJECT_VERSION); exported as cytogate::cytogate
#   cytogate_static  libcytogate.a; exported as cytogate::cytogate_static
#
# Public headers: the CG_PUBLIC_HEADERS lists of fcs/ and gating/, symlinked
# into <build>/include/cytogate/ (so in-tree users such as examples/ see the
# installed layout, `#include <cytogate/fcs.h>`) and installed to
# <prefix>/include/cytogate/.  *_internal.h and the pipeline's helpers are
# not installed.
set(CG_LIB_OBJECTS $<TARGET_OBJECTS:fcs> $<TARGET_OBJECTS:cggating>)
set(CG_LIB_DEPS PkgConfig::ZLIB PkgConfig::FFTW3 PkgConfig::LAPACKE
    PkgConfig::OPENBLAS PkgConfig::XML2 Threads::Threads m)
set(CG_INCLUDE_BUILD "${PROJECT_BINARY_DIR}/include")

file(MAKE_DIRECTORY "${CG_INCLUDE_BUILD}/cytogate")
foreach(h ${CG_PUBLIC_HEADERS})
  get_filename_component(hn "${h}" NAME)
  file(CREATE_LINK "${h}" "${CG_INCLUDE_BUILD}/cytogate/${hn}" SYMBOLIC)
endforeach()

foreach(kind shared static)
  string(TOUPPER ${kind} KIND)
  add_library(cytogate_${kind} ${KIND} ${CG_LIB_OBJECTS})
  add_dependencies(cytogate_${kind} fcs cggating)
  target_link_libraries(cytogate_${kind} PRIVATE ${CG_LIB_DEPS})
  target_include_directories(cytogate_${kind} INTERFACE
    $<BUILD_INTERFACE:${CG_INCLUDE_BUILD}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(cytogate_${kind} PROPERTIES
    OUTPUT_NAME cytogate
    ARCHIVE_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib"
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib"
    LINKER_LANGUAGE C)
endforeach()
set_target_properties(cytogate_shared PROPERTIES
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  EXPORT_NAME cytogate)
set_target_properties(cytogate_static PROPERTIES EXPORT_NAME cytogate_static)

# ---- install: lib, headers, pkg-config file, CMake package ---------------
include(CMakePackageConfigHelpers)
set(CG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/cytogate")

install(TARGETS cytogate_shared cytogate_static EXPORT cytogateTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CG_PUBLIC_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cytogate)
install(EXPORT cytogateTargets NAMESPACE cytogate::
  DESTINATION ${CG_CMAKE_DIR})

configure_package_config_file(cmake/cytogateConfig.cmake.in
  "${PROJECT_BINARY_DIR}/cytogateConfig.cmake"
  INSTALL_DESTINATION ${CG_CMAKE_DIR})
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cytogateConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/cytogateConfig.cmake"
  "${PROJECT_BINARY_DIR}/cytogateConfigVersion.cmake"
  DESTINATION ${CG_CMAKE_DIR})

# cytogate.pc is relocatable: prefix is found from the .pc file's own
# folder, so `cmake --install build --prefix P` works for any P.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH CG_PC_UP "/cg/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/cg")
  string(REGEX REPLACE "/$" "" CG_PC_UP "${CG_PC_UP}")
  set(CG_PC_PREFIX "\${pcfiledir}/${CG_PC_UP}")
endif()
configure_file(cmake/cytogate.pc.in "${PROJECT_BINARY_DIR}/cytogate.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/cytogate.pc"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The command-line tool goes in bin/ beside the library.
install(TARGETS cytogate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
