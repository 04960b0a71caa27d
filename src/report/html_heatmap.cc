// The heatmap section: recommended rank by layer (rows) × module type (columns).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "lorank/module_names.h"
#include "report/html_sections.h"
#include "report/svg.h"

namespace lorank::report {
namespace {

// Rows are layer groups (module_names.h: layer_group), so SD's down_blocks.1 and up_blocks.1,
// or T5's encoder.block.3 and decoder.block.3, get rows of their own; "" is "no layer".
struct Row {
  std::string key;    // layer_group, "" for modules without a layer
  std::string label;  // its display name
};
// The row-label column fits the longest label whole ("te1_text_model_encoder_layers_3" keeps
// its "te1"); only a label past kMaxLabelChars (no real adapter's) is cut, with an ellipsis.
constexpr double kLabelCharWidth = 6.2;  // px per character of the 11 px label font
constexpr std::size_t kMaxLabelChars = 48;
double label_width(const std::vector<Row>& rows) {
  std::size_t longest = 8;  // "no layer"
  for (const Row& r : rows) longest = std::max(longest, r.label.size());
  return 12.0 + kLabelCharWidth * static_cast<double>(std::min(longest, kMaxLabelChars));
}
constexpr double kHeaderHeight = 104.0; // rotated column labels
constexpr double kRightPad = 110.0;     // room for the last rotated label
constexpr double kMinCell = 12.0, kMaxCell = 76.0;

struct Cell {
  int max_k = 0;
  int max_r = 0;
  std::size_t modules = 0, untrained = 0;
  std::vector<const AuditModule*> members;
};

std::string cell_tooltip(const std::string& type, const Row& row, const Cell& c) {
  std::string t = fmt::format("{} \u00b7 {}\n", row.label, type);
  if (c.untrained == c.modules) {
    t += fmt::format("untrained (r={})", c.max_r);
  } else {
    t += fmt::format("recommended k={} (current r={})", c.max_k, c.max_r);
    if (c.untrained) t += fmt::format(", {} untrained", c.untrained);
  }
  if (c.modules > 1) t += fmt::format("\n{} modules, the highest k shown:", c.modules);
  for (std::size_t i = 0; i < c.members.size() && i < 4; ++i) t += "\n" + c.members[i]->name;
  if (c.members.size() > 4) t += fmt::format("\n\u2026 and {} more", c.members.size() - 4);
  return t;
}

// One heatmap block for columns [c0, c1) of the groups (blocks keep cells readable when an
// adapter has more module types than fit across the page).
std::string render_block(const std::vector<TypeGroup>& groups, std::size_t c0, std::size_t c1,
                         const std::vector<Row>& layers,
                         const std::map<std::pair<std::string, std::size_t>, Cell>& cells,
                         int kmax) {
  const std::size_t cols = c1 - c0;
  const double label_w = label_width(layers);
  const double cw = std::clamp((kContentWidth - label_w - kRightPad) / static_cast<double>(cols),
                               kMinCell, kMaxCell);
  const double rh = std::clamp(1000.0 / static_cast<double>(layers.size()), 5.0, 20.0);
  const std::size_t label_every = static_cast<std::size_t>(std::ceil(11.0 / rh));
  const double width = label_w + static_cast<double>(cols) * cw + kRightPad;
  const double height = kHeaderHeight + static_cast<double>(layers.size()) * rh + 4;
  Svg svg(width, height, "recommended rank by layer and module type", "heat");
  for (std::size_t c = c0; c < c1; ++c) {
    const double cx = label_w + static_cast<double>(c - c0) * cw + cw / 2;
    svg.open_group(groups[c].type);
    svg.text(cx, kHeaderHeight - 6, shorten(groups[c].type, 24, true), "hl", "start", -38.0);
    svg.close_group();
  }
  for (std::size_t r = 0; r < layers.size(); ++r) {
    const double y = kHeaderHeight + static_cast<double>(r) * rh;
    if (r % label_every == 0) svg.text(label_w - 6, y + rh / 2 + 3.5, shorten(layers[r].label, kMaxLabelChars, true), "hr", "end");
    for (std::size_t c = c0; c < c1; ++c) {
      const double x = label_w + static_cast<double>(c - c0) * cw;
      const auto it = cells.find({layers[r].key, c});
      if (it == cells.end()) {
        svg.rect(x + 0.5, y + 0.5, cw - 1, rh - 1, "hempty");
        continue;
      }
      const Cell& cell = it->second;
      svg.open_group(cell_tooltip(groups[c].type, layers[r], cell));
      if (cell.untrained == cell.modules) {
        svg.rect(x + 0.5, y + 0.5, cw - 1, rh - 1, "huntrained");
        if (cw >= 16 && rh >= 11) svg.text(x + cw / 2, y + rh / 2 + 3.5, "\u00d7", "hx", "middle");
      } else {
        const double t = kmax > 0 ? static_cast<double>(cell.max_k) / kmax : 0.0;
        svg.rect(x + 0.5, y + 0.5, cw - 1, rh - 1, "", sequential_colour(t));
        if (cw >= 16 && rh >= 11) {
          svg.text(x + cw / 2, y + rh / 2 + 3.5, fmt::format("{}", cell.max_k),
                   sequential_is_dark(t) ? "hv dark" : "hv", "middle");
        }
      }
      svg.close_group();
    }
  }
  return svg.finish();
}

std::string legend(int kmax) {
  constexpr int kSteps = 8;
  constexpr double kBox = 26.0;
  Svg svg(kSteps * kBox + 300, 34, "heatmap legend", "legend");
  svg.text(0, 12, "recommended k", "hl");
  svg.text(0, 28, "(up to max r)", "tk");
  for (int i = 0; i < kSteps; ++i) {
    const double t = static_cast<double>(i + 1) / kSteps;
    svg.rect(90 + i * kBox, 2, kBox, 14, "", sequential_colour(t));
  }
  svg.text(90, 28, "1", "tk", "start");
  svg.text(90 + kSteps * kBox, 28, fmt::format("{}", std::max(kmax, 1)), "tk", "end");
  const double x = 90 + kSteps * kBox + 16;
  svg.rect(x, 2, 14, 14, "huntrained");
  svg.text(x + 18, 13, "untrained", "hl");
  svg.rect(x + 80, 2.5, 13, 13, "hempty");
  svg.text(x + 98, 13, "no module", "hl");
  return svg.finish();
}

}  // namespace

std::string render_heatmap(const AuditReport& report, const std::vector<TypeGroup>& groups) {
  std::string out =
      "<section id=\"heatmap\"><h2>Recommended rank by layer \u00d7 module type</h2>"
      "<p class=\"note\">Each cell is the recommended rank k of the module at that layer "
      "(the highest k when several modules share a cell; hover for names). Modules without "
      "a layer index are in the <i>no layer</i> row.</p>";
  if (groups.empty()) return out + "<p class=\"empty\">No LoRA modules.</p></section>\n";
  std::map<std::pair<std::string, std::size_t>, Cell> cells;
  std::vector<std::string> keys;
  int kmax = 0;
  for (std::size_t c = 0; c < groups.size(); ++c) {
    for (const AuditModule* m : groups[c].modules) {
      const std::string layer = layer_group(m->name);
      Cell& cell = cells[{layer, c}];
      ++cell.modules;
      cell.members.push_back(m);
      cell.max_r = std::max(cell.max_r, static_cast<int>(m->rank));
      if (m->metrics.untrained) {
        ++cell.untrained;
      } else {
        cell.max_k = std::max(cell.max_k, m->recommended_rank);
      }
      // Colour by k relative to the largest current rank: "how much of r is used" reads the
      // same across adapters, and a uniform k (planted rank) is not all-black.
      kmax = std::max({kmax, m->recommended_rank, static_cast<int>(m->rank)});
      keys.push_back(layer);
    }
  }
  std::sort(keys.begin(), keys.end(), NaturalLess());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const bool no_layer = !keys.empty() && keys.front().empty();  // "" sorts first
  if (no_layer) keys.erase(keys.begin());
  const std::vector<std::string> labels = display_names(keys);
  std::vector<Row> layers;
  for (std::size_t i = 0; i < keys.size(); ++i) layers.push_back({keys[i], labels[i]});
  if (no_layer) layers.push_back({"", "no layer"});  // reads best last
  const std::size_t per_block = static_cast<std::size_t>(
      (kContentWidth - label_width(layers) - kRightPad) / kMinCell);
  out += "<div class=\"heatwrap\">";
  for (std::size_t c0 = 0; c0 < groups.size(); c0 += per_block) {
    out += render_block(groups, c0, std::min(groups.size(), c0 + per_block), layers, cells, kmax);
  }
  out += "</div>" + legend(kmax) + "</section>\n";
  return out;
}

}  // namespace lorank::report
