// The Adam update (Kingma & Ba 2015, bias-corrected moments; torch.optim.Adam without
// weight decay), element by element over a flat parameter buffer. Shared by the LoRA fit
// (train/fit.cc) and the scaling experiment (experiment/scaling.cc).
#ifndef LORANK_TRAIN_ADAM_H_
#define LORANK_TRAIN_ADAM_H_

#include <cmath>
#include <cstddef>
#include <vector>

namespace lorank::train {

struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// First and second moments of n parameters, zero until the first step.
class Adam {
 public:
  explicit Adam(std::size_t n) : m_(n, 0.0), v_(n, 0.0) {}

  // Step t (1-based) on x[0..n) with gradient g[0..n).
  void step(double* x, const double* g, int t, const AdamParams& p) {
    const double c1 = 1.0 - std::pow(p.beta1, t);
    const double c2 = 1.0 - std::pow(p.beta2, t);
    for (std::size_t i = 0; i < m_.size(); ++i) {
      m_[i] = p.beta1 * m_[i] + (1.0 - p.beta1) * g[i];
      v_[i] = p.beta2 * v_[i] + (1.0 - p.beta2) * g[i] * g[i];
      x[i] -= p.lr * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + p.eps);
    }
  }

 private:
  std::vector<double> m_, v_;
};

}  // namespace lorank::train

#endif  // LORANK_TRAIN_ADAM_H_
