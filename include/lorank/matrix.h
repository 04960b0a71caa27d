// Matrix: a small owning row-major float64 matrix, the currency of lorank's numerical API.
//
// Row-major because every file format lorank reads (safetensors, PyTorch, GGUF after the
// reader's reordering) stores tensors that way and NumPy prints them that way: element
// (i, j) lives at data[i * cols + j].
#ifndef LORANK_MATRIX_H_
#define LORANK_MATRIX_H_

#include <cstddef>
#include <span>
#include <vector>

namespace lorank {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;  // rows * cols values, row-major

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c, double fill = 0.0) : rows(r), cols(c), data(r * c, fill) {}

  double& operator()(std::size_t i, std::size_t j) { return data[i * cols + j]; }
  double operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  std::span<double> row(std::size_t i) { return {data.data() + i * cols, cols}; }
  std::span<const double> row(std::size_t i) const { return {data.data() + i * cols, cols}; }
  std::size_t size() const { return data.size(); }
};

// ‖M‖_F, accumulated in float64 in storage order.
double frobenius_norm(const Matrix& m);

// The product a·b. REQUIRES: a.cols == b.rows.
Matrix matmul(const Matrix& a, const Matrix& b);

}  // namespace lorank

#endif  // LORANK_MATRIX_H_
