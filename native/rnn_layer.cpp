#include "rnn_layer.h"

#include "packed_gemm.h"
#include "small_gemv.h"
#include "team_gemm.h"
#include "thread_team.h"
#include "time_loop.h"

#include <algorithm>
#include <new>
#include <optional>
#include <vector>

#include <cassert>
#include <cstring>

#include <cblas.h>

namespace rnnblas {
namespace {

inline blasint as_blas(int64_t v) {
  assert(v >= 0 && v <= INT32_MAX);
  return static_cast<blasint>(v);
}

// The instruction set of the packed kernel for this shape, or none for
// OpenBLAS (one row is a GEMV: small_gemv's job).
std::optional<PackedIsa> packed_isa_for(const ExecContext& ctx, const RnnShape& s) {
  if (s.B < 2) return std::nullopt;
  switch (resolve_step_kernel(ctx.step_kernel)) {
    case StepKernel::Avx512: return PackedIsa::Avx512;
    case StepKernel::Avx2: return PackedIsa::Avx2;
    default: return std::nullopt;
  }
}

PanelLayout step_layout(StepProduct::Pass pass, int64_t H, int64_t gates) {
  // Forward B = W_hh^T ([H, G*H], gate blocks of H columns); backward B = W_hh
  // ([G*H, H]: the gates are in the inner dimension).
  return pass == StepProduct::Pass::Forward ? PanelLayout{H, H, gates} : PanelLayout{gates * H, H, 1};
}

// Split a step's product (and its loop) by batch rows when every task gets this
// many rows and all of W_hh's panels fit in half of a 2 MB L2 (each task
// reads them all, every step). W1 (B=32, H=256) at 2 threads: the per-unit
// split spent ~25 us per step on what one thread does in ~29 (both tasks read
// all of h(t-1), half of it just written by the other core, then wait at
// the barrier); by rows each task reads only the rows it wrote itself.
constexpr int64_t kRowSplitMinRows = 8;
constexpr int64_t kRowSplitMaxPanelBytes = int64_t{1} << 20;

// Whether a loop that takes task rows (rows_ok) splits its step product by
// rows on `tasks` tasks.
bool rows_split_on(int tasks, const std::optional<PackedIsa>& isa, StepProduct::Pass pass,
                   const RnnShape& s, int64_t gates) {
  return isa && tasks > 1 && s.B >= kRowSplitMinRows * tasks &&
         packed_size(step_layout(pass, s.H, gates)) * static_cast<int64_t>(sizeof(float)) <=
             kRowSplitMaxPanelBytes;
}

// The same for a cell's loop at the context's full thread count (the
// reset-before GRU's two products split by units only).
bool rows_split_for(const ExecContext& ctx, StepProduct::Pass pass, const RnnShape& s,
                    CellKind cell) {
  return cell != CellKind::GruResetBefore &&
         rows_split_on(team_tasks(ctx), packed_isa_for(ctx, s), pass, s, gate_count(cell));
}

// Multiply-adds of one time step's recurrent product, [B,H]x[H,G*H].
int64_t step_product_macs(const RnnShape& s, CellKind cell) {
  return s.B * gate_count(cell) * s.H * s.H;
}

// Below ctx.solo_call_macs (default 2^26, about a millisecond on one core) a
// whole call runs on one thread: waking others for its small products and
// splitting its GEMMs costs more than they save (W4, T=100 B=1 H=128, 1.6M:
// 0.16 ms with 2 threads, 0.09 ms with 1). A loop split by rows would pay
// below it when quiet (F1, T=400 B=32 H=64, 53M: 3.6 ms a train step on two
// threads, 5.5 on one), but a busy neighbour process then made the 2-thread
// step 0.99-1.13x the 1-thread one (its phases are ~25 us: a helper that
// loses its core mid-phase holds the job up for a scheduler slice), and the
// default must not be slower than one thread there.
//
// A call whose every step product is large (at least ctx.solo_step_macs, the
// size a step is worth splitting at) splits from kLargeStepCallMacs (8M, four
// steps of W1's B=32 H=256) on: its phases are long enough that the team's
// stall guard keeps it near its 1-thread time under a busy neighbour (W1's
// train step at T=4-16: 1.00-1.07x; GRU / LSTM at T=2-4: 0.94-1.10x), and
// quiet it runs at 0.57x (T=16) to 0.71x (T=4) the 1-thread time; W1's
// shape at H=128 (T=64, 51M) 0.56x, GRU / LSTM at T=2-8 0.61-0.81x.
// (2026-12-04 EPYC, one process, 1- and 2-thread blocks alternating;
// bench/RESULTS.md.) At T=2 (5M) the Elman split was slower.
constexpr int64_t kLargeStepCallMacs = int64_t{1} << 23;

template <class Args>
bool small_work(const ExecContext& ctx, const Args& a) {
  const RnnShape& s = a.shape;
  const int64_t call = s.T * s.B * s.H * (s.I + s.H) * gate_count(a.cell);
  if (call >= ctx.solo_call_macs) return false;
  const bool large_steps = step_product_macs(s, a.cell) >= ctx.solo_step_macs;
  return !(large_steps && call >= kLargeStepCallMacs);
}

// The context a direction runs with: one thread for small work.
template <class Args>
ExecContext sized_for(const ExecContext& ctx, const Args& a) {
  ExecContext c = ctx;
  if (small_work(ctx, a)) c.threads = 1;
  return c;
}

ExecContext solo(const ExecContext& ctx) {
  ExecContext c = ctx;
  c.threads = 1;
  return c;
}

// Below ctx.solo_step_macs (default 2^19) per step product, splitting a step
// between threads costs more in its barrier than it saves (W1, B=32 H=256:
// 2.1M, faster on two). Split by rows the loop has few barriers, so any step
// product splits. The whole-sequence GEMMs split on their own terms
// (team_gemm.cpp).
ExecContext step_context(const ExecContext& ctx, StepProduct::Pass pass, const RnnShape& s,
                         CellKind cell) {
  if (rows_split_for(ctx, pass, s, cell)) return ctx;
  if (step_product_macs(s, cell) < ctx.solo_step_macs) return solo(ctx);
  return ctx;
}

// Scratch regions are whole cache lines (a packed panel row is two).
constexpr int64_t kLine = 64 / sizeof(float);
int64_t lines(int64_t floats) { return (floats + kLine - 1) / kLine * kLine; }

// The calling thread's scratch, reused across calls (no allocation after the
// first call of a given size), 64-byte aligned. Sized and touched only here,
// before any team job: a std::bad_alloc leaves the entry point, never a
// helper thread. Tasks of the job may run on any thread and use it.
float* caller_scratch(int64_t floats) {
  assert(!in_team_task());
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats + kLine) {
    buffer.clear();
    buffer.shrink_to_fit();
    buffer.resize(floats + kLine);
  }
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

// W^T of a rows x cols matrix.
void transpose_into(const float* w, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kBlock = 32;  // cache-friendly tiles
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock) {
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
      const int64_t i1 = std::min(i0 + kBlock, rows);
      const int64_t j1 = std::min(j0 + kBlock, cols);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) out[j * rows + i] = w[i * cols + j];
      }
    }
  }
}

// OpenBLAS runs h W^T ~9% faster with W^T stored (NoTrans) than with W
// transposed on the fly; one transpose per call pays over T >= 4 steps.
bool stores_transpose(const std::optional<PackedIsa>& isa, StepProduct::Pass pass,
                      const RnnShape& s) {
  return !isa && pass == StepProduct::Pass::Forward && s.B > 1 && s.T >= 4;
}

// ---------------------------------------------------------------------------
// Cells for the time loop (time_loop.h), forward and backward side by side.

