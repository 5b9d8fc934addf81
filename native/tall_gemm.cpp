#include "tall_gemm.h"

#include "packed_gemm.h"

#include <algorithm>
#include <cassert>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RNNBLAS_HAVE_TALL_KERNEL 1
#define RNNBLAS_AVX512 __attribute__((target("avx512f,fma")))
#endif

namespace rnnblas {

namespace {

#ifdef RNNBLAS_HAVE_TALL_KERNEL
// Rows of K per pass over C's tiles (64 and 256 measured slower or no
// faster at M = N = 256). Each 32-column strip of B's chunk is first copied
// so that each k's 32 values are contiguous; every 8-row tile of C then reads
// it from L1; A's 8 values of a k are read in place (half a cache line).
constexpr int64_t kChunk = 128;
constexpr int kTileRows = 8;
constexpr int64_t kTileCols = 32;

// C's tile of R rows by 32 columns over a chunk of kc rows: a is A at the
// tile's first row and column (row stride lda), b the chunk's strip of B
// ([kc][32]). 2R accumulators, loaded from C and stored back.
template <int R>
RNNBLAS_AVX512 void tile(const float* a, int64_t lda, const float* b, int64_t kc, float* C,
                         int64_t ldc) {
  __m512 lo[R], hi[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    lo[r] = _mm512_loadu_ps(C + r * ldc);
    hi[r] = _mm512_loadu_ps(C + r * ldc + 16);
  }
  for (int64_t k = 0; k < kc; ++k, a += lda, b += kTileCols) {
    const __m512 b_lo = _mm512_loadu_ps(b);
    const __m512 b_hi = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r]);
      lo[r] = _mm512_fmadd_ps(x, b_lo, lo[r]);
      hi[r] = _mm512_fmadd_ps(x, b_hi, hi[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(C + r * ldc, lo[r]);
    _mm512_storeu_ps(C + r * ldc + 16, hi[r]);
  }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t);
constexpr TileFn kTiles[kTileRows + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>,
                                          tile<5>, tile<6>, tile<7>, tile<8>};

RNNBLAS_AVX512 void at_b_avx512(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                                const float* B, int64_t ldb, float* C, int64_t ldc) {
  // One 32-column strip of B's chunk at a time (16 KB on the stack: nothing
  // is allocated, this runs inside team tasks), swept by all of C's row tiles.
  alignas(64) float strip[kChunk * kTileCols];
  for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, K - k0);
    for (int64_t j0 = 0; j0 < N; j0 += kTileCols) {
      const float* row = B + k0 * ldb + j0;
      float* dst = strip;
      for (int64_t k = 0; k < kc; ++k, row += ldb, dst += kTileCols) {
        _mm512_store_ps(dst, _mm512_loadu_ps(row));
        _mm512_store_ps(dst + 16, _mm512_loadu_ps(row + 16));
      }
      for (int64_t i0 = 0; i0 < M; i0 += kTileRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kTileRows, M - i0));
        kTiles[rows](A + k0 * lda + i0, lda, strip, kc, C + i0 * ldc + j0, ldc);
      }
    }
  }
}

#endif

}  // namespace

bool tall_gemm_applies(int64_t M, int64_t N, int64_t K) {
#ifdef RNNBLAS_HAVE_TALL_KERNEL
  return packed_isa_supported(PackedIsa::Avx512) && N >= 32 && N % 32 == 0 && N <= kTallGemmMaxN &&
         M >= 1 && M <= kTallGemmMaxM && K >= 2 * std::max(M, N);
#else
  (void)M;
  (void)N;
  (void)K;
  return false;
#endif
}

void tall_gemm_at_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  assert(tall_gemm_applies(M, N, K));
  assert(lda >= M && ldb >= N && ldc >= N && N % 32 == 0);
  if (beta != 1.0f) {
    for (int64_t i = 0; i < M; ++i) {
      float* row = C + i * ldc;
      // beta == 0 overwrites (a NaN in C does not survive), as BLAS does.
      for (int64_t j = 0; j < N; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
  }
#ifdef RNNBLAS_HAVE_TALL_KERNEL
  at_b_avx512(M, N, K, A, lda, B, ldb, C, ldc);
#endif
}

}  // namespace rnnblas
