#include "packed_gemm.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

#include "tanh_avx512.h"

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

namespace {

// Panel rows [k0, K) of dst from rows c0 + [j0, j1) of w read transposed:
// dst[k * 32 + j] = w[(c0 + j) * K + k] (zero where j >= width).
void transpose_columns(const float* w, int64_t K, int64_t c0, int64_t width, int64_t j0,
                       int64_t j1, int64_t k0, float* dst) {
  for (int64_t j = j0; j < j1; ++j) {
    if (j >= width) {
      for (int64_t k = k0; k < K; ++k) dst[k * kPanelWidth + j] = 0.0f;
      continue;
    }
    const float* row = w + (c0 + j) * K;
    for (int64_t k = k0; k < K; ++k) dst[k * kPanelWidth + j] = row[k];
  }
}

#ifdef RNNBLAS_HAVE_AVX512_KERNEL
// The forward panels are W_hh read transposed. One scalar store per element
// (a stride-32 scatter) made packing a third of a one-step call (B=32,
// H=256: ~50 of 153 us); 8x8 register transposes store whole panel rows.
RNNBLAS_AVX2 void transpose_panel_avx2(const float* w, int64_t K, int64_t c0, int64_t width,
                                       float* dst) {
  for (int64_t j0 = 0; j0 < kPanelWidth; j0 += 8) {
    if (j0 + 8 > width) {
      transpose_columns(w, K, c0, width, j0, j0 + 8, 0, dst);
      continue;
    }
    const float* r = w + (c0 + j0) * K;
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
      __m256 a[8];
      for (int i = 0; i < 8; ++i) a[i] = _mm256_loadu_ps(r + i * K + k);
      __m256 t[8];
      for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(a[2 * i], a[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(a[2 * i], a[2 * i + 1]);
      }
      __m256 u[8];
      for (int i = 0; i < 2; ++i) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
      }
      for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(dst + (k + i) * kPanelWidth + j0, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(dst + (k + i + 4) * kPanelWidth + j0, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
      }
    }
    transpose_columns(w, K, c0, width, j0, j0 + 8, k, dst);
  }
}
#endif

}  // namespace

void pack_panels(const float* w, bool transpose, const PanelLayout& l,
                 float* packed, int64_t p0, int64_t p1) {
  const int64_t K = l.K, N = l.gates * l.units;
#ifdef RNNBLAS_HAVE_AVX512_KERNEL
  static const bool avx2 = __builtin_cpu_supports("avx2");
#endif
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = packed + p * K * kPanelWidth;
    const int64_t c0 = panel_column(l, p);
    const int64_t width = panel_width(l, p);
    if (transpose) {
#ifdef RNNBLAS_HAVE_AVX512_KERNEL
      if (avx2) {
        transpose_panel_avx2(w, K, c0, width, dst);
        continue;
      }
#endif
      transpose_columns(w, K, c0, width, 0, kPanelWidth, 0, dst);
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

// The AVX-512 kernel. A tile is MR rows of C by NP panels (NP*32 columns),
// over the whole of K: 2*NP*MR accumulators stay in registers; each step
// loads NP panel rows (2 zmm each) and broadcasts MR values of A.
//
// Rows go in near-equal tiles of at most kMaxRows = 12 (24 accumulators +
// 2 panel rows + 1 broadcast of the 32 zmm): M = 32 is 10+11+11, 64 is
// 4x11+2x10, 128 is 7x12+4x11. Up to kSmallRows rows, two panels at once
// (M = 2: 8 chains instead of 4, enough to cover the FMA latency).
constexpr int kMaxRows = 12;
constexpr int kSmallRows = 6;

// Prefetch distances (in panel rows of 128 bytes, i.e. steps of k).
constexpr int64_t kPanelAhead = 16;
// C's lines are fetched to L2 one every kHeadStep steps at the start of a
// tile and into L1 one every kTailStep steps at its end. A forward pass adds
// onto (or writes) the input projection of step t, cold in memory; issued at
// once, the tile's 24 misses fill the line-fill buffers and stall the loads.
constexpr int64_t kHeadStep = 2;
constexpr int64_t kTailStep = 2;
// When the call's panels exceed kStreamBytes (W3: 2-4 MB, more than L2),
// they come from L3 every step: each tile also fetches its share of the next
// panel to L2, one line every kNextStep steps.
constexpr int64_t kNextStep = 4;
constexpr int64_t kStreamBytes = int64_t{1} << 20;

template <int MR, int NP>
RNNBLAS_AVX512 __attribute__((always_inline)) inline void k_step(
    __m512 (&acc)[NP][2][MR], int64_t k, const float* A, int64_t lda,
    const float* panel, int64_t panel_stride) {
  __m512 b[NP][2];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    const float* row = panel + q * panel_stride + k * kPanelWidth;
    const float* ahead = row + kPanelAhead * kPanelWidth;
    _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(ahead + 16), _MM_HINT_T0);
    b[q][0] = _mm512_loadu_ps(row);
    b[q][1] = _mm512_loadu_ps(row + 16);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    const __m512 a = _mm512_set1_ps(A[i * lda + k]);
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      acc[q][0][i] = _mm512_fmadd_ps(a, b[q][0], acc[q][0][i]);
      acc[q][1][i] = _mm512_fmadd_ps(a, b[q][1], acc[q][1][i]);
    }
  }
}

