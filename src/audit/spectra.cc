#include "lorank/spectra.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>
#include <thread>

#include "adapter/widen_factor.h"
#include "linalg/lapack.h"
#include "lorank/spectrum.h"

namespace lorank {
namespace {

// Work of one module's spectrum: the streamed CholeskyQR2 costs ≈ 3·(out + in)·r² flops.
double module_cost(const LoraModule& m) {
  const double r = static_cast<double>(m.rank);
  return (static_cast<double>(m.out) + static_cast<double>(m.in)) * r * r;
}

// After a kNumerical failure: if a factor holds NaN/Inf, the error names the tensor and
// its flat element (A first, as the file's reader sees them); else `status` unchanged.
// Slow path (widens both factors whole), taken once per failing module.
Status name_nonfinite(const Adapter& adapter, const LoraModule& m, Status status) {
  if (status.code() != StatusCode::kNumerical) return status;
  std::vector<double> values;
  for (const TensorView* t : {&m.A, &m.B}) {
    if (Status named = widen_finite(*t, adapter, values); !named.ok()) return named;
  }
  return status;
}

}  // namespace

Result<std::vector<std::vector<double>>> module_spectra(const Adapter& adapter,
                                                         const SpectraOptions& options) {
  const std::size_t n = adapter.modules.size();
  std::vector<std::vector<double>> spectra(n);
  std::vector<Status> failures(n);
  // Largest modules first (LPT scheduling): the last modules to start are the cheap ones,
  // so the workers finish together. Stable, so equal modules keep file order.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return module_cost(adapter.modules[x]) > module_cost(adapter.modules[y]);
  });
  std::atomic<std::size_t> next{0};
  std::mutex progress_mutex;
  std::size_t done = 0;
  // Many small factorisations: parallel across modules, one BLAS thread each (the BLAS
  // only does the r×r Cholesky, triangular product and core SVD).
  const linalg::BlasThreadsGuard single_blas(1);
  auto worker = [&] {
    SpectrumWorkspace ws;  // streams each factor in blocks: O(block·r + r²) doubles
    for (std::size_t k; (k = next.fetch_add(1)) < n;) {
      const std::size_t i = order[k];
      const LoraModule& m = adapter.modules[i];
      Status s = ws.compute(m.B, m.A, LoraShape{m.out, m.rank, m.in}, m.scale, spectra[i]);
      if (!s.ok()) {
        s = name_nonfinite(adapter, m, std::move(s))
                .with_context(fmt::format("module '{}'", m.name));
      }
      failures[i] = std::move(s);
      // Each factor is read by exactly this module: its mapped pages can go, which keeps
      // the resident set at the modules in flight whatever the file's size.
      release_tensor_pages(adapter, m.A);
      release_tensor_pages(adapter, m.B);
      if (options.progress) {
        const std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(++done, n);
      }
    }
  };
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::clamp<std::size_t>(options.threads ? options.threads : hw, 1,
                                                      std::max<std::size_t>(n, 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  return spectra;
}

}  // namespace lorank
