// Matching two adapters' modules and comparing each pair; see lorank/compare.h.
#include "lorank/compare.h"

#include <algorithm>
#include <unordered_map>

#include "lorank/module_names.h"
#include "lorank/parallel.h"

#include "adapter/widen_factor.h"
#include "compare/directions.h"
#include "compare/similarity.h"
#include "linalg/lapack.h"

namespace lorank {
namespace {

using compare_internal::Directions;
using compare_internal::DirectionsWorkspace;
using compare_internal::SimilarityWorkspace;

Status validate(const CompareOptions& o) {
  if (o.k && *o.k == 0) return invalid_argument("k must be at least 1");
  if (!(o.threshold_tau >= 0.0 && o.threshold_tau <= 1.0)) {
    return invalid_argument("threshold tau {} is not in [0, 1]", o.threshold_tau);
  }
  return Status();
}

// Everything one worker thread reuses across module pairs.
struct Worker {
  DirectionsWorkspace directions;
  SimilarityWorkspace similarity;
  Directions da, db;
  std::vector<double> a_of_a, b_of_a, a_of_b, b_of_b;  // widened factors
};

Status compare_pair(const LoraModule& x, const Adapter& ax, const LoraModule& y,
                    const Adapter& ay, const CompareOptions& options, Worker& w,
                    ModuleComparison& m) {
  m.name = x.name;
  m.kind = x.kind;
  m.out = x.out;
  m.in = x.in;
  m.rank_a = x.rank;
  m.rank_b = y.rank;
  m.scale_a = x.scale;
  m.scale_b = y.scale;
  LORANK_RETURN_IF_ERROR(widen_factor_finite(ax, x, Factor::kA, w.a_of_a));
  LORANK_RETURN_IF_ERROR(widen_factor_finite(ax, x, Factor::kB, w.b_of_a));
  LORANK_RETURN_IF_ERROR(widen_factor_finite(ay, y, Factor::kA, w.a_of_b));
  LORANK_RETURN_IF_ERROR(widen_factor_finite(ay, y, Factor::kB, w.b_of_b));
  LORANK_RETURN_IF_ERROR(w.directions
                             .compute(w.b_of_a, w.a_of_a, LoraShape{x.out, x.rank, x.in}, x.scale,
                                      options.side, w.da)
                             .with_context("adapter A"));
  LORANK_RETURN_IF_ERROR(w.directions
                             .compute(w.b_of_b, w.a_of_b, LoraShape{y.out, y.rank, y.in}, y.scale,
                                      options.side, w.db)
                             .with_context("adapter B"));
  return compare_internal::similarity(w.da, w.db, options, w.similarity, m);
}

void summarize(AdapterComparison& c) {
  CompareSummary& s = c.summary;
  s.compared = c.modules.size();
  double top_sum = 0.0, phi11_sum = 0.0;
  std::size_t with = 0;
  std::vector<double> diag_sum;
  std::vector<std::size_t> diag_count;
  for (const ModuleComparison& m : c.modules) {
    if (!m.top_k_overlap) {
      ++s.null_count;
      continue;
    }
    ++with;
    top_sum += *m.top_k_overlap;
    phi11_sum += m.diagonal.front();
    if (diag_sum.size() < m.diagonal.size()) {
      diag_sum.resize(m.diagonal.size(), 0.0);
      diag_count.resize(m.diagonal.size(), 0);
    }
    for (std::size_t k = 0; k < m.diagonal.size(); ++k) {
      diag_sum[k] += m.diagonal[k];
      ++diag_count[k];
    }
  }
  if (with > 0) {
    s.mean_top_k_overlap = top_sum / static_cast<double>(with);
    s.mean_phi_11 = phi11_sum / static_cast<double>(with);
  }
  for (std::size_t k = 0; k < diag_sum.size(); ++k) {
    s.mean_diagonal.push_back(
        {k + 1, diag_sum[k] / static_cast<double>(diag_count[k]), diag_count[k]});
  }
}

}  // namespace

std::string_view compare_side_name(CompareSide side) {
  return side == CompareSide::kLeft ? "left" : "right";
}

Result<ModuleComparison> compare_factors(const LoraFactorsView<double>& a,
                                         const LoraFactorsView<double>& b,
                                         const CompareOptions& options) {
  LORANK_RETURN_IF_ERROR(validate(options));
  if (a.shape.out != b.shape.out || a.shape.in != b.shape.in) {
    return invalid_data("the updates have different shapes: {}x{} and {}x{}", a.shape.out,
                            a.shape.in, b.shape.out, b.shape.in);
  }
  Worker w;
  LORANK_RETURN_IF_ERROR(
      w.directions.compute(a.b, a.a, a.shape, a.scale, options.side, w.da).with_context("A"));
  LORANK_RETURN_IF_ERROR(
      w.directions.compute(b.b, b.a, b.shape, b.scale, options.side, w.db).with_context("B"));
  ModuleComparison m;
  m.out = a.shape.out;
  m.in = a.shape.in;
  m.rank_a = a.shape.r;
  m.rank_b = b.shape.r;
  m.scale_a = a.scale;
  m.scale_b = b.scale;
  LORANK_RETURN_IF_ERROR(compare_internal::similarity(w.da, w.db, options, w.similarity, m));
  return m;
}

Result<AdapterComparison> compare_adapters(const Adapter& a, const Adapter& b,
                                           const CompareOptions& options) {
  LORANK_RETURN_IF_ERROR(validate(options));
  AdapterComparison c;
  c.side = options.side;
  c.k = options.k;
  c.threshold_tau = options.threshold_tau;
  c.summary.modules_a = a.modules.size();
  c.summary.modules_b = b.modules.size();
  std::unordered_map<std::string_view, std::size_t> in_b;
  for (std::size_t i = 0; i < b.modules.size(); ++i) in_b.emplace(b.modules[i].name, i);
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  std::vector<bool> b_matched(b.modules.size(), false);
  for (std::size_t i = 0; i < a.modules.size(); ++i) {
    const LoraModule& x = a.modules[i];
    const auto it = in_b.find(x.name);
    if (it == in_b.end()) {
      c.only_in_a.push_back(x.name);
      continue;
    }
    const LoraModule& y = b.modules[it->second];
    if (x.out != y.out || x.in != y.in || x.kind != y.kind) {
      return invalid_data(
          "module '{}': the updates differ in shape ({} {}x{} in A, {} {}x{} in B); are the "
          "adapters for the same base model?", x.name, module_kind_name(x.kind), x.out, x.in,
          module_kind_name(y.kind), y.out, y.in);
    }
    b_matched[it->second] = true;
    pairs.emplace_back(i, it->second);
  }
  for (std::size_t j = 0; j < b.modules.size(); ++j) {
    if (!b_matched[j]) c.only_in_b.push_back(b.modules[j].name);
  }
  if (pairs.empty() && !a.modules.empty() && !b.modules.empty()) {
    return not_found(
        "no module name in common: A ({}, {} modules) has e.g. '{}', B ({}, {} modules) has "
        "e.g. '{}'; modules are matched by exact name, not across naming schemes",
        format_name(a.format), a.modules.size(), a.modules.front().name, format_name(b.format),
        b.modules.size(), b.modules.front().name);
  }

  // Natural order (h.2 before h.10), like every list of modules (module_names.h).
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& x, const auto& y) {
    return natural_less(a.modules[x.first].name, a.modules[y.first].name);
  });
  std::stable_sort(c.only_in_a.begin(), c.only_in_a.end(), NaturalLess());
  std::stable_sort(c.only_in_b.begin(), c.only_in_b.end(), NaturalLess());

  const std::size_t n = pairs.size();
  c.modules.resize(n);
  std::vector<Status> failures(n);
  std::vector<Worker> workers(worker_count(options.threads, n));
  {
    // Many small factorisations: parallel across modules, one BLAS thread each.
    const linalg::SingleThreadedBlas single_blas;
    parallel_for_workers(n, options.threads, [&](std::size_t worker, std::size_t i) {
      const auto [ia, ib] = pairs[i];
      failures[i] = compare_pair(a.modules[ia], a, b.modules[ib], b, options, workers[worker],
                                 c.modules[i])
                        .with_context(fmt::format("module '{}'", a.modules[ia].name));
    });
  }
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  summarize(c);
  return c;
}

}  // namespace lorank
