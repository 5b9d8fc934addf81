// Matrix-vector products for batch-1 recurrent steps. OpenBLAS threads sgemv
// from 9216 elements up, which for a 128x128 W_hh costs more in wake-ups than
// the product itself; these single-threaded, vectorised loops win below
// kSmallGemvMax rows/columns.
#pragma once
#include <cstdint>

namespace rnnblas {

constexpr int64_t kSmallGemvMax = 512;

// out[j] = beta*out[j] + sum_k w[j*n + k] * in[k]   (w is m x n, row-major)
void gemv_rows(const float* w, const float* in, float beta, float* out,
               int64_t m, int64_t n);

// out[k] = beta*out[k] + sum_j in[j] * w[j*n + k]   (in W, w is m x n)
void gemv_cols(const float* w, const float* in, float beta, float* out,
               int64_t m, int64_t n);

}  // namespace rnnblas
