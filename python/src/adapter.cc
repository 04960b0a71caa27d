// lorank.open(path) -> Adapter: the opened file with its modules. A module's A and B are
// read-only NumPy views of the file's bytes (memory-mapped), which keep the Adapter alive.
#include <string>

#include "bindings.h"
#include "lorank/tensor.h"

namespace lorank::python {
namespace {

struct PyModule {
  py::object adapter;  // the Python Adapter object (keeps the bytes alive)
  std::shared_ptr<const Adapter> owner;
  std::size_t index = 0;
  const LoraModule& module() const { return owner->modules[index]; }
};

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::kF64: return py::dtype("float64");
    case DType::kF32: return py::dtype("float32");
    case DType::kF16: return py::dtype("float16");
    default: break;
  }
  return py::dtype("float32");  // not reached for the callers' dtypes
}

void set_read_only(py::array& array) { array.attr("flags").attr("writeable") = false; }

// One factor as NumPy sees it: a view for F64/F32/F16 (the stored shape; mlx_lm's
// transposed factors as a transposed view, so A is always r x in and B out x r); a float32
// copy (exact) for BF16, which NumPy cannot hold; float64 for any other float encoding.
py::array factor_array(const PyModule& pm, const TensorView& t, bool transposed) {
  std::vector<py::ssize_t> shape(t.shape.dims.begin(), t.shape.dims.end());
  if (t.dtype == DType::kF64 || t.dtype == DType::kF32 || t.dtype == DType::kF16) {
    const auto es = static_cast<py::ssize_t>(dtype_size(t.dtype));
    std::vector<py::ssize_t> strides(shape.size());
    py::ssize_t stride = es;
    for (std::size_t i = shape.size(); i-- > 0;) {
      strides[i] = stride;
      stride *= shape[i];
    }
    if (transposed && shape.size() == 2) {
      std::swap(shape[0], shape[1]);
      std::swap(strides[0], strides[1]);
    }
    py::array view(numpy_dtype(t.dtype), shape, strides, t.data.data(), pm.adapter);
    set_read_only(view);
    return view;
  }
  py::array copy;
  if (t.dtype == DType::kBF16) {
    py::array_t<float> widened(shape);
    check(to_float(t, std::span<float>(widened.mutable_data(), static_cast<std::size_t>(t.numel()))));
    copy = widened;
  } else {
    py::array_t<double> widened(shape);
    check(to_double(t, std::span<double>(widened.mutable_data(), static_cast<std::size_t>(t.numel()))));
    copy = widened;
  }
  if (transposed && shape.size() == 2) copy = copy.attr("T");
  set_read_only(copy);
  return copy;
}

py::object config_of(const Adapter& a) {
  if (a.peft) return json_loads(a.peft->raw_json);
  if (a.mlx) return json_loads(a.mlx->raw_json);
  return py::none();
}

std::shared_ptr<PyAdapter> open_path(py::handle path, std::optional<double> alpha) {
  return std::make_shared<PyAdapter>(PyAdapter{adapter_from(path, alpha)});
}

}  // namespace

std::string fspath(py::handle obj) {
  py::object p = py::module_::import("os").attr("fspath")(obj);
  if (py::isinstance<py::bytes>(p)) return p.cast<std::string>();
  return p.cast<std::string>();
}

std::shared_ptr<const Adapter> adapter_from(py::handle obj, std::optional<double> alpha) {
  if (py::isinstance<PyAdapter>(obj)) {
    if (alpha) raise_usage("alpha is for paths; an opened Adapter keeps the alpha it was opened with");
    return obj.cast<const PyAdapter&>().adapter;
  }
  const std::string path = fspath(obj);
  AdapterOptions options;
  options.alpha = alpha;
  Result<Adapter> opened = without_gil([&] { return open_adapter(path, options); });
  return std::make_shared<const Adapter>(unwrap(std::move(opened)));
}

