// `lorank extract`'s report: per matrix, the tensors not extracted, the summary and the
// intrinsic-rank reading (docs/extract.md); text and JSON from the same numbers.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "io/json_text.h"
#include "lorank/extract.h"
#include "lorank/terminal_text.h"
#include "report/units.h"

namespace lorank {
namespace {

using Json = nlohmann::ordered_json;

Json finite(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double relative(double x, double of) { return of > 0.0 ? x / of : 0.0; }

// ‖ΔW‖²_F / σ₁²: how many directions carry ΔW's energy, whatever the rule (exact: both
// numbers are certified).
double stable_rank(const ExtractedMatrix& m) {
  const double s1 = m.sigma.empty() ? 0.0 : m.sigma[0];
  return s1 > 0.0 ? (m.delta_norm * m.delta_norm) / (s1 * s1) : 0.0;
}

struct Reading {
  double median_k = 0.0, median_fraction = 0.0, median_energy = 0.0, median_stable = 0.0,
         median_relative_change = 0.0;
  std::string text;
};

Reading reading(const ExtractResult& r) {
  std::vector<double> k, fraction, energy, stable, change;
  for (const ExtractedMatrix& m : r.matrices) {
    k.push_back(static_cast<double>(m.k));
    fraction.push_back(relative(static_cast<double>(m.k), static_cast<double>(std::min(m.rows, m.cols))));
    energy.push_back(m.retained_energy);
    stable.push_back(stable_rank(m));
    change.push_back(relative(m.delta_norm, m.weight_norm));
  }
  Reading out;
  out.median_k = median(k);
  out.median_fraction = median(fraction);
  out.median_energy = median(energy);
  out.median_stable = median(stable);
  out.median_relative_change = median(change);
  out.text = fmt::format(
      "Intrinsic rank: under {} the matrices keep a median of {:g} directions ({:.1f}% of "
      "min(rows, cols)), retaining a median {:.4f} of ||dW||_F^2; the median stable rank "
      "||dW||_F^2/sigma_1^2 is {:.3g}. ",
      r.rule.to_string(), out.median_k, 100.0 * out.median_fraction, out.median_energy,
      out.median_stable);
  out.text += out.median_fraction <= 0.1
                  ? "The update is low-rank, as Aghajanyan et al. (2021) claim for fine-tuning."
              : out.median_fraction <= 0.5
                  ? "The update is of moderate rank: a LoRA of this rank holds it."
                  : "The update is not low-rank: most directions are needed (a full fine-tune far "
                    "from its base, or noise).";
  out.text += fmt::format(" Median ||dW||_F/||W||_F: {:.3g}.", out.median_relative_change);
  return out;
}

}  // namespace

std::string extract_reading(const ExtractResult& r) { return reading(r).text; }

std::string extract_table(const ExtractResult& r) {
  std::size_t width = 6;
  for (const ExtractedMatrix& m : r.matrices) width = std::max(width, m.tensor.size());
  width = std::min<std::size_t>(width, 72);
  std::string out = fmt::format("{:<{}}  {:>11}  {:>5}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>6}  {:>8}\n",
                                "tensor", width, "shape", "k", "|dW|_F", "|dW|/|W|", "energy",
                                "rel.err", "optimum", "passes", "bound");
  for (const ExtractedMatrix& m : r.matrices) {
    out += fmt::format("{:<{}}  {:>11}  {:>5}  {:>9.3e}  {:>9.3e}  {:>9.6f}  {:>9.3e}  {:>9.3e}  {:>6}  {:>8.1e}{}\n",
                       escape_for_terminal(m.tensor), width, fmt::format("{}x{}", m.rows, m.cols),
                       m.k, m.delta_norm, relative(m.delta_norm, m.weight_norm), m.retained_energy,
                       relative(m.error, m.delta_norm), relative(m.optimum, m.delta_norm), m.passes,
                       m.bound, m.certified ? "" : " (not certified)");
  }
  if (!r.not_extracted.empty()) {
    out += "\nDiffering tensors not extracted:\n";
    for (const DifferingTensor& d : r.not_extracted) {
      out += fmt::format("  {}  {}  {}  |d|_F {:.3e}{}\n", escape_for_terminal(d.name),
                         d.shape.to_string(), d.reason, d.delta_norm, d.kept ? "  (kept full)" : "");
    }
  }
  out += fmt::format(
      "\n{} matrices extracted, {} identical tensor(s) skipped, {} differing not extracted; "
      "LoRA parameters {} for {} in the extracted matrices ({:.2f}%); {:.2f} s\n",
      r.matrices.size(), r.identical, r.not_extracted.size(), report::short_count(r.params),
      report::short_count(r.delta_params),
      r.delta_params ? 100.0 * static_cast<double>(r.params) / static_cast<double>(r.delta_params) : 0.0,
      r.seconds);
  out += reading(r).text + "\n";
  return out;
}

std::string extract_json(const ExtractResult& r) {
  Json j;
  j["base"] = r.base_path;
  j["finetuned"] = r.finetuned_path;
  j["rule"] = r.rule.to_string();
  j["tolerance"] = r.tolerance;
  j["matrices"] = Json::array();
  for (const ExtractedMatrix& m : r.matrices) {
    j["matrices"].push_back({{"tensor", m.tensor},
                             {"module", m.module},
                             {"shape", {m.rows, m.cols}},
                             {"transposed", m.transposed},
                             {"embedding", m.embedding},
                             {"rank", m.k},
                             {"delta_norm", finite(m.delta_norm)},
                             {"weight_norm", finite(m.weight_norm)},
                             {"relative_change", finite(relative(m.delta_norm, m.weight_norm))},
                             {"retained_energy", finite(m.retained_energy)},
                             {"error", finite(m.error)},
                             {"relative_error", finite(relative(m.error, m.delta_norm))},
                             {"error_direct", m.error_direct},
                             {"optimum", finite(m.optimum)},
                             {"optimum_lower", finite(m.optimum_lower)},
                             {"stable_rank", finite(stable_rank(m))},
                             {"passes", m.passes},
                             {"relative_error_bound", finite(m.bound)},
                             {"certified", m.certified},
                             {"seconds", finite(m.seconds)},
                             {"singular_values", m.sigma}});
  }
  j["not_extracted"] = Json::array();
  for (const DifferingTensor& d : r.not_extracted) {
    j["not_extracted"].push_back({{"name", d.name},
                                  {"shape", d.shape.dims},
                                  {"reason", d.reason},
                                  {"delta_norm", finite(d.delta_norm)},
                                  {"kept", d.kept}});
  }
  const Reading read = reading(r);
  j["summary"] = {{"matrices", r.matrices.size()},
                  {"identical", r.identical},
                  {"not_extracted", r.not_extracted.size()},
                  {"params", r.params},
                  {"delta_params", r.delta_params},
                  {"seconds", finite(r.seconds)}};
  j["intrinsic_rank"] = {{"median_rank", read.median_k},
                         {"median_rank_fraction", read.median_fraction},
                         {"median_retained_energy", read.median_energy},
                         {"median_stable_rank", read.median_stable},
                         {"median_relative_change", read.median_relative_change},
                         {"reading", read.text}};
  j["warnings"] = r.warnings;
  return io::dump_json(j) + "\n";
}

}  // namespace lorank
