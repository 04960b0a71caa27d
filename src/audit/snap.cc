// Snapping recommended ranks to the ranks servers accept.
#include <algorithm>
#include <array>

#include "lorank/rank.h"

namespace lorank {
namespace {

// vLLM's accepted max_lora_rank values (vllm-omni PR#1397; anchors.md §d.6).
constexpr std::array<int, 9> kVllmRanks = {1, 8, 16, 32, 64, 128, 256, 320, 512};

}  // namespace

std::string_view snap_name(Snap snap) {
  switch (snap) {
    case Snap::kNone:
      return "none";
    case Snap::kVllm:
      return "vllm";
    case Snap::kPow2:
      return "pow2";
  }
  return "none";
}

Result<Snap> parse_snap(std::string_view name) {
  for (Snap s : {Snap::kNone, Snap::kVllm, Snap::kPow2}) {
    if (snap_name(s) == name) return s;
  }
  return invalid_argument(
      "unknown snap '{}': choose none, vllm (1, 8, 16, 32, 64, 128, 256, "
      "320, 512) or pow2",
      name);
}

int snap_rank(int rank, Snap snap, std::size_t max_rank) {
  if (rank <= 0 || max_rank == 0) return 0;
  long long snapped = rank;
  if (snap == Snap::kVllm) {
    const auto it = std::lower_bound(kVllmRanks.begin(), kVllmRanks.end(), rank);
    snapped = it == kVllmRanks.end() ? kVllmRanks.back() : *it;
  } else if (snap == Snap::kPow2) {
    snapped = 1;
    while (snapped < rank) snapped *= 2;
  }
  const long long cap = static_cast<long long>(std::min<std::size_t>(max_rank, 1u << 30));
  return static_cast<int>(std::max(1LL, std::min(snapped, cap)));
}

}  // namespace lorank
