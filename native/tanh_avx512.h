// tanh_approx (fast_math.h) on 16 lanes, shared by the Elman epilogue pass
// (activation.cpp) and the packed tile that applies it in registers
// (packed_gemm.cpp): one machine computes the same bits on either path.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define RNNBLAS_TANH_AVX512 1
#include <immintrin.h>

namespace rnnblas {

// The quotient p / q as rcp14(q) refined by one Newton step on the quotient
// itself (y + (p - q y) / q): within an ulp of the division, whose 512-bit
// form issues one per 10 cycles on one port. The Elman epilogue at B=32,
// H=32 (64 vectors a step) spent ~0.3 us of a 1.4 us step waiting on it.
// NaN passes through (max/min return their second operand when one is NaN),
// as in the scalar form.
// (The maskz forms with every lane on: GCC 12 warns on the plain forms'
// undefined pass-through operand, a false positive.)
__attribute__((target("avx512f"), always_inline)) inline __m512 tanh16(__m512 x) {
  constexpr __mmask16 all = 0xFFFF;
  const __m512 clamp = _mm512_set1_ps(7.90531110763549805f);
  const __m512 c = _mm512_maskz_min_ps(all, clamp, _mm512_maskz_max_ps(all, _mm512_set1_ps(-7.90531110763549805f), x));
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
  const __m512 inv = _mm512_maskz_rcp14_ps(all, q);
  const __m512 y0 = _mm512_mul_ps(p, inv);
  const __m512 r = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, y0, p), inv, y0);
  const __m512 ax = _mm512_abs_ps(x);
  const __mmask16 tiny = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0004f), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(tiny, r, x);
}

// relu as relu_row computes it: a > 0 ? a : 0 (NaN and -0 give +0; max
// returns its second operand when either is NaN or both are zero).
__attribute__((target("avx512f"), always_inline)) inline __m512 relu16(__m512 a) {
  return _mm512_maskz_max_ps(0xFFFF, a, _mm512_setzero_ps());
}

}  // namespace rnnblas
#else
#define RNNBLAS_TANH_AVX512 0
#endif
