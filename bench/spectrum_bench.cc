// Per-module and whole-adapter times of the LoRA spectrum routine (lorank/spectrum.h) on
// Llama-7B shapes, for each R-factor method, plus an Eigen-only variant for comparison.
//
//   build/bench/spectrum_bench --benchmark_filter=Module
//   build/bench/spectrum_bench --benchmark_filter=Adapter7B
//
// GFLOP/s uses the nominal LAPACK count of the QR-core method (shared/bench/lora_st.py):
// 2(out+in)r² − 4r³/3 for the two QRs + 2r³ (core product) + 8r³/3 (values-only SVD),
// whatever the variant actually does, so rates are comparable across variants.
#include <benchmark/benchmark.h>

// GCC 12 + -march=native: false -Wmaybe-uninitialized in avx512fintrin.h when Eigen's
// gemv is inlined (GCC bug 105593); must precede Eigen's first include of the header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "linalg/lapack.h"
#include "lorank/spectrum.h"

namespace lorank {
namespace {

struct Shape {
  std::size_t out, in;
};
// q/k/v/o (4096²), gate/up (11008×4096), down (4096×11008), GQA k/v (1024×4096).
constexpr Shape kShapes[] = {{4096, 4096}, {11008, 4096}, {4096, 11008}, {1024, 4096}};

double nominal_flops(std::size_t out, std::size_t in, std::size_t r) {
  const double rr = static_cast<double>(r);
  return 2.0 * static_cast<double>(out + in) * rr * rr - 4.0 * rr * rr * rr / 3.0 +
         2.0 * rr * rr * rr + 8.0 * rr * rr * rr / 3.0;
}

// Seeded Gaussian factors, generated once per (rows, cols, tag) and kept for the run.
const std::vector<float>& gaussian_f32(std::size_t rows, std::size_t cols, int tag) {
  static std::map<std::tuple<std::size_t, std::size_t, int>, std::vector<float>> cache;
  std::vector<float>& v = cache[{rows, cols, tag}];
  if (v.empty()) {
    std::mt19937_64 rng(rows * 1000003 + cols * 17 + static_cast<std::size_t>(tag));
    std::normal_distribution<float> normal(0.0f, 0.02f);
    v.resize(rows * cols);
    for (float& x : v) x = normal(rng);
  }
  return v;
}
const std::vector<double>& gaussian_f64(std::size_t rows, std::size_t cols, int tag) {
  static std::map<std::tuple<std::size_t, std::size_t, int>, std::vector<double>> cache;
  std::vector<double>& v = cache[{rows, cols, tag}];
  if (v.empty()) {
    const std::vector<float>& f = gaussian_f32(rows, cols, tag);
    v.assign(f.begin(), f.end());
  }
  return v;
}

// Eigen-only variant: HouseholderQR of B and Aᵀ, core product, BDCSVD (values only).
class EigenSpectrum {
 public:
  void compute(const double* b, const double* a, LoraShape s, std::vector<double>& values) {
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const auto out = static_cast<Eigen::Index>(s.out);
    const auto r = static_cast<Eigen::Index>(s.r);
    const auto in = static_cast<Eigen::Index>(s.in);
    const Eigen::Map<const RowMajor> bm(b, out, r);
    const Eigen::Map<const Eigen::MatrixXd> at(a, in, r);  // row-major A = column-major Aᵀ
    qr_b_.compute(bm);
    qr_a_.compute(at);
    const Eigen::Index kb = std::min(out, r), ka = std::min(in, r);
    rb_ = qr_b_.matrixQR().topRows(kb).triangularView<Eigen::Upper>();
    ra_ = qr_a_.matrixQR().topRows(ka).triangularView<Eigen::Upper>();
    core_.noalias() = rb_ * ra_.transpose();
    svd_.compute(core_);
    const Eigen::VectorXd& sv = svd_.singularValues();
    values.assign(sv.data(), sv.data() + sv.size());
  }