// Where a row's previous state sits: the step processed before t.
inline int64_t previous_step(int64_t t, bool reverse) { return reverse ? t + 1 : t - 1; }

// The Elman cell (one gate): h = act(a) with a = x W_ih^T + b_ih + h W_hh^T +
// b_hh; the input projection is already in y, the product adds onto it, and
// the epilogue adds the biases and applies act in place.
struct ElmanForward {
  static constexpr int kGates = 1;
  float* y;
  int64_t ld, B;
  const float* b_ih;  // or null (both or neither)
  const float* b_hh;
  Activation act;

  float* product_out(int64_t t) const { return y + t * B * ld; }
  int64_t product_ld() const { return ld; }
  bool product_accumulates() const { return true; }
  void forward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float*, float* state) const {
    bias_activate_row(y + (t * B + b) * ld + u0, state, b_ih ? b_ih + u0 : nullptr,
                      b_hh ? b_hh + u0 : nullptr, u1 - u0, act);
  }
  // Rows [b0, b1) at once (no lengths: no state to keep besides y).
  void forward_block(int64_t t, int64_t b0, int64_t b1, int64_t u0, int64_t u1) const {
    bias_activate_rows(y + (t * B + b0) * ld + u0, ld, b1 - b0, b_ih ? b_ih + u0 : nullptr,
                       b_hh ? b_hh + u0 : nullptr, u1 - u0, act);
  }
  // With x_panels the tile computes the input product too (y then holds no
  // projection for the steps it takes).
  const float* x = nullptr;         // the sequence's x [T*B, I]
  int64_t I = 0;
  const float* x_panels = nullptr;  // W_ih^T packed, or null
  TileEpilogue tile_epilogue(int64_t t) const {
    return {b_ih, b_hh, act, x_panels ? x + t * B * I : nullptr, I, I, x_panels};
  }
  void forward_skip(int64_t, int64_t, int64_t, int64_t) const {}
};

// dA = (dy + dh) * act'(a), written from y = act(a); the bias gradient is
// summed here too, while each dA row is still in cache (per unit column, so
// in the same order whatever the task split).
struct ElmanBackward {
  static constexpr int kGates = 1;
  static constexpr bool kCarryAccumulates = false;
  float* dA;         // [T*B, H]
  const float* y;    // [T*B, ld]
  int64_t ld, B, H;
  float* bias_sum;   // [H] or null
  Activation act;

  const float* product_in(int64_t t) const { return dA + t * B * H; }
  // With in_tile the product's tile writes dA(t) itself wherever the carry
  // comes from the step after (no lengths, no trace; the bias sums are then
  // taken after the loop).
  bool in_tile = false;
  float* tile_out(int64_t t) const { return dA + t * B * H; }
  TileEpilogue tile_epilogue(int64_t t, const float* dy) const {
    TileEpilogue e;
    e.act = act;
    e.grad = true;
    e.dy = dy ? dy + t * B * ld : nullptr;
    e.dy_ld = ld;
    e.y = y + t * B * ld;
    e.y_ld = ld;
    return e;
  }
  void backward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* dy,
                    const float* dh, bool) const {
    float* row = dA + (t * B + b) * H + u0;
    activation_backward_row(row, dy, dh, y + (t * B + b) * ld + u0, u1 - u0, act);
    if (bias_sum) accumulate_row(bias_sum + u0, row, u1 - u0);
  }
  void backward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    std::memset(dA + (t * B + b) * H + u0, 0, sizeof(float) * (u1 - u0));
  }
};

// What the gated cells share: the per-step stores and where a row's
// previous step is (h0/c0 at its first step).
struct GatedRows {
  int64_t T, B, H, ld;
  const int32_t* lengths;
  bool reverse;

  int64_t row(int64_t t, int64_t b) const { return t * B + b; }
  bool first(int64_t t, int64_t b) const { return t == row_first_step(lengths, b, T, reverse); }
  bool last(int64_t t, int64_t b) const { return t == row_last_step(lengths, b, T, reverse); }
  // Row b of a [B,H] state (or null), or of a [T*B, stride] store one step back.
  const float* previous(const float* initial, const float* store, int64_t stride, int64_t t,
                        int64_t b, int64_t u0) const {
    if (first(t, b)) return initial ? initial + b * H + u0 : nullptr;
    return store + row(previous_step(t, reverse), b) * stride + u0;
  }
};

constexpr int64_t kStore = kGatedStoreBlocks;

// LSTM: the input projection sits in the gate store, the product adds onto
// it, the epilogue turns it into i, f, g, o and writes c and h.
struct LstmForward {
  static constexpr int kGates = 4;
  GatedRows rows;
  float* gates;  // [T*B, 4H]
  float* cells;  // [T*B, H]
  float* y;
  float* cN;
  const float* c0;
  const float* b_ih;
  const float* b_hh;

  float* product_out(int64_t t) const { return gates + t * rows.B * kStore * rows.H; }
  int64_t product_ld() const { return kStore * rows.H; }
  bool product_accumulates() const { return true; }
  void forward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float*, float* state) const {
    const int64_t H = rows.H, r = rows.row(t, b), n = u1 - u0;
    float* c = cells + r * H + u0;
    lstm_forward_row({gates + r * kStore * H + u0, b_ih ? b_ih + u0 : nullptr,
                      b_hh ? b_hh + u0 : nullptr, rows.previous(c0, cells, H, t, b, u0), c,
                      y + r * rows.ld + u0, state, n, H});
    if (rows.last(t, b)) std::memcpy(cN + b * H + u0, c, sizeof(float) * n);
  }
  void forward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    std::memset(cells + rows.row(t, b) * rows.H + u0, 0, sizeof(float) * (u1 - u0));
  }
};

// dc flows back through `dc` ([B,H], own units), entering from dcN.
struct LstmBackward {
  static constexpr int kGates = 4;
  static constexpr bool kCarryAccumulates = false;
  GatedRows rows;
  float* dA;  // [T*B, 4H]
  float* dc;  // [B, H]
  float* dc0;
  float* bias_sum;  // [4H] or null
  const float* gates;
  const float* cells;
  const float* c0;
  const float* dcN;

  const float* product_in(int64_t t) const { return dA + t * rows.B * 4 * rows.H; }
  void backward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* dy,
                    const float* dh, bool entering) const {
    const int64_t H = rows.H, r = rows.row(t, b), own = b * H + u0;
    const float* dc_in = entering ? (dcN ? dcN + own : nullptr) : dc + own;
    lstm_backward_row({dA + r * 4 * H + u0, bias_sum ? bias_sum + u0 : nullptr,
                       gates + r * kStore * H + u0, cells + r * H + u0,
                       rows.previous(c0, cells, H, t, b, u0), dy, dh, dc_in, dc + own,
                       dc0 && rows.first(t, b) ? dc0 + own : nullptr, u1 - u0, H});
  }
  void backward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    const int64_t H = rows.H;
    float* row = dA + rows.row(t, b) * 4 * H + u0;
    for (int64_t g = 0; g < 4; ++g) std::memset(row + g * H, 0, sizeof(float) * (u1 - u0));
  }
};

// GRU: the recurrent product goes to a [B, 3H] buffer of its own (its n block
// is scaled by r, so it cannot add onto the input projection).
struct GruForward {
  static constexpr int kGates = 3;
  GatedRows rows;
  float* gates;  // [T*B, 4H]: x_r, x_z, x_n in, r, z, n, hn out
  float* hprod;  // [B, 3H]
  float* y;
  const float* b_ih;
  const float* b_hh;

