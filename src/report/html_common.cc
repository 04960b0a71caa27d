// Helpers shared by the HTML report's sections: grouping, number formatting, palette.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "report/html_sections.h"

namespace lorank::report {

std::vector<TypeGroup> group_by_type(const AuditReport& report) {
  std::vector<TypeGroup> groups;
  std::map<std::string, std::size_t> index;
  for (const AuditModule& m : report.modules) {
    const std::string type = m.module_type.empty() ? "(no type)" : m.module_type;
    auto [it, inserted] = index.try_emplace(type, groups.size());
    if (inserted) groups.push_back(TypeGroup{type, {}, 0});
    TypeGroup& g = groups[it->second];
    g.modules.push_back(&m);
    if (m.metrics.untrained) ++g.untrained;
  }
  // report.modules is in natural order of name (module_names.h), so a group lists
  // down_blocks.0 … mid_block … up_blocks.3, or layers.0, layers.1, … layers.10, in order;
  // sorting by the bare layer number would interleave down_blocks.1 with up_blocks.1.
  return groups;
}

std::string group_anchor(std::size_t index) { return fmt::format("g{}", index); }

std::string format_sig(double v, int digits) {
  if (!std::isfinite(v)) return "\u2014";
  if (v == 0.0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e6) {
    const int decimals = std::max(0, digits - 1 - static_cast<int>(std::floor(std::log10(a))));
    std::string s = fmt::format("{:.{}f}", v, decimals);
    if (s.find('.') != std::string::npos) {  // 2.50 → 2.5, 3.00 → 3
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return s;
  }
  return fmt::format("{:.{}e}", v, std::max(0, digits - 1));
}

std::string format_percent(double fraction) {
  if (!std::isfinite(fraction)) return "\u2014";
  return fmt::format("{:.1f}%", 100.0 * fraction);
}

std::string_view category_colour(std::size_t i) {
  // Tableau 10: distinct, colour-blind-tolerant, prints well.
  constexpr std::array<std::string_view, 10> kPalette = {
      "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % kPalette.size()];
}

namespace {
// Viridis at 9 evenly spaced stops.
constexpr std::array<std::array<int, 3>, 9> kViridis = {{{68, 1, 84},
                                                        {71, 44, 122},
                                                        {59, 81, 139},
                                                        {44, 113, 142},
                                                        {33, 144, 141},
                                                        {39, 173, 129},
                                                        {92, 200, 99},
                                                        {170, 220, 50},
                                                        {253, 231, 37}}};
}  // namespace

std::string sequential_colour(double t) {
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  // Light for low ranks, dark for high ones: viridis reversed reads as "more = darker".
  const double pos = (1.0 - t) * static_cast<double>(kViridis.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(pos), kViridis.size() - 2);
  const double f = pos - static_cast<double>(i);
  std::array<int, 3> c{};
  for (std::size_t k = 0; k < 3; ++k) {
    c[k] = static_cast<int>(std::lround(kViridis[i][k] * (1 - f) + kViridis[i + 1][k] * f));
  }
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

bool sequential_is_dark(double t) { return std::isfinite(t) && t > 0.45; }

std::string shorten(std::string_view s, std::size_t max_chars, bool keep_tail) {
  // Count code points, not bytes, so a UTF-8 name is never cut inside a character.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (starts.size() <= max_chars || max_chars < 2) return std::string(s);
  const std::size_t keep = max_chars - 1;
  if (keep_tail) return "\u2026" + std::string(s.substr(starts[starts.size() - keep]));
  return std::string(s.substr(0, starts[keep])) + "\u2026";
}

std::vector<double> cumulative_energy(const std::vector<double>& sv) {
  double total = 0.0;
  for (double s : sv) total += std::isfinite(s) ? s * s : 0.0;
  if (!(total > 0.0) || !std::isfinite(total)) return {};
  std::vector<double> e(sv.size() + 1, 0.0);
  double acc = 0.0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    acc += std::isfinite(sv[i]) ? sv[i] * sv[i] : 0.0;
    e[i + 1] = std::min(1.0, acc / total);
  }
  e.back() = 1.0;
  return e;
}

}  // namespace lorank::report
