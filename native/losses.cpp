#include "losses.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "clones.h"
#include "fast_math.h"

namespace rnnblas {

void log_block(const double* in, double* out, int64_t n);  // losses_log.cpp

namespace {

constexpr int kSoftmaxBlock = 64;

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

// A block of rows for softmax_rows: which to take, their maxima and targets;
// out: each taken row's sum of exp(x - max) (1 where not taken) and exp(x[t] - max).
struct SoftmaxBlock {
  int rows = 0;
  const int32_t* target = nullptr;
  uint8_t active[kSoftmaxBlock] = {};
  float max[kSoftmaxBlock] = {};
  double sum[kSoftmaxBlock];
  double target_exp[kSoftmaxBlock];
};

// The block's active rows: grad row = exp(x - max) * (scale / sum). A row's sum is added in a
// fixed order (element c into lane c % 8, the lanes combined pairwise) and its exps are the
// same inline code in every lane, so its results do not depend on where it sits in a block
// or on how the rows are split between threads. d: scratch of C doubles.
RNNBLAS_CLONES
void softmax_rows(const float* __restrict logits, int64_t C, SoftmaxBlock& b, double scale,
                  double* __restrict d, float* __restrict grad) {
  for (int r = 0; r < kSoftmaxBlock; ++r) b.sum[r] = 1.0;
  for (int r = 0; r < b.rows; ++r) {
    if (b.active[r] == 0) continue;
    const float* row = logits + r * C;
    const double m = b.max[r];
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) d[c] = exp_nonpositive(static_cast<double>(row[c]) - m);
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t c = 0;
    for (; c + 8 <= C; c += 8) {
      for (int k = 0; k < 8; ++k) lane[k] += d[c + k];
    }
    for (int k = 0; c + k < C; ++k) lane[k] += d[c + k];
    const double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    const double inv = scale / s;
    float* g = grad + r * C;
    for (int64_t j = 0; j < C; ++j) g[j] = static_cast<float>(d[j] * inv);
    b.sum[r] = s;
    b.target_exp[r] = d[b.target[r]];
  }
}

// A non-finite row (NaN or Infinity among its logits) by the plain formula, which gives what
// the float64 math gives; returns its loss term and writes its gradient row.
double non_finite_row(const float* row, int64_t C, int32_t t, double scale, double* e, float* g) {
  double m = -INFINITY;
  for (int64_t c = 0; c < C; ++c) {
    const double v = row[c];
    m = v > m ? v : m;
  }
  double s = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    e[c] = std::exp(static_cast<double>(row[c]) - m);
    s += e[c];
  }
  for (int64_t c = 0; c < C; ++c) {
    if (std::isnan(static_cast<double>(row[c]))) m = NAN;
  }
  const double inv = scale / s;
  for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>(e[c] * inv);
  g[t] = static_cast<float>((e[t] / s - 1.0) * scale);
  return m + std::log(s) - static_cast<double>(row[t]);
}

}  // namespace

double softmax_cross_entropy(const float* logits, const int32_t* targets,
                             const uint8_t* mask, int64_t N, int64_t C,
                             int32_t ignore_index, double scale, float* grad) {
  thread_local std::vector<double> buffer;
  if (static_cast<int64_t>(buffer.size()) < C) buffer.resize(C);
  double* e = buffer.data();
  // Rows in blocks of 64: one call for their exps and sums, one for their logs (per row, three
  // calls, libmvec's exp and a scalar log had cost ~85 ns whatever C: W1's 2048 x 65 logits
  // took 217 us on one core).
  alignas(64) double log_sum[kSoftmaxBlock];
  double term[kSoftmaxBlock];
  double total = 0.0;
  for (int64_t n0 = 0; n0 < N; n0 += kSoftmaxBlock) {
    SoftmaxBlock b;
    b.rows = static_cast<int>(std::min<int64_t>(kSoftmaxBlock, N - n0));
    b.target = targets + n0;
    for (int r = 0; r < b.rows; ++r) {
      const int64_t n = n0 + r;
      const float* row = logits + n * C;
      float* g = grad + n * C;
      const int32_t t = targets[n];
      term[r] = 0.0;
      if ((mask != nullptr && mask[n] == 0) || t == ignore_index) {
        std::memset(g, 0, sizeof(float) * C);
        continue;
      }
      bool finite = true;
      const float m = row_max(row, C, &finite);
      if (!finite) {
        term[r] = non_finite_row(row, C, t, scale, e, g);
        continue;
      }
      b.max[r] = m;
      b.active[r] = 1;
    }
    softmax_rows(logits + n0 * C, C, b, scale, e, grad + n0 * C);
    log_block(b.sum, log_sum, kSoftmaxBlock);
    for (int r = 0; r < b.rows; ++r) {
      if (b.active[r] != 0) {
        const int64_t n = n0 + r;
        const int32_t t = targets[n];
        term[r] = static_cast<double>(b.max[r]) + log_sum[r] - static_cast<double>(logits[n * C + t]);
        grad[n * C + t] = static_cast<float>((b.target_exp[r] / b.sum[r] - 1.0) * scale);
      }
      total += term[r];
    }
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