  float* product_out(int64_t) const { return hprod; }
  int64_t product_ld() const { return 3 * rows.H; }
  bool product_accumulates() const { return false; }
  void forward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* h_prev,
                   float* state) const {
    const int64_t H = rows.H, r = rows.row(t, b);
    gru_forward_row({gates + r * kStore * H + u0, hprod + b * 3 * H + u0,
                     b_ih ? b_ih + u0 : nullptr, b_hh ? b_hh + u0 : nullptr, h_prev,
                     y + r * rows.ld + u0, state, u1 - u0, H});
  }
  void forward_skip(int64_t, int64_t, int64_t, int64_t) const {}
};

// dh(t-1) = dh_prod W_hh + z dh: the cell writes z dh into the carry and the
// product adds the rest.
struct GruBackward {
  static constexpr int kGates = 3;
  static constexpr bool kCarryAccumulates = true;
  GatedRows rows;
  float* dA;      // [T*B, 3H] gradient of the recurrent product (with b_hh)
  float* dN;      // [T*B, H] gradient of the input product's n block
  float* carry;   // [B, H]
  float* bias_sum;    // [3H] or null
  float* bias_n_sum;  // [H]
  const float* gates;
  const float* y;
  const float* h0;

  const float* product_in(int64_t t) const { return dA + t * rows.B * 3 * rows.H; }
  void backward_row(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* dy,
                    const float* dh, bool) const {
    const int64_t H = rows.H, r = rows.row(t, b);
    gru_backward_row({dA + r * 3 * H + u0, dN + r * H + u0,
                      bias_sum ? bias_sum + u0 : nullptr,
                      bias_sum ? bias_n_sum + u0 : nullptr, gates + r * kStore * H + u0,
                      rows.previous(h0, y, rows.ld, t, b, u0), dy, dh,
                      carry + b * H + u0, u1 - u0, H});
  }
  void backward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    const int64_t H = rows.H, r = rows.row(t, b), n = u1 - u0;
    float* row = dA + r * 3 * H + u0;
    for (int64_t g = 0; g < 3; ++g) std::memset(row + g * H, 0, sizeof(float) * n);
    std::memset(dN + r * H + u0, 0, sizeof(float) * n);
    std::memset(carry + b * H + u0, 0, sizeof(float) * n);
  }
};

// GRU with the reset gate before the product: the first product (W_hr, W_hz)
// adds onto the input projection's r, z blocks; the first half turns them into
// r, z and writes u = r h' into block 3 of the store; the second product
// u W_hn^T adds onto block 2 (x_n), which the second half turns into n and h.
struct GruResetBeforeForward {
  GatedRows rows;
  float* gates;  // [T*B, 4H]: x_r, x_z, x_n in; r, z, n, u out
  float* y;
  const float* b_ih;
  const float* b_hh;

  float* row_of(int64_t t, int64_t b) const { return gates + rows.row(t, b) * kStore * rows.H; }
  float* first_out(int64_t t) const { return row_of(t, 0); }
  const float* second_in(int64_t t) const { return row_of(t, 0) + 3 * rows.H; }
  float* second_out(int64_t t) const { return row_of(t, 0) + 2 * rows.H; }
  int64_t ld() const { return kStore * rows.H; }
  void forward_first(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* h_prev) const {
    gru_rb_gates_row({row_of(t, b) + u0, b_ih ? b_ih + u0 : nullptr, b_hh ? b_hh + u0 : nullptr,
                      h_prev, u1 - u0, rows.H});
  }
  void forward_second(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* h_prev,
                      float* state) const {
    gru_rb_output_row({row_of(t, b) + u0, b_ih ? b_ih + u0 : nullptr, b_hh ? b_hh + u0 : nullptr,
                       h_prev, y + rows.row(t, b) * rows.ld + u0, state, u1 - u0, rows.H});
  }
  void forward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    std::memset(row_of(t, b) + 3 * rows.H + u0, 0, sizeof(float) * (u1 - u0));  // u := 0
  }
};

// dA (all three blocks, biases included) is the gradient of the input
// projection and of both products' outputs: dW_hn takes it with u, the rest
// with h'. du = dA_n W_hn sits between the halves.
struct GruResetBeforeBackward {
  GatedRows rows;
  float* dA;        // [T*B, 3H]
  float* du;        // [B, H]
  float* carry;     // [B, H]
  float* bias_sum;  // [3H] or null
  const float* gates;
  const float* y;
  const float* h0;

  int64_t ld_in() const { return 3 * rows.H; }
  const float* first_in(int64_t t) const { return dA + t * rows.B * 3 * rows.H; }
  const float* second_in(int64_t t) const { return first_in(t) + 2 * rows.H; }
  const float* h_prev(int64_t t, int64_t b, int64_t u0) const {
    return rows.previous(h0, y, rows.ld, t, b, u0);
  }
  void backward_second(int64_t t, int64_t b, int64_t u0, int64_t u1, const float* dy,
                       const float* dh) const {
    const int64_t H = rows.H, r = rows.row(t, b);
    gru_rb_backward_out_row({dA + r * 3 * H + u0, bias_sum ? bias_sum + u0 : nullptr,
                             gates + r * kStore * H + u0, h_prev(t, b, u0), dy, dh,
                             carry + b * H + u0, u1 - u0, H});
  }
  void backward_first(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    const int64_t H = rows.H, r = rows.row(t, b);
    gru_rb_backward_gates_row({dA + r * 3 * H + u0, bias_sum ? bias_sum + u0 : nullptr,
                               gates + r * kStore * H + u0, h_prev(t, b, u0), du + b * H + u0,
                               carry + b * H + u0, u1 - u0, H});
  }
  void backward_skip(int64_t t, int64_t b, int64_t u0, int64_t u1) const {
    const int64_t H = rows.H, n = u1 - u0;
    float* row = dA + rows.row(t, b) * 3 * H + u0;
    for (int64_t g = 0; g < 3; ++g) std::memset(row + g * H, 0, sizeof(float) * n);
    std::memset(carry + b * H + u0, 0, sizeof(float) * n);
  }
};

// ---------------------------------------------------------------------------
// Scratch and workspace layouts

// The caller-provided backward workspace, carved up (one layout for the size
// and the pointers).
struct BackwardWork {
  float* dA = nullptr;        // [T*B, G*H]
  float* dN = nullptr;        // GRU [T*B, H]
  float* carry = nullptr;     // [B, H]
  float* gathered = nullptr;  // [B, G*H]
  float* bias = nullptr;      // [G*H]
  float* bias_n = nullptr;    // GRU [H]
  float* dc = nullptr;        // LSTM [B, H]
  float* du = nullptr;        // reset-before GRU [B, H]
};

int64_t backward_work(const RnnShape& s, CellKind cell, float* base, BackwardWork* out) {
  const int64_t GH = gate_count(cell) * s.H, TB = s.T * s.B;
  int64_t at = 0;
  const auto take = [&](float** p, int64_t n) {
    if (out != nullptr) *p = base + at;
    at += n;
  };
  BackwardWork w;
  take(&w.dA, TB * GH);
  if (cell == CellKind::Gru) take(&w.dN, TB * s.H);
  take(&w.carry, s.B * s.H);
  take(&w.gathered, s.B * GH);
  take(&w.bias, GH);
  if (cell == CellKind::Gru) take(&w.bias_n, s.H);
  if (cell == CellKind::Lstm) take(&w.dc, s.B * s.H);
  if (cell == CellKind::GruResetBefore) take(&w.du, s.B * s.H);
  if (out != nullptr) *out = w;
  return at;
}

// The reset-before GRU runs two products per step: W_hr, W_hz (2 gate
// blocks) and W_hn (1).
constexpr int64_t kFirstGates = 2;

// Floats of the first product's scratch, where the second's begins.
int64_t first_product_scratch(const ExecContext& ctx, StepProduct::Pass pass, const RnnShape& s) {
  return lines(StepProduct::scratch_floats(ctx, pass, s, kFirstGates));
}

