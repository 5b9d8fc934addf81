// One recurrent layer (Elman, LSTM or GRU) in one direction over a whole
// sequence.
//
// Dimension legend: T time steps, B batch, I input width, H hidden width.
// All matrices are row-major float32. Time-major: step t of batch row b of a
// [T,B,K] buffer with row stride ld sits at (t*B + b)*ld.
//
//   a(t) = x(t) W_ih^T + b_ih + h(t-1) W_hh^T + b_hh,   h(t) = act(a(t))
//
// for the Elman cell; the gated cells (gated_cells.h) have G gate blocks of H
// rows in W_ih [G*H, I], W_hh [G*H, H] and the biases [G*H], in PyTorch's
// orders (LSTM i, f, g, o; GRU r, z, n; the same for both GRU cells).
//
// The kernels are policy-free: callers (binding/) have validated every size
// and pointer; here we only assert invariants.
#pragma once
#include <cstdint>

#include "activation.h"
#include "gated_cells.h"
#include "exec_context.h"
#include "packed_gemm.h"


namespace rnnblas {

struct RnnShape {
  int64_t T = 0, B = 0, I = 0, H = 0;
};

// Gru is PyTorch's cell (the reset gate scales W_hn h' + b_hn: Keras
// reset_after=True, ONNX linear_before_reset=1); GruResetBefore applies it to
// h' before the product (Keras reset_after=False, ONNX's default).
enum class CellKind : int32_t { Elman = 0, Lstm = 1, Gru = 2, GruResetBefore = 3 };

// Gate blocks G of a cell's weights.
inline int64_t gate_count(CellKind c) {
  switch (c) {
    case CellKind::Lstm: return 4;
    case CellKind::Gru:
    case CellKind::GruResetBefore: return 3;
    default: return 1;
  }
}

struct RnnForwardArgs {
  // outputs
  float* y = nullptr;   // [T,B,ld] this direction's H columns; y is zero past a length
  float* hN = nullptr;  // [B,H] state after each row's last processed step
  // inputs / weights
  // gated cells: what BPTT needs, [T*B, kGatedStoreBlocks*H] gate values and
  // (LSTM) [T*B, H] cell states; cN [B,H] (LSTM) like hN
  float* gates = nullptr;
  float* cells = nullptr;
  float* cN = nullptr;
  const float* x = nullptr;     // [T,B,I] contiguous
  const float* h0 = nullptr;    // [B,H] or null for zeros
  const float* c0 = nullptr;    // [B,H] or null for zeros (LSTM)
  const float* w_ih = nullptr;  // [G*H,I]
  const float* w_hh = nullptr;  // [G*H,H]
  const float* b_ih = nullptr;  // [G*H] or null (both or neither)
  const float* b_hh = nullptr;  // [G*H] or null
  const int32_t* lengths = nullptr;  // [B] each in 1..T, or null (all T)
  // dimensions
  RnnShape shape;
  int64_t ld = 0;  // row stride of y / dy, >= H
  CellKind cell = CellKind::Elman;
  Activation act = Activation::Tanh;  // Elman only
  bool reverse = false;
};


struct RnnBackwardArgs {
  // outputs: dx (unless dx_assign), dw_*, db_* accumulate (+=); dh0 is overwritten
  float* dx = nullptr;     // [T,B,I] or null when the input needs no gradient
  // dx is written, its old contents ignored (no zeroing pass before the call).
  // Of a layer's two directions the first writes and the second adds.
  bool dx_assign = false;
  float* dh0 = nullptr;    // [B,H] or null
  float* dc0 = nullptr;    // [B,H] or null (LSTM)
  float* trace = nullptr;  // [T,B,H] or null: dL/dh(t) at every step (zero past a length)
  float* dw_ih = nullptr;  // [G*H,I]
  float* dw_hh = nullptr;  // [G*H,H]
  float* db_ih = nullptr;  // [G*H] or null (no bias)
  float* db_hh = nullptr;  // [G*H] or null
  // cached by the forward pass
  const float* y = nullptr;      // [T,B,ld]
  const float* gates = nullptr;  // gated cells, as forward wrote them
  const float* cells = nullptr;  // LSTM
  const float* h0 = nullptr;     // [B,H] or null for zeros
  const float* c0 = nullptr;     // [B,H] or null for zeros (LSTM)
  // incoming gradients
  const float* dy = nullptr;   // [T,B,ld] same layout as y, or null (zero)
  const float* dhN = nullptr;  // [B,H] or null (zero)
  const float* dcN = nullptr;  // [B,H] or null (zero; LSTM)
  // inputs / weights
  const float* x = nullptr;
  const float* w_ih = nullptr;
  const float* w_hh = nullptr;
  const int32_t* lengths = nullptr;
  // scratch of backward_workspace_size(shape, cell) floats, owned by the caller
  float* work = nullptr;
  RnnShape shape;
  int64_t ld = 0;
  CellKind cell = CellKind::Elman;
  Activation act = Activation::Tanh;
  bool reverse = false;
};

// Floats of scratch rnn_backward needs: dA [T,B,G*H], carried dh [B,H],
// gathered dA rows [B,G*H], bias-gradient sums [G*H]; GRU also the input
// product's n-block gradient [T,B,H] and its bias sum [H], the reset-before
// GRU the second product's gradient du [B,H], LSTM the carried dc [B,H].
int64_t backward_workspace_size(const RnnShape& s, CellKind cell);

bool step_kernel_supported(StepKernel k);
// The kernel Auto stands for on this CPU (others returned as they are).
StepKernel resolve_step_kernel(StepKernel k);

// One layer: its one or two directions (dirs[1] the reverse one), as one
// native call. Decides whether two directions run as a pair (one core each)
// or one after the other on the whole team; the decision depends on the
// shape and ctx.threads only.
void rnn_forward_layer(const ExecContext& ctx, const RnnForwardArgs* dirs, int count);
// As rnn_forward_layer for BPTT. Two directions share dx (both add into it,
// in a fixed order; dirs[0].dx_assign: the first writes it) and have their
// own work buffers.
void rnn_backward_layer(const ExecContext& ctx, const RnnBackwardArgs* dirs, int count);

}  // namespace rnnblas
