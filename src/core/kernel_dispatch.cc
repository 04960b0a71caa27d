// Run-time choice of the kernel variant (lorank/kernels.h, core/kernel_variant.h).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/kernel_variant.h"
#include "lorank/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lorank {
namespace {

KernelLevel detect_level() {
#if defined(__x86_64__) || defined(__i386__)
  // Feature by feature, because clang 14 does not know the "x86-64-v3/v4" level names.
  // __builtin_cpu_supports also checks that the OS saves the YMM/ZMM state (XGETBV);
  // the three features neither compiler names there come from CPUID directly.
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool f16c_movbe = false, lzcnt = false;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    f16c_movbe = (ecx & (1u << 29)) != 0 && (ecx & (1u << 22)) != 0;
  }
  if (__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx)) lzcnt = (ecx & (1u << 5)) != 0;
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                  f16c_movbe && lzcnt;
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  if (v4) return KernelLevel::kAvx512;
  if (v3) return KernelLevel::kAvx2;
#endif
  return KernelLevel::kGeneric;
}

// LORANK_KERNELS parsed once: the level it asks for, or why it cannot be honoured.
struct Override {
  bool set = false;
  KernelLevel level = KernelLevel::kGeneric;
  Status status;
};

const Override& environment_override() {
  static const Override value = [] {
    Override o;
    const char* env = std::getenv("LORANK_KERNELS");
    if (env == nullptr || *env == '\0') return o;
    for (KernelLevel level : kAllKernelLevels) {
      if (kernel_level_name(level) == env) {
        o.level = level;
        o.set = cpu_supports(level);
        if (!o.set) {
          o.status = invalid_argument(
              "LORANK_KERNELS={}: this CPU does not support {} (best here: {})", env, env,
              kernel_level_name(cpu_kernel_level()));
        }
        return o;
      }
    }
    o.status = invalid_argument("LORANK_KERNELS={}: expected generic, avx2 or avx512", env);
    return o;
  }();
  return value;
}

// -1 until the first kernel call decides.
std::atomic<int> g_active{-1};

int decide() {
  const Override& o = environment_override();
  return static_cast<int>(o.set ? o.level : cpu_kernel_level());
}

}  // namespace

std::string_view kernel_level_name(KernelLevel level) {
  switch (level) {
    case KernelLevel::kAvx512: return "avx512";
    case KernelLevel::kAvx2: return "avx2";
    default: return "generic";
  }
}

KernelLevel cpu_kernel_level() {
  static const KernelLevel level = detect_level();
  return level;
}

KernelLevel active_kernel_level() { return static_cast<KernelLevel>(detail::active_kernel_index()); }

Status kernel_override_status() { return environment_override().status; }

ScopedKernelLevel::ScopedKernelLevel(KernelLevel level) : saved_(active_kernel_level()) {
  g_active.store(static_cast<int>(cpu_supports(level) ? level : cpu_kernel_level()),
                 std::memory_order_relaxed);
}
ScopedKernelLevel::~ScopedKernelLevel() {
  g_active.store(static_cast<int>(saved_), std::memory_order_relaxed);
}

namespace detail {

int active_kernel_index() {
  int level = g_active.load(std::memory_order_relaxed);
  if (level < 0) {  // every thread computes the same value: a benign race
    level = decide();
    g_active.store(level, std::memory_order_relaxed);
  }
  return level;
}

}  // namespace detail
}  // namespace lorank
