# Finds LAPACKE and OpenBLAS, which ship no CMake package of their own on Debian, and
# defines the imported targets lorank::lapacke and lorank::openblas (with their headers).
# Included by lorank's own build (cmake/dependencies.cmake) and, installed beside it, by
# lorankConfig.cmake: a static liblorank.a links them, so its consumers must find them too.
# Sets LORANK_LAPACKE_FOUND. Idempotent (a second find_package(lorank) reuses the targets).
if(TARGET lorank::lapacke AND TARGET lorank::openblas)
  set(LORANK_LAPACKE_FOUND TRUE)
  return()
endif()

find_library(LORANK_LAPACKE_LIB lapacke)
find_library(LORANK_OPENBLAS_LIB openblas)
find_path(LORANK_LAPACKE_INCLUDE lapacke.h)
# OpenBLAS's own cblas.h (openblas_get_config, openblas_set_num_threads): the directory that
# has openblas_config.h, which only OpenBLAS installs (Debian: the multiarch include dir via
# alternatives, or .../openblas-pthread).
find_path(LORANK_OPENBLAS_INCLUDE openblas_config.h
          PATH_SUFFIXES openblas-pthread openblas-openmp openblas-serial openblas)
mark_as_advanced(LORANK_LAPACKE_LIB LORANK_OPENBLAS_LIB LORANK_LAPACKE_INCLUDE
                 LORANK_OPENBLAS_INCLUDE)

if(LORANK_LAPACKE_LIB AND LORANK_OPENBLAS_LIB AND LORANK_LAPACKE_INCLUDE AND LORANK_OPENBLAS_INCLUDE)
  set(LORANK_LAPACKE_FOUND TRUE)
  add_library(lorank::openblas UNKNOWN IMPORTED)
  set_target_properties(lorank::openblas PROPERTIES
    IMPORTED_LOCATION "${LORANK_OPENBLAS_LIB}"
    INTERFACE_INCLUDE_DIRECTORIES "${LORANK_OPENBLAS_INCLUDE}")
  add_library(lorank::lapacke UNKNOWN IMPORTED)
  # LAPACKE calls LAPACK, which OpenBLAS provides: lapacke first on the link line.
  set_target_properties(lorank::lapacke PROPERTIES
    IMPORTED_LOCATION "${LORANK_LAPACKE_LIB}"
    INTERFACE_INCLUDE_DIRECTORIES "${LORANK_LAPACKE_INCLUDE}"
    INTERFACE_LINK_LIBRARIES lorank::openblas)
else()
  set(LORANK_LAPACKE_FOUND FALSE)
  set(LORANK_LAPACKE_MISSING "")
  foreach(var LORANK_LAPACKE_LIB LORANK_OPENBLAS_LIB LORANK_LAPACKE_INCLUDE LORANK_OPENBLAS_INCLUDE)
    if(NOT ${var})
      list(APPEND LORANK_LAPACKE_MISSING ${var})
    endif()
  endforeach()
endif()
