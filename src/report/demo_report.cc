#include "lorank/demo_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include "io/json_text.h"

namespace lorank {
namespace {

constexpr std::size_t kTableValues = 8;  // the explainer prints the top 8

// NumPy prints a full SVD of the dim×dim product: positions past the rank show as 0.000.
std::vector<double> top_values(const std::vector<double>& sv, std::size_t dim) {
  std::vector<double> top(std::min(kTableValues, dim), 0.0);
  for (std::size_t i = 0; i < top.size() && i < sv.size(); ++i) top[i] = sv[i];
  return top;
}

// Python's f"{x:.{prec}f}": NaN prints as "nan" whatever its sign bit (fmt would say "-nan").
std::string fixed(double x, int prec) {
  return std::isnan(x) ? std::string("nan") : fmt::format("{:.{}f}", x, prec);
}

std::string join_values(const std::vector<double>& values, std::size_t max_count) {
  std::string out;
  for (std::size_t i = 0; i < values.size() && i < max_count; ++i) {
    out += (i ? "  " : "") + fixed(values[i], 3);
  }
  return out;
}

}  // namespace

int directions_above_noise(const std::vector<double>& sv, const std::vector<double>& floor) {
  if (sv.empty() || !std::isfinite(sv[0])) return 0;
  const double floor1 = floor.empty() ? 0.0 : floor[0];
  const double tau = std::max(2.0 * floor1, 1e-3 * sv[0]);
  return static_cast<int>(std::count_if(sv.begin(), sv.end(), [&](double s) { return s > tau; }));
}

std::string demo_table(const DemoResult& result) {
  std::string out = fmt::format("{:>13}  |  {:>13}  | top-8 singular values of trained B @ A\n",
                                "allocated r", "final rel err");
  out += "  " + std::string(74, '-') + "\n";
  const std::size_t dim = static_cast<std::size_t>(result.params.dim);
  for (const DemoRow& row : result.rows) {
    out += fmt::format("{:13d}  |  {:>13}  | {}\n", row.rank, fixed(row.rel_err, 4),
                       join_values(top_values(row.singular_values, dim), kTableValues));
  }
  return out;
}

std::string demo_reading(const DemoResult& result) {
  const int k_eff = directions_above_noise(result.target_spectrum, result.noise_floor);
  std::string out = fmt::format(
      "\nReading (target: {}x{}, true rank {}, {} directions above the noise floor):\n",
      result.params.dim, result.params.dim, result.params.true_rank, k_eff);
  for (const DemoRow& row : result.rows) {
    const int above = directions_above_noise(row.singular_values, result.noise_floor);
    if (!std::isfinite(row.rel_err)) {
      out += fmt::format("  r = {}: diverged (lr too large for this target's scale)\n", row.rank);
    } else if (row.rank < k_eff) {
      out += fmt::format(
          "  r = {}: under-fits: {} < {} strong directions; rel err {:.4f} "
          "(best possible at this rank: {:.4f})\n",
          row.rank, row.rank, k_eff, row.rel_err, row.optimal_rel_err);
    } else if (row.rank == k_eff) {
      out += fmt::format("  r = {}: fits: {} directions above the noise floor; rel err {:.4f} "
                         "(best possible: {:.4f})\n",
                         row.rank, above, row.rel_err, row.optimal_rel_err);
    } else {
      const std::size_t extra_begin = static_cast<std::size_t>(std::max(above, 0));
      const double hi = extra_begin < row.singular_values.size() ? row.singular_values[extra_begin] : 0.0;
      const double lo = row.singular_values.empty() ? 0.0 : row.singular_values.back();
      out += fmt::format(
          "  r = {}: over-allocated: still {} directions above the noise floor; the other {} "
          "sit at {:.3f} .. {:.3f}, noise-floor scale; rel err {:.4f} (best possible: {:.4f})\n",
          row.rank, above, row.singular_values.size() - extra_begin, hi, lo, row.rel_err,
          row.optimal_rel_err);
    }
  }
  out += fmt::format("  noise floor: top singular values of the noise matrix itself: {}\n",
                     join_values(result.noise_floor, kTableValues));
  out += "  Extra rank does not add directions: it fits the noise, converging toward the "
         "noise floor.\n";
  return out;
}

namespace {
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }
nlohmann::json values_json(const std::vector<double>& values) {
  nlohmann::json a = nlohmann::json::array();
  for (double v : values) a.push_back(finite_or_null(v));
  return a;
}
}  // namespace

std::string demo_json(const DemoResult& result) {
  const DemoParams& p = result.params;
  nlohmann::json j;
  j["params"] = {{"dim", p.dim},     {"true_rank", p.true_rank}, {"ranks", p.ranks},
                 {"steps", p.steps}, {"lr", p.lr},               {"noise", p.noise},
                 {"seed", p.seed},   {"init_seed", p.init_seed}};
  j["rows"] = nlohmann::json::array();
  for (const DemoRow& row : result.rows) {
    j["rows"].push_back({{"rank", row.rank},
                         {"rel_err", finite_or_null(row.rel_err)},
                         {"optimal_rel_err", finite_or_null(row.optimal_rel_err)},
                         {"singular_values", values_json(row.singular_values)},
                         {"directions_above_noise",
                          directions_above_noise(row.singular_values, result.noise_floor)}});
  }
  j["noise_floor"] = values_json(result.noise_floor);
  j["target_spectrum"] = values_json(result.target_spectrum);
  j["seconds"] = result.seconds;
  return io::dump_json(j) + "\n";
}

}  // namespace lorank