int64_t product_scratch(const ExecContext& ctx, StepProduct::Pass pass, const RnnShape& s,
                        CellKind cell) {
  if (cell == CellKind::GruResetBefore) {
    return first_product_scratch(ctx, pass, s) + lines(StepProduct::scratch_floats(ctx, pass, s, 1));
  }
  return lines(StepProduct::scratch_floats(ctx, pass, s, gate_count(cell)));
}

// The reset-before GRU's two step products, on one scratch region.
struct SplitProducts {
  StepProduct first, second;
  SplitProducts(const ExecContext& ctx, const float* w_hh, StepProduct::Pass pass,
                const RnnShape& s, float* scratch)
      : first(ctx, w_hh, pass, s, kFirstGates, scratch),
        second(ctx, w_hh + kFirstGates * s.H * s.H, pass, s, 1,
               scratch + first_product_scratch(ctx, pass, s)) {}
};

// Scratch one forward direction needs: the step product's, the running state
// with lengths, the GRU's recurrent product.
// A forward pass given no gate store (inference: no BPTT follows) keeps
// none: it runs the sequence in chunks of steps whose input projection fits
// in L2 with room to spare, each chunk a sub-sequence starting from the state
// the one before left (W_hh packed once). Memory O(B*H) instead of
// O(T*B*4H) per direction, and faster: L5 (LSTM, T=100 B=64 H=256,
// bidirectional) 44-45 ms at 2 threads against 69-70 ms with the store
// (fastest of 38 calls each, one process); 512 KB chunks were no better.
// The budget is per thread of the team: the chunk's input product and its
// steps are split by rows, so each core holds its share. With one 1 MB
// budget for two threads, GRU / LSTM at B=32, H=256 (8-step chunks) ran 6-14%
// slower than with the store on the 2-core EPYC of 2026-12-04; with 1 MB a
// thread they run as fast (B=8-64; L5's shape even either way), and 2 MB at
// 1 thread was 2-5% slower than 1 MB. (Memory: threads MB a direction, still
// far below the whole store for long sequences.)
constexpr int64_t kChunkStoreBytesPerThread = int64_t{1} << 20;

bool keeps_no_store(const RnnForwardArgs& a) {
  return a.cell != CellKind::Elman && a.gates == nullptr;
}

int64_t chunk_steps(const ExecContext& ctx, const RnnShape& s) {
  const int64_t per_step = s.B * kStore * s.H * static_cast<int64_t>(sizeof(float));
  const int64_t budget = kChunkStoreBytesPerThread * team_tasks(ctx);
  return std::clamp<int64_t>(budget / per_step, 1, s.T);
}

// The input products x W_ih^T of a whole sequence, [T*B, G*H]: panels of
// W_ih^T (gate blocks as the step product's, so the columns land where the
// gate store and y have them).
PanelLayout input_layout(const RnnForwardArgs& a) {
  return PanelLayout{a.shape.I, a.shape.H, gate_count(a.cell)};
}

// Whether the input products run on the packed kernel rather than OpenBLAS:
// with AVX-512 (the AVX2 form was not measured against OpenBLAS) and B >= 2
// (with the step kernel; B = 1 stays on OpenBLAS, as W4 does).
std::optional<PackedIsa> input_packed_isa(const ExecContext& ctx, const RnnShape& s) {
  const auto isa = packed_isa_for(ctx, s);
  if (isa != PackedIsa::Avx512) return std::nullopt;
  return isa;
}

// Rows of A per block: the block (rows x K floats) stays in L2 while every
// panel passes over it.
int64_t packed_block_rows(int64_t K) {
  constexpr int64_t kBlockBytes = 96 * 1024;
  const int64_t rows = kBlockBytes / (K * static_cast<int64_t>(sizeof(float)));
  return std::clamp<int64_t>(rows / 12 * 12, 12, 516);
}

// C[M, N] (row stride ldc) (+)= A[M, K] B on the packed kernel, B = w read as
// l says (transposed: w is [N, K]), packed into `panels` first when `pack`.
// OpenBLAS with beta 0 first writes zeros over all of C and then adds the
// product onto it: on W5's forward that pass (mostly the first touch of a
// fresh output) took 8% of the CPU time. Here every element is stored once,
// C + (or only) one FMA chain over K from zero: the same bits however the
// rows are shared out.
void rows_times_packed(const ExecContext& ctx, PackedIsa isa, int64_t M, const PanelLayout& l,
                       const float* A, int64_t lda, const float* w, bool transpose, float* C,
                       int64_t ldc, bool accumulate, float* panels, bool pack) {
  const int64_t P = panel_count(l);
  const int64_t block = packed_block_rows(l.K);
  // Small products stay on one thread.
  const int64_t macs = M * l.K * l.gates * l.units;
  const int tasks = macs < (int64_t{1} << 21) ? 1 : team_tasks(ctx);
  const int64_t blocks = (M + block - 1) / block;
  run_phases(tasks, pack ? 2 : 1, [&](int phase, int task) {
    if (pack && phase == 0) {
      const auto [p0, p1] = task_share(P, 1, task, tasks);
      pack_panels(w, transpose, l, panels, p0, p1);
      return;
    }
    const auto [b0, b1] = task_share(blocks, 1, task, tasks);
    const int64_t r1 = std::min(M, b1 * block);
    for (int64_t r = std::min(M, b0 * block); r < r1; r += block) {
      const int64_t rows = std::min(block, r1 - r);
      gemm_packed(isa, rows, l, A + r * lda, lda, panels, C + r * ldc, ldc, accumulate, 0, P);
    }
  });
}

// Up to this I the Elman step's tile computes its own input product
// (TileEpilogue::x) instead of reading it from a whole-sequence GEMM's
// output (in-process A/B, 1 core, Sapphire Rapids, B=32, T=100, fastest of
// 6000 calls: H=32 I=1 1.29 -> 1.14 us a step, I=4 1.20 -> 1.14; H=64 I=1
// 3.39 -> 3.06; I=8 even, I=16 8% slower: its chain of I FMAs a vector then
// costs more than the pass it saves).
constexpr int64_t kTileInputMaxI = 4;

// Whether the Elman forward's tiles take the input products.
bool input_in_tile(const ExecContext& ctx, const RnnForwardArgs& a, const StepProduct& one) {
  return a.cell == CellKind::Elman && a.lengths == nullptr && a.shape.I <= kTileInputMaxI &&
         one.fuses_epilogue() && input_packed_isa(ctx, a.shape).has_value();
}

// The input products into C (y for Elman, the gate store otherwise).
void input_products(const ExecContext& ctx, const RnnForwardArgs& a, float* C, int64_t ldc,
                    float* panels, bool pack) {
  const auto [T, B, I, H] = a.shape;
  if (const auto isa = input_packed_isa(ctx, a.shape)) {
    assert(panels != nullptr);
    rows_times_packed(ctx, *isa, T * B, input_layout(a), a.x, I, a.w_ih, /*transpose=*/true, C,
                      ldc, /*accumulate=*/false, panels, pack);
    return;
  }
  team_sgemm(ctx, false, true, T * B, gate_count(a.cell) * H, I, 1.0f, a.x, I, a.w_ih, I, 0.0f,
             C, ldc);
}

// Scratch one forward direction needs, carved in this order: the step
// products', W_ih^T's panels (packed input products only), the running
// state with lengths, the GRU's recurrent product;
// without a store also the chunk's gate (and LSTM cell) store, two h (and
// two c) states to alternate between chunks, and the chunk's lengths.
struct ForwardScratch {
  float* input_panels = nullptr;  // W_ih^T packed, when input_packed_isa says so
  float* state = nullptr;
  float* hprod = nullptr;
  float* store = nullptr;
  float* cells = nullptr;
  float* h[2] = {nullptr, nullptr};
  float* c[2] = {nullptr, nullptr};
  float* lengths = nullptr;  // B int32 values (one float slot each)
};

