// Rank-selection rules: parsing and the exact formulas of each source tool
// (docs/metrics.md; specs in ../shared/specs/anchors.md §c).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <vector>

#include "lorank/rank.h"

namespace lorank {
namespace {

using Kind = RankRule::Kind;

enum class Param { kNone, kRequired };

struct RuleInfo {
  Kind kind;
  std::string_view name;
  Param param;
  std::string_view help;  // parameter meaning and range
};

constexpr std::array<RuleInfo, 11> kRules = {{
    {Kind::kThreshold, "threshold", Param::kRequired, "#{s_i >= tau*s_1}, 0 < tau <= 1"},
    {Kind::kEnergy, "energy", Param::kRequired,
     "smallest k with sum_{i<=k} s_i^2 >= p*sum s_i^2, 0 < p <= 1"},
    {Kind::kPeft, "peft", Param::kRequired, "same as energy:p (PEFT convert_to_lora float rank)"},
    {Kind::kKohyaRatio, "kohya-ratio", Param::kRequired, "kohya sv_ratio, p = s_1/s_k >= 1"},
    {Kind::kKohyaFro, "kohya-fro", Param::kRequired, "kohya sv_fro, Frobenius fraction 0 < p <= 1"},
    {Kind::kKohyaCumulative, "kohya-cumulative", Param::kRequired,
     "kohya sv_cumulative, 0 < p <= 1"},
    {Kind::kLycorisRatio, "lycoris-ratio", Param::kRequired,
     "LyCORIS ratio, #{s_i > p*s_1}, 0 <= p <= 1"},
    {Kind::kLycorisQuantile, "lycoris-quantile", Param::kRequired, "LyCORIS quantile, 0 <= p <= 1"},
    {Kind::kEntropy, "entropy", Param::kNone, "round(exp(entropy of s/sum s)), no parameter"},
    {Kind::kGap, "gap", Param::kNone, "index of the largest s_k/s_{k+1}, no parameter"},
    {Kind::kFixed, "fixed", Param::kRequired, "k, an integer >= 1"},
}};

const RuleInfo& info(Kind kind) {
  for (const RuleInfo& r : kRules) {
    if (r.kind == kind) return r;
  }
  return kRules[0];
}

// Whether `p` is in range for `kind` (the message says the range when not).
bool param_in_range(Kind kind, double p) {
  switch (kind) {
    case Kind::kThreshold:
    case Kind::kEnergy:
    case Kind::kPeft:
    case Kind::kKohyaFro:
    case Kind::kKohyaCumulative:
      return p > 0.0 && p <= 1.0;
    case Kind::kKohyaRatio:
      return p >= 1.0;
    case Kind::kLycorisRatio:
    case Kind::kLycorisQuantile:
      return p >= 0.0 && p <= 1.0;
    case Kind::kFixed:
      return p >= 1.0 && p <= 1e9 && std::floor(p) == p;
    case Kind::kEntropy:
    case Kind::kGap:
      return true;
  }
  return false;
}

// Python's searchsorted(values, target, side="left") on a non-decreasing array.
std::size_t searchsorted_left(const std::vector<double>& values, double target) {
  return static_cast<std::size_t>(std::lower_bound(values.begin(), values.end(), target) -
                                  values.begin());
}

// kohya's index_sv_cumulative / index_sv_fro: cumulative sums divided by their total
// (kohya divides by torch.sum(S); the last cumulative sum is that total up to rounding and
// keeps the quotients ≤ 1), then searchsorted + 1.
std::size_t kohya_cumulative_index(std::span<const double> sv, bool squared, double target) {
  // Relative to σ₁ (scale-free) so that squares neither overflow nor underflow.
  std::vector<double> cumulative(sv.size());
  double running = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    const double x = sv[i] / sv.front();
    running += squared ? x * x : x;
    cumulative[i] = running;
  }
  const double total = cumulative.back();
  for (double& c : cumulative) c /= total;
  return searchsorted_left(cumulative, target) + 1;
}

int kohya_rank(Kind kind, double p, std::span<const double> sv, double scale) {
  // kohya: `if S[0] <= MIN_SV: new_rank = 1` with MIN_SV = 1e-6 on the unscaled up@down.
  if (sv.front() / std::abs(scale) <= 1e-6) return 1;
  std::size_t idx = 0;
  if (kind == Kind::kKohyaRatio) {
    const double min_sv = sv.front() / p;
    for (double s : sv) idx += s > min_sv ? 1 : 0;
  } else if (kind == Kind::kKohyaFro) {
    idx = kohya_cumulative_index(sv, /*squared=*/true, p * p);
  } else {
    idx = kohya_cumulative_index(sv, /*squared=*/false, p);
  }
  // index = max(1, min(index, len(S) - 1)); new_rank = index + 1. Python's max/min order
  // matters for len(S) == 1: min gives 0, max gives 1, new_rank 2 (capped by the caller).
  const std::size_t n = sv.size();
  idx = std::max<std::size_t>(1, std::min(idx, n - 1));
  return static_cast<int>(idx + 1);
}

int lycoris_rank(Kind kind, double p, std::span<const double> sv) {
  std::size_t k = 0;
  if (kind == Kind::kLycorisRatio) {
    const double min_s = sv.front() * p;
    for (double s : sv) k += s > min_s ? 1 : 0;
  } else {
    double total = 0.0;
    for (double s : sv) total += s;
    const double min_cum_sum = p * total;
    double running = 0.0;
    for (double s : sv) {
      running += s;
      k += running < min_cum_sum ? 1 : 0;
    }
  }
  return static_cast<int>(std::max<std::size_t>(1, k));
}

Result<double> parse_number(std::string_view text, std::string_view spec) {
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return invalid_argument("rank rule '{}': '{}' is not a number; rules are:\n{}", spec, text,
                            RankRule::syntax());
  }
  return value;
}

}  // namespace

