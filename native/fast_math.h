// Vectorisable tanh and sigmoid for the cells' elementwise passes (inline,
// so each multiversioned loop gets its own AVX2/FMA code).
#pragma once

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

}  // namespace rnnblas
