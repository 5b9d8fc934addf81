// Elementwise passes fused around the GEMMs: bias + activation on the way
// forward, activation derivative on the way back. Kept in one translation
// unit (activation.cpp) compiled with function multiversioning so prebuilt
// binaries still get AVX2/FMA code paths without -march=native.
#pragma once
#include <cstdint>

namespace rnnblas {

enum class Activation : int32_t { Tanh = 0, Relu = 1 };

// row[j] = act(row[j] + b_ih[j] + b_hh[j]); state[j] = row[j]   (j < H)
// b_ih / b_hh may be null (no bias); state may be null (row only).
void bias_activate_row(float* row, float* state, const float* b_ih,
                       const float* b_hh, int64_t H, Activation act);

// bias_activate_row over `rows` rows of y (row stride ld) in one call: a
// step's epilogue at small H is otherwise a dispatched call per 32 floats.
void bias_activate_rows(float* y, int64_t ld, int64_t rows, const float* b_ih,
                        const float* b_hh, int64_t H, Activation act);

// dA[j] = (dy[j] + carry[j]) * act'(y[j]) where act' is expressed through the
// activation's output y. dy / carry may be null (zero).
void activation_backward_row(float* dA, const float* dy, const float* carry,
                             const float* y, int64_t H, Activation act);

// sum[j] += row[j]   (j < H)
void accumulate_row(float* sum, const float* row, int64_t H);

// Vectorisable tanh (rational approximation, clamped), max error ~1 ulp-ish
// of float; exported for tests and for the reference comparison.
float fast_tanh(float x);

}  // namespace rnnblas
