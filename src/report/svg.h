// A tiny SVG writer for the HTML audit report: scales (linear, log with decade ticks),
// primitives (rect, line, polyline, circle, text) and HTML escaping. Output is compact
// (coordinates rounded to 0.1 px) because a 1000-module report draws ~100k primitives.
#ifndef LORANK_REPORT_SVG_H_
#define LORANK_REPORT_SVG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lorank::report {

// Text safe inside HTML/SVG element content and single- or double-quoted attributes:
// & < > " ' become entities; invalid UTF-8 and C0/DEL controls (other than \t \n) become
// U+FFFD, so hostile tensor names can neither inject markup nor break the page's encoding.
std::string escape_html(std::string_view text);

// A coordinate or length for an attribute: at most one decimal, never "nan"/"inf"
// (non-finite input becomes 0; callers clamp before drawing, this is a last guard).
std::string coord(double v);

// Maps [d0, d1] onto [r0, r1] linearly (r1 < r0 for a y axis pointing up).
struct LinearScale {
  double d0 = 0.0, d1 = 1.0, r0 = 0.0, r1 = 1.0;
  double operator()(double v) const;
};

// Maps [d0, d1] (0 < d0 < d1) onto [r0, r1] in log10; values outside (and non-positive
// ones, which have no logarithm) are clamped to the ends, so log(0) never reaches a plot.
struct LogScale {
  double d0 = 1e-8, d1 = 1.0, r0 = 0.0, r1 = 1.0;
  double operator()(double v) const;
};

// Powers of ten in [lo, hi] (lo > 0), ascending.
std::vector<double> decade_ticks(double lo, double hi);
// "1", "0.1", "1e-3": short labels for decade ticks.
std::string decade_label(double v);

class Svg {
 public:
  // An <svg> of the given size that scales down (never up) to its container's width.
  Svg(double width, double height, std::string_view aria_label, std::string_view css_class = "");

  void rect(double x, double y, double w, double h, std::string_view cls,
            std::string_view fill = "");
  void line(double x1, double y1, double x2, double y2, std::string_view cls);
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view cls);
  void circle(double cx, double cy, double r, std::string_view cls);
  // `text` is escaped. anchor: "start", "middle" or "end". `rotate` in degrees about (x, y).
  void text(double x, double y, std::string_view text, std::string_view cls,
            std::string_view anchor = "start", double rotate = 0.0);
  // <g> with an optional hover tooltip (<title>, escaped) and translation.
  void open_group(std::string_view tooltip = "", double dx = 0.0, double dy = 0.0,
                  std::string_view cls = "");
  void close_group();
  // Trusted markup written by this library only (never file-derived text).
  void raw(std::string_view markup);

  std::string finish();

 private:
  std::string out_;
  int open_groups_ = 0;
};

}  // namespace lorank::report

#endif  // LORANK_REPORT_SVG_H_
