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
find_library(LORANK_LAPACKE_LIB lapacke REQUIRED)
find_library(LORANK_OPENBLAS_LIB openblas REQUIRED)
find_path(LORANK_LAPACKE_INCLUDE lapacke.h REQUIRED)
find_path(LORANK_CLI11_INCLUDE CLI/CLI.hpp REQUIRED)

add_library(lorank_deps_private INTERFACE)
target_include_directories(lorank_deps_private INTERFACE ${LORANK_LAPACKE_INCLUDE})
target_link_libraries(lorank_deps_private INTERFACE
  ${LORANK_LAPACKE_LIB} ${LORANK_OPENBLAS_LIB} nlohmann_json::nlohmann_json Threads::Threads)

add_library(lorank_cli_deps INTERFACE)
target_include_directories(lorank_cli_deps INTERFACE ${LORANK_CLI11_INCLUDE})
target_link_libraries(lorank_cli_deps INTERFACE nlohmann_json::nlohmann_json)