int64_t forward_scratch_layout(const ExecContext& ctx, const RnnForwardArgs& a, float* base,
                               ForwardScratch* out) {
  const auto [T, B, I, H] = a.shape;
  (void)T;
  (void)I;
  int64_t at = product_scratch(ctx, StepProduct::Pass::Forward, a.shape, a.cell);
  ForwardScratch f;
  const auto take = [&](float** p, int64_t n) {
    if (out != nullptr) *p = base + at;
    at += lines(n);
  };
  if (input_packed_isa(ctx, a.shape)) take(&f.input_panels, packed_size(input_layout(a)));
  if (a.lengths != nullptr) take(&f.state, B * H);
  if (a.cell == CellKind::Gru) take(&f.hprod, 3 * B * H);
  if (keeps_no_store(a)) {
    const int64_t steps = chunk_steps(ctx, a.shape);
    take(&f.store, steps * B * kStore * H);
    for (float*& h : f.h) take(&h, B * H);
    if (a.cell == CellKind::Lstm) {
      take(&f.cells, steps * B * H);
      for (float*& c : f.c) take(&c, B * H);
    }
    if (a.lengths != nullptr) take(&f.lengths, B);
  }
  if (out != nullptr) *out = f;
  return at;
}

int64_t forward_scratch(const ExecContext& ctx, const RnnForwardArgs& a) {
  return forward_scratch_layout(ctx, a, nullptr, nullptr);
}

int64_t input_grad_scratch(const ExecContext& ctx, const RnnBackwardArgs& a);

// The step product's panels, or (input_grad_on runs after the loop, over the
// same scratch) W_ih's, whichever is larger.
int64_t backward_scratch(const ExecContext& ctx, const RnnBackwardArgs& a) {
  return std::max(product_scratch(ctx, StepProduct::Pass::Backward, a.shape, a.cell),
                  input_grad_scratch(ctx, a));
}

// ---------------------------------------------------------------------------
// One direction

// A (sub-)sequence with its gate store: the input products of all its steps
// as one GEMM, then the time loop. `pack`: the step products still need their
// panels packed (the first sequence of a call).
void forward_sequence(const ExecContext& ctx, const RnnForwardArgs& a, const StepProduct* one,
                      const SplitProducts* split, const ForwardScratch& f, bool pack) {
  const auto [T, B, I, H] = a.shape;
  const LoopShape ls{a.shape, a.lengths, a.reverse};
  const GatedRows rows{T, B, H, a.ld, a.lengths, a.reverse};
  if (a.cell == CellKind::Elman) {
    ElmanForward cell{a.y, a.ld, B, a.b_ih, a.b_hh, a.act};
    if (input_in_tile(ctx, a, *one)) {
      // Each step's tile computes its input product, except the first
      // step's without h0 (no product to carry the epilogue).
      const PanelLayout l = input_layout(a);
      if (pack) pack_panels(a.w_ih, /*transpose=*/true, l, f.input_panels, 0, panel_count(l));
      if (a.h0 == nullptr) {
        const int64_t t0 = a.reverse ? T - 1 : 0;
        rows_times_packed(ctx, *input_packed_isa(ctx, a.shape), B, l, a.x + t0 * B * I, I,
                          a.w_ih, /*transpose=*/true, a.y + t0 * B * a.ld, a.ld,
                          /*accumulate=*/false, f.input_panels, /*pack=*/false);
      }
      cell.x = a.x;
      cell.I = I;
      cell.x_panels = f.input_panels;
    } else {
      // y[T*B, H] = x[T*B, I] W_ih^T: the projection goes straight into y.
      input_products(ctx, a, a.y, a.ld, f.input_panels, pack);
    }
    forward_time_loop(ls, cell, *one, a.y, a.ld, a.h0, a.hN, f.state, pack);
    return;
  }
  assert(a.gates);
  input_products(ctx, a, a.gates, kStore * H, f.input_panels, pack);
  switch (a.cell) {
    case CellKind::Lstm: {
      assert(a.cells && a.cN);
      const LstmForward cell{rows, a.gates, a.cells, a.y, a.cN, a.c0, a.b_ih, a.b_hh};
      forward_time_loop(ls, cell, *one, a.y, a.ld, a.h0, a.hN, f.state, pack);
      return;
    }
    case CellKind::Gru: {
      const GruForward cell{rows, a.gates, f.hprod, a.y, a.b_ih, a.b_hh};
      forward_time_loop(ls, cell, *one, a.y, a.ld, a.h0, a.hN, f.state, pack);
      return;
    }
    case CellKind::GruResetBefore: {
      const GruResetBeforeForward cell{rows, a.gates, a.y, a.b_ih, a.b_hh};
      forward_time_loop_two_products(ls, cell, split->first, split->second, a.y, a.ld, a.h0,
                                     a.hN, f.state, pack);
      return;
    }
    case CellKind::Elman: break;  // above
  }
}

// The chunks of a store-less forward pass, in processing order. Chunk [t0, t1)
// is the sub-sequence of rows' steps in it: row lengths min(max(L - t0, 0),
// t1 - t0), the forward direction entering from the state after step t0 - 1,
// the reverse one from the state after step t1 (h0 where a row has not
// started). A row with no step in a chunk keeps its state through it.
void forward_in_chunks(const ExecContext& ctx, const RnnForwardArgs& a, const StepProduct* one,
                       const SplitProducts* split, const ForwardScratch& f) {
  const auto [T, B, I, H] = a.shape;
  const int64_t steps = chunk_steps(ctx, a.shape);
  const int64_t chunks = (T + steps - 1) / steps;
  const bool lstm = a.cell == CellKind::Lstm;
  int32_t* lengths = nullptr;
  if (a.lengths != nullptr) {
    static_assert(sizeof(int32_t) <= sizeof(float), "one float slot per length");
    lengths = new (static_cast<void*>(f.lengths)) int32_t[B];
  }
  const float* h_in = a.h0;
  const float* c_in = a.c0;
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t index = a.reverse ? chunks - 1 - k : k;
    const int64_t t0 = index * steps, t1 = std::min(T, t0 + steps);
    const bool last = k == chunks - 1;
    RnnForwardArgs c = a;
    c.shape.T = t1 - t0;
    c.x = a.x + t0 * B * I;
    c.y = a.y + t0 * B * a.ld;
    c.gates = f.store;
    c.cells = f.cells;
    c.h0 = h_in;
    c.hN = last ? a.hN : f.h[k % 2];
    c.c0 = c_in;
    c.cN = lstm ? (last ? a.cN : f.c[k % 2]) : nullptr;
    if (a.lengths != nullptr) {
      for (int64_t b = 0; b < B; ++b) {
        lengths[b] = static_cast<int32_t>(std::clamp<int64_t>(a.lengths[b] - t0, 0, t1 - t0));
      }
      c.lengths = lengths;
    }
    forward_sequence(ctx, c, one, split, f, k == 0);
    if (lstm && a.lengths != nullptr) {
      // The loop writes cN at a row's last step; a row with none here keeps c.
      for (int64_t b = 0; b < B; ++b) {
        if (lengths[b] != 0) continue;
        float* to = c.cN + b * H;
        if (c_in != nullptr) {
          std::memcpy(to, c_in + b * H, sizeof(float) * H);
        } else {
          std::memset(to, 0, sizeof(float) * H);
        }
      }
    }
    h_in = c.hN;
    c_in = c.cN;
  }
}

