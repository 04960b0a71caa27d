# Install, export and packaging rules (included from the top-level CMakeLists.txt when
# LORANK_INSTALL is on, the default when lorank is the top-level project).
#
#   cmake --install build --prefix P   headers, the library, the `lorank` command, a CMake
#                                      package (find_package(lorank) → lorank::lorank) and
#                                      a pkg-config file lorank.pc
#   cpack --config build/CPackConfig.cmake   (in build/) two .deb packages:
#       lorank          the command (and liblorank.so in a BUILD_SHARED_LIBS build)
#       liblorank-dev   headers, liblorank.a (or the .so link), CMake package, lorank.pc
# Checked by tests/install (ctest) and scripts/check-deb.sh (CI).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LORANK_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/lorank)
set(LORANK_SUMMARY "exact spectra, ranks, resizing and merging of LoRA adapters")

install(TARGETS lorank EXPORT lorankTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(BUILD_SHARED_LIBS)
  # An installed `lorank` finds liblorank.so beside it in any prefix (no rpath otherwise).
  set_target_properties(lorank_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
endif()
install(TARGETS lorank_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/lorank DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/generated/lorank/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lorank COMPONENT dev)

# --- CMake package: lorankConfig.cmake finds what the exported target's link interface
# names (fmt always; for a static library also LAPACKE, OpenBLAS and Threads).
if(BUILD_SHARED_LIBS)
  set(LORANK_STATIC_LIBRARY OFF)
  set(LORANK_LINKAGE shared)
else()
  set(LORANK_STATIC_LIBRARY ON)
  set(LORANK_LINKAGE static)
endif()
install(EXPORT lorankTargets NAMESPACE lorank:: DESTINATION ${LORANK_INSTALL_CMAKEDIR}
        COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lorankConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lorankConfig.cmake INSTALL_DESTINATION ${LORANK_INSTALL_CMAKEDIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lorankConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lorankConfig.cmake ${PROJECT_BINARY_DIR}/lorankConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/lorankFindLapacke.cmake
        DESTINATION ${LORANK_INSTALL_CMAKEDIR} COMPONENT dev)

# --- pkg-config. Relocatable: paths are relative to the .pc file's own directory, so the
# same file serves `cmake --install --prefix P` and the .deb's /usr. A static liblorank.a
# needs `pkg-config --static` (Libs.private: the libraries lorank::lapacke, lorank::openblas
# and Threads::Threads stand for; fmt is a public Requires).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LORANK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(LORANK_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(LORANK_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH LORANK_PC_UP "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" LORANK_PC_UP "${LORANK_PC_UP}")
  set(LORANK_PC_PREFIX "\${pcfiledir}/${LORANK_PC_UP}")
  set(LORANK_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(LORANK_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/lorank.pc.in ${PROJECT_BINARY_DIR}/lorank.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lorank.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

# --- CPack: Debian packages (dependencies from dpkg-shlibdeps, dpkg-dev).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lorank)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "lorank")
set(CPACK_PACKAGE_CONTACT "lorank maintainers <maintainers@users.noreply.r-seed-688c6ba6.example>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it first in both packages; each
# component's description starts with its own summary line instead.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # lorank_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME lorank)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION science)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "LoRA adapter toolkit: exact spectra, ranks, resizing and merging
lorank audits trained LoRA adapters (PEFT, kohya, GGUF, mlx_lm): the exact singular
values of every module's update s*B*A from its factors, effective ranks and a
recommended rank. It also resizes, merges, combines, extracts and compares adapters,
and reproduces the LoRA rank explainer's experiment (lorank demo).")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME liblorank-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# What building against lorank needs: fmt's headers (lorank/status.h) and, for the static
# library, the libraries it links. Not Eigen or nlohmann-json (used inside src/ only).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libfmt-dev, liblapacke-dev, libopenblas-dev")
if(BUILD_SHARED_LIBS)
  string(APPEND CPACK_DEBIAN_DEV_PACKAGE_DEPENDS ", lorank (= ${PROJECT_VERSION})")
endif()
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "LoRA adapter toolkit: C++ library and headers
The lorank C++ library (${LORANK_LINKAGE}) and its headers (include/lorank), with a CMake package
(find_package(lorank), target lorank::lorank) and a pkg-config file (lorank.pc).")
include(CPack)
