// lorank.audit: run_audit with the GIL released; the report stays in C++ and is rendered
// by the library's own writers (audit_json, the CLI's --json; audit_html, its --html), so
// the Python objects built from it (python/lorank/__init__.py) cannot drift from the CLI.
#include <string>

#include "bindings.h"
#include "lorank/audit.h"
#include "lorank/audit_report.h"
#include "lorank/checkpoint.h"
#include "lorank/html_report.h"

namespace lorank::python {
namespace {

struct PyAuditReport {
  std::shared_ptr<const AuditReport> report;
};

Result<WSvdRoute> parse_w_svd(const std::string& text) {
  for (WSvdRoute r : {WSvdRoute::kAuto, WSvdRoute::kDense, WSvdRoute::kKrylov}) {
    if (text == w_svd_route_name(r)) return r;
  }
  return invalid_argument("w_svd must be auto, dense or krylov, got '{}'", text);
}

PyAuditReport audit(py::handle path_or_adapter, const std::string& rule, const std::string& snap, double tau,
                    std::optional<double> alpha, py::object base_path, std::uint32_t base_seed,
                    const std::string& w_svd, unsigned threads, py::object progress) {
  AuditOptions options;
  options.rule = unwrap(RankRule::parse(rule));
  options.snap = unwrap(parse_snap(snap));
  options.tau = tau;
  options.threads = threads;
  options.base_seed = base_seed;
  options.w_svd = unwrap(parse_w_svd(w_svd));
  ProgressRelay relay(std::move(progress));
  options.progress = relay.function();
  std::shared_ptr<const Adapter> adapter = adapter_from(path_or_adapter, alpha);
  std::optional<Checkpoint> base;
  if (!base_path.is_none()) {
    const std::string path = fspath(base_path);
    if (path.empty()) raise_usage("base needs a path, got ''");
    Result<Checkpoint> opened = without_gil([&] { return Checkpoint::open(path); });
    base.emplace(unwrap(std::move(opened)));
    options.base = &*base;
  }
  Result<AuditReport> report = without_gil([&] { return run_audit(*adapter, options); });
  relay.rethrow_if_failed();
  return PyAuditReport{std::make_shared<const AuditReport>(unwrap(std::move(report)))};
}

}  // namespace

void init_audit(py::module_& m) {
  py::class_<PyAuditReport>(m, "_AuditReport", "The C++ audit report behind lorank.AuditResult.")
      .def("json", [](const PyAuditReport& r) { return audit_json(*r.report); },
           "The report as `lorank audit --json` prints it.")
      .def("html", [](const PyAuditReport& r) {
        std::string page;
        {
          py::gil_scoped_release release;
          page = audit_html(*r.report);
        }
        return page;
      }, "The report as `lorank audit --html` writes it (a complete HTML page).")
      .def("table", [](const PyAuditReport& r) { return audit_table(*r.report); },
           "The terminal table `lorank audit` prints.")
      .def("csv", [](const PyAuditReport& r) { return audit_csv(*r.report); }, "As `lorank audit --csv`.")
      .def("singular_values", [](py::object self, std::size_t i) {
        const auto& r = self.cast<const PyAuditReport&>();
        if (i >= r.report->modules.size()) throw py::index_error("module index out of range");
        const std::vector<double>& sv = r.report->modules[i].singular_values;
        py::array_t<double> view({static_cast<py::ssize_t>(sv.size())}, {sizeof(double)}, sv.data(), self);
        view.attr("flags").attr("writeable") = false;
        return view;
      }, "Module i's singular values: a read-only float64 view of the report.")
      .def("__len__", [](const PyAuditReport& r) { return r.report->modules.size(); });

  m.def("_audit", &audit, py::arg("path_or_adapter"), py::arg("rule"), py::arg("snap"), py::arg("tau"),
        py::arg("alpha"), py::arg("base"), py::arg("base_seed"), py::arg("w_svd"), py::arg("threads"),
        py::arg("progress"), "run_audit (see lorank.audit).");
}

}  // namespace lorank::python
