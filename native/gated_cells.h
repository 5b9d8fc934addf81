// The elementwise ends of the gated cells, one row of a task's hidden units
// at a time (forward and backward of each cell side by side), PyTorch's
// equations and gate orders:
//
//   LSTM (gates i, f, g, o):
//     i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
//     c = f c' + i g          h = o tanh(c)
//   GRU (gates r, z, n; the n block of the recurrent product kept apart):
//     r = σ(x_r + h_r)  z = σ(x_z + h_z)  hn = W_hn h' + b_hn
//     n = tanh(x_n + r hn)    h = (1 - z) n + z h'
//   GRU with the reset gate before the product (Keras reset_after=False, ONNX
//   linear_before_reset=0): two halves per step, the product u W_hn^T between
//     r = σ(a_r)  z = σ(a_z)  u = r h'
//     n = tanh(x_n + u W_hn^T + b_in + b_hn)   h = (1 - z) n + z h'
//
// where a = x W_ih^T + b_ih + h' W_hh^T + b_hh, x_* / h_* are the input and
// recurrent products with their biases, and ' is the previous step.
//
// Row pointers all point at unit u0 of a row; gate k of a gate-blocked row is
// at offset k*H (H = the full hidden width), so one call covers n = u1 - u0
// units of every gate. A null c', h', bias, dy or incoming gradient is zero.
// Compiled with function multiversioning (see clones.h).
#pragma once
#include <cstdint>

namespace rnnblas {

// Gate blocks stored per step by the forward pass for BPTT: LSTM i, f, g, o
// (activated); GRU r, z, n (activated) and hn.
constexpr int64_t kGatedStoreBlocks = 4;

struct LstmForwardRow {
  float* gates;        // in: a without biases; out: i, f, g, o
  const float* b_ih;   // [4H] blocks, or null
  const float* b_hh;
  const float* c_prev;
  float* c;            // out
  float* h;            // out (the y row)
  float* state;        // out too, or null
  int64_t n, H;
};
void lstm_forward_row(const LstmForwardRow& r);

struct LstmBackwardRow {
  float* dA;            // out: dL/da, gate blocks
  float* bias_sum;      // += dA (gate blocks), or null
  const float* gates;   // i, f, g, o
  const float* c;
  const float* c_prev;
  const float* dy;
  const float* dh;
  const float* dc_in;   // dL/dc from the step after (or gcN)
  float* dc_prev;       // out: dL/dc', may alias dc_in
  float* dc0;           // out too, or null
  int64_t n, H;
};
void lstm_backward_row(const LstmBackwardRow& r);

struct GruForwardRow {
  float* gates;         // in: x_r, x_z, x_n without b_ih (stride-H blocks); out: r, z, n, hn
  const float* hprod;   // h' W_hh^T without b_hh, blocks r, z, n
  const float* b_ih;    // [3H] blocks, or null
  const float* b_hh;
  const float* h_prev;
  float* h;             // out (the y row)
  float* state;         // out too, or null
  int64_t n, H;
};
void gru_forward_row(const GruForwardRow& r);

struct GruBackwardRow {
  float* dh_prod;       // out: dL/d(h' W_hh^T + b_hh), blocks r, z, n
  float* dn_pre;        // out: dL/d(x_n): the input product's n block
  float* bias_hh_sum;   // += dh_prod, or null
  float* bias_in_sum;   // += dn_pre, or null
  const float* gates;   // r, z, n, hn
  const float* h_prev;
  const float* dy;
  const float* dh;      // may alias carry
  float* carry;         // out: the direct part of dL/dh', z dh (the product adds the rest)
  int64_t n, H;
};
void gru_backward_row(const GruBackwardRow& r);

// GRU, reset before the product: the first half of a step.
struct GruRbGatesRow {
  float* gates;         // in: a_r, a_z without biases; out: r, z, and u in block 3
  const float* b_ih;    // [3H] blocks, or null
  const float* b_hh;
  const float* h_prev;
  int64_t n, H;
};
void gru_rb_gates_row(const GruRbGatesRow& r);

// The second half, after the product added u W_hn^T onto block 2 (x_n).
struct GruRbOutputRow {
  float* gates;         // block 2 in: x_n + u W_hn^T without biases; out: n
  const float* b_ih;
  const float* b_hh;
  const float* h_prev;
  float* h;             // out (the y row)
  float* state;         // out too, or null
  int64_t n, H;
};
void gru_rb_output_row(const GruRbOutputRow& r);

// BPTT, first half of a step: the z and n blocks of dA = dL/da (a the gate
// pre-activations, products and biases included) and carry = z dh.
struct GruRbBackwardOutRow {
  float* dA;            // out: blocks z, n (block r: the second half)
  float* bias_sum;      // += blocks z, n, or null
  const float* gates;   // r, z, n, u
  const float* h_prev;
  const float* dy;
  const float* dh;      // may alias carry
  float* carry;         // out: z dh
  int64_t n, H;
};
void gru_rb_backward_out_row(const GruRbBackwardOutRow& r);

// The second half, after du = dA_n W_hn: block r of dA, carry += du r.
struct GruRbBackwardGatesRow {
  float* dA;            // out: block r
  float* bias_sum;      // += block r, or null
  const float* gates;
  const float* h_prev;
  const float* du;
  float* carry;
  int64_t n, H;
};
void gru_rb_backward_gates_row(const GruRbBackwardGatesRow& r);

}  // namespace rnnblas
