#include "lorank/compare_report.h"
#include "lorank/terminal_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <nlohmann/json.hpp>
#include "io/json_text.h"

#include "lorank/module_names.h"

namespace lorank {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxSparkline = 32;  // characters; longer diagonals are cut
constexpr std::size_t kMaxListed = 5;      // unmatched names shown in the table

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json adapter_json(const Adapter& a) {
  return {{"path", a.weights_path.string()},
          {"format", format_name(a.format)},
          {"modules", a.modules.size()},
          {"warnings", a.warnings}};
}

std::string side_description(CompareSide side) {
  return side == CompareSide::kLeft ? "left (output space: column space of B)"
                                    : "right (input space: row space of A)";
}

// Tables show display_names (module_names.h) over every name they list, compared or not,
// so one module has one name everywhere in the table; JSON keeps full names.
class TableNames {
 public:
  explicit TableNames(const AdapterComparison& c) {
    std::vector<std::string> all;
    for (const ModuleComparison& m : c.modules) all.push_back(m.name);
    all.insert(all.end(), c.only_in_a.begin(), c.only_in_a.end());
    all.insert(all.end(), c.only_in_b.begin(), c.only_in_b.end());
    const std::vector<std::string> shown = display_names(all);
    for (std::size_t i = 0; i < all.size(); ++i) shown_.emplace(all[i], shown[i]);
  }
  const std::string& operator()(const std::string& name) const { return shown_.at(name); }

 private:
  std::map<std::string, std::string> shown_;
};

// One block character per value in [0, 1]: ▁ (< 1/8) … █ (≥ 7/8).
std::string sparkline(const std::vector<double>& values) {
  static constexpr const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::string s;
  for (std::size_t i = 0; i < std::min(values.size(), kMaxSparkline); ++i) {
    const int level = std::clamp(static_cast<int>(values[i] * 8.0), 0, 7);
    s += kBlocks[level];
  }
  if (values.size() > kMaxSparkline) s += "…";
  return s;
}

std::string listed(const std::vector<std::string>& names, const TableNames& short_name) {
  std::string s;
  for (std::size_t i = 0; i < std::min(names.size(), kMaxListed); ++i) {
    s += (i ? ", " : "") + escape_for_terminal(short_name(names[i]));
  }
  if (names.size() > kMaxListed) s += fmt::format(", … ({} more)", names.size() - kMaxListed);
  return s;
}

}  // namespace

std::string compare_json(const Adapter& a, const Adapter& b, const AdapterComparison& c) {
  Json j;
  j["a"] = adapter_json(a);
  j["b"] = adapter_json(b);
  j["side"] = compare_side_name(c.side);
  j["k"] = c.k ? Json(*c.k) : Json(nullptr);
  j["threshold_tau"] = c.threshold_tau;
  j["note"] = "scales (alpha/r, rsLoRA, sign) do not affect singular directions or phi";
  j["modules"] = Json::array();
  for (const ModuleComparison& m : c.modules) {
    Json grid = Json::array();
    for (std::size_t i = 1; i <= m.numerical_rank_a && m.numerical_rank_b > 0; ++i) {
      grid.push_back(std::vector<double>(m.phi.begin() + static_cast<std::ptrdiff_t>((i - 1) * m.numerical_rank_b),
                                         m.phi.begin() + static_cast<std::ptrdiff_t>(i * m.numerical_rank_b)));
    }
    std::vector<double> angles;
    for (double cosine : m.principal_cosines) angles.push_back(std::acos(cosine) * 180.0 / std::numbers::pi);
    j["modules"].push_back({{"name", m.name},
                            {"kind", module_kind_name(m.kind)},
                            {"out", m.out},
                            {"in", m.in},
                            {"rank_a", m.rank_a},
                            {"rank_b", m.rank_b},
                            {"scale_a", m.scale_a},
                            {"scale_b", m.scale_b},
                            {"sigma_a", m.sigma_a},
                            {"sigma_b", m.sigma_b},
                            {"numerical_rank_a", m.numerical_rank_a},
                            {"numerical_rank_b", m.numerical_rank_b},
                            {"threshold_rank_a", m.threshold_rank_a},
                            {"threshold_rank_b", m.threshold_rank_b},
                            {"phi", grid},
                            {"diagonal", m.diagonal},
                            {"top_k", m.top_k},
                            {"top_k_overlap", optional_json(m.top_k_overlap)},
                            {"top_k_chance", m.top_k_chance},
                            {"principal_cosines", m.principal_cosines},
                            {"principal_angles_deg", angles},
                            {"null_reason", m.null_reason.empty() ? Json(nullptr) : Json(m.null_reason)}});
  }
  j["only_in_a"] = c.only_in_a;
  j["only_in_b"] = c.only_in_b;
  const CompareSummary& s = c.summary;
  Json means = Json::array();
  for (const DiagonalMean& d : s.mean_diagonal) {
    means.push_back({{"k", d.k}, {"mean", d.mean}, {"modules", d.modules}});
  }
  j["summary"] = {{"modules_a", s.modules_a},
                  {"modules_b", s.modules_b},
                  {"compared", s.compared},
                  {"null", s.null_count},
                  {"mean_top_k_overlap", optional_json(s.mean_top_k_overlap)},
                  {"mean_phi_11", optional_json(s.mean_phi_11)},
                  {"mean_diagonal", means}};
  return io::dump_json(j) + "\n";
}

