// The streamed CholeskyQR2 (blocks of rows, widened from the stored dtype) against the dense
// SVD and against the in-memory double path: block and panel boundaries, stored dtypes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "linalg/spectrum_testing.h"
#include "lorank/spectrum.h"
#include "lorank/tensor.h"

namespace lorank {
namespace {

using testing::RowMatrix;

constexpr double kTolerance = 1e-12;  // of σ₁, per value, as in spectrum_test.cc

struct Stored {
  std::vector<std::byte> bytes;
  std::vector<double> widened;  // the stored values, exactly
  TensorView view() const { return {"t", dtype, Shape{}, bytes}; }
  DType dtype;
};

Stored store(const RowMatrix& m, DType dtype) {
  Stored s;
  s.dtype = dtype;
  s.bytes.resize(static_cast<std::size_t>(m.size()) * dtype_size(dtype));
  EXPECT_TRUE(from_double({m.data(), static_cast<std::size_t>(m.size())}, dtype, s.bytes).ok());
  s.widened.resize(static_cast<std::size_t>(m.size()));
  EXPECT_TRUE(to_double(TensorView{"t", dtype, Shape{{m.size()}}, s.bytes}, s.widened).ok());
  return s;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& ref,
                  std::size_t count, const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_EQ(got.size(), count);
  const double tol = kTolerance * (ref.empty() ? 0.0 : ref[0]);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    EXPECT_LE(std::fabs((i < got.size() ? got[i] : 0.0) - ref[i]), tol) << "value " << i;
  }
}

// Spectrum of the stored factors via TensorView, checked against the dense SVD of the
// widened values and, bit for bit, against the double-span path.
void check(const RowMatrix& b, const RowMatrix& a, DType dtype, SpectrumMethod method,
           const std::string& what) {
  const LoraShape shape{static_cast<std::size_t>(b.rows()), static_cast<std::size_t>(b.cols()),
                        static_cast<std::size_t>(a.cols())};
  const std::string label = what + " " + std::string(dtype_name(dtype)) + " " +
                            std::to_string(shape.out) + "x" + std::to_string(shape.r) + "x" +
                            std::to_string(shape.in);
  const Stored sb = store(b, dtype), sa = store(a, dtype);
  SpectrumWorkspace ws(method);
  std::vector<double> got, from_double;
  ASSERT_TRUE(ws.compute(sb.view(), sa.view(), shape, 0.75, got).ok()) << label;
  ASSERT_TRUE(ws.compute(std::span<const double>(sb.widened), std::span<const double>(sa.widened),
                         shape, 0.75, from_double).ok());
  EXPECT_EQ(got, from_double) << label;
  const RowMatrix bw = Eigen::Map<const RowMatrix>(sb.widened.data(), b.rows(), b.cols());
  const RowMatrix aw = Eigen::Map<const RowMatrix>(sa.widened.data(), a.rows(), a.cols());
  expect_close(got, testing::dense_singular_values(bw, aw, 0.75),
               std::min({shape.out, shape.r, shape.in}), label);
}

class SpectrumStream : public ::testing::TestWithParam<DType> {};

TEST_P(SpectrumStream, WellConditionedAcrossBlockAndPanelBoundaries) {
  std::mt19937_64 rng(7001);
  // r = 1, 7, 8, 9, 13, 64 and 96 (panels of 8 and their remainders); out up to 3001
  // rows (several 256 KB blocks and a partial one); in < r (wide A → Householder).
  const std::size_t shapes[][3] = {{5, 1, 3},      {40, 7, 33},   {300, 8, 257},
                                   {3001, 9, 700}, {2049, 13, 9}, {1500, 64, 1100},
                                   {2100, 96, 400}, {90, 64, 30}};
  for (const auto& s : shapes) {
    check(testing::gaussian(s[0], s[1], rng), testing::gaussian(s[1], s[2], rng), GetParam(),
          SpectrumMethod::kCholeskyQr2, "gaussian");
  }
}

TEST_P(SpectrumStream, IllConditionedRankDeficientAndZero) {
  std::mt19937_64 rng(7002);
  for (double spread : {1e-4, 1e-8, 1e-12}) {
    const RowMatrix b = testing::with_spectrum(1200, 24, testing::geometric(24, spread), rng);
    const RowMatrix a = testing::with_spectrum(24, 900, testing::geometric(24, spread), rng);
    check(b, a, GetParam(), SpectrumMethod::kCholeskyQr2, "spread " + std::to_string(spread));
  }
  // Rank 5 of r = 16 in both factors: singular Gram matrices → Householder.
  const RowMatrix b = testing::gaussian(700, 5, rng) * testing::gaussian(5, 16, rng);
  const RowMatrix a = testing::gaussian(16, 5, rng) * testing::gaussian(5, 600, rng);
  check(b, a, GetParam(), SpectrumMethod::kCholeskyQr2, "rank deficient");
  check(RowMatrix::Zero(300, 16), RowMatrix::Zero(16, 200), GetParam(),
        SpectrumMethod::kCholeskyQr2, "zero");
}

TEST_P(SpectrumStream, EveryMethodReadsStoredBytes) {
  std::mt19937_64 rng(7003);
  for (SpectrumMethod m : {SpectrumMethod::kHouseholderQr, SpectrumMethod::kCholeskyQr2}) {
    check(testing::gaussian(1000, 32, rng), testing::gaussian(32, 1300, rng), GetParam(), m,
          "method");
  }
}

std::string dtype_label(const ::testing::TestParamInfo<DType>& p) {
  return std::string(dtype_name(p.param));
}

INSTANTIATE_TEST_SUITE_P(StoredDtypes, SpectrumStream,
                         ::testing::Values(DType::kBF16, DType::kF16, DType::kF32, DType::kF64),
                         dtype_label);

TEST(SpectrumStreamErrors, NonFiniteStoredElementIsNamed) {
  std::mt19937_64 rng(7004);
  RowMatrix b = testing::gaussian(600, 12, rng);
  RowMatrix a = testing::gaussian(12, 500, rng);
  a(3, 444) = INFINITY;
  const Stored sb = store(b, DType::kBF16), sa = store(a, DType::kBF16);
  SpectrumWorkspace ws;
  std::vector<double> values{1.0};
  const Status st = ws.compute(sb.view(), sa.view(), {600, 12, 500}, 1.0, values);
  EXPECT_EQ(st.code(), StatusCode::kNumerical);
  EXPECT_NE(st.message().find("A[3, 444] is inf"), std::string::npos) << st.message();
  EXPECT_EQ(values, std::vector<double>{1.0});
}

TEST(SpectrumStreamErrors, UnalignedBytesAndWrongCounts) {
  std::mt19937_64 rng(7005);
  const RowMatrix b = testing::gaussian(100, 8, rng), a = testing::gaussian(8, 90, rng);
  const Stored sb = store(b, DType::kF32), sa = store(a, DType::kF32);
  std::vector<std::byte> shifted(sb.bytes.size() + 1);  // F32 elements at odd addresses
  std::copy(sb.bytes.begin(), sb.bytes.end(), shifted.begin() + 1);
  const TensorView odd{"b", DType::kF32, Shape{}, std::span<const std::byte>(shifted).subspan(1)};
  SpectrumWorkspace ws;
  std::vector<double> aligned, unaligned;
  ASSERT_TRUE(ws.compute(sb.view(), sa.view(), {100, 8, 90}, 1.0, aligned).ok());
  ASSERT_TRUE(ws.compute(odd, sa.view(), {100, 8, 90}, 1.0, unaligned).ok());
  EXPECT_EQ(aligned, unaligned);
  EXPECT_EQ(ws.compute(sb.view(), sa.view(), {100, 8, 91}, 1.0, aligned).code(),
            StatusCode::kInvalidData);
}

}  // namespace
}  // namespace lorank
