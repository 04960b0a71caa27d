// Tiny terminal charts: unicode sparklines and a progress bar for stderr.
#ifndef LORANK_TEXT_CHART_H_
#define LORANK_TEXT_CHART_H_

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>

namespace lorank {

// One block character (▁..█) per value, height ∝ log10(value / max) over `decades` decades
// below the maximum (values at or below max·10^-decades, zeros included, show as ' ').
// An empty or all-zero input gives spaces. At most `width` characters: longer inputs are
// summarised by taking every ⌈n/width⌉-th value.
std::string log_sparkline(std::span<const double> values, double decades = 4.0,
                          std::size_t width = 16);

// A one-line progress bar on `stream`, drawn only when the stream is a terminal and the
// work has taken longer than `delay` (so short runs and pipes/CI logs stay clean).
// Not thread-safe: call update() from one thread.
class ProgressBar {
 public:
  ProgressBar(std::FILE* stream, std::string label, std::size_t total,
              std::chrono::milliseconds delay = std::chrono::milliseconds(300));
  ~ProgressBar();  // finish()
  void update(std::size_t done);
  // Clears the line if anything was drawn; later update() calls draw nothing.
  void finish();

 private:
  std::FILE* stream_;
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::milliseconds delay_;
};

}  // namespace lorank

#endif  // LORANK_TEXT_CHART_H_
