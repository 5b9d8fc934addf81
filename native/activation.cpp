#include "activation.h"

#include <algorithm>
#include <cstring>

#include "clones.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define RNNBLAS_TANH_AVX512 1
#include <immintrin.h>
#else
#define RNNBLAS_TANH_AVX512 0
#endif
#include "fast_math.h"

namespace rnnblas {

float fast_tanh(float x) { return tanh_approx(x); }

RNNBLAS_CLONES
void accumulate_row(float* __restrict sum, const float* __restrict row, int64_t H) {
  for (int64_t j = 0; j < H; ++j) sum[j] += row[j];
}

RNNBLAS_CLONES
static void tanh_row_portable(float* __restrict row, const float* __restrict b_ih,
                              const float* __restrict b_hh, int64_t H) {
  if (b_ih != nullptr && b_hh != nullptr) {
    for (int64_t j = 0; j < H; ++j) row[j] = tanh_approx(row[j] + b_ih[j] + b_hh[j]);
  } else {
    for (int64_t j = 0; j < H; ++j) row[j] = tanh_approx(row[j]);
  }
}

#if RNNBLAS_TANH_AVX512
// tanh_approx on 16 lanes with the quotient p / q as rcp14(q) refined by one
// Newton step on the quotient itself (y + (p - q y) / q): within an ulp of the
// division, whose 512-bit form issues one per 10 cycles on one port. The
// Elman epilogue at B=32, H=32 (64 vectors a step) spent ~0.3 us of a 1.4 us
// step waiting on it. NaN passes through (max/min return their second operand
// when one is NaN), as in the scalar form.
// (The maskz forms with every lane on: GCC 12 warns on the plain forms'
// undefined pass-through operand, a false positive.)
constexpr __mmask16 kAll = 0xFFFF;
__attribute__((target("avx512f"))) static inline __m512 tanh16(__m512 x) {
  const __m512 clamp = _mm512_set1_ps(7.90531110763549805f);
  const __m512 c = _mm512_maskz_min_ps(kAll, clamp, _mm512_maskz_max_ps(kAll, _mm512_set1_ps(-7.90531110763549805f), x));
  const __m512 x2 = _mm512_mul_ps(c, c);
  __m512 p = _mm512_set1_ps(-2.76076847742355e-16f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.00018790482477e-13f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-8.60467152213735e-11f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(5.12229709037114e-08f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.48572235717979e-05f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.37261928875436e-04f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(4.89352455891786e-03f));
  p = _mm512_mul_ps(p, c);
  __m512 q = _mm512_set1_ps(1.19825839466702e-06f);
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.18534705686654e-04f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.26843463243900e-03f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(4.89352518554385e-03f));
  const __m512 inv = _mm512_maskz_rcp14_ps(kAll, q);
  const __m512 y0 = _mm512_mul_ps(p, inv);
  const __m512 r = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, y0, p), inv, y0);
  const __m512 ax = _mm512_abs_ps(x);
  const __mmask16 tiny = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0004f), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(tiny, r, x);
}

__attribute__((target("avx512f"))) static void tanh_row_avx512(
    float* __restrict row, const float* __restrict b_ih, const float* __restrict b_hh, int64_t H) {
  const bool bias = b_ih != nullptr && b_hh != nullptr;
  for (int64_t j = 0; j < H; j += 16) {
    const int64_t n = std::min<int64_t>(16, H - j);
    const __mmask16 m = n == 16 ? kAll : __mmask16((1u << n) - 1);
    __m512 a = _mm512_maskz_loadu_ps(m, row + j);
    if (bias) {
      a = _mm512_add_ps(_mm512_add_ps(a, _mm512_maskz_loadu_ps(m, b_ih + j)),
                        _mm512_maskz_loadu_ps(m, b_hh + j));
    }
    _mm512_mask_storeu_ps(row + j, m, tanh16(a));
  }
}

