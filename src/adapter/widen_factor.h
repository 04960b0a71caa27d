// Widening one stored LoRA factor to float64 with the NaN/Inf check every numerical
// consumer of an adapter needs (module spectra, adapter comparison).
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

}  // namespace lorank

#endif  // LORANK_ADAPTER_WIDEN_FACTOR_H_
