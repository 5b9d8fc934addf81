#include "small_gemv.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "clones.h"

namespace rnnblas {

static void gemv_rows_scalar(const float* __restrict w, const float* __restrict in,
                             float beta, float* __restrict out, int64_t m,
                             int64_t n) {
  for (int64_t j = 0; j < m; ++j) {
    const float* row = w + j * n;
    float s = 0.0f;
    for (int64_t k = 0; k < n; ++k) s += row[k] * in[k];
    out[j] = (beta == 0.0f ? 0.0f : beta * out[j]) + s;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)

__attribute__((target("avx2,fma"))) static inline float hsum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Four rows at a time share each load of `in`: the dot products are the work.
__attribute__((target("avx2,fma"))) static void gemv_rows_avx2(
    const float* __restrict w, const float* __restrict in, float beta,
    float* __restrict out, int64_t m, int64_t n) {
  const int64_t n8 = n & ~int64_t{7};
  int64_t j = 0;
  for (; j + 4 <= m; j += 4) {
    const float* r0 = w + j * n;
    const float* r1 = r0 + n;
    const float* r2 = r1 + n;
    const float* r3 = r2 + n;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t k = 0; k < n8; k += 8) {
      const __m256 v = _mm256_loadu_ps(in + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + k), v, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + k), v, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + k), v, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + k), v, a3);
    }
    float s[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)};
    for (int64_t k = n8; k < n; ++k) {
      s[0] += r0[k] * in[k];
      s[1] += r1[k] * in[k];
      s[2] += r2[k] * in[k];
      s[3] += r3[k] * in[k];
    }
    for (int l = 0; l < 4; ++l) {
      out[j + l] = (beta == 0.0f ? 0.0f : beta * out[j + l]) + s[l];
    }
  }
  if (j < m) gemv_rows_scalar(w + j * n, in, beta, out + j, m - j, n);
}
#endif

void gemv_rows(const float* w, const float* in, float beta, float* out,
               int64_t m, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (has_avx2) {
    gemv_rows_avx2(w, in, beta, out, m, n);
    return;
  }
#endif
  gemv_rows_scalar(w, in, beta, out, m, n);
}

RNNBLAS_CLONES
void gemv_cols(const float* __restrict w, const float* __restrict in, float beta,
               float* __restrict out, int64_t m, int64_t n) {
  if (beta == 0.0f) {
    for (int64_t k = 0; k < n; ++k) out[k] = 0.0f;
  } else if (beta != 1.0f) {
    for (int64_t k = 0; k < n; ++k) out[k] *= beta;
  }
  for (int64_t j = 0; j < m; ++j) {
    const float a = in[j];
    const float* row = w + j * n;
    for (int64_t k = 0; k < n; ++k) out[k] += a * row[k];
  }
}

}  // namespace rnnblas
