#include "lorank/spectra.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "adapter/widen_factor.h"
#include "linalg/lapack.h"
#include "lorank/spectrum.h"

namespace lorank {
Result<std::vector<std::vector<double>>> module_spectra(const Adapter& adapter,
                                                         const SpectraOptions& options) {
  const std::size_t n = adapter.modules.size();
  std::vector<std::vector<double>> spectra(n);
  std::vector<Status> failures(n);
  std::atomic<std::size_t> next{0};
  // Many small factorisations: parallel across modules, one BLAS thread each.
  const linalg::BlasThreadsGuard single_blas(1);
  auto worker = [&] {
    SpectrumWorkspace ws;
    std::vector<double> a, b;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      const LoraModule& m = adapter.modules[i];
      Status s = widen_finite(m.A, adapter, a);
      if (s.ok()) s = widen_finite(m.B, adapter, b);
      if (s.ok()) {
        s = ws.compute(b, a, LoraShape{m.out, m.rank, m.in}, m.scale, spectra[i])
                .with_context(fmt::format("module '{}'", m.name));
      }
      failures[i] = std::move(s);
    }
  };
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::clamp<std::size_t>(options.threads ? options.threads : hw, 1, std::max<std::size_t>(n, 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  return spectra;
}

}  // namespace lorank
