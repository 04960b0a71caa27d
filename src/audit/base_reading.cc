// The reading of `audit --base`: medians over modules and which pattern dominates, every
// sentence computed from the numbers (rules in docs/base-audit.md, "Reading").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "audit/base_projection.h"

namespace lorank::audit_internal {
namespace {

// ΔW's directions carry at least this fraction of ‖U_Wᵀ·W·V_W‖_F: W's own top directions.
constexpr double kEmphasisedFraction = 0.5;
// W projects onto ΔW's directions at most this many times as strongly as onto a random
// subspace of the same size: no more related to W than chance (random draws vary ~2×).
constexpr double kChanceMultiple = 2.0;

double median(std::vector<double> v) {
  if (v.empty()) return kUndefined;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::string verdict(const BaseAudit& b) {
  const std::size_t n = b.compared;
  if (2 * b.emphasised > n) {
    return fmt::format(
        "Most modules ({} of {}) amplify directions W already emphasises: ΔW's top directions "
        "carry at least half of W's own top-k projection.", b.emphasised, n);
  }
  if (2 * b.unemphasised > n) {
    return fmt::format(
        "Most modules ({} of {}) amplify directions W holds but does not emphasise: W projects "
        "onto them more strongly than onto random directions, yet far less than onto its own "
        "top directions (the pattern Hu et al. 2022 §7.3 report for GPT-3).", b.unemphasised, n);
  }
  if (2 * b.unrelated > n) {
    return fmt::format(
        "Most modules ({} of {}) update directions unrelated to W: W projects onto them no more "
        "than {:g}x as strongly as onto random ones, so the adapter adds new directions (a "
        "random or barely trained update looks like this too).", b.unrelated, n, kChanceMultiple);
  }
  return fmt::format(
      "No pattern dominates: {} module(s) follow W's top directions, {} directions W holds but "
      "does not emphasise, {} directions unrelated to W.", b.emphasised, b.unemphasised, b.unrelated);
}

}  // namespace

BaseAudit summarise_base(const std::vector<AuditModule>& modules, const Checkpoint& base,
                         std::uint64_t seed) {
  BaseAudit b;
  b.path = base.path().string();
  b.format = std::string(checkpoint_format_name(base.format()));
  b.seed = seed;
  std::vector<double> change, amplification, over_top, over_random;
  std::size_t without = 0;
  for (const AuditModule& m : modules) {
    if (!m.base) continue;
    const BaseComparison& c = *m.base;
    if (!std::isfinite(c.projection_delta) || !(c.projection_w_top > 0.0) ||
        !(c.projection_random > 0.0)) {
      ++without;
      continue;
    }
    ++b.compared;
    if (std::isfinite(c.relative_change)) change.push_back(c.relative_change);
    if (std::isfinite(c.amplification)) amplification.push_back(c.amplification);
    const double t = c.projection_delta / c.projection_w_top;
    const double rho = c.projection_delta / c.projection_random;
    over_top.push_back(t);
    over_random.push_back(rho);
    if (t >= kEmphasisedFraction) {
      ++b.emphasised;
    } else if (rho <= kChanceMultiple) {
      ++b.unrelated;
    } else {
      ++b.unemphasised;
    }
  }
  b.median_relative_change = median(change);
  b.median_amplification = median(amplification);
  b.median_delta_over_top = median(over_top);
  b.median_delta_over_random = median(over_random);
  if (b.compared == 0) {
    b.reading.push_back(
        "No module has a nonzero update (or W is zero), so there are no directions to compare "
        "with the base.");
    return b;
  }
  b.reading.push_back(fmt::format(
      "{} module(s) compared with their base weights{}; the median ‖ΔW‖_F/‖W‖_F is {:.3g}.",
      b.compared, without ? fmt::format(" ({} without directions)", without) : "",
      b.median_relative_change));
  b.reading.push_back(fmt::format(
      "W projected onto ΔW's top-k directions (median over modules): {:.1f}% of W's projection "
      "onto its own top-k directions and {:.3g}x its projection onto a random k-subspace.",
      100.0 * b.median_delta_over_top, b.median_delta_over_random));
  b.reading.push_back(fmt::format(
      "Median amplification ‖ΔW‖_F/‖UᵀWV‖_F = {:.3g} (Hu et al. 2022 report about 21.5 for "
      "r = 4 on GPT-3's W_q).", b.median_amplification));
  b.reading.push_back(verdict(b));
  return b;
}

}  // namespace lorank::audit_internal
