// lorank.Error and its subclasses. Every library failure arrives as a Status; its code
// picks the class and its message (already one escaped line, naming the file) is the
// exception's text, exactly what the CLI prints after "lorank: error: ".
#include <Python.h>

#include <string>

#include "bindings.h"

namespace lorank::python {
namespace {

struct ErrorClasses {
  PyObject* error = nullptr;        // lorank.Error
  PyObject* usage = nullptr;        // kInvalidArgument; also ValueError
  PyObject* corrupt = nullptr;      // kCorruption, kInvalidData
  PyObject* io = nullptr;           // kIOError; also OSError
  PyObject* not_found = nullptr;    // kNotFound; an IOError and FileNotFoundError
  PyObject* unsupported = nullptr;  // kNotSupported
  PyObject* numerical = nullptr;    // kNumerical; also ArithmeticError
  PyObject* internal = nullptr;     // kInternal (a bug in lorank)
};
ErrorClasses classes;  // created once at import; the module holds references

PyObject* make_class(py::module_& m, const char* name, const char* doc,
                     std::initializer_list<PyObject*> bases) {
  py::tuple base_tuple(bases.size());
  std::size_t i = 0;
  for (PyObject* b : bases) base_tuple[i++] = py::reinterpret_borrow<py::object>(b);
  const std::string qualified = std::string("lorank.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base_tuple.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(cls));
  return cls;
}

PyObject* class_for(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return classes.usage;
    case StatusCode::kCorruption:
    case StatusCode::kInvalidData: return classes.corrupt;
    case StatusCode::kIOError: return classes.io;
    case StatusCode::kNotFound: return classes.not_found;
    case StatusCode::kNotSupported: return classes.unsupported;
    case StatusCode::kNumerical: return classes.numerical;
    case StatusCode::kInternal:
    case StatusCode::kOk: break;
  }
  return classes.internal;
}

[[noreturn]] void raise(PyObject* cls, const std::string& message, std::string_view code) {
  py::object instance = py::reinterpret_borrow<py::object>(cls)(message);
  instance.attr("code") = std::string(code);
  PyErr_SetObject(cls, instance.ptr());
  throw py::error_already_set();
}

}  // namespace

void init_errors(py::module_& m) {
  classes.error = make_class(m, "Error",
                             "Base class of every lorank error. str(e) is the one-line message "
                             "the CLI prints after 'lorank: error: '; e.code names the kind "
                             "('corruption', 'invalid argument', ...).",
                             {PyExc_Exception});
  classes.usage = make_class(m, "UsageError", "Bad arguments from the caller (CLI exit code 2).",
                             {classes.error, PyExc_ValueError});
  classes.corrupt = make_class(m, "CorruptFileError",
                               "A file that lies or disagrees with itself: truncated, offsets "
                               "out of range, bad header, shapes or config values that disagree.",
                               {classes.error});
  classes.io = make_class(m, "IOError", "The operating system refused (errno text in the message).",
                          {classes.error, PyExc_OSError});
  classes.not_found = make_class(m, "NotFoundError", "A missing file, key or tensor.",
                                 {classes.io, PyExc_FileNotFoundError});
  classes.unsupported = make_class(m, "NotSupportedError",
                                   "A valid file that lorank does not handle (dtype, version, layout).",
                                   {classes.error});
  classes.numerical = make_class(m, "NumericalError", "NaN or Inf input, or no convergence.",
                                 {classes.error, PyExc_ArithmeticError});
  classes.internal = make_class(m, "InternalError", "A bug in lorank: please report it.",
                                {classes.error});
}

void raise_status(const Status& status) {
  raise(class_for(status.code()), status.to_string(), status_code_name(status.code()));
}

void raise_usage(const std::string& message) {
  raise(classes.usage, message, status_code_name(StatusCode::kInvalidArgument));
}

}  // namespace lorank::python
