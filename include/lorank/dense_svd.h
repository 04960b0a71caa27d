// Singular values of a dense matrix (LAPACK dgesdd, values only). For LoRA products use
// the factored routine in spectrum.h instead: it never forms the out×in matrix.
#ifndef LORANK_DENSE_SVD_H_
#define LORANK_DENSE_SVD_H_

#include <vector>

#include "lorank/matrix.h"
#include "lorank/status.h"

namespace lorank {

// Returns min(rows, cols) singular values, descending. kNumerical for NaN/Inf entries or
// when LAPACK does not converge. An empty matrix gives an empty vector.
Result<std::vector<double>> dense_singular_values(const Matrix& m);

}  // namespace lorank

#endif  // LORANK_DENSE_SVD_H_
