#include "losses.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace rnnblas {

double exp_shifted_row(const float* row, int64_t C, double m, double* e);  // losses_exp.cpp

double softmax_cross_entropy(const float* logits, const int32_t* targets,
                             const uint8_t* mask, int64_t N, int64_t C,
                             int32_t ignore_index, double scale, float* grad) {
  std::vector<double> e(static_cast<size_t>(C));
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const float* row = logits + n * C;
    float* g = grad + n * C;
    const int32_t t = targets[n];
    if ((mask != nullptr && mask[n] == 0) || t == ignore_index) {
      std::memset(g, 0, sizeof(float) * C);
      continue;
    }
    double m = -INFINITY;
    bool finite = true;
    for (int64_t c = 0; c < C; ++c) {
      const double v = row[c];
      finite = finite && std::isfinite(v);
      m = v > m ? v : m;
    }
    double s = 0.0;
    if (finite) {
      s = exp_shifted_row(row, C, m, e.data());
    } else {
      // NaN/Infinity: the plain formula gives what the float64 math gives.
      for (int64_t c = 0; c < C; ++c) {
        e[c] = std::exp(static_cast<double>(row[c]) - m);
        s += e[c];
      }
      for (int64_t c = 0; c < C; ++c) {
        if (std::isnan(static_cast<double>(row[c]))) m = NAN;
      }
    }
    total += m + std::log(s) - static_cast<double>(row[t]);
    const double inv = scale / s;
    for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>(e[c] * inv);
    g[t] = static_cast<float>((e[t] / s - 1.0) * scale);
  }
  return total;
}

double squared_error(const float* pred, const float* target, const uint8_t* mask,
                     int64_t rows, int64_t inner, double scale, float* grad) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = pred + r * inner;
    const float* t = target + r * inner;
    float* g = grad + r * inner;
    if (mask != nullptr && mask[r] == 0) {
      std::memset(g, 0, sizeof(float) * inner);
      continue;
    }
    double row_sum = 0.0;
    for (int64_t i = 0; i < inner; ++i) {
      const double d = static_cast<double>(p[i]) - t[i];
      g[i] = static_cast<float>(scale * d);
      row_sum += d * d;
    }
    total += row_sum;
  }
  return total;
}

}  // namespace rnnblas
