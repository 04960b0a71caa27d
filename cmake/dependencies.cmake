# Every dependency is a Debian 12 package; scripts/install-deps.sh installs them.
#   Eigen 3.4 (libeigen3-dev)        dense linear algebra in the fit engine
#   OpenBLAS + LAPACKE               dgesdd/dgeqrf for spectra (libopenblas-dev, liblapacke-dev)
#   fmt 9 (libfmt-dev)               compile-time checked formatting
#   nlohmann-json 3.11               JSON output and adapter headers/configs
#   CLI11 2.1 (libcli11-dev)         the command line
#   GoogleTest, Google Benchmark     tests and benchmarks
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
include(${CMAKE_CURRENT_LIST_DIR}/lorankFindLapacke.cmake)
if(NOT LORANK_LAPACKE_FOUND)
  message(FATAL_ERROR "lorank needs LAPACKE and OpenBLAS (liblapacke-dev, libopenblas-dev); "
                      "not found: ${LORANK_LAPACKE_MISSING}")
endif()
find_path(LORANK_CLI11_INCLUDE CLI/CLI.hpp REQUIRED)

# What the library's own code needs besides fmt (PUBLIC: lorank/status.h's factories are
# fmt templates). Eigen and nlohmann_json are header-only and used only inside src/, so they
# are BUILD_INTERFACE: a consumer of an installed static liblorank.a does not need them.
# LAPACKE, OpenBLAS and Threads are libraries: in a static lorank's link interface, found
# again by lorankConfig.cmake (cmake/install.cmake).
set(LORANK_PRIVATE_LINK
  $<BUILD_INTERFACE:Eigen3::Eigen> $<BUILD_INTERFACE:nlohmann_json::nlohmann_json>
  lorank::lapacke lorank::openblas Threads::Threads)

# The same for in-tree code that includes src/ headers (tests, benchmarks, fuzzers).
add_library(lorank_deps_private INTERFACE)
target_link_libraries(lorank_deps_private INTERFACE
  Eigen3::Eigen nlohmann_json::nlohmann_json lorank::lapacke lorank::openblas Threads::Threads)

add_library(lorank_cli_deps INTERFACE)
target_include_directories(lorank_cli_deps INTERFACE ${LORANK_CLI11_INCLUDE})
target_link_libraries(lorank_cli_deps INTERFACE nlohmann_json::nlohmann_json)