void forward_on(const ExecContext& ctx, const RnnForwardArgs& a, float* scratch) {
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  assert((a.b_ih == nullptr) == (a.b_hh == nullptr));
  (void)T;
  (void)B;
  (void)I;
  (void)H;
  ForwardScratch f;
  forward_scratch_layout(ctx, a, scratch, &f);
  std::optional<StepProduct> one;
  std::optional<SplitProducts> split;
  constexpr auto pass = StepProduct::Pass::Forward;
  const ExecContext step_ctx = step_context(ctx, pass, a.shape, a.cell);
  if (a.cell == CellKind::GruResetBefore) {
    split.emplace(step_ctx, a.w_hh, pass, a.shape, scratch);
  } else {
    one.emplace(step_ctx, a.w_hh, pass, a.shape, gate_count(a.cell), scratch, /*rows_ok=*/true);
  }
  const StepProduct* p1 = one ? &*one : nullptr;
  const SplitProducts* p2 = split ? &*split : nullptr;
  if (keeps_no_store(a)) {
    forward_in_chunks(ctx, a, p1, p2, f);
  } else {
    forward_sequence(ctx, a, p1, p2, f, true);
  }
}

// One GEMM of dx's: dx (+)= dA[:, block] (row stride lda) times these K rows of W_ih.
struct InputGradPart {
  const float* dA;
  int64_t lda;
  const float* w;  // rows of W_ih
  int64_t K;
};

int64_t input_grad_parts(const RnnBackwardArgs& a, const BackwardWork& w, InputGradPart* parts) {
  const auto [T, B, I, H] = a.shape;
  (void)T;
  (void)B;
  if (a.cell == CellKind::Gru) {
    parts[0] = {w.dA, 3 * H, a.w_ih, 2 * H};
    parts[1] = {w.dN, H, a.w_ih + 2 * H * I, H};
    return 2;
  }
  const int64_t GH = gate_count(a.cell) * H;
  parts[0] = {w.dA, GH, a.w_ih, GH};
  return 1;
}

// With AVX-512, and when I fills its 32-column panels (at most 1/8 padding:
// a narrow input such as W1's I = 65 would compute 96 columns).
std::optional<PackedIsa> input_grad_packed(const ExecContext& ctx, const RnnBackwardArgs& a) {
  const int64_t I = a.shape.I;
  const int64_t padded = (I + kPanelWidth - 1) / kPanelWidth * kPanelWidth;
  if (a.dx == nullptr || 8 * (padded - I) > I) return std::nullopt;
  return input_packed_isa(ctx, a.shape);
}

int64_t input_grad_scratch(const ExecContext& ctx, const RnnBackwardArgs& a) {
  if (!input_grad_packed(ctx, a)) return 0;
  const int64_t GH = gate_count(a.cell) * a.shape.H;
  return lines(packed_size(PanelLayout{GH, a.shape.I, 1}));
}

// dx (+)= dA_in W_ih over all T*B rows, where dA_in is the gradient of the
// input products (the GRU's n block of it lives in dN): B = W_ih ([G*H, I]),
// in one or (GRU) two K blocks. On the packed kernel when input_grad_packed
// says so (`scratch`: input_grad_scratch floats), else OpenBLAS, whose beta = 0
// zeroes before it adds: the bits of a zeroed dx and beta = 1.
void input_grad_on(const ExecContext& ctx, const RnnBackwardArgs& a, float* scratch) {
  const auto [T, B, I, H] = a.shape;
  (void)H;
  assert(a.dx != nullptr);
  BackwardWork w;
  backward_work(a.shape, a.cell, a.work, &w);
  InputGradPart parts[2];
  const int64_t n = input_grad_parts(a, w, parts);
  const auto isa = input_grad_packed(ctx, a);
  for (int64_t k = 0; k < n; ++k) {
    const InputGradPart& p = parts[k];
    const bool assign = k == 0 && a.dx_assign;
    if (isa) {
      rows_times_packed(ctx, *isa, T * B, PanelLayout{p.K, I, 1}, p.dA, p.lda, p.w,
                        /*transpose=*/false, a.dx, I, !assign, scratch, /*pack=*/true);
    } else {
      team_sgemm(ctx, false, false, T * B, I, p.K, 1.0f, p.dA, p.lda, p.w, I,
                 assign ? 0.0f : 1.0f, a.dx, I);
    }
  }
}

// sum[c] += dA[row][c] over all T*B rows in the order BPTT visits them (steps
// last to first, or first to last in reverse; rows ascending): the float adds
// the loop would have made, split by columns over `tasks`.
void sum_rows_in_loop_order(int tasks, const float* dA, const RnnShape& s, int64_t cols,
                            bool reverse, float* sum) {
  run_phases(tasks, 1, [&](int, int task) {
    const auto [c0, c1] = task_share(cols, 16, task, tasks);
    for (int64_t k = 0; k < s.T; ++k) {
      const int64_t t = reverse ? k : s.T - 1 - k;
      for (int64_t b = 0; b < s.B; ++b) {
        accumulate_row(sum + c0, dA + (t * s.B + b) * cols + c0, c1 - c0);
      }
    }
  });
}