static bool has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#endif

// Every Elman tanh goes through here (one row or a block): one machine gives
// the same bits whichever path a step takes.
static void tanh_row(float* row, const float* b_ih, const float* b_hh, int64_t H) {
#if RNNBLAS_TANH_AVX512
  if (has_avx512f()) {
    tanh_row_avx512(row, b_ih, b_hh, H);
    return;
  }
#endif
  tanh_row_portable(row, b_ih, b_hh, H);
}

RNNBLAS_CLONES
static void relu_row(float* __restrict row, const float* __restrict b_ih,
                     const float* __restrict b_hh, int64_t H) {
  if (b_ih != nullptr && b_hh != nullptr) {
    for (int64_t j = 0; j < H; ++j) {
      const float a = row[j] + b_ih[j] + b_hh[j];
      row[j] = a > 0.0f ? a : 0.0f;
    }
  } else {
    for (int64_t j = 0; j < H; ++j) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
  }
}

void bias_activate_rows(float* y, int64_t ld, int64_t rows, const float* b_ih,
                        const float* b_hh, int64_t H, Activation act) {
  if (act == Activation::Tanh) {
    for (int64_t r = 0; r < rows; ++r) tanh_row(y + r * ld, b_ih, b_hh, H);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) relu_row(y + r * ld, b_ih, b_hh, H);
}

void bias_activate_row(float* row, float* state, const float* b_ih,
                       const float* b_hh, int64_t H, Activation act) {
  if (act == Activation::Tanh) {
    tanh_row(row, b_ih, b_hh, H);
  } else {
    relu_row(row, b_ih, b_hh, H);
  }
  if (state != nullptr) std::memcpy(state, row, sizeof(float) * H);
}

// g = dy + carry, with either side possibly absent; the branches sit outside
// the loops so each loop vectorises.
template <bool kHasDy, bool kHasCarry>
inline float incoming(const float* __restrict dy, const float* __restrict carry,
                      int64_t j) {
  float g = 0.0f;
  if (kHasDy) g += dy[j];
  if (kHasCarry) g += carry[j];
  return g;
}

template <bool kHasDy, bool kHasCarry>
RNNBLAS_CLONES static void tanh_backward_row(float* __restrict dA,
                                             const float* __restrict dy,
                                             const float* __restrict carry,
                                             const float* __restrict y,
                                             int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    dA[j] = incoming<kHasDy, kHasCarry>(dy, carry, j) * (1.0f - y[j] * y[j]);
  }
}

template <bool kHasDy, bool kHasCarry>
RNNBLAS_CLONES static void relu_backward_row(float* __restrict dA,
                                             const float* __restrict dy,
                                             const float* __restrict carry,
                                             const float* __restrict y,
                                             int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float g = incoming<kHasDy, kHasCarry>(dy, carry, j);
    dA[j] = y[j] > 0.0f ? g : 0.0f;
  }
}

template <bool kHasDy, bool kHasCarry>
static void backward_row(float* dA, const float* dy, const float* carry,
                         const float* y, int64_t H, Activation act) {
  if (act == Activation::Tanh) {
    tanh_backward_row<kHasDy, kHasCarry>(dA, dy, carry, y, H);
  } else {
    relu_backward_row<kHasDy, kHasCarry>(dA, dy, carry, y, H);
  }
}

void activation_backward_row(float* dA, const float* dy, const float* carry,
                             const float* y, int64_t H, Activation act) {
  if (dy != nullptr && carry != nullptr) {
    backward_row<true, true>(dA, dy, carry, y, H, act);
  } else if (dy != nullptr) {
    backward_row<true, false>(dA, dy, carry, y, H, act);
  } else if (carry != nullptr) {
    backward_row<false, true>(dA, dy, carry, y, H, act);
  } else {
    backward_row<false, false>(dA, dy, carry, y, H, act);
  }
}

}  // namespace rnnblas
