#include "lorank/text_chart.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace lorank {
namespace {

constexpr const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

}  // namespace

std::string log_sparkline(std::span<const double> values, double decades, std::size_t width) {
  std::string out;
  if (values.empty() || width == 0) return out;
  const std::size_t step = (values.size() + width - 1) / width;
  double max = 0.0;
  for (double v : values) max = std::max(max, std::isfinite(v) ? v : 0.0);
  for (std::size_t i = 0; i < values.size(); i += step) {
    const double v = values[i];
    if (!(max > 0.0) || !(v > 0.0) || !std::isfinite(v)) {
      out += ' ';
      continue;
    }
    const double level = 1.0 + std::log10(v / max) / decades;  // 1 at max, 0 at the floor
    if (level <= 0.0) {
      out += ' ';
      continue;
    }
    const int idx = std::clamp(static_cast<int>(std::ceil(level * 8.0)) - 1, 0, 7);  // 8 bins
    out += kBlocks[idx];
  }
  return out;
}

ProgressBar::ProgressBar(std::FILE* stream, std::string label, std::size_t total,
                         std::chrono::milliseconds delay)
    : stream_(stream),
      label_(std::move(label)),
      total_(total),
      enabled_(stream != nullptr && ::isatty(::fileno(stream)) != 0 && total > 0),
      start_(std::chrono::steady_clock::now()),
      delay_(delay) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::finish() {
  if (drawn_) {
    std::fputs("\r\033[K", stream_);
    std::fflush(stream_);
  }
  drawn_ = false;
  enabled_ = false;
}

void ProgressBar::update(std::size_t done) {
  if (!enabled_ || std::chrono::steady_clock::now() - start_ < delay_) return;
  constexpr int kWidth = 30;
  const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stream_, "\r%s [%s] %zu/%zu", label_.c_str(), bar.c_str(), done, total_);
  std::fflush(stream_);
  drawn_ = true;
}

}  // namespace lorank
