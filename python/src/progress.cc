// Progress callbacks from the library's worker threads into Python. The library calls
// progress one call at a time but from any of its threads, with the GIL released by the
// binding: each call takes the GIL. A Python exception must not unwind through C++ worker
// threads (that would terminate the process), so it is kept and re-raised afterwards.
#include "bindings.h"

namespace lorank::python {

ProgressRelay::ProgressRelay(py::object callback) : callback_(std::move(callback)) {
  if (!callback_.is_none() && !PyCallable_Check(callback_.ptr())) {
    raise_usage("progress must be callable as progress(done, total), or None");
  }
}

ProgressRelay::~ProgressRelay() = default;

std::function<void(std::size_t, std::size_t)> ProgressRelay::function() {
  if (callback_.is_none()) return {};
  return [this](std::size_t done, std::size_t total) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (error_) return;
    py::gil_scoped_acquire gil;
    try {
      callback_(done, total);
    } catch (py::error_already_set& e) {
      error_.emplace(std::move(e));
    } catch (const std::exception& e) {  // e.g. a result pybind11 could not convert
      PyErr_SetString(PyExc_RuntimeError, e.what());
      error_.emplace();
    }
  };
}

void ProgressRelay::rethrow_if_failed() {
  if (!error_) return;
  py::error_already_set e = std::move(*error_);
  error_.reset();
  throw e;
}

}  // namespace lorank::python