// What a tile does to its sums before the store (TileEpilogue): nothing, or
// the biases (when given) and an activation.
// kTanhGrad / kReluGrad: BPTT's dA from the carry (TileEpilogue::grad).
enum Finish : int { kPlain = 0, kTanh = 1, kRelu = 2, kTanhGrad = 3, kReluGrad = 4 };
constexpr int kFinishes = 5;

// What the tile adds to its sums by C column, for panel q: the biases at
// ih[q], hh[q] (null: none), and with x the input product over x's x_k
// columns and the panels at x_panel[q]. Grad finishes: dy and y of the
// tile's row 0 at dy[q] (null: no dy), y[q], by C column.
struct TileBias {
  const float* ih[2];
  const float* hh[2];
  const float* x;
  int64_t x_ld, x_k;
  const float* x_panel[2];
  const float* dy[2];
  const float* y[2];
  int64_t dy_ld, y_ld;
};

template <int kFinish>
RNNBLAS_AVX512 __attribute__((always_inline)) inline __m512 finish(
    __m512 v, const TileBias* bias, int q, int64_t j, __mmask16 m) {
  if constexpr (kFinish == kPlain) {
    return v;
  } else {
    if (bias->ih[q] != nullptr) {  // (v + b_ih) + b_hh, as bias_activate_rows adds them
      v = _mm512_add_ps(_mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias->ih[q] + j)),
                        _mm512_maskz_loadu_ps(m, bias->hh[q] + j));
    }
    return kFinish == kTanh ? tanh16(v) : relu16(v);
  }
}

// dA = ((0 + dy) + carry) * (1 - y*y), or y > 0 ? g : 0: activation.cpp's
// backward rows as the AVX-512 clone compiles them (the zero added first,
// 1 - y*y one fnmadd).
template <int kFinish>
RNNBLAS_AVX512 __attribute__((always_inline)) inline __m512 finish_grad(
    __m512 carry, const TileBias* bias, int q, int64_t i, int64_t j, __mmask16 m) {
  __m512 g = _mm512_setzero_ps();
  if (bias->dy[q] != nullptr) {
    g = _mm512_add_ps(g, _mm512_maskz_loadu_ps(m, bias->dy[q] + i * bias->dy_ld + j));
  }
  g = _mm512_add_ps(g, carry);
  const __m512 y = _mm512_maskz_loadu_ps(m, bias->y[q] + i * bias->y_ld + j);
  if constexpr (kFinish == kTanhGrad) {
    return _mm512_mul_ps(g, _mm512_fnmadd_ps(y, y, _mm512_set1_ps(1.0f)));
  } else {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ), g);
  }
}

