#include "activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "clones.h"
#include "fast_math.h"
#include "tanh_avx512.h"

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
constexpr __mmask16 kAll = 0xFFFF;

// Rows [0, rows) of y (row stride ld) in one call: at H = 32 a row is two
// vectors, and a call per row paid the 14 constant broadcasts each time
// (~15% of the pass at B=32, H=32).
__attribute__((target("avx512f"))) static void tanh_rows_avx512(
    float* y, int64_t ld, int64_t rows, const float* __restrict b_ih,
    const float* __restrict b_hh, int64_t H) {
  const bool bias = b_ih != nullptr && b_hh != nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
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
}

static bool has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#endif

// Every Elman tanh goes through here (one row or a block): one machine gives
// the same bits whichever path a step takes.
static void tanh_rows(float* y, int64_t ld, int64_t rows, const float* b_ih,
                      const float* b_hh, int64_t H) {
#if RNNBLAS_TANH_AVX512
  if (has_avx512f()) {
    tanh_rows_avx512(y, ld, rows, b_ih, b_hh, H);
    return;
  }
#endif
  for (int64_t r = 0; r < rows; ++r) tanh_row_portable(y + r * ld, b_ih, b_hh, H);
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
    tanh_rows(y, ld, rows, b_ih, b_hh, H);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) relu_row(y + r * ld, b_ih, b_hh, H);
}

void bias_activate_row(float* row, float* state, const float* b_ih,
                       const float* b_hh, int64_t H, Activation act) {
  if (act == Activation::Tanh) {
    tanh_rows(row, H, 1, b_ih, b_hh, H);
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
  // 1 - y*y as one rounding (std::fma), not left to the compiler's
  // contraction: the same bits in every build, and as the step tile's fnmadd
  // (packed_gemm.cpp's finish_grad).
  for (int64_t j = 0; j < H; ++j) {
    dA[j] = incoming<kHasDy, kHasCarry>(dy, carry, j) * std::fma(-y[j], y[j], 1.0f);
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
