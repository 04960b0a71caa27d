// The machinery behind lorank/kernels.h.
//
// A kernel file (src/*/*_kernel.cc) is compiled three times (CMakeLists.txt), with
// LORANK_KERNEL_VARIANT = generic, avx2 or avx512 and the matching -march (x86-64,
// x86-64-v3, x86-64-v4). It defines its functions inside
// namespace lorank::detail::LORANK_KERNEL_VARIANT and ends with one constant table of
// function pointers, declared for all three by LORANK_DECLARE_KERNEL_VARIANTS; the
// ordinary (once-compiled) code calls through select(table_name). One source per kernel;
// the compiler specialises it per instruction set.
//
// Rule for kernel files: do not call an inline function of a shared header that does
// floating-point work unless it has internal linkage (core/float_bits.h does). An inline
// function with external linkage is emitted in every object that uses it and the linker
// keeps ONE copy, perhaps the AVX-512 one, which the generic variant would then call.
#ifndef LORANK_CORE_KERNEL_VARIANT_H_
#define LORANK_CORE_KERNEL_VARIANT_H_

#include "lorank/kernels.h"

namespace lorank::detail {

// The active level as an index 0..2 (KernelLevel's value); decided at the first call.
int active_kernel_index();

template <typename Table>
const Table& select(const Table& generic, const Table& avx2, const Table& avx512) {
  switch (active_kernel_index()) {
    case 2: return avx512;
    case 1: return avx2;
    default: return generic;
  }
}

}  // namespace lorank::detail

// Declares `Type name` in each variant's namespace and `const Type& name_for(KernelLevel)`
// / `const Type& name_active()` in the enclosing namespace (lorank::detail).
#define LORANK_DECLARE_KERNEL_VARIANTS(Type, name)                                 \
  namespace generic { extern const Type name; }                                    \
  namespace avx2 { extern const Type name; }                                       \
  namespace avx512 { extern const Type name; }                                     \
  inline const Type& name##_for(::lorank::KernelLevel level) {                     \
    return level == ::lorank::KernelLevel::kAvx512 ? avx512::name                  \
           : level == ::lorank::KernelLevel::kAvx2 ? avx2::name : generic::name;   \
  }                                                                                \
  inline const Type& name##_active() { return ::lorank::detail::select(generic::name, avx2::name, avx512::name); }

#endif  // LORANK_CORE_KERNEL_VARIANT_H_
