// Vectorisable tanh and sigmoid for the cells' elementwise passes, and exp
// for the softmax (inline, so each multiversioned loop gets its own AVX2/FMA
// code, and a vector lane gives the bits of the scalar form).
#pragma once
#include <cstdint>
#include <cstring>

namespace rnnblas {

// Rational approximation of tanh on [-c, c] (the same polynomial Eigen uses
// for float); outside the clamp tanh rounds to +-1 in float anyway.
inline float tanh_approx(float x) {
  constexpr float kClamp = 7.90531110763549805f;
  constexpr float kTiny = 0.0004f;
  const float ax = x < 0.0f ? -x : x;
  float c = x < -kClamp ? -kClamp : x;
  c = c > kClamp ? kClamp : c;
  const float x2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * c;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  const float r = p / q;
  return ax < kTiny ? x : r;
}


// σ(x) = (1 + tanh(x/2)) / 2: the same clamped rational, no exp.
inline float sigmoid_approx(float x) { return 0.5f * tanh_approx(0.5f * x) + 0.5f; }

// exp(x) in double precision for x <= 0 (finite), within 2 ulp (measured:
// 1.7 ulp over [-708, 0] against long double). Below -708 it returns
// exp(-708) ~ 3e-308 instead of a subnormal or 0: the softmax adds it to a
// sum >= 1 and rounds it to a float 0. Cody-Waite reduction x = n ln2 + r,
// |r| <= ln2/2, then the degree-13 Taylor polynomial (remainder < 5e-18),
// scaled by 2^n through the exponent bits. Against libmvec's exp it needs no
// call (whose vector ABI spills every register) and no scalar tail: W1's
// whole loss over 2048 x 65 logits in ~150 us on one core instead of ~210.
inline double exp_nonpositive(double x) {
  x = x < -708.0 ? -708.0 : x;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double t = x * 1.4426950408889634 + kShift;
  const double n = t - kShift;
  double r = x - n * 6.93147180369123816490e-01;  // ln2's high bits: n * them is exact
  r = r - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t t_bits, shift_bits, p_bits;
  std::memcpy(&t_bits, &t, sizeof t);
  std::memcpy(&shift_bits, &kShift, sizeof kShift);
  std::memcpy(&p_bits, &p, sizeof p);
  p_bits += (t_bits - shift_bits) << 52;  // t's low bits hold n
  double y;
  std::memcpy(&y, &p_bits, sizeof y);
  return y;
}

}  // namespace rnnblas
