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

// After a kNumerical failure of a computation on module `m`'s factors: if a factor holds
// NaN/Inf, the error of widen_finite naming the file, tensor and flat element (A first, as
// the file's reader sees them); else `status` unchanged. Slow path (widens both factors
// whole), taken once per failing module.
Status name_nonfinite(const Adapter& adapter, const LoraModule& m, Status status);

}  // namespace lorank

#endif  // LORANK_ADAPTER_WIDEN_FACTOR_H_
