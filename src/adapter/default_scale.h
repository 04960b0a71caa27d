// The scale of modules whose adapter has no config (PEFT or mlx_lm weights alone).
#ifndef LORANK_ADAPTER_DEFAULT_SCALE_H_
#define LORANK_ADAPTER_DEFAULT_SCALE_H_

#include "lorank/adapter.h"

namespace lorank::adapter {

// Every module gets alpha = --alpha (or its rank, so scale 1) and scale alpha/r, and the
// adapter one warning saying which was assumed.
void apply_configless_scales(Adapter& a, const AdapterOptions& options);

}  // namespace lorank::adapter

#endif  // LORANK_ADAPTER_DEFAULT_SCALE_H_
