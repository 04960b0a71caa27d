// Shared pieces of the Python bindings (module `lorank._lorank`): error translation,
// progress callbacks, NumPy conversions. Each concern's bindings live in their own file
// and register themselves through an init_* function called from module.cc.
#ifndef LORANK_PYTHON_BINDINGS_H_
#define LORANK_PYTHON_BINDINGS_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/status.h"

namespace lorank::python {

namespace py = pybind11;

// --- errors.cc: lorank.Error and its subclasses, one per family of StatusCode.
void init_errors(py::module_& m);
// Raises the Python exception for `status` (REQUIRES: not OK, the GIL held), carrying
// status.to_string(), the same line the CLI prints after "lorank: error: ".
[[noreturn]] void raise_status(const Status& status);
// A UsageError with `message` (for checks only the bindings make).
[[noreturn]] void raise_usage(const std::string& message);
inline void check(const Status& status) {
  if (!status.ok()) raise_status(status);
}
template <typename T>
T unwrap(Result<T> result) {
  if (!result) raise_status(result.error());
  return std::move(result).value();
}

// --- progress.cc: an optional Python progress(done, total) callback for a library
// operation that runs with the GIL released.
class ProgressRelay {
 public:
  explicit ProgressRelay(py::object callback);  // None: no callback
  ~ProgressRelay();
  ProgressRelay(const ProgressRelay&) = delete;
  ProgressRelay& operator=(const ProgressRelay&) = delete;
  // For the library's options.progress: empty without a callback. Takes the GIL for each
  // call; an exception from the callback is kept (later calls are skipped), never thrown
  // into the library's worker threads.
  std::function<void(std::size_t, std::size_t)> function();
  // Re-raises the callback's exception, if any (the GIL held, after the operation).
  void rethrow_if_failed();

 private:
  py::object callback_;
  std::mutex mutex_;
  std::optional<py::error_already_set> error_;
};

// Runs `work` with the GIL released (the library's computation), then returns its result.
template <typename F>
auto without_gil(F&& work) {
  py::gil_scoped_release release;
  return work();
}

// --- arrays.cc
void init_arrays(py::module_& m);
// A float64 NumPy array owning `values` (moved, no copy).
py::array_t<double> to_numpy(std::vector<double> values);
// json.loads(text).
py::object json_loads(const std::string& text);

// --- adapter.cc: lorank.Adapter (the opened file) and its modules.
struct PyAdapter {
  std::shared_ptr<const Adapter> adapter;
};
void init_adapter(py::module_& m);
// `obj` as an opened adapter: an Adapter object (shared, not reopened) or a path
// (str / os.PathLike) opened with `alpha` (AdapterOptions::alpha).
std::shared_ptr<const Adapter> adapter_from(py::handle obj, std::optional<double> alpha);
// Python's str(os.fspath(obj)).
std::string fspath(py::handle obj);

// --- audit.cc, operations.cc
void init_audit(py::module_& m);
void init_operations(py::module_& m);

}  // namespace lorank::python

#endif  // LORANK_PYTHON_BINDINGS_H_