void backward_on(const ExecContext& ctx, const RnnBackwardArgs& a, float* scratch) {
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  const int64_t G = gate_count(a.cell), GH = G * H;
  BackwardWork w;
  backward_work(a.shape, a.cell, a.work, &w);
  const bool bias = a.db_ih != nullptr;
  if (bias) {
    std::memset(w.bias, 0, sizeof(float) * GH);
    if (w.bias_n) std::memset(w.bias_n, 0, sizeof(float) * H);
  }

  const LoopShape ls{a.shape, a.lengths, a.reverse};
  const GatedRows rows{T, B, H, a.ld, a.lengths, a.reverse};
  float* bias_sum = bias ? w.bias : nullptr;
  const bool reset_before = a.cell == CellKind::GruResetBefore;
  constexpr auto pass = StepProduct::Pass::Backward;
  const ExecContext step_ctx = step_context(ctx, pass, a.shape, a.cell);
  if (reset_before) {
    const SplitProducts products(step_ctx, a.w_hh, pass, a.shape, scratch);
    const GruResetBeforeBackward cell{rows, w.dA, w.du, w.carry, bias_sum, a.gates, a.y, a.h0};
    backward_time_loop_two_products(ls, cell, products.first, products.second, a.dy, a.ld,
                                    a.dhN, a.dh0, w.carry, a.trace);
  } else {
    const StepProduct product(step_ctx, a.w_hh, pass, a.shape, G, scratch, /*rows_ok=*/true);
    const bool elman_in_tile = a.cell == CellKind::Elman && a.lengths == nullptr &&
                               a.trace == nullptr && product.fuses_epilogue();
    // Split by rows, tasks would add into the same bias sums, and a tile
    // that writes dA does not sum them: they are summed after the loop
    // instead, in the loop's order (the same bits).
    float* loop_bias_sum = product.splits_rows() || elman_in_tile ? nullptr : bias_sum;
    switch (a.cell) {
      case CellKind::Elman: {
        ElmanBackward cell{w.dA, a.y, a.ld, B, H, loop_bias_sum, a.act};
        cell.in_tile = elman_in_tile;
        backward_time_loop(ls, cell, product, a.dy, a.ld, a.dhN, a.dh0, w.carry, a.trace);
        break;
      }
      case CellKind::Lstm: {
        const LstmBackward cell{rows, w.dA, w.dc, a.dc0, loop_bias_sum, a.gates, a.cells, a.c0, a.dcN};
        backward_time_loop(ls, cell, product, a.dy, a.ld, a.dhN, a.dh0, w.carry, a.trace);
        break;
      }
      case CellKind::Gru: {
        const GruBackward cell{rows, w.dA, w.dN, w.carry, loop_bias_sum, w.bias_n, a.gates, a.y, a.h0};
        backward_time_loop(ls, cell, product, a.dy, a.ld, a.dhN, a.dh0, w.carry, a.trace);
        break;
      }
      case CellKind::GruResetBefore: break;  // above
    }
    if (bias_sum != nullptr && loop_bias_sum == nullptr) {
      sum_rows_in_loop_order(product.tasks(), w.dA, a.shape, GH, a.reverse, bias_sum);
      // The GRU's b_in (n block) from the input product's gradient rows.
      if (a.cell == CellKind::Gru) sum_rows_in_loop_order(product.tasks(), w.dN, a.shape, H, a.reverse, w.bias_n);
    }
  }

  // Whole-sequence gradient GEMMs.
  // dW_hh += sum_t dA(t)^T h(t-1) over the gate blocks whose product reads
  // h(t-1) (all but the reset-before GRU's n block, which reads u). h(t-1) is
  // y one step earlier in processing order (zero padding past a length
  // contributes nothing), or h0 at each row's first step.
  const int64_t GH_h = reset_before ? kFirstGates * H : GH;
  if (T > 1) {
    const float* dA_rows = a.reverse ? w.dA : w.dA + B * GH;
    const float* h_rows = a.reverse ? a.y + B * a.ld : a.y;
    team_sgemm(ctx, true, false, GH_h, H, (T - 1) * B, 1.0f, dA_rows, GH, h_rows, a.ld, 1.0f,
               a.dw_hh, H);
  }
  if (a.h0 != nullptr) {
    const float* dA_first = w.dA;  // forward: every row starts at t = 0
    if (a.reverse) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t t = row_first_step(a.lengths, b, T, true);
        std::memcpy(w.gathered + b * GH, w.dA + (t * B + b) * GH, sizeof(float) * GH);
      }
      dA_first = w.gathered;
    }
    team_sgemm(ctx, true, false, GH_h, H, B, 1.0f, dA_first, GH, a.h0, H, 1.0f, a.dw_hh, H);
  }
  if (reset_before) {
    // dW_hn += sum_t dA_n(t)^T u(t); u is zero past a length.
    team_sgemm(ctx, true, false, H, H, T * B, 1.0f, w.dA + 2 * H, GH, a.gates + 3 * H,
               kStore * H, 1.0f, a.dw_hh + 2 * H * H, H);
  }

  // dW_ih += dA_in^T x over all T*B rows; db_hh += column sums of dA, db_ih of
  // dA_in (the same except for the GRU's n block).
  if (a.cell == CellKind::Gru) {
    team_sgemm(ctx, true, false, 2 * H, I, T * B, 1.0f, w.dA, GH, a.x, I, 1.0f, a.dw_ih, I);
    team_sgemm(ctx, true, false, H, I, T * B, 1.0f, w.dN, H, a.x, I, 1.0f, a.dw_ih + 2 * H * I, I);
  } else {
    team_sgemm(ctx, true, false, GH, I, T * B, 1.0f, w.dA, GH, a.x, I, 1.0f, a.dw_ih, I);
  }
  if (bias) {
    for (int64_t j = 0; j < GH; ++j) {
      a.db_hh[j] += w.bias[j];
      a.db_ih[j] += (w.bias_n && j >= 2 * H) ? w.bias_n[j - 2 * H] : w.bias[j];
    }
  }

  if (a.dx != nullptr) input_grad_on(ctx, a, scratch);
}

}  // namespace

StepProduct::StepProduct(const ExecContext& ctx, const float* w_hh, Pass pass,
                         const RnnShape& s, int64_t gates, float* scratch, bool rows_ok)
    : w_(w_hh), pass_(pass), B_(s.B), H_(s.H), G_(gates), isa_(packed_isa_for(ctx, s)) {
  assert(gates >= 1);
  layout_ = step_layout(pass, H_, G_);
  const int max_tasks = B_ > 1 ? team_tasks(ctx) : 1;  // one row: one GEMV
  if (isa_) {
    panels_ = scratch;
    rows_split_ = rows_ok && rows_split_on(max_tasks, isa_, pass, s, G_);
    tasks_ = rows_split_ ? max_tasks
                         : static_cast<int>(std::min<int64_t>(max_tasks, unit_blocks(layout_)));
  } else {
    if (stores_transpose(isa_, pass, s)) {
      transpose_into(w_hh, G_ * H_, H_, scratch);
      w_ = scratch;
      stored_transposed_ = true;
    }
    tasks_ = static_cast<int>(std::min<int64_t>(max_tasks, (H_ + 15) / 16));
  }
  tasks_ = std::max(tasks_, 1);
}

int64_t StepProduct::scratch_floats(const ExecContext& ctx, Pass pass, const RnnShape& s,
                                    int64_t gates) {
  const auto isa = packed_isa_for(ctx, s);
  if (isa) {
    return packed_size(pass == Pass::Forward ? PanelLayout{s.H, s.H, gates}
                                             : PanelLayout{gates * s.H, s.H, 1});
  }
  return stores_transpose(isa, pass, s) ? gates * s.H * s.H : 0;
}

std::pair<int64_t, int64_t> StepProduct::units(int task) const {
  assert(task != kAllRows || rows_split_);
  if (rows_split_) return {0, H_};
  if (isa_) {
    const auto [b0, b1] = task_share(unit_blocks(layout_), 1, task, tasks_);
    return {std::min(b0 * kPanelWidth, H_), std::min(b1 * kPanelWidth, H_)};
  }
  return task_share(H_, 16, task, tasks_);
}

std::pair<int64_t, int64_t> StepProduct::rows(int task) const {
  if (!rows_split_ || task == kAllRows) return {0, B_};
  return task_share(B_, 1, task, tasks_);
}

void StepProduct::pack_up_front() const {
  if (!rows_split_) return;
  pack_panels(w_, pass_ == Pass::Forward, layout_, panels_, 0, unit_blocks(layout_) * layout_.gates);
}

void StepProduct::prepare(int task) const {
  if (!isa_ || rows_split_) return;
  const auto [b0, b1] = task_share(unit_blocks(layout_), 1, task, tasks_);
  pack_panels(w_, pass_ == Pass::Forward, layout_, panels_, b0 * layout_.gates,
              b1 * layout_.gates);
}

// Up to this H the tile applies the Elman epilogue (in-process A/B, 1 core,
// Sapphire Rapids, fastest of 3000 calls: B=32, H=32 1.27 -> 1.17 us a step,
// B=8, H=32 0.358 -> 0.324; H = 64 and 96 unchanged; B=32, H=128 3% slower,
// the tile's 22 tanh vectors then stalling its next K loop).
constexpr int64_t kFusedEpilogueMaxH = 64;

// Up to this H the tile writes BPTT's dA (in-process A/B, 1 core, Sapphire
// Rapids, T=100, fastest of 6000 calls: B=32, H=32 2.19 -> 1.96 and 2.14 ->
// 1.95 us a step, B=16, H=32 relu 0.914 -> 0.847; B=32, H=64 1-4% slower).
constexpr int64_t kFusedGradMaxH = 32;

bool StepProduct::fuses_epilogue() const {
  return isa_ && rnnblas::fuses_epilogue(*isa_) &&
         H_ <= (pass_ == Pass::Forward ? kFusedEpilogueMaxH : kFusedGradMaxH);
}

bool StepProduct::fused(int task, const float* in, int64_t ld_in, bool accumulate,
                        float* out, int64_t ld_out, const TileEpilogue& epilogue) const {
  const bool fuses = in != nullptr && fuses_epilogue();
  // An input product in the epilogue is only asked of a product that takes it.
  assert(fuses || epilogue.x == nullptr || in == nullptr);
  run(task, in, ld_in, accumulate, out, ld_out, fuses ? &epilogue : nullptr);
  return fuses;
}

