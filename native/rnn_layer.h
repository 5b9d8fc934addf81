// One Elman RNN layer in one direction over a whole sequence.
//
// Dimension legend: T time steps, B batch, I input width, H hidden width.
// All matrices are row-major float32. Time-major: step t of batch row b of a
// [T,B,K] buffer with row stride ld sits at (t*B + b)*ld.
//
//   a(t) = x(t) W_ih^T + b_ih + h(t-1) W_hh^T + b_hh,   h(t) = act(a(t))
//
// The kernels are policy-free: callers (binding/) have validated every size
// and pointer; here we only assert invariants.
#pragma once
#include <cstdint>

#include "activation.h"
#include "exec_context.h"
#include "packed_gemm.h"


namespace rnnblas {

struct RnnShape {
  int64_t T = 0, B = 0, I = 0, H = 0;
};

struct RnnForwardArgs {
  // outputs
  float* y = nullptr;   // [T,B,ld] this direction's H columns; y is zero past a length
  float* hN = nullptr;  // [B,H] state after each row's last processed step
  // inputs / weights
  const float* x = nullptr;     // [T,B,I] contiguous
  const float* h0 = nullptr;    // [B,H] or null for zeros
  const float* w_ih = nullptr;  // [H,I]
  const float* w_hh = nullptr;  // [H,H]
  const float* b_ih = nullptr;  // [H] or null (both or neither)
  const float* b_hh = nullptr;  // [H] or null
  const int32_t* lengths = nullptr;  // [B] each in 1..T, or null (all T)
  // dimensions
  RnnShape shape;
  int64_t ld = 0;  // row stride of y / dy, >= H
  Activation act = Activation::Tanh;
  bool reverse = false;
};


struct RnnBackwardArgs {
  // outputs: dx, dw_*, db_* accumulate (+=); dh0 is overwritten
  float* dx = nullptr;     // [T,B,I] or null when the input needs no gradient
  float* dh0 = nullptr;    // [B,H] or null
  float* dw_ih = nullptr;  // [H,I]
  float* dw_hh = nullptr;  // [H,H]
  float* db_ih = nullptr;  // [H] or null (no bias)
  float* db_hh = nullptr;  // [H] or null
  // cached by the forward pass
  const float* y = nullptr;   // [T,B,ld]
  const float* h0 = nullptr;  // [B,H] or null for zeros
  // incoming gradients
  const float* dy = nullptr;   // [T,B,ld] same layout as y, or null (zero)
  const float* dhN = nullptr;  // [B,H] or null (zero)
  // inputs / weights
  const float* x = nullptr;
  const float* w_ih = nullptr;
  const float* w_hh = nullptr;
  const int32_t* lengths = nullptr;
  // scratch of backward_workspace_size(shape) floats, owned by the caller
  float* work = nullptr;
  RnnShape shape;
  int64_t ld = 0;
  Activation act = Activation::Tanh;
  bool reverse = false;
};

// Floats of scratch rnn_backward needs: dA [T,B,H], carried dh [B,H],
// gathered dA rows [B,H], bias-gradient sum [H].
int64_t backward_workspace_size(const RnnShape& s);

bool step_kernel_supported(StepKernel k);
// The kernel Auto stands for on this CPU (others returned as they are).
StepKernel resolve_step_kernel(StepKernel k);

// One layer: its one or two directions (dirs[1] the reverse one), as one
// native call. Decides whether two directions run as a pair (one core each)
// or one after the other on the whole team; the decision depends on the
// shape and ctx.threads only.
void rnn_forward_layer(const ExecContext& ctx, const RnnForwardArgs* dirs, int count);
// As rnn_forward_layer for BPTT. Two directions share dx (both add into it,
// in a fixed order) and have their own work buffers.
void rnn_backward_layer(const ExecContext& ctx, const RnnBackwardArgs* dirs, int count);

}  // namespace rnnblas
