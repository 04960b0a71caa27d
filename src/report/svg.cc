#include "report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/text.h"

namespace lorank::report {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(text, i);
      if (len == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\t': case '\n': out += static_cast<char>(c); break;
      default:
        if (c < 0x20 || c == 0x7F) out += kReplacement;
        else out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string coord(double v) {
  if (!std::isfinite(v)) v = 0.0;
  const double r = std::round(v * 10.0) / 10.0;
  return r == std::floor(r) ? fmt::format("{}", static_cast<long long>(r)) : fmt::format("{:.1f}", r);
}

double LinearScale::operator()(double v) const {
  if (!std::isfinite(v) || d1 == d0) return r0;
  return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

double LogScale::operator()(double v) const {
  const double c = std::isfinite(v) ? std::clamp(v, d0, d1) : d0;
  const double l0 = std::log10(d0), l1 = std::log10(d1);
  if (l1 == l0) return r0;
  return r0 + (std::log10(c) - l0) / (l1 - l0) * (r1 - r0);
}

std::vector<double> decade_ticks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0.0) || !(hi >= lo)) return ticks;
  for (int e = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
       e <= static_cast<int>(std::floor(std::log10(hi) + 1e-9)); ++e) {
    ticks.push_back(std::pow(10.0, e));
  }
  return ticks;
}

std::string decade_label(double v) {
  const int e = static_cast<int>(std::lround(std::log10(v)));
  if (e == 0) return "1";
  if (e == -1) return "0.1";
  if (e == 1) return "10";
  return fmt::format("1e{}", e);
}

Svg::Svg(double width, double height, std::string_view aria_label, std::string_view css_class) {
  out_ = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-label=\"{2}\"{3}>",
      coord(width), coord(height), escape_html(aria_label),
      css_class.empty() ? std::string() : fmt::format(" class=\"{}\"", escape_html(css_class)));
}

void Svg::rect(double x, double y, double w, double h, std::string_view cls,
               std::string_view fill) {
  out_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"", coord(x), coord(y),
                      coord(std::max(w, 0.0)), coord(std::max(h, 0.0)));
  if (!cls.empty()) out_ += fmt::format(" class=\"{}\"", cls);
  if (!fill.empty()) out_ += fmt::format(" fill=\"{}\"", escape_html(fill));
  out_ += "/>";
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view cls) {
  out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"/>", coord(x1),
                      coord(y1), coord(x2), coord(y2), cls);
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, std::string_view cls) {
  if (points.empty()) return;
  out_ += "<polyline points=\"";
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) out_ += ' ';
    out_ += coord(points[i].first) + "," + coord(points[i].second);
  }
  out_ += fmt::format("\" class=\"{}\"/>", cls);
}

void Svg::circle(double cx, double cy, double r, std::string_view cls) {
  out_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" class=\"{}\"/>", coord(cx), coord(cy),
                      coord(r), cls);
}

void Svg::text(double x, double y, std::string_view text, std::string_view cls,
               std::string_view anchor, double rotate) {
  out_ += fmt::format("<text x=\"{}\" y=\"{}\"", coord(x), coord(y));
  if (!cls.empty()) out_ += fmt::format(" class=\"{}\"", cls);
  if (anchor != "start") out_ += fmt::format(" text-anchor=\"{}\"", anchor);
  if (rotate != 0.0) {
    out_ += fmt::format(" transform=\"rotate({} {} {})\"", coord(rotate), coord(x), coord(y));
  }
  out_ += '>';
  out_ += escape_html(text);
  out_ += "</text>";
}

void Svg::open_group(std::string_view tooltip, double dx, double dy, std::string_view cls) {
  out_ += "<g";
  if (dx != 0.0 || dy != 0.0) {
    out_ += fmt::format(" transform=\"translate({} {})\"", coord(dx), coord(dy));
  }
  if (!cls.empty()) out_ += fmt::format(" class=\"{}\"", cls);
  out_ += ">";
  if (!tooltip.empty()) {
    out_ += "<title>";
    out_ += escape_html(tooltip);
    out_ += "</title>";
  }
  ++open_groups_;
}

void Svg::close_group() {
  if (open_groups_ == 0) return;
  out_ += "</g>";
  --open_groups_;
}

void Svg::raw(std::string_view markup) { out_ += markup; }

std::string Svg::finish() {
  while (open_groups_ > 0) close_group();  // a forgotten close must not unbalance the page
  out_ += "</svg>";
  return std::move(out_);
}

}  // namespace lorank::report