void init_adapter(py::module_& m) {
  py::class_<PyModule>(m, "Module", "One LoRA module of an opened adapter: delta W = scale * B @ A.")
      .def_property_readonly("name", [](const PyModule& p) { return p.module().name; },
                             "The module's name as in the file (PEFT key prefix, kohya name, GGUF tensor).")
      .def_property_readonly("kind", [](const PyModule& p) { return std::string(module_kind_name(p.module().kind)); },
                             "'linear', 'embedding' or 'conv'.")
      .def_property_readonly("rank", [](const PyModule& p) { return p.module().rank; }, "r: rows of A, columns of B.")
      .def_property_readonly("shape", [](const PyModule& p) { return py::make_tuple(p.module().out, p.module().in); },
                             "(out, in): B is out x r, A is r x in (conv: in = in_channels*kh*kw).")
      .def_property_readonly("scale", [](const PyModule& p) { return p.module().scale; },
                             "s in delta W = s * B @ A, as the format's own loader computes it.")
      .def_property_readonly("alpha", [](const PyModule& p) { return p.module().alpha; })
      .def_property_readonly("scale_rule", [](const PyModule& p) { return p.module().scale_rule; },
                             "How scale was derived, e.g. 'alpha/r'.")
      .def_property_readonly("dtype", [](const PyModule& p) { return std::string(dtype_name(p.module().A.dtype)); },
                             "The stored dtype of A ('F32', 'BF16', ...).")
      .def_property_readonly("dora", [](const PyModule& p) { return p.module().magnitude.has_value(); },
                             "True for a DoRA module (it has a magnitude vector).")
      .def_property_readonly("A", [](const PyModule& p) { return factor_array(p, p.module().A, p.module().transposed); },
                             "A (r x in as stored; conv: r x in x kh x kw): a read-only NumPy view of the file "
                             "(float32 copy for BF16), keeping the adapter open.")
      .def_property_readonly("B", [](const PyModule& p) { return factor_array(p, p.module().B, p.module().transposed); },
                             "B (out x r as stored): a read-only NumPy view of the file (float32 copy for BF16).")
      .def("__repr__", [](const PyModule& p) {
        const LoraModule& mod = p.module();
        return "<lorank.Module " + mod.name + " r=" + std::to_string(mod.rank) + " (" + std::to_string(mod.out) +
               ", " + std::to_string(mod.in) + ") " + std::string(module_kind_name(mod.kind)) + ">";
      });

  py::class_<PyAdapter, std::shared_ptr<PyAdapter>>(m, "Adapter",
                                                     "An opened LoRA adapter (lorank.open). Read-only; its "
                                                     "arrays view the memory-mapped file.")
      .def_property_readonly("format", [](const PyAdapter& a) { return std::string(format_name(a.adapter->format)); },
                             "'peft', 'kohya', 'gguf' or 'mlx'.")
      .def_property_readonly("container", [](const PyAdapter& a) { return std::string(container_name(a.adapter->container)); },
                             "'safetensors', 'pytorch' or 'gguf'.")
      .def_property_readonly("path", [](const PyAdapter& a) { return a.adapter->weights_path.string(); },
                             "The weights file.")
      .def_property_readonly("config_path", [](const PyAdapter& a) -> py::object {
        if (!a.adapter->config_path) return py::none();
        return py::str(a.adapter->config_path->string());
      })
      .def_property_readonly("config", [](const PyAdapter& a) { return config_of(*a.adapter); },
                             "adapter_config.json as a dict (PEFT, mlx_lm), or None.")
      .def_property_readonly("warnings", [](const PyAdapter& a) { return a.adapter->warnings; })
      .def_property_readonly("modules", [](py::object self) {
        const auto& a = self.cast<const PyAdapter&>();
        py::list modules;
        for (std::size_t i = 0; i < a.adapter->modules.size(); ++i) modules.append(PyModule{self, a.adapter, i});
        return modules;
      }, "The LoRA modules in file order (lorank.Module).")
      .def("__len__", [](const PyAdapter& a) { return a.adapter->modules.size(); })
      .def("__repr__", [](const PyAdapter& a) {
        return "<lorank.Adapter " + std::string(format_name(a.adapter->format)) + " '" +
               a.adapter->weights_path.string() + "' " + std::to_string(a.adapter->modules.size()) + " modules>";
      });

  m.def("open", &open_path, py::arg("path"), py::arg("alpha") = py::none(),
        R"doc(open(path, alpha=None) -> Adapter

Opens a LoRA adapter: a PEFT or mlx_lm folder, or a .safetensors / .bin / .gguf file
(the format is detected from the content). alpha is used only when the adapter carries
none (scale = alpha / r). The Adapter can be passed to audit() and friends so the file
is read once. Raises NotFoundError, CorruptFileError or NotSupportedError naming the file.)doc");
}

}  // namespace lorank::python
