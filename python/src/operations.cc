// lorank.resize / compare / demo / merge / combine / extract: the same library calls and
// checks as cli/cmd_<name>.cc, minus the printing; each returns the library's JSON report
// (the CLI's --json, one writer for both), which python/lorank/__init__.py json.loads.
#include <filesystem>
#include <string>

#include "bindings.h"
#include "lorank/checkpoint.h"
#include "lorank/combine.h"
#include "lorank/compare.h"
#include "lorank/compare_report.h"
#include "lorank/demo.h"
#include "lorank/demo_report.h"
#include "lorank/extract.h"
#include "lorank/files.h"
#include "lorank/merge.h"
#include "lorank/resize.h"

namespace lorank::python {
namespace {

std::optional<DType> float_dtype(const std::optional<std::string>& name, const char* what) {
  if (!name) return std::nullopt;
  std::optional<DType> dtype = parse_dtype(*name);
  if (!dtype || !is_convertible_float(*dtype)) {
    raise_usage(std::string(what) + " must be F64, F32, F16 or BF16, got '" + *name + "'");
  }
  return dtype;
}

Checkpoint open_checkpoint(py::handle path_obj) {
  const std::string path = fspath(path_obj);
  Result<Checkpoint> opened = without_gil([&] { return Checkpoint::open(path); });
  return unwrap(std::move(opened));
}

std::vector<std::shared_ptr<const Adapter>> adapters_from(const py::list& items, std::optional<double> alpha) {
  std::vector<std::shared_ptr<const Adapter>> adapters;
  for (py::handle item : items) adapters.push_back(adapter_from(item, alpha));
  return adapters;
}

// The library takes a span of Adapters: copies share the mapped storage (cheap).
std::vector<Adapter> copies(const std::vector<std::shared_ptr<const Adapter>>& adapters) {
  std::vector<Adapter> out;
  for (const auto& a : adapters) out.push_back(*a);
  return out;
}

// Writes a resized/combined adapter atomically, verified in the hidden temp first unless
// !verify (as the CLI's write_verified_adapter).
void write_verified(const ResizeResult& result, const std::string& out, bool overwrite, bool verify,
                    const AdapterOptions& adapter_options) {
  AdapterWriteOptions options;
  options.overwrite = overwrite;
  if (verify) {
    options.before_publish = [&](const std::filesystem::path& temp) {
      return verify_resized(temp, result, adapter_options);
    };
  }
  const Status s = without_gil([&] { return write_adapter(result.adapter, out, options); });
  check(s);
}

std::string resize(py::handle path_or_adapter, std::optional<std::string> out, const std::string& rule,
                   const std::string& snap, bool sigma_in_b, std::optional<std::string> dtype,
                   std::optional<double> alpha, bool dry_run, bool overwrite, bool verify, unsigned threads,
                   py::object progress) {
  ResizeOptions options;
  options.rule = unwrap(RankRule::parse(rule));
  options.snap = unwrap(parse_snap(snap));
  options.sigma_in_b = sigma_in_b;
  options.threads = threads;
  options.dtype = float_dtype(dtype, "dtype");
  if (!out && !dry_run) raise_usage("out is required (or dry_run=True)");
  const std::shared_ptr<const Adapter> adapter = adapter_from(path_or_adapter, alpha);
  ProgressRelay relay(std::move(progress));
  options.progress = relay.function();
  Result<ResizeResult> result = without_gil([&] { return resize_adapter(*adapter, options); });
  relay.rethrow_if_failed();
  const ResizeResult resized = unwrap(std::move(result));
  bool converts = false;  // keeping every rank is still useful when it converts the dtype
  for (const LoraModule& m : adapter->modules) {
    converts = converts || (options.dtype && (m.A.dtype != *options.dtype || m.B.dtype != *options.dtype));
  }
  if (resized.keeps_every_rank() && !converts) {
    raise_usage("nothing to resize: under " + options.rule.to_string() +
                (options.snap == Snap::kNone ? "" : " with snap " + std::string(snap_name(options.snap))) +
                " every module of '" + adapter->weights_path.string() +
                "' keeps its rank, so the output would be a full-rank copy; choose a smaller rank "
                "(or a dtype to convert to)");
  }
  if (!dry_run) {
    AdapterOptions adapter_options;
    adapter_options.alpha = alpha;
    write_verified(resized, *out, overwrite, verify, adapter_options);
  }
  return resize_json(resized);
}

std::string compare(py::handle a_obj, py::handle b_obj, std::optional<std::size_t> k, const std::string& side,
                    unsigned threads) {
  if (side != "left" && side != "right") raise_usage("side must be 'left' or 'right', got '" + side + "'");
  const std::shared_ptr<const Adapter> a = adapter_from(a_obj, std::nullopt);
  const std::shared_ptr<const Adapter> b = adapter_from(b_obj, std::nullopt);
  CompareOptions options;
  options.side = side == "right" ? CompareSide::kRight : CompareSide::kLeft;
  options.k = k;
  options.threads = threads;
  Result<AdapterComparison> comparison = without_gil([&] { return compare_adapters(*a, *b, options); });
  return compare_json(*a, *b, unwrap(std::move(comparison)));
}

std::string demo(int dim, int true_rank, std::vector<int> ranks, int steps, double lr, double noise,
                 std::uint32_t seed, std::uint64_t init_seed, int threads) {
  DemoParams params;
  params.dim = dim;
  params.true_rank = true_rank;
  params.ranks = std::move(ranks);
  params.steps = steps;
  params.lr = lr;
  params.noise = noise;
  params.seed = seed;
  params.init_seed = init_seed;
  params.threads = threads;
  check(validate(params));
  Result<DemoResult> result = without_gil([&] { return run_demo(params); });
  return demo_json(unwrap(std::move(result)));
}

std::string merge(py::handle base_path, const py::list& adapter_items, const std::string& out,
                  std::optional<std::string> dtype, const std::string& compute,
                  std::optional<std::vector<double>> scales, double scale, std::optional<double> alpha,
                  bool overwrite, unsigned threads, py::object progress) {
  MergeOptions options;
  options.scale = scale;
  if (scales) options.adapter_scales = std::move(*scales);
  options.overwrite = overwrite;
  options.threads = threads;
  if (compute != "auto" && compute != "F32" && compute != "F64") {
    raise_usage("compute must be 'auto', 'F32' or 'F64', got '" + compute + "'");
  }
  options.compute = compute == "F32" ? MergeCompute::kF32 : compute == "F64" ? MergeCompute::kF64 : MergeCompute::kAuto;
  options.dtype = float_dtype(dtype, "dtype");
  if (options.dtype && *options.dtype == DType::kF64) raise_usage("dtype must be F32, F16 or BF16, got 'F64'");
  const Checkpoint base = open_checkpoint(base_path);
  const std::vector<Adapter> adapters = copies(adapters_from(adapter_items, alpha));
  ProgressRelay relay(std::move(progress));
  options.progress = relay.function();
  Result<MergeReport> report = without_gil([&] { return merge_adapters(base, adapters, out, options); });
  relay.rethrow_if_failed();
  return merge_json(unwrap(std::move(report)));
}

std::string combine(const py::list& adapter_items, const std::string& out, std::optional<std::string> rule,
                    bool cat, std::optional<std::vector<double>> weights, const std::string& snap, bool sigma_in_b,
                    std::optional<std::string> dtype, std::optional<double> alpha, bool overwrite, bool verify,
                    unsigned threads) {
  CombineOptions options;
  if (cat && rule) raise_usage("cat keeps every direction: give no rank rule with it");
  options.cat = cat;
  options.resize.rule = rule ? unwrap(RankRule::parse(*rule)) : RankRule();
  options.resize.snap = unwrap(parse_snap(snap));
  options.resize.sigma_in_b = sigma_in_b;
  options.resize.threads = threads;
  options.resize.dtype = float_dtype(dtype, "dtype");
  if (weights) options.weights = std::move(*weights);
  const std::vector<Adapter> adapters = copies(adapters_from(adapter_items, alpha));
  for (const Adapter& a : adapters) check(check_not_input(a, out));  // never destroy an input
  Result<CombineResult> result = without_gil([&] { return combine_adapters(adapters, options); });
  const CombineResult combined = unwrap(std::move(result));
  AdapterOptions adapter_options;
  adapter_options.alpha = alpha;
  write_verified(combined.resized, out, overwrite, verify, adapter_options);
  return resize_json(combined.resized);
}

std::string extract(py::handle base_path, py::handle tuned_path, const std::string& out, const std::string& rule,
                    std::optional<std::size_t> max_rank, double tolerance, const std::string& include,
                    const std::string& exclude, bool embeddings, bool keep_full, const std::string& dtype,
                    const std::string& format, std::uint64_t seed, bool overwrite, bool verify,
                    py::object progress) {
  ExtractOptions options;
  options.rule = unwrap(RankRule::parse(rule));
  options.max_rank = max_rank;
  options.tolerance = tolerance;
  options.include = include;
  options.exclude = exclude;
  options.embeddings = embeddings;
  options.keep_full = keep_full;
  options.seed = seed;
  options.dtype = *float_dtype(dtype, "dtype");
  if (format != "peft" && format != "gguf" && format != "mlx") {
    raise_usage("format must be 'peft', 'gguf' or 'mlx', got '" + format + "'");
  }
  options.format = format == "gguf" ? AdapterFormat::kGguf : format == "mlx" ? AdapterFormat::kMlx : AdapterFormat::kPeft;
  if (out.empty()) raise_usage("out: the output path is empty");
  const Checkpoint base = open_checkpoint(base_path);
  const Checkpoint tuned = open_checkpoint(tuned_path);
  check(check_not_extract_input(base, tuned, out));
  ProgressRelay relay(std::move(progress));
  options.progress = relay.function();
  Result<ExtractResult> result = without_gil([&] { return extract_adapter(base, tuned, options); });
  relay.rethrow_if_failed();
  const ExtractResult extracted = unwrap(std::move(result));
  AdapterWriteOptions write_options;
  write_options.overwrite = overwrite;
  if (verify) {
    write_options.before_publish = [&](const std::filesystem::path& temp) { return verify_extracted(temp, extracted); };
  }
  const Status s = without_gil([&] { return write_adapter(extracted.adapter.adapter, out, write_options); });
  check(s);
  return extract_json(extracted);
}

}  // namespace

void init_operations(py::module_& m) {
  m.def("_resize", &resize, py::arg("path_or_adapter"), py::arg("out"), py::arg("rule"), py::arg("snap"),
        py::arg("sigma_in_b"), py::arg("dtype"), py::arg("alpha"), py::arg("dry_run"), py::arg("overwrite"),
        py::arg("verify"), py::arg("threads"), py::arg("progress"), "resize_adapter + write_adapter (see lorank.resize).");
  m.def("_compare", &compare, py::arg("a"), py::arg("b"), py::arg("k"), py::arg("side"), py::arg("threads"),
        "compare_adapters (see lorank.compare).");
  m.def("_demo", &demo, py::arg("dim"), py::arg("true_rank"), py::arg("ranks"), py::arg("steps"), py::arg("lr"),
        py::arg("noise"), py::arg("seed"), py::arg("init_seed"), py::arg("threads"), "run_demo (see lorank.demo).");
  m.def("_demo_defaults", [] {
    const DemoParams p;
    py::dict d;  // in _demo's argument order
    d["dim"] = p.dim;
    d["true_rank"] = p.true_rank;
    d["ranks"] = p.ranks;
    d["steps"] = p.steps;
    d["lr"] = p.lr;
    d["noise"] = p.noise;
    d["seed"] = p.seed;
    d["init_seed"] = p.init_seed;
    d["threads"] = p.threads;
    return d;
  }, "DemoParams' defaults (the CLI's), as a dict.");
  m.def("_merge", &merge, py::arg("base"), py::arg("adapters"), py::arg("out"), py::arg("dtype"), py::arg("compute"),
        py::arg("scales"), py::arg("scale"), py::arg("alpha"), py::arg("overwrite"), py::arg("threads"),
        py::arg("progress"), "merge_adapters (see lorank.merge).");
  m.def("_combine", &combine, py::arg("adapters"), py::arg("out"), py::arg("rule"), py::arg("cat"), py::arg("weights"),
        py::arg("snap"), py::arg("sigma_in_b"), py::arg("dtype"), py::arg("alpha"), py::arg("overwrite"),
        py::arg("verify"), py::arg("threads"), "combine_adapters + write_adapter (see lorank.combine).");
  m.def("_extract", &extract, py::arg("base"), py::arg("finetuned"), py::arg("out"), py::arg("rule"),
        py::arg("max_rank"), py::arg("tolerance"), py::arg("include"), py::arg("exclude"), py::arg("embeddings"),
        py::arg("keep_full"), py::arg("dtype"), py::arg("format"), py::arg("seed"), py::arg("overwrite"),
        py::arg("verify"), py::arg("progress"), "extract_adapter + write_adapter (see lorank.extract).");
}

}  // namespace lorank::python
