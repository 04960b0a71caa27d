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

std::vector<std::string> short_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& n : names) out.push_back(base_relative_name(n));

  if (out.size() >= 2) {
    std::size_t lcp = out[0].size();
    for (const std::string& s : out) {
      lcp = std::min(lcp, static_cast<std::size_t>(
                              std::mismatch(out[0].begin(),
                                            out[0].begin() + std::min(lcp, s.size()), s.begin())
                                  .first -
                              out[0].begin()));
    }
    // Cut back to just after a separator, leaving at least one character of every name, and
    // never in front of a number ("model.layers." + "0.self_attn" would lose the context).
    const auto is_sep = [](char c) { return c == '.' || c == '_'; };
    std::size_t cut = lcp;
    const auto valid = [&](std::size_t c) {
      if (c == 0) return true;
      if (!is_sep(out[0][c - 1])) return false;
      for (const std::string& s : out) {
        if (s.size() <= c || (s[c] >= '0' && s[c] <= '9')) return false;
      }
      return true;
    };
    while (cut > 0 && !valid(cut)) --cut;
    if (cut >= 8) {
      for (std::string& s : out) s.erase(0, cut);
    }
  }

  std::set<std::string> seen;
  for (const std::string& s : out) {
    if (s.empty() || !seen.insert(s).second) return names;
  }
  return out;
}

}  // namespace lorank
