// The recurrent product of every time step, C = A B with B (K x N) the same
// for a whole sequence (W_hh^T forward, W_hh backward), and the forward's
// input products (B = W_ih^T, A the sequence's rows in blocks). B is packed
// once per call into column panels, so each step goes straight to the microkernel;
// OpenBLAS repacks B on every call, which on W3's 128x1024x1024 steps costs
// ~15% (measured: 171 vs 200 GFLOP/s on 2 threads, bench/RESULTS.md).
//
// A (M x K, row stride lda) is read in place. Every C element is one dot
// product over the whole of K in a fixed order, so splitting columns between
// threads never changes a bit of the result.
#pragma once
#include <cstdint>

#include "activation.h"

namespace rnnblas {

constexpr int64_t kPanelWidth = 32;  // columns per packed panel (two zmm)

// The microkernel's instruction sets: AVX-512F (register tiles of up to
// 12 rows x 32, or up to 6 rows x 2 panels) or AVX2 + FMA (6x16 tiles over
// half panels).
enum class PackedIsa : int32_t { Avx2 = 1, Avx512 = 2 };

// The CPU (and OS) run this instruction set.
bool packed_isa_supported(PackedIsa isa);

// The columns of a K x (gates*units) matrix B in gate blocks: column
// g*units + u is unit u of gate g (PyTorch's W_hh^T layout: LSTM i,f,g,o,
// GRU r,z,n; Elman has one gate). Panels are unit-block-major, gate-minor:
// panel p = ub*gates + g holds units [ub*32, ub*32 + 32) of gate g, so the
// task that owns unit blocks [ub0, ub1) owns panels [ub0*gates, ub1*gates):
// every gate column of its units, all a cell's epilogue needs.
struct PanelLayout {
  int64_t K = 0;      // inner dimension (rows of B)
  int64_t units = 0;  // columns per gate block
  int64_t gates = 1;  // gate blocks
};

inline int64_t unit_blocks(const PanelLayout& l) {
  return (l.units + kPanelWidth - 1) / kPanelWidth;
}
inline int64_t panel_count(const PanelLayout& l) { return unit_blocks(l) * l.gates; }

// Floats a packed B takes (each gate block rounded up to whole panels).
int64_t packed_size(const PanelLayout& l);

// Packs panels [p0, p1) of B, where B(k, n) = transpose ? w[n*K + k]
// : w[k*N + n], N = gates*units; columns past a gate block's units are zero.
void pack_panels(const float* w, bool transpose, const PanelLayout& l,
                 float* packed, int64_t p0, int64_t p1);

// The Elman step's epilogue applied by the tile in registers, before its one
// store: c = act((c + b_ih[col]) + b_hh[col]), col being C's column. The
// same operations in the same order as bias_activate_rows, so the same bits;
// it saves the pass over C that would reload it (at B=32, H=32 ~10% of a
// step). b_ih and b_hh: both or neither.
//
// With `x` set, the tile also computes the step's input product x W_ih^T
// itself and adds it where it would have added C (C is then not read): at
// small I the whole-sequence input GEMM only writes [T*B, H] for the step to
// read back, a pass that took ~11% of a B=32, H=32, I=1 step. The product
// is the same FMA chain over I from zero as that GEMM's, added in the same
// place: the same bits.
struct TileEpilogue {
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  Activation act = Activation::Tanh;
  const float* x = nullptr;         // rows of x(t) matching C's (row stride x_ld), or null
  int64_t x_ld = 0;
  int64_t x_k = 0;                  // I: the inner dimension of the input product
  const float* x_panels = nullptr;  // W_ih^T packed with PanelLayout{x_k, units, gates}

  // BPTT instead (grad): the tile's sums are dh(t)'s carry part, and it
  // stores dA(t) = (dy + sum) * act'(a) from y = act(a), as
  // activation_backward_row computes it (same operations, same bits), rather
  // than the carry for a second pass to read back. Rows of dy (or null: no
  // dy) and y match C's, columns too; C is not read.
  bool grad = false;
  const float* dy = nullptr;
  int64_t dy_ld = 0;
  const float* y = nullptr;
  int64_t y_ld = 0;
};

// The ISA's tile applies a TileEpilogue (else the caller runs its own pass).
inline bool fuses_epilogue(PackedIsa isa) { return isa == PackedIsa::Avx512; }

// For each panel p in [p0, p1): C[0:M, its columns] = (accumulate ? C : 0) +
// A B[:, its columns], its columns being g*units + [ub*32, min(ub*32 + 32,
// units)); then epilogue on them if given (fuses_epilogue(isa) required).
// A is M x K (row stride lda); packed_isa_supported(isa).
void gemm_packed(PackedIsa isa, int64_t M, const PanelLayout& l, const float* A,
                 int64_t lda, const float* packed, float* C, int64_t ldc,
                 bool accumulate, int64_t p0, int64_t p1,
                 const TileEpilogue* epilogue = nullptr);

}  // namespace rnnblas
