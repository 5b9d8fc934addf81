#include "packed_gemm.h"

#include <cassert>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RNNBLAS_HAVE_AVX512_KERNEL 1
#define RNNBLAS_AVX512 __attribute__((target("avx512f,fma")))
#define RNNBLAS_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace rnnblas {

int64_t packed_size(const PanelLayout& l) {
  return l.K * panel_count(l) * kPanelWidth;
}

// Where panel p's columns start in B (and C), and how many are real.
inline int64_t panel_column(const PanelLayout& l, int64_t p) {
  return (p % l.gates) * l.units + (p / l.gates) * kPanelWidth;
}
inline int64_t panel_width(const PanelLayout& l, int64_t p) {
  const int64_t left = l.units - (p / l.gates) * kPanelWidth;
  return left < kPanelWidth ? left : kPanelWidth;
}

void pack_panels(const float* w, bool transpose, const PanelLayout& l,
                 float* packed, int64_t p0, int64_t p1) {
  const int64_t K = l.K, N = l.gates * l.units;
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = packed + p * K * kPanelWidth;
    const int64_t c0 = panel_column(l, p);
    const int64_t width = panel_width(l, p);
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

bool packed_isa_supported(PackedIsa isa) {
  static const bool fma = __builtin_cpu_supports("fma");
  static const bool avx2 = fma && __builtin_cpu_supports("avx2");
  static const bool avx512 = fma && __builtin_cpu_supports("avx512f");
  return isa == PackedIsa::Avx512 ? avx512 : avx2;
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
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    lo[i] = _mm512_setzero_ps();
    hi[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(panel + (k + 16) * kPanelWidth),
                 _MM_HINT_T0);
    const __m512 b0 = _mm512_loadu_ps(panel + k * kPanelWidth);
    const __m512 b1 = _mm512_loadu_ps(panel + k * kPanelWidth + 16);
  #pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[i * lda + k]);
      lo[i] = _mm512_fmadd_ps(a, b0, lo[i]);
      hi[i] = _mm512_fmadd_ps(a, b1, hi[i]);
    }
  }
#pragma GCC unroll 8
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

// The AVX2 kernel: 16 registers allow a 6x16 tile (12 accumulators, the
// classic Haswell shape), so a 32-wide panel is done as two 16-wide halves.
// Lanes 0..n-1 of 8 set.
RNNBLAS_AVX2 inline __m256i lanes8(int64_t n) {
  const int clamped = static_cast<int>(n < 0 ? 0 : (n > 8 ? 8 : n));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(clamped),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The store masks are made after the K loop: all 16 ymm registers are taken
// during it (12 accumulators, 2 panel rows, 1 broadcast).
template <int MR>
RNNBLAS_AVX2 void micro_tile_avx2(int64_t K, const float* A, int64_t lda,
                                  const float* half_panel, float* C,
                                  int64_t ldc, int64_t width, bool accumulate) {
  __m256 lo[MR], hi[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    lo[i] = _mm256_setzero_ps();
    hi[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_loadu_ps(half_panel + k * kPanelWidth);
    const __m256 b1 = _mm256_loadu_ps(half_panel + k * kPanelWidth + 8);
  #pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
      const __m256 a = _mm256_broadcast_ss(A + i * lda + k);
      lo[i] = _mm256_fmadd_ps(a, b0, lo[i]);
      hi[i] = _mm256_fmadd_ps(a, b1, hi[i]);
    }
  }
  const __m256i m0 = lanes8(width), m1 = lanes8(width - 8);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* c = C + i * ldc;
    if (accumulate) {
      lo[i] = _mm256_add_ps(lo[i], _mm256_maskload_ps(c, m0));
      hi[i] = _mm256_add_ps(hi[i], _mm256_maskload_ps(c + 8, m1));
    }
    _mm256_maskstore_ps(c, m0, lo[i]);
    _mm256_maskstore_ps(c + 8, m1, hi[i]);
  }
}

using TileAvx2 = void (*)(int64_t, const float*, int64_t, const float*, float*,
                          int64_t, int64_t, bool);
constexpr TileAvx2 kTilesAvx2[7] = {
    nullptr,            micro_tile_avx2<1>, micro_tile_avx2<2>,
    micro_tile_avx2<3>, micro_tile_avx2<4>, micro_tile_avx2<5>,
    micro_tile_avx2<6>};

RNNBLAS_AVX2 void gemm_packed_avx2(int64_t M, const PanelLayout& l,
                                   const float* A, int64_t lda,
                                   const float* packed, float* C, int64_t ldc,
                                   bool accumulate, int64_t p0, int64_t p1) {
  const int64_t K = l.K;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t col = panel_column(l, p);
    const int64_t panel_cols = panel_width(l, p);
    for (int64_t half = 0; half < panel_cols; half += 16) {
      const int64_t width = panel_cols - half;
      const float* half_panel = packed + p * K * kPanelWidth + half;
      float* c = C + col + half;
      int64_t i = 0;
      for (; i + 6 <= M; i += 6) {
        micro_tile_avx2<6>(K, A + i * lda, lda, half_panel, c + i * ldc, ldc,
                           width, accumulate);
      }
      if (i < M) {
        kTilesAvx2[M - i](K, A + i * lda, lda, half_panel, c + i * ldc, ldc,
                          width, accumulate);
      }
    }
  }
}

}  // namespace

void gemm_packed(PackedIsa isa, int64_t M, const PanelLayout& l, const float* A,
                 int64_t lda, const float* packed, float* C, int64_t ldc,
                 bool accumulate, int64_t p0, int64_t p1) {
  assert(packed_isa_supported(isa));
  assert(0 <= p0 && p0 <= p1 && p1 <= panel_count(l));
  if (isa == PackedIsa::Avx2) {
    gemm_packed_avx2(M, l, A, lda, packed, C, ldc, accumulate, p0, p1);
    return;
  }
  const int64_t K = l.K;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t width = panel_width(l, p);
    const __mmask16 m0 = lanes(width), m1 = lanes(width - 16);
    const float* panel = packed + p * K * kPanelWidth;
    float* c = C + panel_column(l, p);
    int64_t i = 0;
    for (; i + 8 <= M; i += 8) {
      micro_tile<8>(K, A + i * lda, lda, panel, c + i * ldc, ldc, m0, m1,
                    accumulate);
    }
    if (i < M) {
      kTiles[M - i](K, A + i * lda, lda, panel, c + i * ldc, ldc, m0, m1,
                    accumulate);
    }
  }
}

#else

bool packed_isa_supported(PackedIsa) { return false; }

void gemm_packed(PackedIsa, int64_t, const PanelLayout&, const float*, int64_t,
                 const float*, float*, int64_t, bool, int64_t, int64_t) {
  assert(false && "no packed kernel on this target");
}

#endif

}  // namespace rnnblas
