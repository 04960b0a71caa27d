// The order in which to hand an adapter's modules to a pool of workers.
#ifndef LORANK_ADAPTER_MODULE_ORDER_H_
#define LORANK_ADAPTER_MODULE_ORDER_H_

#include <cstddef>
#include <vector>

#include "lorank/adapter.h"

namespace lorank {

// Module indices, most expensive first ((out + in)·r², the cost of a QR of both factors),
// ties in file order. LPT scheduling: the last modules to start are the cheap ones, so
// the workers finish together (module sizes differ 3× in a 7B model).
std::vector<std::size_t> largest_modules_first(const std::vector<LoraModule>& modules);

}  // namespace lorank

#endif  // LORANK_ADAPTER_MODULE_ORDER_H_
