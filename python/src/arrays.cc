// lorank.spectrum(B, A, scale): factors from NumPy arrays, __array__ objects, the buffer
// protocol or DLPack (torch, including bfloat16, which NumPy cannot hold), borrowed without
// a copy when they are C-contiguous F64/F32/F16/BF16 on the CPU. The library widens
// F16/BF16/F32 to double exactly inside its factorisation (SpectrumWorkspace::compute).
#ifdef LORANK_PYTHON_DLPACK
#include <dlpack/dlpack.h>
#endif

#include <cstring>
#include <string>

#include "bindings.h"
#include "lorank/spectrum.h"
#include "lorank/tensor.h"

namespace lorank::python {
namespace {

// A 2-D float matrix borrowed from Python (`owner` keeps its memory alive), or gathered
// into `copy` when its layout was strided.
struct Factor {
  TensorView view;
  std::size_t rows = 0, cols = 0;
  py::object owner;
  std::vector<std::byte> copy;
};

py::module_ numpy() { return py::module_::import("numpy"); }

// Points `f.view` at rows×cols elements of `es` bytes at `data` with element strides
// (s0, s1), gathering them when they are not row-major contiguous.
void set_data(Factor& f, const std::byte* data, std::size_t es, std::int64_t s0, std::int64_t s1) {
  const std::size_t n = f.rows * f.cols;
  const bool contiguous = (f.rows <= 1 || s0 == static_cast<std::int64_t>(f.cols)) && (f.cols <= 1 || s1 == 1);
  if (contiguous || n == 0) {
    f.view.data = std::span<const std::byte>(data, n * es);
    return;
  }
  f.copy.resize(n * es);
  for (std::size_t i = 0; i < f.rows; ++i) {
    for (std::size_t j = 0; j < f.cols; ++j) {
      const std::int64_t offset = static_cast<std::int64_t>(i) * s0 + static_cast<std::int64_t>(j) * s1;
      std::memcpy(f.copy.data() + (i * f.cols + j) * es, data + offset * static_cast<std::int64_t>(es), es);
    }
  }
  f.view.data = f.copy;
}

void set_shape(Factor& f, const char* name, std::int64_t ndim, const std::int64_t* dims) {
  if (ndim != 2) {
    raise_usage(std::string("spectrum: ") + name + " must be a 2-D matrix, got " +
                std::to_string(ndim) + " dimension(s)");
  }
  f.rows = static_cast<std::size_t>(dims[0]);
  f.cols = static_cast<std::size_t>(dims[1]);
  f.view.name = name;
  f.view.shape = Shape{{dims[0], dims[1]}};
}

#ifdef LORANK_PYTHON_DLPACK
// DLPack (the protocol's __dlpack__): nullopt for a dtype lorank does not read, which then
// goes through NumPy (ints, bools) as any other object.
std::optional<Factor> from_dlpack(py::handle obj, const char* name) {
  if (py::hasattr(obj, "__dlpack_device__")) {
    py::tuple device = obj.attr("__dlpack_device__")();
    if (device[0].cast<int>() != kDLCPU) {
      raise_usage(std::string("spectrum: ") + name +
                  " is not in CPU memory (DLPack device " + py::str(device).cast<std::string>() +
                  "); move it first, e.g. tensor.cpu()");
    }
  }
  // The capsule's own destructor frees the tensor while it is still named "dltensor", so
  // holding the capsule is holding the memory (the consumer never calls the deleter).
  py::object capsule = obj.attr("__dlpack__")();
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  if (managed == nullptr) throw py::error_already_set();
  const DLTensor& t = managed->dl_tensor;
  std::optional<DType> dtype;
  if (t.dtype.lanes == 1 && t.dtype.code == kDLFloat && t.dtype.bits == 64) dtype = DType::kF64;
  if (t.dtype.lanes == 1 && t.dtype.code == kDLFloat && t.dtype.bits == 32) dtype = DType::kF32;
  if (t.dtype.lanes == 1 && t.dtype.code == kDLFloat && t.dtype.bits == 16) dtype = DType::kF16;
  if (t.dtype.lanes == 1 && t.dtype.code == kDLBfloat && t.dtype.bits == 16) dtype = DType::kBF16;
  if (!dtype) return std::nullopt;
  if (t.device.device_type != kDLCPU) {
    raise_usage(std::string("spectrum: ") + name + " is not in CPU memory; move it first, e.g. tensor.cpu()");
  }
  Factor f;
  set_shape(f, name, t.ndim, t.shape);
  f.view.dtype = *dtype;
  f.owner = capsule;
  const std::int64_t s0 = t.strides ? t.strides[0] : t.shape[1];
  const std::int64_t s1 = t.strides ? t.strides[1] : 1;
  set_data(f, static_cast<const std::byte*>(t.data) + t.byte_offset, dtype_size(*dtype), s0, s1);
  return f;
}

#endif  // LORANK_PYTHON_DLPACK

// Everything else through NumPy: asarray borrows ndarrays, buffers and most __array__
// objects; non-float numbers are converted to float64 (a copy).
Factor from_numpy(py::handle obj, const char* name) {
  py::array array = numpy().attr("asarray")(obj);
  const char kind = array.dtype().kind();
  if (kind == 'i' || kind == 'u' || kind == 'b') {
    array = numpy().attr("asarray")(array, "float64");
  } else if (kind != 'f' || array.itemsize() > 8) {
    raise_usage(std::string("spectrum: ") + name + " must hold float64, float32, float16 or bfloat16 "
                "numbers, got dtype " + py::str(array.dtype()).cast<std::string>());
  }
  if (!array.dtype().attr("isnative").cast<bool>()) {  // byte-swapped: lorank reads little-endian
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  }
  Factor f;
  std::vector<std::int64_t> dims(array.shape(), array.shape() + array.ndim());
  set_shape(f, name, array.ndim(), dims.data());
  const std::size_t es = static_cast<std::size_t>(array.itemsize());
  f.view.dtype = es == 8 ? DType::kF64 : es == 4 ? DType::kF32 : DType::kF16;
  f.owner = array;
  // NumPy strides are in bytes and may not be whole elements (then gather via NumPy).
  if (array.strides(0) % static_cast<py::ssize_t>(es) != 0 || array.strides(1) % static_cast<py::ssize_t>(es) != 0) {
    array = numpy().attr("ascontiguousarray")(array);
    f.owner = array;
  }
  set_data(f, static_cast<const std::byte*>(array.data()), es, array.strides(0) / static_cast<py::ssize_t>(es),
           array.strides(1) / static_cast<py::ssize_t>(es));
  return f;
}

Factor borrow_factor(py::handle obj, const char* name) {
#ifdef LORANK_PYTHON_DLPACK
  if (!py::isinstance<py::array>(obj) && py::hasattr(obj, "__dlpack__")) {
    if (std::optional<Factor> f = from_dlpack(obj, name)) return std::move(*f);
  }
#endif
  return from_numpy(obj, name);
}

py::array_t<double> spectrum(py::handle b_obj, py::handle a_obj, double scale) {
  Factor b = borrow_factor(b_obj, "B");
  Factor a = borrow_factor(a_obj, "A");
  if (b.cols != a.rows) {
    raise_usage("spectrum: B is " + b.view.shape.to_string() + " and A is " + a.view.shape.to_string() +
                ": B's columns must equal A's rows (the rank r; B is out x r, A is r x in)");
  }
  std::vector<double> values;
  const Status s = without_gil([&] {
    SpectrumWorkspace workspace;
    return workspace.compute(b.view, a.view, LoraShape{b.rows, b.cols, a.cols}, scale, values);
  });
  check(s);
  return to_numpy(std::move(values));
}

}  // namespace

py::array_t<double> to_numpy(std::vector<double> values) {
  auto* owned = new std::vector<double>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<double>*>(p); });
  return py::array_t<double>({static_cast<py::ssize_t>(owned->size())}, {sizeof(double)}, owned->data(),
                             free_when_done);
}

py::object json_loads(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

void init_arrays(py::module_& m) {
  m.def("spectrum", &spectrum, py::arg("B"), py::arg("A"), py::arg("scale") = 1.0,
        R"doc(spectrum(B, A, scale=1.0) -> numpy.ndarray

The singular values of scale * B @ A, computed from the factors (never the out x in
product): float64, descending, min(r, out, in) values. B is out x r, A is r x in
(PEFT's lora_B and lora_A). Each factor may be a NumPy array, anything NumPy's asarray
accepts (__array__, the buffer protocol, lists) or a DLPack tensor such as a CPU torch
tensor; float64, float32, float16 and bfloat16 are read as stored (widened to double
exactly) and C-contiguous input is not copied. Every value is within c * eps *
|scale| * ||B||_2 * ||A||_2 of the exact one (eps = 2^-52, c a modest polynomial in the
dimensions; lorank/spectrum.h). The GIL is released while it computes.

Raises UsageError for shapes that do not chain or a dtype lorank cannot read, and
NumericalError naming the element for NaN or Inf.)doc");
}

}  // namespace lorank::python