void StepProduct::operator()(int task, const float* in, int64_t ld_in, bool accumulate,
                             float* out, int64_t ld_out) const {
  run(task, in, ld_in, accumulate, out, ld_out, nullptr);
}

void StepProduct::run(int task, const float* in, int64_t ld_in, bool accumulate, float* out,
                      int64_t ld_out, const TileEpilogue* epilogue) const {
  const auto [u0, u1] = units(task);
  const auto [r0, r1] = rows(task);
  if (u1 <= u0 || r1 <= r0) return;
  const bool forward = pass_ == Pass::Forward;
  const int64_t G = forward ? G_ : 1;  // gate blocks among the output columns
  if (in == nullptr) {  // h = 0: the product is zero
    if (!accumulate) {
      for (int64_t b = r0; b < r1; ++b) {
        for (int64_t g = 0; g < G; ++g) {
          std::memset(out + b * ld_out + g * H_ + u0, 0, sizeof(float) * (u1 - u0));
        }
      }
    }
    return;
  }
  if (rows_split_) {
    TileEpilogue rows_epilogue;
    if (epilogue != nullptr) {  // the epilogue's rows [r0, r1) too
      rows_epilogue = *epilogue;
      if (rows_epilogue.x) rows_epilogue.x += r0 * rows_epilogue.x_ld;
      if (rows_epilogue.dy) rows_epilogue.dy += r0 * rows_epilogue.dy_ld;
      if (rows_epilogue.y) rows_epilogue.y += r0 * rows_epilogue.y_ld;
      epilogue = &rows_epilogue;
    }
    gemm_packed(*isa_, r1 - r0, layout_, in + r0 * ld_in, ld_in, panels_, out + r0 * ld_out,
                ld_out, accumulate, 0, unit_blocks(layout_) * layout_.gates, epilogue);
    return;
  }
  if (isa_) {
    const auto [b0, b1] = task_share(unit_blocks(layout_), 1, task, tasks_);
    gemm_packed(*isa_, B_, layout_, in, ld_in, panels_, out, ld_out, accumulate,
                b0 * layout_.gates, b1 * layout_.gates, epilogue);
    return;
  }
  assert(epilogue == nullptr);
  const float beta = accumulate ? 1.0f : 0.0f;
  const int64_t K = forward ? H_ : G_ * H_;
  if (B_ == 1) {
    assert(u0 == 0 && u1 == H_);
    if (G_ * H_ <= kSmallGemvMax) {
      if (forward) {
        gemv_rows(w_, in, beta, out, G_ * H_, H_);  // out = W h
      } else {
        gemv_cols(w_, in, beta, out, G_ * H_, H_);  // out = dA W
      }
    } else {
      // Row vector times W^T is W times the column vector.
      cblas_sgemv(CblasRowMajor, forward ? CblasNoTrans : CblasTrans,
                  as_blas(G_ * H_), as_blas(H_), 1.0f, w_, as_blas(H_), in, 1,
                  beta, out, 1);
    }
    return;
  }
  for (int64_t g = 0; g < G; ++g) {
    // Columns g*H + [u0, u1) of M: of W_hh^T stored ([H, G*H]), of W_hh
    // ([G*H, H], backward), or rows of W_hh read transposed.
    const int64_t c0 = g * H_ + u0;
    const bool trans_b = forward && !stored_transposed_;
    const float* b = trans_b ? w_ + c0 * H_ : w_ + c0;
    const int64_t ldb = trans_b ? H_ : (forward ? G_ * H_ : H_);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                as_blas(B_), as_blas(u1 - u0), as_blas(K), 1.0f, in,
                as_blas(ld_in), b, as_blas(ldb), beta, out + c0, as_blas(ld_out));
  }
}

bool step_kernel_supported(StepKernel k) {
  switch (k) {
    case StepKernel::Avx512: return packed_isa_supported(PackedIsa::Avx512);
    case StepKernel::Avx2: return packed_isa_supported(PackedIsa::Avx2);
    default: return true;
  }
}

StepKernel resolve_step_kernel(StepKernel k) {
  if (k != StepKernel::Auto) return k;
  if (packed_isa_supported(PackedIsa::Avx512)) return StepKernel::Avx512;
  if (packed_isa_supported(PackedIsa::Avx2)) return StepKernel::Avx2;
  return StepKernel::Blas;
}

int64_t backward_workspace_size(const RnnShape& s, CellKind cell) {
  return backward_work(s, cell, nullptr, nullptr);
}

namespace {

// Below this many multiply-adds per direction, a second thread costs more
// than it saves (measured: ~30 us per pair call).
constexpr int64_t kPairMinMacs = int64_t{1} << 21;

template <class Args>
bool run_as_pair(const ExecContext& ctx, const Args& a, int count) {
  const RnnShape& s = a.shape;
  return count == 2 && ctx.threads >= 2 &&
         s.T * s.B * s.H * (s.I + s.H) * gate_count(a.cell) >= kPairMinMacs;
}

// Direction d of a layer's call: the second adds onto the dx the first wrote.
RnnBackwardArgs second_adds(const RnnBackwardArgs* dirs, int d) {
  RnnBackwardArgs a = dirs[d];
  a.dx_assign = d == 0 && dirs[0].dx_assign;
  return a;
}

}  // namespace

// A pair runs its two directions as the two tasks of one team job, each
// single-threaded inside (one core each when the team is free, one after the
// other on the caller when not: the same bits either way).
void rnn_forward_layer(const ExecContext& ctx, const RnnForwardArgs* dirs, int count) {
  assert(count == 1 || count == 2);
  const FloatModeScope mode(ctx);
  if (run_as_pair(ctx, dirs[0], count)) {
    const ExecContext one = solo(ctx);
    const int64_t n0 = forward_scratch(one, dirs[0]);
    float* scratch = caller_scratch(n0 + forward_scratch(one, dirs[1]));
    float* mine[2] = {scratch, scratch + n0};
    run_phases(2, 1, [&](int, int d) { forward_on(one, dirs[d], mine[d]); });
    return;
  }
  for (int d = 0; d < count; ++d) {
    const ExecContext c = sized_for(ctx, dirs[d]);
    forward_on(c, dirs[d], caller_scratch(forward_scratch(c, dirs[d])));
  }
}

void rnn_backward_layer(const ExecContext& ctx, const RnnBackwardArgs* dirs, int count) {
  assert(count == 1 || count == 2);
  const FloatModeScope mode(ctx);
  if (run_as_pair(ctx, dirs[0], count)) {
    assert(dirs[0].dx == dirs[1].dx);
    RnnBackwardArgs own[2] = {dirs[0], dirs[1]};
    own[0].dx = own[1].dx = nullptr;  // dx is shared: added below, in order
    const ExecContext one = solo(ctx);
    const int64_t n0 = backward_scratch(one, own[0]);
    float* scratch = caller_scratch(n0 + backward_scratch(one, own[1]));
    float* mine[2] = {scratch, scratch + n0};
    run_phases(2, 1, [&](int, int d) { backward_on(one, own[d], mine[d]); });
    if (dirs[0].dx != nullptr) {
      for (int d = 0; d < 2; ++d) {
        const ExecContext c = sized_for(ctx, dirs[d]);
        const RnnBackwardArgs a = second_adds(dirs, d);
        input_grad_on(c, a, caller_scratch(input_grad_scratch(c, a)));
      }
    }
    return;
  }
  for (int d = 0; d < count; ++d) {
    const ExecContext c = sized_for(ctx, dirs[d]);
    backward_on(c, second_adds(dirs, d), caller_scratch(backward_scratch(c, dirs[d])));
  }
}

}  // namespace rnnblas
