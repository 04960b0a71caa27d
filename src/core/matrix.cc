#include "lorank/matrix.h"

#include <cmath>

namespace lorank {

double frobenius_norm(const Matrix& m) {
  double sum = 0.0;
  for (double v : m.data) sum += v * v;
  return std::sqrt(sum);
}

Matrix matmul(const Matrix& a, const Matrix& b) {
  Matrix c(a.rows, b.cols);
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t k = 0; k < a.cols; ++k) {
      const double aik = a(i, k);
      const double* brow = b.data.data() + k * b.cols;
      double* crow = c.data.data() + i * c.cols;
      for (std::size_t j = 0; j < b.cols; ++j) crow[j] += aik * brow[j];
    }
  }
  return c;
}

}  // namespace lorank
