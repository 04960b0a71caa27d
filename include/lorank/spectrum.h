// Singular values of a LoRA update ΔW = s·B·A without forming the out×in product.
//
// Layout contract (PyTorch/PEFT order, as stored in safetensors): B ("lora_B") is out×r and
// A ("lora_A") is r×in, both ROW-MAJOR and dense (element (i,j) of B is b[i*r + j], of A is
// a[i*in + j]). Method: thin QR factorisations B = Q_B·R_B and Aᵀ = Q_A·R_A give
// s·B·A = Q_B·(s·R_B·R_Aᵀ)·Q_Aᵀ, so σ(s·B·A) = |s|·σ(R_B·R_Aᵀ), a min(out,r)×min(in,r)
// core (Golub & Van Loan 4th ed., §5.2 and §8.6). Cost O((out+in)·r²), not O(out·in·min).
//
// Accuracy (default method): every value within c·ε·|s|·‖B‖₂·‖A‖₂ of the exact one
// (ε = 2⁻⁵² for float64; c a modest polynomial in the dimensions). Float input is widened
// to double exactly, so the values are those of the float matrices as stored.
#ifndef LORANK_SPECTRUM_H_
#define LORANK_SPECTRUM_H_

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// How the R factors are computed.
enum class SpectrumMethod {
  // Householder QR (LAPACK dgeqrf, streamed as TSQR over blocks of rows). Backward stable
  // for every input.
  kHouseholderQr,
  // CholeskyQR2 (Yamamoto, Nakatsukasa, Yanagisawa, Fukaya, ETNA 44, 2015): Gram matrix,
  // Cholesky, triangular solve, once more. Matches Householder's accuracy when
  // κ₂(factor) ≤ 1/(8·sqrt((m·r + r(r+1))·ε)) (≈1.4e4 for m = 11008, r = 64); a factor
  // that is worse conditioned, rank deficient or wide is done by Householder instead.
  kCholeskyQr2,
  // One Gram matrix + Cholesky. Error ≈ ε·κ₂(factor)·σ₁, so it misses the 1e-12·σ₁
  // contract once κ > ~1e3. For comparison only; falls back to Householder when the
  // Cholesky factorisation fails.
  kGram,
};

inline constexpr SpectrumMethod kDefaultSpectrumMethod = SpectrumMethod::kCholeskyQr2;

// Dimensions of one LoRA module: B is out×r, A is r×in.
struct LoraShape {
  std::size_t out = 0;
  std::size_t r = 0;
  std::size_t in = 0;
};

// Reusable buffers for spectra of many modules. Not thread-safe: use one per thread.
// Buffers only grow, so after the largest shape has been seen no call allocates (except
// through LAPACK workspace queries' ilaenv, which does not allocate either).
class SpectrumWorkspace {
 public:
  explicit SpectrumWorkspace(SpectrumMethod method = kDefaultSpectrumMethod);
  ~SpectrumWorkspace();
  SpectrumWorkspace(SpectrumWorkspace&&) noexcept;
  SpectrumWorkspace& operator=(SpectrumWorkspace&&) noexcept;
  SpectrumWorkspace(const SpectrumWorkspace&) = delete;
  SpectrumWorkspace& operator=(const SpectrumWorkspace&) = delete;

  // Writes the min(r, out, in) singular values of scale·B·A into `values`, descending,
  // float64. REQUIRES b.size() == out·r and a.size() == r·in (else kInvalidData).
  // r == 0 or a zero dimension → empty `values`. All-zero input → zeros. A NaN/Inf in B, A
  // or scale → kNumerical naming the matrix and element. `values` is untouched on error.
  Status compute(std::span<const double> b, std::span<const double> a, LoraShape shape,
                 double scale, std::vector<double>& values);
  Status compute(std::span<const float> b, std::span<const float> a, LoraShape shape,
                 double scale, std::vector<double>& values);
  // The factors as stored (F64, F32, F16 or BF16 bytes, row-major, any alignment), widened
  // block by block inside the factorisation: no double copy of a factor is made (except
  // for Householder QR). `b.shape`/`a.shape` are not read: `shape` describes the bytes,
  // whose element counts must match (conv kernels flatten). NaN/Inf → kNumerical naming
  // "B[i, j]" or "A[i, j]"; another dtype → kNotSupported. `transposed`: the bytes are
  // Bᵀ (r×out) and Aᵀ (in×r), row-major, as mlx_lm stores them (LoraModule::transposed);
  // `shape` still names B out×r and A r×in, and the values are those of s·B·A.
  Status compute(const TensorView& b, const TensorView& a, LoraShape shape, double scale,
                 std::vector<double>& values, bool transposed = false);

  SpectrumMethod method() const;
  // Factors (B or A) that kCholeskyQr2/kGram handed to Householder QR so far.
  std::size_t householder_fallbacks() const;
  // Bytes currently held by the buffers.
  std::size_t bytes_reserved() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot conveniences (allocate a workspace per call). Raw pointers: `b` has out·r
// elements and `a` r·in, row-major; null is allowed only when that count is zero.
Result<std::vector<double>> lora_singular_values(const double* b, std::size_t out, std::size_t r,
                                                 const double* a, std::size_t in,
                                                 double scale = 1.0);
Result<std::vector<double>> lora_singular_values(std::span<const double> b,
                                                 std::span<const double> a, LoraShape shape,
                                                 double scale = 1.0);
Result<std::vector<double>> lora_singular_values(std::span<const float> b,
                                                 std::span<const float> a, LoraShape shape,
                                                 double scale = 1.0);

// One module of a batch; the spans must stay valid for the whole batch call.
template <typename T>
struct LoraFactorsView {
  std::span<const T> b;  // out×r row-major
  std::span<const T> a;  // r×in row-major
  LoraShape shape;
  double scale = 1.0;
};

struct SpectrumBatchOptions {
  unsigned threads = 0;  // 0 = default_threads() (lorank/parallel.h)
  SpectrumMethod method = kDefaultSpectrumMethod;
  // Many small factorisations parallelise better across modules than inside BLAS, so by
  // default OpenBLAS runs single-threaded while a multi-threaded batch runs, and gets its
  // thread count back when the last such batch in the process ends (concurrent batches are
  // counted; docs/kernels.md, "Threads").
  bool single_threaded_blas = true;
};

// Spectra of many modules on a pool of worker threads (one workspace each). Element i of
// the result belongs to modules[i]; one module's failure does not stop the others.
std::vector<Result<std::vector<double>>> lora_singular_values_batch(
    std::span<const LoraFactorsView<double>> modules, const SpectrumBatchOptions& options = {});
std::vector<Result<std::vector<double>>> lora_singular_values_batch(
    std::span<const LoraFactorsView<float>> modules, const SpectrumBatchOptions& options = {});

}  // namespace lorank

#endif  // LORANK_SPECTRUM_H_