 private:
  Eigen::HouseholderQR<Eigen::MatrixXd> qr_b_, qr_a_;
  Eigen::MatrixXd rb_, ra_, core_;
  Eigen::BDCSVD<Eigen::MatrixXd> svd_;
};

constexpr int kEigen = 3;  // method index beyond the SpectrumMethod values

// Args: shape index, r, method (0 Householder, 1 CholeskyQR2, 2 Gram, 3 Eigen),
// OpenBLAS threads, float input (0/1).
void BM_Module(benchmark::State& state) {
  const Shape shape = kShapes[state.range(0)];
  const auto r = static_cast<std::size_t>(state.range(1));
  const int method = static_cast<int>(state.range(2));
  const int saved_blas_threads = linalg::blas_threads();
  linalg::set_blas_threads(static_cast<int>(state.range(3)));
  struct RestoreBlas {
    int n;
    ~RestoreBlas() { linalg::set_blas_threads(n); }
  } restore{saved_blas_threads};
  const bool f32 = state.range(4) != 0;
  const LoraShape s{shape.out, r, shape.in};
  std::vector<double> values;
  if (method == kEigen) {
    EigenSpectrum eigen;
    const std::vector<double>& b = gaussian_f64(s.out, r, 0);
    const std::vector<double>& a = gaussian_f64(r, s.in, 1);
    for (auto _ : state) {
      eigen.compute(b.data(), a.data(), s, values);
      benchmark::DoNotOptimize(values.data());
    }
  } else {
    SpectrumWorkspace workspace(static_cast<SpectrumMethod>(method));
    for (auto _ : state) {
      const Status st =
          f32 ? workspace.compute(std::span<const float>(gaussian_f32(s.out, r, 0)),
                                  std::span<const float>(gaussian_f32(r, s.in, 1)), s, 1.0, values)
              : workspace.compute(std::span<const double>(gaussian_f64(s.out, r, 0)),
                                  std::span<const double>(gaussian_f64(r, s.in, 1)), s, 1.0,
                                  values);
      if (!st.ok()) state.SkipWithError(st.to_string().c_str());
      benchmark::DoNotOptimize(values.data());
    }
    state.counters["fallbacks"] = static_cast<double>(workspace.householder_fallbacks());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(nominal_flops(s.out, s.in, r) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void module_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "r", "method", "blas_thr", "f32"});
  for (int shape = 0; shape < 4; ++shape) {
    for (int r : {16, 64}) {
      for (int method = 0; method <= kEigen; ++method) b->Args({shape, r, method, 1, 0});
      b->Args({shape, r, 0, 2, 0});  // Householder with 2 OpenBLAS threads
      b->Args({shape, r, 1, 2, 0});
      b->Args({shape, r, 1, 1, 1});  // CholeskyQR2 from float input
    }
  }
}
BENCHMARK(BM_Module)->Apply(module_args)->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole Llama-7B adapter: 32 layers × (q, k, v, o, gate, up, down) = 224 modules from
// float input. One layer's 7 modules have their own buffers (20 MB at r = 64, more than
// the caches), reused by all 32 layers to keep the benchmark's memory small.
// Args: r, method, worker threads.
void BM_Adapter7B(benchmark::State& state) {
  const auto r = static_cast<std::size_t>(state.range(0));
  SpectrumBatchOptions options;
  options.method = static_cast<SpectrumMethod>(state.range(1));
  options.threads = static_cast<unsigned>(state.range(2));
  const Shape layer[] = {{4096, 4096}, {4096, 4096},   {4096, 4096}, {4096, 4096},
                         {11008, 4096}, {11008, 4096}, {4096, 11008}};
  std::vector<LoraFactorsView<float>> modules;
  double flops = 0.0;
  for (int l = 0; l < 32; ++l) {
    for (int m = 0; m < 7; ++m) {
      const Shape sh = layer[m];
      modules.push_back({gaussian_f32(sh.out, r, 10 + 2 * m), gaussian_f32(r, sh.in, 11 + 2 * m),
                         {sh.out, r, sh.in}, 2.0});
      flops += nominal_flops(sh.out, sh.in, r);
    }
  }
  for (auto _ : state) {
    std::vector<Result<std::vector<double>>> results = lora_singular_values_batch(
        std::span<const LoraFactorsView<float>>(modules), options);
    for (const Result<std::vector<double>>& result : results) {
      if (!result) state.SkipWithError(result.error().to_string().c_str());
    }
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Adapter7B)
    ->ArgNames({"r", "method", "threads"})
    ->ArgsProduct({{16, 64}, {0, 1, 2}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace lorank

BENCHMARK_MAIN();
