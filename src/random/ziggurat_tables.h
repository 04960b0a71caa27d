// NumPy's float64 normal ziggurat tables (numpy-rng.md §4.1), compiled in as data.
//
// They are shipped, not recomputed: the originals carry the rounding of one particular
// double-precision run, and recomputing them with glibc changes dozens of entries.
// Regenerate ziggurat_tables.inc with tools/gen_ziggurat_tables.py (docs/random.md).
#ifndef LORANK_RANDOM_ZIGGURAT_TABLES_H_
#define LORANK_RANDOM_ZIGGURAT_TABLES_H_

#include <array>
#include <cstdint>

namespace lorank::random_internal {

// Defines kZigguratR, kZigguratInvR (= 1/r in binary64) and the 256-entry tables
// kZigguratKi (u64 thresholds for the 52-bit magnitude), kZigguratWi (x-scale per strip)
// and kZigguratFi (f(x_i) = exp(-x_i^2/2)).
#include "ziggurat_tables.inc"

}  // namespace lorank::random_internal

#endif  // LORANK_RANDOM_ZIGGURAT_TABLES_H_
