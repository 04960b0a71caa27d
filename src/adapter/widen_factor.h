// Widening one stored LoRA factor to float64 with the NaN/Inf check every numerical
// consumer of an adapter needs (module spectra, comparison, resize).
#ifndef LORANK_ADAPTER_WIDEN_FACTOR_H_
#define LORANK_ADAPTER_WIDEN_FACTOR_H_

#include <vector>

#include "lorank/adapter.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// Widens `t` (a tensor of `adapter`) into `out`, resized to t.numel(), in storage order.
// Errors name the adapter file and the tensor: the dtype's conversion failure, or
// kNumerical with the first NaN/Inf element (a spectrum or direction of non-finite
// weights is meaningless).
Status widen_finite(const TensorView& t, const Adapter& adapter, std::vector<double>& out);

enum class Factor { kA, kB };

// Module `m`'s factor `f` widened into `out` in lorank's orientation, row-major: A r×in,
// B out×r, whatever the file's layout (mlx_lm stores both transposed: LoraModule::transposed).
// Errors are to_double's; no finiteness check.
Status widen_factor(const LoraModule& m, Factor f, std::vector<double>& out);

// widen_factor plus widen_finite's named errors and NaN/Inf check.
Status widen_factor_finite(const Adapter& adapter, const LoraModule& m, Factor f,
                           std::vector<double>& out);

// The inverse of widen_factor's reordering, for writing: `values` holds factor `f` of a
// module shaped like `m` but of any rank k (A k×in or B out×k, row-major) and is rearranged
// into the order the file stores it (mlx_lm: Aᵀ in×k, Bᵀ k×out). No-op unless m.transposed.
void to_stored_order(const LoraModule& m, Factor f, std::vector<double>& values);

// After a kNumerical failure of a computation on module `m`'s factors: if a factor holds
// NaN/Inf, the error of widen_finite naming the file, tensor and flat element (A first, as
// the file's reader sees them); else `status` unchanged. Slow path (widens both factors
// whole), taken once per failing module.
Status name_nonfinite(const Adapter& adapter, const LoraModule& m, Status status);

}  // namespace lorank

#endif  // LORANK_ADAPTER_WIDEN_FACTOR_H_
