#include "losses.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "clones.h"

namespace rnnblas {

double exp_shifted_row(const float* row, int64_t C, double m, double* e);  // losses_exp.cpp

namespace {

// The row maximum, and whether every value is finite (its exponent bits not all ones), both as
// vector reductions (`omp simd`: the earlier form, a float sum of v * 0, could not be reordered
// and was one dependent chain, half of a W1-sized loss). The max of finite values is the same in
// any order; only a zero's sign may differ, which nothing downstream sees (x - m and m + log(s)
// give the same values).
RNNBLAS_CLONES
float row_max(const float* __restrict row, int64_t C, bool* finite) {
  float m = -INFINITY;
  uint32_t special = 0;
#pragma omp simd reduction(max : m) reduction(| : special)
  for (int64_t c = 0; c < C; ++c) {
    const float v = row[c];
    m = v > m ? v : m;
    uint32_t bits;
    std::memcpy(&bits, &row[c], sizeof bits);
    special |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  *finite = special == 0;
  return m;
}

// g[c] = e[c] * inv (float), the bulk of the gradient row.
RNNBLAS_CLONES
void scale_row(const double* __restrict e, double inv, float* __restrict g, int64_t C) {
  for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>(e[c] * inv);
}

}  // namespace

double softmax_cross_entropy(const float* logits, const int32_t* targets,
                             const uint8_t* mask, int64_t N, int64_t C,
                             int32_t ignore_index, double scale, float* grad) {
  thread_local std::vector<double> buffer;
  if (static_cast<int64_t>(buffer.size()) < C) buffer.resize(C);
  double* e = buffer.data();
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const float* row = logits + n * C;
    float* g = grad + n * C;
    const int32_t t = targets[n];
    if ((mask != nullptr && mask[n] == 0) || t == ignore_index) {
      std::memset(g, 0, sizeof(float) * C);
      continue;
    }
    bool finite = true;
    double m = row_max(row, C, &finite);
    double s = 0.0;
    if (finite) {
      s = exp_shifted_row(row, C, m, e);
    } else {
      // NaN/Infinity: the plain formula gives what the float64 math gives.
      m = -INFINITY;
      for (int64_t c = 0; c < C; ++c) {
        const double v = row[c];
        m = v > m ? v : m;
      }
      for (int64_t c = 0; c < C; ++c) {
        e[c] = std::exp(static_cast<double>(row[c]) - m);
        s += e[c];
      }
      for (int64_t c = 0; c < C; ++c) {
        if (std::isnan(static_cast<double>(row[c]))) m = NAN;
      }
    }
    total += m + std::log(s) - static_cast<double>(row[t]);
    scale_row(e, scale / s, g, C);
    g[t] = static_cast<float>((e[t] / s - 1.0) * scale);
  }
  return total;
}

RNNBLAS_CLONES
double squared_error(const float* pred, const float* target, const uint8_t* mask,
                     int64_t rows, int64_t inner, double scale, float* grad) {
  // A row's sum in eight float64 lanes (element i into lane i % 8, combined pairwise, then the
  // rest in order): one running sum was a dependent chain, 4 cycles an element (W3's loss, 6.5M
  // elements, ~9 ms). The order is fixed in the source, so every clone gives the same bits.
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict p = pred + r * inner;
    const float* __restrict t = target + r * inner;
    float* __restrict g = grad + r * inner;
    if (mask != nullptr && mask[r] == 0) {
      std::memset(g, 0, sizeof(float) * inner);
      continue;
    }
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= inner; i += 8) {
      for (int k = 0; k < 8; ++k) {
        const double d = static_cast<double>(p[i + k]) - t[i + k];
        g[i + k] = static_cast<float>(scale * d);
        lane[k] += d * d;
      }
    }
    double row_sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (; i < inner; ++i) {
      const double d = static_cast<double>(p[i]) - t[i];
      g[i] = static_cast<float>(scale * d);
      row_sum += d * d;
    }
    total += row_sum;
  }
  return total;
}

}  // namespace rnnblas
