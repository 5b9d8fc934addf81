#include "packed_gemm.h"

#include <cassert>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RNNBLAS_HAVE_AVX512_KERNEL 1
#define RNNBLAS_AVX512 __attribute__((target("avx512f,fma")))
#endif

namespace rnnblas {

int64_t packed_size(int64_t K, int64_t N) {
  return K * ((N + kPanelWidth - 1) / kPanelWidth) * kPanelWidth;
}

void pack_panels(const float* w, bool transpose, int64_t K, int64_t N,
                 float* packed, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = packed + p * K * kPanelWidth;
    const int64_t c0 = p * kPanelWidth;
    const int64_t width = N - c0 < kPanelWidth ? N - c0 : kPanelWidth;
    if (transpose) {
      // Row n of w becomes column n of the panel: read each row once.
      for (int64_t j = 0; j < kPanelWidth; ++j) {
        if (j < width) {
          const float* row = w + (c0 + j) * K;
          for (int64_t k = 0; k < K; ++k) dst[k * kPanelWidth + j] = row[k];
        } else {
          for (int64_t k = 0; k < K; ++k) dst[k * kPanelWidth + j] = 0.0f;
        }
      }
    } else {
      for (int64_t k = 0; k < K; ++k) {
        const float* row = w + k * N + c0;
        float* out = dst + k * kPanelWidth;
        int64_t j = 0;
        for (; j < width; ++j) out[j] = row[j];
        for (; j < kPanelWidth; ++j) out[j] = 0.0f;
      }
    }
  }
}

#ifdef RNNBLAS_HAVE_AVX512_KERNEL

bool packed_gemm_supported() {
  static const bool supported = __builtin_cpu_supports("avx512f") &&
                                __builtin_cpu_supports("fma");
  return supported;
}

namespace {

// MR rows of C by one 32-wide panel, over the whole of K: 2*MR accumulators
// stay in registers, each step broadcasts MR values of A and loads one panel
// row. MR = 8 keeps the FMA pipes full (16 independent chains).
template <int MR>
RNNBLAS_AVX512 void micro_tile(int64_t K, const float* A, int64_t lda,
                               const float* panel, float* C, int64_t ldc,
                               __mmask16 m0, __mmask16 m1, bool accumulate) {
  __m512 lo[MR], hi[MR];
  for (int i = 0; i < MR; ++i) {
    lo[i] = _mm512_setzero_ps();
    hi[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(panel + (k + 16) * kPanelWidth),
                 _MM_HINT_T0);
    const __m512 b0 = _mm512_loadu_ps(panel + k * kPanelWidth);
    const __m512 b1 = _mm512_loadu_ps(panel + k * kPanelWidth + 16);
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[i * lda + k]);
      lo[i] = _mm512_fmadd_ps(a, b0, lo[i]);
      hi[i] = _mm512_fmadd_ps(a, b1, hi[i]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    float* c = C + i * ldc;
    if (accumulate) {
      lo[i] = _mm512_add_ps(lo[i], _mm512_maskz_loadu_ps(m0, c));
      hi[i] = _mm512_add_ps(hi[i], _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, lo[i]);
    _mm512_mask_storeu_ps(c + 16, m1, hi[i]);
  }
}

using Tile = void (*)(int64_t, const float*, int64_t, const float*, float*,
                      int64_t, __mmask16, __mmask16, bool);
constexpr Tile kTiles[9] = {nullptr,        micro_tile<1>, micro_tile<2>,
                            micro_tile<3>,  micro_tile<4>, micro_tile<5>,
                            micro_tile<6>,  micro_tile<7>, micro_tile<8>};

inline __mmask16 lanes(int64_t n) {
  if (n <= 0) return 0;
  if (n >= 16) return 0xFFFF;
  return static_cast<__mmask16>((1u << n) - 1);
}

}  // namespace

void gemm_packed(int64_t M, int64_t K, const float* A, int64_t lda,
                 const float* packed, float* C, int64_t ldc, bool accumulate,
                 int64_t n0, int64_t n1) {
  assert(packed_gemm_supported());
  assert(n0 % kPanelWidth == 0 && n0 <= n1);
  for (int64_t j = n0; j < n1; j += kPanelWidth) {
    const int64_t width = n1 - j;
    const __mmask16 m0 = lanes(width), m1 = lanes(width - 16);
    const float* panel = packed + (j / kPanelWidth) * K * kPanelWidth;
    int64_t i = 0;
    for (; i + 8 <= M; i += 8) {
      micro_tile<8>(K, A + i * lda, lda, panel, C + i * ldc + j, ldc, m0, m1,
                    accumulate);
    }
    if (i < M) {
      kTiles[M - i](K, A + i * lda, lda, panel, C + i * ldc + j, ldc, m0, m1,
                    accumulate);
    }
  }
}

#else

bool packed_gemm_supported() { return false; }

void gemm_packed(int64_t, int64_t, const float*, int64_t, const float*, float*,
                 int64_t, bool, int64_t, int64_t) {
  assert(false && "packed_gemm_supported() is false on this target");
}

#endif

}  // namespace rnnblas