// The tile. Every element is one FMA chain over k = 0..K-1 from zero, then
// added to C when accumulating: the prefetch schedule below never changes
// the order of the steps. `next`: next_lines cache lines to fetch to L2.
template <int MR, int NP, int kFinish>
RNNBLAS_AVX512 void micro_tile(int64_t K, const float* A, int64_t lda,
                               const float* panel, int64_t panel_stride,
                               float* const* C, int64_t ldc,
                               const __mmask16* masks, bool accumulate,
                               const char* next, int64_t next_lines,
                               const TileBias* bias) {
  __m512 acc[NP][2][MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) {
      acc[q][0][i] = _mm512_setzero_ps();
      acc[q][1][i] = _mm512_setzero_ps();
    }
  }
  constexpr int64_t kLines = 2 * MR * NP;  // C lines of the tile
  const auto c_line = [&](int64_t line) {
    const int64_t q = line / (2 * MR), r = line % (2 * MR);
    return reinterpret_cast<const char*>(C[q] + (r >> 1) * ldc + (r & 1) * 16);
  };
  int64_t k = 0;
  if (K >= kLines * (kHeadStep + kTailStep)) {
    for (int64_t line = 0; line < kLines; ++line, k += kHeadStep) {
      _mm_prefetch(c_line(line), _MM_HINT_T1);
#pragma GCC unroll 8
      for (int kk = 0; kk < kHeadStep; ++kk) k_step<MR, NP>(acc, k + kk, A, lda, panel, panel_stride);
    }
    const int64_t tail = K - kLines * kTailStep;
    for (int64_t j = 0; j < next_lines && k + kNextStep <= tail; ++j, k += kNextStep) {
      _mm_prefetch(next + j * 64, _MM_HINT_T2);
#pragma GCC unroll 8
      for (int kk = 0; kk < kNextStep; ++kk) k_step<MR, NP>(acc, k + kk, A, lda, panel, panel_stride);
    }
    for (; k < tail; ++k) k_step<MR, NP>(acc, k, A, lda, panel, panel_stride);
    for (int64_t line = 0; line < kLines; ++line, k += kTailStep) {
      _mm_prefetch(c_line(line), _MM_HINT_T0);
#pragma GCC unroll 8
      for (int kk = 0; kk < kTailStep; ++kk) k_step<MR, NP>(acc, k + kk, A, lda, panel, panel_stride);
    }
  }
  for (; k < K; ++k) k_step<MR, NP>(acc, k, A, lda, panel, panel_stride);
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    const __mmask16 m0 = masks[2 * q], m1 = masks[2 * q + 1];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* c = C[q] + i * ldc;
      __m512 lo = acc[q][0][i], hi = acc[q][1][i];
      if constexpr (kFinish == kTanhGrad || kFinish == kReluGrad) {
        _mm512_mask_storeu_ps(c, m0, finish_grad<kFinish>(lo, bias, q, i, 0, m0));
        _mm512_mask_storeu_ps(c + 16, m1, finish_grad<kFinish>(hi, bias, q, i, 16, m1));
        continue;
      }
      if (kFinish != kPlain && bias->x != nullptr) {
        // The input product as the input GEMM's tile makes it (a chain
        // from zero; panel columns past the units are zero).
        __m512 in_lo = _mm512_setzero_ps(), in_hi = _mm512_setzero_ps();
        const float* xr = bias->x + i * bias->x_ld;
        const float* xp = bias->x_panel[q];
        for (int64_t k = 0; k < bias->x_k; ++k) {
          const __m512 a = _mm512_set1_ps(xr[k]);
          in_lo = _mm512_fmadd_ps(a, _mm512_loadu_ps(xp + k * kPanelWidth), in_lo);
          in_hi = _mm512_fmadd_ps(a, _mm512_loadu_ps(xp + k * kPanelWidth + 16), in_hi);
        }
        lo = _mm512_add_ps(lo, in_lo);
        hi = _mm512_add_ps(hi, in_hi);
      } else if (accumulate) {
        lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(m0, c));
        hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(m1, c + 16));
      }
      lo = finish<kFinish>(lo, bias, q, 0, m0);
      hi = finish<kFinish>(hi, bias, q, 16, m1);
      _mm512_mask_storeu_ps(c, m0, lo);
      _mm512_mask_storeu_ps(c + 16, m1, hi);
    }
  }
}

using Tile = void (*)(int64_t, const float*, int64_t, const float*, int64_t,
                      float* const*, int64_t, const __mmask16*, bool, const char*,
                      int64_t, const TileBias*);

