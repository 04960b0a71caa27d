// The terminal and CSV renderings of an audit report.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "lorank/audit_report.h"
#include "lorank/module_names.h"
#include "lorank/text_chart.h"
#include "report/units.h"
#include "lorank/terminal_text.h"

namespace lorank {
namespace {

// `text` as one shell word: as is when it is plain, else in single quotes.
std::string shell_quote(const std::string& text) {
  const bool plain = !text.empty() && text.find_first_not_of(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+,:=@%") == std::string::npos;
  if (plain) return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

double percent(std::uint64_t part, std::uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Aggregates of recommended ranks for the modules sharing a key (a type or a layer).
struct Group {
  std::size_t modules = 0, untrained = 0;
  std::size_t r_max = 0;
  int rec_min = 1 << 30, rec_max = 0;
  double rec_sum = 0.0;
  void add(const AuditModule& m) {
    ++modules;
    r_max = std::max(r_max, m.rank);
    if (m.metrics.untrained) {
      ++untrained;
      return;
    }
    rec_min = std::min(rec_min, m.recommended_rank);
    rec_max = std::max(rec_max, m.recommended_rank);
    rec_sum += m.recommended_rank;
  }
  std::string row(const std::string& key, std::size_t width) const {
    const std::size_t trained = modules - untrained;
    const std::string rec = trained ? fmt::format("{:>5.1f}  {:>3}..{:<3}", rec_sum / trained, rec_min, rec_max)
                                    : fmt::format("{:>5}  {:>8}", "-", "-");
    return fmt::format("  {:<{}}  {:>7}  {:>4}  {}  {:>9}\n", escape_for_terminal(key), width,
                       modules, r_max, rec,
                       untrained ? fmt::format("{}", untrained) : "");
  }
};

// The "By module type" or "By layer" view. Layers are keyed by layer_group (the full path
// up to the layer index), so down_blocks.1 and up_blocks.1, or encoder.block.3 and
// decoder.block.3, stay apart; keys are shown as display_names, in natural order.
std::string view(const AuditReport& r, bool by_layer) {
  std::map<std::string, Group, NaturalLess> groups;
  Group no_layer;
  for (const AuditModule& m : r.modules) {
    const std::string key = by_layer ? layer_group(m.name) : m.module_type;
    if (by_layer && key.empty()) {
      no_layer.add(m);
    } else {
      groups[key].add(m);
    }
  }
  std::vector<std::string> keys;
  for (const auto& [key, g] : groups) keys.push_back(key);
  std::vector<std::string> shown = by_layer ? display_names(keys) : keys;
  std::vector<const Group*> rows;
  for (const auto& [key, g] : groups) rows.push_back(&g);
  if (no_layer.modules > 0) {
    shown.push_back("(none)");
    rows.push_back(&no_layer);
  }
  if (rows.size() <= 1 && by_layer) return "";  // one layer (or none): nothing to show
  std::size_t width = 6;
  for (const std::string& key : shown) width = std::max(width, key.size());
  std::string out = fmt::format("\nBy {}:\n  {:<{}}  {:>7}  {:>4}  {:>5}  {:>8}  {:>9}\n",
                                by_layer ? "layer" : "module type", by_layer ? "layer" : "type",
                                width, "modules", "r", "mean", "rec", "untrained");
  for (std::size_t i = 0; i < rows.size(); ++i) out += rows[i]->row(shown[i], width);
  return out;
}

// Escaped first (docs/security.md), so a field never holds a raw newline or control byte.
std::string csv_field(const std::string& raw) {
  const std::string s = escape_for_terminal(raw);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A §7.3 number for the table: "—" when undefined.
std::string cell(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "\u2014"; }

// The comparison with the base model (Hu et al. 2022 §7.3), one row per module, then the
// reading.
std::string base_table(const AuditReport& r, std::size_t width) {
  const BaseAudit& b = *r.base;
  std::string out = fmt::format("\nAgainst the base {} ({}), Hu et al. 2022 §7.3; U, V = ΔW's top-k "
                                "singular vectors:\n", escape_for_terminal(b.path), b.format);
  out += fmt::format("{:<{}}  {:>3}  {:>10}  {:>9}  {:>10}  {:>10}  {:>10}  {:>9}\n", "module", width,
                     "k", "|W|_F", "|dW|/|W|", "|U'WV|", "W top-k", "random", "amplif.");
  for (const AuditModule& m : r.modules) {
    if (!m.base) continue;
    const BaseComparison& c = *m.base;
    // Padded by hand: "—" is one column wide but three bytes.
    const auto pad = [](std::string s, std::size_t w) {
      const std::size_t shown = s == "\u2014" ? 1 : s.size();
      return std::string(w > shown ? w - shown : 0, ' ') + s;
    };
    out += fmt::format("{:<{}}  {:>3}  {}  {}  {}  {}  {}  {}\n", escape_for_terminal(m.short_name),
                       width, c.directions, pad(cell(c.weight_norm), 10),
                       pad(cell(c.relative_change), 9), pad(cell(c.projection_delta), 10),
                       pad(cell(c.projection_w_top), 10), pad(cell(c.projection_random), 10),
                       pad(cell(c.amplification), 9));
  }
  out += fmt::format("random subspaces: seed {} (docs/base-audit.md)\n", b.seed);
  for (const std::string& sentence : b.reading) out += sentence + "\n";
  return out;
}

}  // namespace

std::string audit_table(const AuditReport& r) {
  // Names are shown whole (never cut: the cut part may be what tells two modules apart);
  // a name longer than the column cap pushes its own row out instead.
  std::size_t width = 6;
  for (const AuditModule& m : r.modules) {
    width = std::max(width, escape_for_terminal(m.short_name).size());
  }
  width = std::min<std::size_t>(width, 96);  // a longer (odd) name pushes only its row out
  std::string out = fmt::format("{} ({}, {}) — rule {}{}\n\n", escape_for_terminal(r.path), r.format, r.container, r.rule,
                                r.snap == "none" ? "" : ", snapped to " + r.snap);
  out += fmt::format("{:<{}}  {:>4}  {:>4}  {:>4}  {:>4}  {:>6}  {:>4}  {:>10}  {}\n", "module",
                     width, "r", fmt::format("t{:g}", r.tau), "e90", "e99", "H-rank", "rec",
                     "sigma_1", "log-spectrum");
  for (const AuditModule& m : r.modules) {
    const std::string name = escape_for_terminal(m.short_name);
    if (m.metrics.untrained) {
      out += fmt::format("{:<{}}  {:>4}  {:>4}  {:>4}  {:>4}  {:>6}  {:>4}  {:>10}  {}\n", name,
                         width, m.rank, 0, 0, 0, "0", 0, "0", "untrained (all zero)");
      continue;
    }
    const SpectrumMetrics& x = m.metrics;
    out += fmt::format("{:<{}}  {:>4}  {:>4}  {:>4}  {:>4}  {:>6.2f}  {:>4}  {:>10.4g}  {}\n", name,
                       width, m.rank, x.threshold_rank, x.energy_rank_90, x.energy_rank_99,
                       x.entropy_rank, m.recommended_rank, x.sigma1,
                       log_sparkline(m.singular_values, 4.0, 32));
  }
  if (r.base) out += base_table(r, width);
  const AuditSummary& s = r.summary;
  out += fmt::format(
      "\n{} modules ({} untrained, {} flat); LoRA parameters {} -> {} recommended ({:.1f}%); "
      "file {} -> ~{}\n",
      s.modules, s.untrained, s.flat, report::short_count(s.lora_params),
      report::short_count(s.recommended_params), percent(s.recommended_params, s.lora_params),
      report::human_bytes(s.file_bytes), report::human_bytes(s.recommended_bytes));
  std::string counts;
  for (const auto& [rank, n] : s.recommended_rank_counts) counts += fmt::format(" {}×{}", n, rank);
  out += "recommended ranks (modules×rank):" + counts + "\n";
  out += view(r, false);
  out += view(r, true);
  out += "\nSuggested PEFT LoraConfig for the next run (keeps every module's scale):\n";
  // Line by line: nlohmann already wrote control characters as JSON escapes, so only raw
  // C1 and bidi characters change, and `\u0085` is still JSON for the same string.
  for (std::size_t pos = 0; pos < r.suggested_config.size();) {
    const std::size_t end = std::min(r.suggested_config.find('\n', pos), r.suggested_config.size());
    out += escape_for_terminal(std::string_view(r.suggested_config).substr(pos, end - pos)) + "\n";
    pos = end + 1;
  }
  if (s.recommended_params < s.lora_params) {
    // The same ranks now, without retraining (resize applies the same rule and snap).
    const std::filesystem::path weights(r.path);
    const bool folder = !r.config_path.empty();
    const std::filesystem::path in = folder ? weights.parent_path() : weights;
    std::filesystem::path resized = in;
    resized.replace_filename(in.stem().string() + "-resized" + (folder ? "" : in.extension().string()));
    out += fmt::format("\nOr right-size this adapter now, without retraining:\n  lorank resize {} --rule {}{} -o {}\n",
                       escape_for_terminal(shell_quote(in.string())), r.rule,
                       r.snap == "none" ? "" : " --snap " + r.snap,
                       escape_for_terminal(shell_quote(resized.string())));
  }
  return out;
}

std::string audit_csv(const AuditReport& r) {
  std::string out =
      "name,short_name,layer,type,kind,rank,out,in,scale,sigma1,frobenius,threshold_rank,"
      "energy_rank_90,energy_rank_95,energy_rank_99,entropy_rank,stable_rank,gap_index,"
      "gap_ratio,untrained,rule_rank,recommended_rank,config_rank";
  // With --base, the six §7.3 numbers follow (empty where undefined).
  constexpr const char* kBaseColumns[] = {"weight_norm", "relative_change", "projection_delta",
                                          "projection_w_top", "projection_random", "amplification"};
  if (r.base) {
    for (const char* c : kBaseColumns) out += fmt::format(",{}", c);
  }
  out += "\n";
  for (const AuditModule& m : r.modules) {
    const SpectrumMetrics& x = m.metrics;
    out += fmt::format("{},{},{},{},{},{},{},{},{:.17g},{:.17g},{:.17g},{},{},{},{},{:.17g},{:.17g},{},{:.17g},{},{},{},{}\n",
                       csv_field(m.name), csv_field(m.short_name), m.layer, csv_field(m.module_type),
                       module_kind_name(m.kind), m.rank, m.out, m.in, m.scale, x.sigma1, x.frobenius,
                       x.threshold_rank, x.energy_rank_90, x.energy_rank_95, x.energy_rank_99,
                       x.entropy_rank, x.stable_rank, x.gap_index, x.gap_ratio,
                       x.untrained ? "true" : "false", m.rule_rank, m.recommended_rank, m.config_rank);
    if (m.base) {
      const BaseComparison& c = *m.base;
      out.pop_back();  // the row's newline
      for (double v : {c.weight_norm, c.relative_change, c.projection_delta, c.projection_w_top,
                       c.projection_random, c.amplification}) {
        out += std::isfinite(v) ? fmt::format(",{:.17g}", v) : std::string(",");
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace lorank
