// One matrix of `lorank extract`: ΔW = W_finetuned − W_base streamed by row blocks, its
// exact ‖ΔW‖²_F, the rule's top-k Ritz directions and the factors L·R ≈ ΔW with the
// achieved error. Internal to src/extract.
#ifndef LORANK_EXTRACT_DELTA_SVD_H_
#define LORANK_EXTRACT_DELTA_SVD_H_

#include <cstddef>
#include <vector>

#include "linalg/top_singular_values.h"
#include "lorank/checkpoint.h"
#include "lorank/extract.h"

namespace lorank::extract_internal {

// Rows of ΔW in double: the fine-tune's rows minus the base's (both widened exactly), with
// a one-line kInvalidData naming the tensor, the file and the row for NaN/Inf in either.
class DeltaReader {
 public:
  DeltaReader(const Checkpoint& base, const CheckpointTensor& b, const Checkpoint& tuned,
              const CheckpointTensor& t);
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  Status operator()(std::size_t row0, std::size_t n, double* dst);
  linalg::RowBlockReader as_reader() {
    return [this](std::size_t r, std::size_t n, double* d) { return (*this)(r, n, d); };
  }

 private:
  const Checkpoint& base_;
  const CheckpointTensor& b_;
  const Checkpoint& tuned_;
  const CheckpointTensor& t_;
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<double> scratch_;
};

// Σ ΔW² over one streamed pass (and the NaN/Inf check); also ‖W_base‖²_F.
struct DeltaNorms {
  double delta_sq = 0.0, base_sq = 0.0;
};
Result<DeltaNorms> delta_norms(const Checkpoint& base, const CheckpointTensor& b,
                               const Checkpoint& tuned, const CheckpointTensor& t);

// ΔW ≈ L·R, L rows×k and R k×cols row-major: L = ΔW·V, R = Vᵀ for a tall ΔW (V the right
// Ritz vectors), L = U, R = Uᵀ·ΔW for a wide one. `matrix` gets k, σ̂, passes, bound,
// energy and the errors.
struct DeltaFactors {
  std::vector<double> left, right;
};
Result<DeltaFactors> delta_factors(DeltaReader& reader, double delta_sq,
                                   const ExtractOptions& options, ExtractedMatrix& matrix);

}  // namespace lorank::extract_internal

#endif  // LORANK_EXTRACT_DELTA_SVD_H_
