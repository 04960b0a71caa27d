#include "lorank/spectra.h"

#include <algorithm>
#include <mutex>

#include "adapter/module_order.h"
#include "adapter/widen_factor.h"
#include "linalg/lapack.h"
#include "lorank/parallel.h"
#include "lorank/spectrum.h"

namespace lorank {

Result<std::vector<std::vector<double>>> module_spectra(const Adapter& adapter,
                                                         const SpectraOptions& options) {
  const std::size_t n = adapter.modules.size();
  std::vector<std::vector<double>> spectra(n);
  std::vector<Status> failures(n);
  const std::vector<std::size_t> order = largest_modules_first(adapter.modules);
  std::mutex progress_mutex;
  std::size_t done = 0;
  // One workspace per thread: it streams each factor in blocks, O(block·r + r²) doubles.
  std::vector<SpectrumWorkspace> workspaces(worker_count(options.threads, n));
  // Many small factorisations: parallel across modules, one BLAS thread each (the BLAS
  // only does the r×r Cholesky, triangular product and core SVD).
  const linalg::SingleThreadedBlas single_blas;
  parallel_for_workers(n, options.threads, [&](std::size_t worker, std::size_t k) {
    const std::size_t i = order[k];
    const LoraModule& m = adapter.modules[i];
    Status s = workspaces[worker].compute(m.B, m.A, LoraShape{m.out, m.rank, m.in}, m.scale,
                                          spectra[i], m.transposed);
    if (!s.ok()) {
      s = name_nonfinite(adapter, m, std::move(s)).with_context(fmt::format("module '{}'", m.name));
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
  });
  for (Status& s : failures) LORANK_RETURN_IF_ERROR(std::move(s));
  return spectra;
}

}  // namespace lorank