std::string RankRule::syntax() {
  std::string out;
  for (const RuleInfo& r : kRules) {
    const std::string head =
        r.param == Param::kNone ? std::string(r.name) : fmt::format("{}:P", r.name);
    out += fmt::format("  {:<20} {}\n", head, r.help);
  }
  return out;
}

Result<RankRule> RankRule::parse(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const RuleInfo* rule = nullptr;
  for (const RuleInfo& r : kRules) {
    if (r.name == name) rule = &r;
  }
  if (rule == nullptr) {
    return invalid_argument("unknown rank rule '{}'; rules are NAME or NAME:PARAM:\n{}", spec,
                            syntax());
  }
  if (rule->param == Param::kNone) {
    if (colon != std::string_view::npos) {
      return invalid_argument("rank rule '{}' takes no parameter (write '{}'); rules are:\n{}",
                              spec, name, syntax());
    }
    return RankRule(rule->kind, 0.0);
  }
  if (colon == std::string_view::npos) {
    return invalid_argument("rank rule '{}' needs a parameter, '{}:P' with P: {}", spec, name,
                            rule->help);
  }
  LORANK_ASSIGN_OR_RETURN(const double p, parse_number(spec.substr(colon + 1), spec));
  if (!param_in_range(rule->kind, p)) {
    return invalid_argument("rank rule '{}': parameter out of range; '{}:P' with P: {}", spec, name,
                            rule->help);
  }
  return RankRule(rule->kind, p);
}

std::string RankRule::to_string() const {
  const RuleInfo& r = info(kind_);
  if (r.param == Param::kNone) return std::string(r.name);
  // fmt's shortest round-trip form: parse(to_string()) gives back the same double.
  return fmt::format("{}:{}", r.name, param_);
}

int RankRule::apply(std::span<const double> sv, std::size_t max_rank, double scale) const {
  if (sv.empty() || !(sv.front() > 0.0)) return 0;  // untrained: nothing to keep
  const std::size_t cap = std::min(max_rank, sv.size());
  if (cap == 0) return 0;
  std::size_t k = 0;
  switch (kind_) {
    case Kind::kThreshold:
      for (double s : sv) k += s >= param_ * sv.front() ? 1 : 0;
      break;
    case Kind::kEnergy:
    case Kind::kPeft:
      k = static_cast<std::size_t>(energy_rank(sv, param_));
      break;
    case Kind::kKohyaRatio:
    case Kind::kKohyaFro:
    case Kind::kKohyaCumulative:
      k = static_cast<std::size_t>(kohya_rank(kind_, param_, sv, scale));
      break;
    case Kind::kLycorisRatio:
    case Kind::kLycorisQuantile:
      k = static_cast<std::size_t>(lycoris_rank(kind_, param_, sv));
      break;
    case Kind::kEntropy: {
      const double e = spectrum_metrics(sv).entropy_rank;
      k = static_cast<std::size_t>(std::max(1.0, std::round(e)));
      break;
    }
    case Kind::kGap: {
      const int g = spectrum_metrics(sv).gap_index;
      k = g > 0 ? static_cast<std::size_t>(g) : 1;
      break;
    }
    case Kind::kFixed:
      k = static_cast<std::size_t>(param_);
      break;
  }
  return static_cast<int>(std::clamp<std::size_t>(k, 1, cap));
}

}  // namespace lorank
