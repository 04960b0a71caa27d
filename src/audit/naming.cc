// Short names, layer indices and module types of adapter module names.
#include <algorithm>
#include <array>
#include <set>

#include "lorank/module_names.h"

namespace lorank {
namespace {

char separator_of(std::string_view name) {
  return name.find('.') != std::string_view::npos ? '.' : '_';
}

std::vector<std::string_view> split(std::string_view name, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = name.find(sep, start);
    parts.push_back(name.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

// A segment of 1..9 digits (longer ones are ids, not layer numbers, and would overflow).
bool is_integer(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool is_layer_keyword(std::string_view seg) {
  static constexpr std::array<std::string_view, 6> kKeywords = {"layers", "layer", "h",
                                                                "blocks", "block", "blk"};
  for (std::string_view kw : kKeywords) {
    if (seg == kw) return true;
    // "down_blocks", "transformer_blocks", "mid_block" in dotted names.
    if (seg.size() > kw.size() && seg.ends_with(kw) && seg[seg.size() - kw.size() - 1] == '_') {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string base_relative_name(std::string_view name) {
  if (name.starts_with(kPeftModelPrefix)) name.remove_prefix(kPeftModelPrefix.size());
  return std::string(name);
}

int layer_index(std::string_view name) {
  const std::vector<std::string_view> seg = split(name, separator_of(name));
  for (std::size_t i = 0; i + 1 < seg.size(); ++i) {
    if (is_layer_keyword(seg[i]) && is_integer(seg[i + 1])) return to_int(seg[i + 1]);
  }
  for (std::string_view s : seg) {
    if (is_integer(s)) return to_int(s);
  }
  return -1;
}

std::string module_type(std::string_view full) {
  std::string_view name = full;
  if (name.starts_with(kPeftModelPrefix)) name.remove_prefix(kPeftModelPrefix.size());
  if (name.ends_with(".weight") && name.size() > 7) name.remove_suffix(7);
  const char sep = separator_of(name);
  const std::vector<std::string_view> seg = split(name, sep);
  std::size_t last = seg.size();
  for (std::size_t i = 0; i + 1 < seg.size(); ++i) {
    if (is_integer(seg[i])) last = i;
  }
  if (last == seg.size()) return std::string(name);
  std::string out;
  for (std::size_t i = last + 1; i < seg.size(); ++i) {
    if (!out.empty()) out += sep;
    out += seg[i];
  }
  return out;
}

bool natural_less(std::string_view a, std::string_view b) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      // Compare the runs as numbers of any length: skip leading zeros, then the longer run
      // is larger, then digit by digit. "007" and "7" tie here; the shorter run goes first.
      std::size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.substr(is, ie - is).compare(b.substr(js, je - js));
      if (c != 0) return c < 0;
      if (ie - i != je - j) return ie - i < je - j;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::size_t> natural_order(const std::vector<std::string>& names) {
  std::vector<std::size_t> order(names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return natural_less(names[x], names[y]); });
  return order;
}

std::string layer_group(std::string_view full) {
  std::string_view name = full;
  if (name.starts_with(kPeftModelPrefix)) name.remove_prefix(kPeftModelPrefix.size());
  const char sep = separator_of(name);
  const std::vector<std::string_view> seg = split(name, sep);
  std::size_t end = seg.size();  // the group is seg[0..end]
  for (std::size_t i = 0; i < seg.size() && end == seg.size(); ++i) {
    if (is_layer_keyword(seg[i])) end = i + 1 < seg.size() && is_integer(seg[i + 1]) ? i + 1 : i;
  }
  if (end == seg.size()) {
    for (std::size_t i = 0; i < seg.size() && end == seg.size(); ++i) {
      if (is_integer(seg[i])) end = i;
    }
  }
  if (end == seg.size()) return "";
  std::size_t length = 0;
  for (std::size_t i = 0; i <= end; ++i) length += seg[i].size() + (i ? 1 : 0);
  return std::string(name.substr(0, length));
}

std::vector<std::string> display_names(const std::vector<std::string>& names) {
  std::vector<std::string> rel;
  rel.reserve(names.size());
  for (const std::string& n : names) rel.push_back(base_relative_name(n));
  const auto unique = [](const std::vector<std::string>& v) {
    std::set<std::string_view> seen;
    for (const std::string& s : v) {
      if (s.empty() || !seen.insert(s).second) return false;
    }
    return true;
  };
  if (!unique(rel)) return names;
  if (rel.size() < 2) return rel;

  // One separator for the whole set, so every name is cut at the same kind of boundary.
  const bool dotted = std::any_of(rel.begin(), rel.end(), [](const std::string& s) {
    return s.find('.') != std::string::npos;
  });
  const char sep = dotted ? '.' : '_';
  std::vector<std::vector<std::string_view>> seg;
  std::size_t fewest = static_cast<std::size_t>(-1);
  for (const std::string& s : rel) {
    seg.push_back(split(s, sep));
    fewest = std::min(fewest, seg.back().size());
  }
  // The leading segments every name shares, leaving each name at least one segment.
  std::size_t common = 0;
  while (common + 1 < fewest &&
         std::all_of(seg.begin(), seg.end(), [&](const std::vector<std::string_view>& s) {
           return s[common] == seg[0][common];
         })) {
    ++common;
  }
  // Keep the segment naming a number ("layers.0", not "0"), and in kohya names the word it
  // belongs to ("down_blocks_0", "mid_block", not "blocks_0", "block").
  const auto starts_badly = [&](std::size_t k) {
    return std::any_of(seg.begin(), seg.end(), [&](const std::vector<std::string_view>& s) {
      return is_integer(s[k]) || (!dotted && k > 0 && is_layer_keyword(s[k]));
    });
  };
  while (common > 0 && starts_badly(common)) --common;
  if (common == 0) return rel;

  std::vector<std::string> out;
  out.reserve(rel.size());
  for (std::size_t i = 0; i < rel.size(); ++i) {
    std::size_t drop = 0;
    for (std::size_t k = 0; k < common; ++k) drop += seg[i][k].size() + 1;
    out.push_back(rel[i].substr(drop));
  }
  return unique(out) ? out : rel;
}

}  // namespace lorank
