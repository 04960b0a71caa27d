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

// Every sentence of the reading follows the numbers it speaks of: with --noise 0 there is no
// noise floor to fit (the threshold is 1e-3·σ₁ of the target), a rank at or below the
// target's strong directions is never "over-allocated", and the closing sentence about extra
// rank is said only when some finite row has more rank than the target needs.
std::string demo_reading(const DemoResult& result) {
  const bool noisy = result.params.noise > 0.0;
  const char* above_what = noisy ? "above the noise floor" : "above 1e-3 of sigma_1 (no noise)";
  const int k_eff = directions_above_noise(result.target_spectrum, result.noise_floor);
  std::string out = fmt::format("\nReading (target: {}x{}, true rank {}, {} directions {}):\n",
                                result.params.dim, result.params.dim, result.params.true_rank,
                                k_eff, above_what);
  bool over_allocated = false, fitted = false;
  for (const DemoRow& row : result.rows) {
    const int above = directions_above_noise(row.singular_values, result.noise_floor);
    if (!std::isfinite(row.rel_err)) {
      out += fmt::format("  r = {}: diverged (lr too large for this target's scale)\n", row.rank);
      continue;
    }
    fitted = true;
    if (row.rank < k_eff) {
      out += fmt::format(
          "  r = {}: under-fits: {} < {} strong directions; rel err {:.4f} "
          "(best possible at this rank: {:.4f})\n",
          row.rank, row.rank, k_eff, row.rel_err, row.optimal_rel_err);
      continue;
    }
    const std::size_t extra_begin = static_cast<std::size_t>(std::max(above, 0));
    const std::size_t extra =
        row.singular_values.size() > extra_begin ? row.singular_values.size() - extra_begin : 0;
    if (row.rank == k_eff || extra == 0) {
      out += fmt::format("  r = {}: fits: {} directions {}; rel err {:.4f} (best possible: {:.4f})\n",
                         row.rank, above, above_what, row.rel_err, row.optimal_rel_err);
      continue;
    }
    over_allocated = true;
    const double hi = row.singular_values[extra_begin];
    const double lo = row.singular_values.back();
    out += fmt::format(
        "  r = {}: over-allocated: still {} directions {}; the other {} sit at {:.3f} .. {:.3f}, "
        "{}; rel err {:.4f} (best possible: {:.4f})\n",
        row.rank, above, above_what, extra, hi, lo, noisy ? "noise-floor scale" : "near zero",
        row.rel_err, row.optimal_rel_err);
  }
  if (noisy) {
    out += fmt::format("  noise floor: top singular values of the noise matrix itself: {}\n",
                       join_values(result.noise_floor, kTableValues));
  } else {
    out += "  noise floor: none (--noise 0): the target is exactly rank " +
           fmt::format("{}", result.params.true_rank) + "\n";
  }
  if (!fitted) {
    out += "  Every run diverged: lower --lr to read the ranks.\n";
  } else if (!over_allocated) {
    out += fmt::format("  No allocated rank exceeds the target's {} strong directions, so none "
                       "has extra rank to spend.\n", k_eff);
  } else if (noisy) {
    out += "  Extra rank does not add directions: it fits the noise, converging toward the "
           "noise floor.\n";
  } else {
    out += "  Extra rank does not add directions: with no noise there is nothing more to fit, "
           "and the extra directions stay near zero.\n";
  }
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