// tiles[r] = the r-row tile (tiles[0] unused).
template <int NP, int kFinish, int... I>
constexpr std::array<Tile, sizeof...(I) + 1> make_tiles(std::integer_sequence<int, I...>) {
  return {nullptr, micro_tile<I + 1, NP, kFinish>...};
}
template <int NP, int R>
constexpr std::array<std::array<Tile, R + 1>, kFinishes> make_finishes() {
  return {make_tiles<NP, kPlain>(std::make_integer_sequence<int, R>{}),
          make_tiles<NP, kTanh>(std::make_integer_sequence<int, R>{}),
          make_tiles<NP, kRelu>(std::make_integer_sequence<int, R>{}),
          make_tiles<NP, kTanhGrad>(std::make_integer_sequence<int, R>{}),
          make_tiles<NP, kReluGrad>(std::make_integer_sequence<int, R>{})};
}
constexpr auto kTiles = make_finishes<1, kMaxRows>();       // [finish][rows]
constexpr auto kPairTiles = make_finishes<2, kSmallRows>();

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
                 bool accumulate, int64_t p0, int64_t p1, const TileEpilogue* epilogue) {
  assert(packed_isa_supported(isa));
  assert(0 <= p0 && p0 <= p1 && p1 <= panel_count(l));
  assert(epilogue == nullptr || fuses_epilogue(isa));
  assert(epilogue == nullptr || (epilogue->b_ih == nullptr) == (epilogue->b_hh == nullptr));
  if (isa == PackedIsa::Avx2) {
    gemm_packed_avx2(M, l, A, lda, packed, C, ldc, accumulate, p0, p1);
    return;
  }
  if (M <= 0) return;
  const int64_t K = l.K;
  const int64_t stride = K * kPanelWidth;  // floats per panel
  const int64_t tiles = (M + kMaxRows - 1) / kMaxRows;
  const int64_t step = M <= kSmallRows ? 2 : 1;  // panels per tile
  const bool stream = (p1 - p0) * stride * static_cast<int64_t>(sizeof(float)) > kStreamBytes;
  const bool grad = epilogue != nullptr && epilogue->grad;
  const bool tanh = epilogue != nullptr && epilogue->act == Activation::Tanh;
  const int fin = epilogue == nullptr ? kPlain
                  : grad ? (tanh ? kTanhGrad : kReluGrad)
                         : (tanh ? kTanh : kRelu);
  const bool biased = epilogue != nullptr && epilogue->b_ih != nullptr;
  const bool input = epilogue != nullptr && epilogue->x != nullptr;
  assert(!input || (epilogue->x_k > 0 && epilogue->x_panels != nullptr));
  // The grad finishes replace C and add no bias or input product.
  assert(!grad || (!accumulate && !biased && !input && epilogue->y != nullptr));
  for (int64_t p = p0; p < p1; p += step) {
    const int64_t n = std::min(step, p1 - p);
    __mmask16 masks[4];
    float* c[2];
    TileBias bias{};
    for (int64_t q = 0; q < n; ++q) {
      const int64_t width = panel_width(l, p + q);
      const int64_t column = panel_column(l, p + q);
      masks[2 * q] = lanes(width);
      masks[2 * q + 1] = lanes(width - 16);
      c[q] = C + column;
      if (biased) {
        bias.ih[q] = epilogue->b_ih + column;
        bias.hh[q] = epilogue->b_hh + column;
      }
      if (input) bias.x_panel[q] = epilogue->x_panels + (p + q) * epilogue->x_k * kPanelWidth;
      if (grad) {
        bias.dy[q] = epilogue->dy != nullptr ? epilogue->dy + column : nullptr;
        bias.y[q] = epilogue->y + column;
      }
    }
    if (grad) {
      bias.dy_ld = epilogue->dy_ld;
      bias.y_ld = epilogue->y_ld;
    }
    if (input) {
      bias.x = epilogue->x;
      bias.x_ld = epilogue->x_ld;
      bias.x_k = epilogue->x_k;
    }
    const float* panel = packed + p * stride;
    if (n == 2) {
      kPairTiles[fin][M](K, A, lda, panel, stride, c, ldc, masks, accumulate, nullptr, 0, &bias);
      continue;
    }
    // The next panel, shared out between this panel's tiles.
    const char* next = reinterpret_cast<const char*>(panel + stride);
    const int64_t next_lines =
        stream && p + 1 < p1 ? stride * static_cast<int64_t>(sizeof(float)) / 64 : 0;
    const int64_t per_tile = (next_lines + tiles - 1) / tiles;
    int64_t i = 0;
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t rows = (M - i) / (tiles - t);
      float* ct[1] = {c[0] + i * ldc};
      const int64_t first = std::min(next_lines, t * per_tile);
      const int64_t count = std::min(next_lines, first + per_tile) - first;
      TileBias rows_bias = bias;
      if (input) rows_bias.x += i * bias.x_ld;
      if (grad) {
        if (rows_bias.dy[0] != nullptr) rows_bias.dy[0] += i * bias.dy_ld;
        rows_bias.y[0] += i * bias.y_ld;
      }
      kTiles[fin][rows](K, A + i * lda, lda, panel, stride, ct, ldc, masks, accumulate,
                        next + first * 64, count, &rows_bias);
      i += rows;
    }
  }
}

#else

bool packed_isa_supported(PackedIsa) { return false; }

void gemm_packed(PackedIsa, int64_t, const PanelLayout&, const float*, int64_t,
                 const float*, float*, int64_t, bool, int64_t, int64_t, const TileEpilogue*) {
  assert(false && "no packed kernel on this target");
}

#endif

}  // namespace rnnblas