std::string compare_table(const Adapter& a, const Adapter& b, const AdapterComparison& c) {
  std::string out = fmt::format("A: {} ({}, {} modules)\nB: {} ({}, {} modules)\n",
                                escape_for_terminal(a.weights_path.string()), format_name(a.format),
                                a.modules.size(), escape_for_terminal(b.weights_path.string()), format_name(b.format), b.modules.size());
  out += fmt::format("directions: {}; scales do not affect them\n", side_description(c.side));
  out += c.k ? fmt::format("top-k overlap: phi(k,k) at k = {} (capped per module)\n\n", *c.k)
             : fmt::format("top-k overlap: phi(k,k) at k = min threshold rank (tau = {:g})\n\n",
                           c.threshold_tau);
  // φ(k, k) columns at k = 1, 2, 4, … up to the longest diagonal (at most 5 columns).
  const TableNames short_name(c);
  std::size_t longest = 0;
  std::size_t width = 6;
  for (const ModuleComparison& m : c.modules) {
    longest = std::max(longest, m.diagonal.size());
    width = std::max(width, short_name(m.name).size());
  }
  std::vector<std::size_t> ks;
  for (std::size_t k = 1; k <= std::max<std::size_t>(longest, 1) && ks.size() < 5; k *= 2) ks.push_back(k);
  out += fmt::format("{:<{}}  {:>4}  {:>4}", "module", width, "r", "r'");
  for (std::size_t k : ks) out += fmt::format("  {:>9}", fmt::format("phi({},{})", k, k));
  out += fmt::format("  {:>4}  {:>8}  {:>7}  {}\n", "k", "top-k", "chance", "phi(k,k), k = 1..");
  for (const ModuleComparison& m : c.modules) {
    out += fmt::format("{:<{}}  {:>4}  {:>4}", escape_for_terminal(short_name(m.name)), width,
                       m.rank_a, m.rank_b);
    for (std::size_t k : ks) {
      out += k <= m.diagonal.size() ? fmt::format("  {:>9.4f}", m.diagonal[k - 1])
                                    : fmt::format("  {:>9}", "-");
    }
    if (m.top_k_overlap) {
      out += fmt::format("  {:>4}  {:>8.4f}  {:>7.4f}  {}\n", m.top_k, *m.top_k_overlap,
                         m.top_k_chance, sparkline(m.diagonal));
    } else {
      out += fmt::format("  {:>4}  {:>8}  {:>7}  {}\n", "-", "null", "", escape_for_terminal(m.null_reason));
    }
  }
  const CompareSummary& s = c.summary;
  out += fmt::format("\n{} modules compared ({} in A, {} in B); {} with a similarity, {} null\n",
                     s.compared, s.modules_a, s.modules_b, s.compared - s.null_count, s.null_count);
  if (s.mean_top_k_overlap) {
    out += fmt::format("mean top-k overlap {:.4f}, mean phi(1,1) {:.4f}\nmean phi(k,k):",
                       *s.mean_top_k_overlap, *s.mean_phi_11);
    for (const DiagonalMean& d : s.mean_diagonal) {
      if (d.k > 16) break;
      out += fmt::format(" k={} {:.3f}", d.k, d.mean);
    }
    out += "\n";
  }
  if (!c.only_in_a.empty()) out += fmt::format("only in A ({}): {}\n", c.only_in_a.size(), listed(c.only_in_a, short_name));
  if (!c.only_in_b.empty()) out += fmt::format("only in B ({}): {}\n", c.only_in_b.size(), listed(c.only_in_b, short_name));
  return out;
}

}  // namespace lorank
