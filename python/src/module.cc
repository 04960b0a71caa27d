// The extension module lorank._lorank; the public face is the package lorank (python/lorank).
#include "bindings.h"

#include "lorank/version.h"

PYBIND11_MODULE(_lorank, m) {
  namespace lp = lorank::python;
  m.doc() = "lorank's C++ library, bound with pybind11 (use the `lorank` package).";
  m.attr("__version__") = LORANK_VERSION_STRING;
#ifdef LORANK_PYTHON_DLPACK
  m.attr("_has_dlpack") = true;  // built with libdlpack-dev: zero-copy torch, bfloat16
#else
  m.attr("_has_dlpack") = false;
#endif
  lp::init_errors(m);
  lp::init_arrays(m);
  lp::init_adapter(m);
  lp::init_audit(m);
  lp::init_operations(m);
}
