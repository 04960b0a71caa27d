#include "adapter/module_order.h"

#include <algorithm>
#include <numeric>

namespace lorank {

std::vector<std::size_t> largest_modules_first(const std::vector<LoraModule>& modules) {
  auto cost = [&](std::size_t i) {
    const LoraModule& m = modules[i];
    const double r = static_cast<double>(m.rank);
    return (static_cast<double>(m.out) + static_cast<double>(m.in)) * r * r;
  };
  std::vector<std::size_t> order(modules.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return cost(x) > cost(y); });
  return order;
}

}  // namespace lorank
