// The time loop of one recurrent layer direction, for any cell with G gate
// blocks (1 Elman, 3 GRU, 4 LSTM). Per step it runs the recurrent product
// [B, H] x [H, G*H] (forward; [B, G*H] x [G*H, H] backward) and the cell's
// fused elementwise end, on the thread team: task k owns hidden units
// [u0, u1) (whole 32-unit blocks) and all G gate columns of them at every
// step, so a cell's epilogue only reads what its own task wrote; or, when
// StepProduct splits by rows, batch rows [b0, b1) and all units (rows are
// independent sequences: nothing crosses tasks). Split by units, one team
// phase per step is the barrier: h(t) (or dA(t)) must be whole before any
// task's product for the next step reads it. Split by rows, a phase runs
// several steps (kRowSplitPhases a loop): its barriers only let the caller
// take over a late helper's rows.
//
// A Cell provides (see ElmanCell in rnn_layer.cpp):
//   static constexpr int kGates;
//   Forward:
//     float* product_out(t), int64_t product_ld(), bool product_accumulates():
//       where step t's product h(t-1) W_hh^T goes, [B, G*H]: added onto the
//       input projection (Elman, LSTM) or into a buffer of its own (GRU).
//     void forward_row(t, b, u0, u1, const float* h_prev, float* state): the
//       epilogue of row b: h(t)[b, u0:u1] into y (and into state[u0:u1]
//       unless null); h_prev is h(t-1)[b, u0:u1] (null: zeros).
//     void forward_skip(t, b, u0, u1): row b is past its length at step t
//       (the loop zeroes y and keeps h; a cell keeps its own state here).
//     Optionally, for steps without lengths: forward_block(t, b0, b1, u0,
//       u1), the epilogue of rows [b0, b1) in one pass, and with it
//       TileEpilogue tile_epilogue(t), the same epilogue for the product to
//       apply in registers where it can (then forward_block is skipped).
//   Backward:
//     const float* product_in(t): dA(t) [B, G*H], the product's input.
//     void backward_row(t, b, u0, u1, dy, dh, entering): dA(t)[b, gates of
//       u0:u1] from dh(t) = dy + dh (either may be null: zero), and any bias
//       sums; `entering` is true at the row's last forward step (dh is dhN).
//     void backward_skip(t, b, u0, u1): zero dA(t) of row b (past a length).
//     static constexpr bool kCarryAccumulates: the product adds dA W_hh onto
//       the carry (the cell wrote a direct dh(t-1) term there: GRU) instead
//       of overwriting it.
#pragma once
#include <cassert>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <optional>
#include <type_traits>

#include "exec_context.h"
#include "packed_gemm.h"
#include "rnn_layer.h"
#include "thread_team.h"

namespace rnnblas {

// The recurrent product of a step, restricted to a task's hidden units:
// forward out[B, gate columns of units] (+)= h[B, H] W_hh^T, backward
// out[B, u0:u1] (+)= dA[B, G*H] W_hh. W_hh is [G*H, H] (PyTorch's layout).
// Runs packed_gemm, or OpenBLAS (small_gemv for one row), never both.
class StepProduct {
 public:
  enum class Pass { Forward, Backward };

  // rows_ok: the loop using it takes task rows (rows(), pack_up_front()) and
  // sums across rows after it; the product may then split the batch rows
  // instead of the units.
  StepProduct(const ExecContext& ctx, const float* w_hh, Pass pass,
              const RnnShape& s, int64_t gates, float* scratch, bool rows_ok = false);

  // Floats of scratch the constructor needs (allocated by the caller before
  // the team job: nothing allocates inside one).
  static int64_t scratch_floats(const ExecContext& ctx, Pass pass,
                                const RnnShape& s, int64_t gates);

  // How many tasks the loop splits the units into (<= team_tasks(ctx)).
  int tasks() const { return tasks_; }

  // Task `task`'s units [u0, u1) and batch rows [b0, b1). Split by units,
  // each task has all rows; split by rows (small W_hh, enough rows: a step's
  // tasks then share nothing, no h(t) crosses cores), each has all units.
  // Split by rows, kAllRows stands for every task at once (all rows: the
  // same bits, each output element being the same dot product).
  static constexpr int kAllRows = -1;
  std::pair<int64_t, int64_t> units(int task) const;
  std::pair<int64_t, int64_t> rows(int task) const;
  bool splits_rows() const { return rows_split_; }

  // Packs the task's panels (in its first phase); split by rows every task
  // reads all panels, so pack_up_front() packs them before the job instead.
  void prepare(int task) const;
  void pack_up_front() const;

  // The product for task's units; in == nullptr means h = 0 (nothing to add).
  void operator()(int task, const float* in, int64_t ld_in, bool accumulate,
                  float* out, int64_t ld_out) const;

  // The same, applying `epilogue` to the task's outputs inside the product's
  // tiles where this product can (the packed AVX-512 kernel, h != 0); false:
  // not applied, the caller runs its own pass.
  bool fused(int task, const float* in, int64_t ld_in, bool accumulate, float* out,
             int64_t ld_out, const TileEpilogue& epilogue) const;

  // fused() applies the epilogue at every step with h != 0.
  bool fuses_epilogue() const;

 private:
  // The product, and `epilogue` (if not null) inside the packed tiles.
  void run(int task, const float* in, int64_t ld_in, bool accumulate, float* out,
           int64_t ld_out, const TileEpilogue* epilogue) const;

  const float* w_;
  Pass pass_;
  int64_t B_, H_, G_;
  std::optional<PackedIsa> isa_;
  PanelLayout layout_;
  int tasks_ = 1;
  bool rows_split_ = false;
  bool stored_transposed_ = false;
  float* panels_ = nullptr;
};

// Row b is still inside its sequence at step t.
inline bool row_active(const int32_t* lengths, int64_t b, int64_t t) {
  return lengths == nullptr || t < lengths[b];
}

// Last forward step a row takes: where BPTT injects dhN.
inline int64_t row_last_step(const int32_t* lengths, int64_t b, int64_t T, bool reverse) {
  if (reverse) return 0;
  return lengths ? lengths[b] - 1 : T - 1;
}

// First forward step a row takes: the one that reads h0.
inline int64_t row_first_step(const int32_t* lengths, int64_t b, int64_t T, bool reverse) {
  if (!reverse) return 0;
  return lengths ? lengths[b] - 1 : T - 1;
}

struct LoopShape {
  RnnShape shape;
  const int32_t* lengths = nullptr;
  bool reverse = false;
};

namespace loop_rows {

// What a forward step reads as h(t-1) (null: zeros) and where h(t) goes
// besides y (null without lengths, where y itself is the state).
struct StepState {
  const float* in;
  int64_t ld_in;
  float* out;
};

// Without lengths h(t-1) is read straight from y; with lengths the running
// state alternates between `state` ([B,H] scratch) and hN, state[s % 2] ->
// state[(s + 1) % 2] with state[T % 2] == hN, so one barrier per step
// suffices and hN ends up holding each row's state after its last step.
inline StepState step_state(const LoopShape& ls, int64_t s, int64_t t, const float* y,
                            int64_t ld, const float* h0, float* hN, float* state) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  if (ls.lengths == nullptr) {
    if (s == 0) return {h0, H, nullptr};
    return {y + (ls.reverse ? t + 1 : t - 1) * B * ld, ld, nullptr};
  }
  float* even = T % 2 == 0 ? hN : state;
  float* odd = T % 2 == 0 ? state : hN;
  return {s == 0 ? h0 : (s % 2 == 0 ? even : odd), H, s % 2 == 0 ? odd : even};
}

// Without lengths y is the state: after the last step, hN = h(T-1) (own units and rows).
inline void copy_last_state(const LoopShape& ls, int64_t s, int64_t t, int64_t u0, int64_t u1,
                            int64_t b0, int64_t b1, const float* y, int64_t ld, float* hN) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  if (ls.lengths != nullptr || s != T - 1 || u1 <= u0) return;
  const float* y_t = y + t * B * ld;
  for (int64_t b = b0; b < b1; ++b) std::memcpy(hN + b * H + u0, y_t + b * ld + u0, sizeof(float) * (u1 - u0));
}

// A cell with forward_block(t, b0, b1, u0, u1) (and tile_epilogue(t)) runs a
// step's epilogue over a block of rows in one call, or inside the product,
// where no row has a length of its own.
template <class C, class = void>
struct has_forward_block : std::false_type {};
template <class C>
struct has_forward_block<C, std::void_t<decltype(&C::forward_block)>> : std::true_type {};

// A BPTT cell with in_tile, tile_out(t) and tile_epilogue(t, dy) can have
// the product's tile write its dA (TileEpilogue::grad).
template <class C, class = void>
struct has_tile_grad : std::false_type {};
template <class C>
struct has_tile_grad<C, std::void_t<decltype(&C::tile_out)>> : std::true_type {};

// The epilogue of forward step s (time t) over the task's units [u0, u1):
// row(b, h_prev, state_out) for rows inside their sequence; past a length y
// is zero (packed-sequence padding), the state is kept and skip(b) is told.
// Without lengths the last step also copies h into hN.
template <class Row, class Skip>
void forward_rows(const LoopShape& ls, int64_t s, int64_t t, int64_t u0, int64_t u1,
                  int64_t b0, int64_t b1, const StepState& st, float* y, int64_t ld,
                  float* hN, Row&& row, Skip&& skip) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  const int64_t n = u1 - u0;
  if (n <= 0) return;
  float* y_t = y + t * B * ld;
  for (int64_t b = b0; b < b1; ++b) {
    const float* h_prev = st.in ? st.in + b * st.ld_in + u0 : nullptr;
    if (ls.lengths == nullptr) {
      row(b, h_prev, nullptr);
      continue;
    }
    float* out_row = st.out + b * H + u0;
    if (row_active(ls.lengths, b, t)) {
      row(b, h_prev, out_row);
      continue;
    }
    std::memset(y_t + b * ld + u0, 0, sizeof(float) * n);
    if (h_prev != nullptr) {
      std::memcpy(out_row, h_prev, sizeof(float) * n);
    } else {
      std::memset(out_row, 0, sizeof(float) * n);
    }
    skip(b);
  }
  copy_last_state(ls, s, t, u0, u1, b0, b1, y, ld, hN);
}

// After the product that finished dh(prev) in the carry: dh0 for the rows
// whose first forward step prev is.
inline void copy_dh0(const LoopShape& ls, int64_t prev, int64_t u0, int64_t u1, int64_t b0,
                     int64_t b1, const float* carry, float* dh0) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  (void)B;
  if (dh0 == nullptr) return;
  for (int64_t b = b0; b < b1 && u1 > u0; ++b) {
    if (prev == row_first_step(ls.lengths, b, T, ls.reverse)) {
      std::memcpy(dh0 + b * H + u0, carry + b * H + u0, sizeof(float) * (u1 - u0));
    }
  }
}

// BPTT's rows of step t (processing step s) over the task's units:
// row(b, dy_row, dh_row, entering) with dh(t) from dhN where the row's
// sequence ends (entering), else from the carry (nothing at s = 0);
// skip(b) past a length. With trace, dh(t) = dy + dh is written there too
// (zero past a length).
template <class Row, class Skip>
void backward_rows(const LoopShape& ls, int64_t s, int64_t t, int64_t u0, int64_t u1,
                   int64_t b0, int64_t b1, const float* dy, int64_t ld, const float* dhN,
                   const float* carry, float* trace, Row&& row, Skip&& skip) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  const int64_t n = u1 - u0;
  for (int64_t b = b0; b < b1 && n > 0; ++b) {
    if (!row_active(ls.lengths, b, t)) {
      skip(b);
      if (trace) std::memset(trace + (t * B + b) * H + u0, 0, sizeof(float) * n);
      continue;
    }
    const bool entering = t == row_last_step(ls.lengths, b, T, ls.reverse);
    const float* dh = entering ? dhN : (s > 0 ? carry : nullptr);
    const float* dy_row = dy ? dy + (t * B + b) * ld + u0 : nullptr;
    const float* dh_row = dh ? dh + b * H + u0 : nullptr;
    if (trace) {
      float* out = trace + (t * B + b) * H + u0;
      for (int64_t j = 0; j < n; ++j) {
        out[j] = (dy_row ? dy_row[j] : 0.0f) + (dh_row ? dh_row[j] : 0.0f);
      }
    }
    row(b, dy_row, dh_row, entering);
  }
}

}  // namespace loop_rows

// Split by rows, a step's tasks share nothing, and neither do one task's
// consecutive steps: a phase then runs several steps, kRowSplitPhases phases
// a loop. That is few barriers (F1's shape, T=400 B=32 H=64, on the team at
// 2 threads: 3.7 ms a train step against 4.3 with a barrier every step; F1
// itself stays below the solo cut), and still a late helper's rows can be
// taken over at the next phase.
constexpr int64_t kRowSplitPhases = 16;

inline int64_t steps_per_phase(const StepProduct& product, int64_t steps) {
  if (!product.splits_rows()) return 1;
  return std::max<int64_t>(1, (steps + kRowSplitPhases - 1) / kRowSplitPhases);
}

// Runs step(s, task) for s in [0, steps), `per` steps a phase. Split by
// rows, a caller running the job alone runs each step once over all rows
// (kAllRows): one product of B rows, not one per task's share of them.
template <class Step>
void run_steps(const StepProduct& product, int64_t steps, Step&& step) {
  const int64_t per = steps_per_phase(product, steps);
  const int64_t phases = (steps + per - 1) / per;
  assert(phases <= INT32_MAX);
  const auto phase_of = [&](int phase, int task) {
    const int64_t s1 = std::min<int64_t>(steps, (phase + 1) * per);
    for (int64_t s = phase * per; s < s1; ++s) step(s, task);
  };
  if (!product.splits_rows()) {
    run_phases(product.tasks(), static_cast<int>(phases), phase_of);
    return;
  }
  run_phases(product.tasks(), static_cast<int>(phases), phase_of,
             [&](int phase) { phase_of(phase, StepProduct::kAllRows); });
}

// Forward: y holds h (row stride ld); see loop_rows::step_state for where
// the running state lives. pack: the product's panels still need packing
// (false for a later chunk of the same call: packed already).
template <class Cell>
void forward_time_loop(const LoopShape& ls, const Cell& cell, const StepProduct& product,
                       float* y, int64_t ld, const float* h0, float* hN, float* state,
                       bool pack = true) {
  const int64_t T = ls.shape.T;
  const bool acc = cell.product_accumulates();
  const int64_t ldp = cell.product_ld();
  if (pack) product.pack_up_front();
  run_steps(product, T, [&](int64_t s, int task) {
    const int64_t t = ls.reverse ? T - 1 - s : s;
    const auto [u0, u1] = product.units(task);
    const auto [b0, b1] = product.rows(task);
    if (s == 0 && pack) product.prepare(task);
    const loop_rows::StepState st = loop_rows::step_state(ls, s, t, y, ld, h0, hN, state);
    if constexpr (loop_rows::has_forward_block<Cell>::value) {
      if (ls.lengths == nullptr) {
        if (!product.fused(task, st.in, st.ld_in, acc, cell.product_out(t), ldp,
                           cell.tile_epilogue(t)) &&
            u1 > u0 && b1 > b0) {
          cell.forward_block(t, b0, b1, u0, u1);
        }
        loop_rows::copy_last_state(ls, s, t, u0, u1, b0, b1, y, ld, hN);
        return;
      }
    }
    product(task, st.in, st.ld_in, acc, cell.product_out(t), ldp);
    loop_rows::forward_rows(
        ls, s, t, u0, u1, b0, b1, st, y, ld, hN,
        [&](int64_t b, const float* h_prev, float* out) { cell.forward_row(t, b, u0, u1, h_prev, out); },
        [&](int64_t b) { cell.forward_skip(t, b, u0, u1); });
  });
}

// BPTT: phase s runs the product of step s-1 (carry = dh flowing into the
// step before it, own units) and then step s's cell backward (own units, from
// dy and carry or, where a row's sequence ends, dhN). A last phase runs the
// product of the last step when dh0 is wanted. With `trace` ([T*B, H]) each
// step's incoming dh(t) is also written there: the gradient-flow probe.
template <class Cell>
void backward_time_loop(const LoopShape& ls, const Cell& cell, const StepProduct& product,
                        const float* dy, int64_t ld, const float* dhN, float* dh0,
                        float* carry, float* trace) {
  const int64_t T = ls.shape.T;
  const int64_t GH = Cell::kGates * ls.shape.H;
  const auto step_t = [&](int64_t s) { return ls.reverse ? s : T - 1 - s; };
  const int64_t steps = T + (dh0 != nullptr ? 1 : 0);
  bool in_tile = false;
  if constexpr (loop_rows::has_tile_grad<Cell>::value) {
    in_tile = cell.in_tile;
    assert(!in_tile || (ls.lengths == nullptr && trace == nullptr && product.fuses_epilogue()));
  }
  product.pack_up_front();
  run_steps(product, steps, [&](int64_t s, int task) {
    const auto [u0, u1] = product.units(task);
    const auto [b0, b1] = product.rows(task);
    if (s == 0) product.prepare(task);
    if constexpr (loop_rows::has_tile_grad<Cell>::value) {
      // Without lengths the carry from the step after only ever meets dy
      // (dhN enters at s = 0, dh0 leaves at s = T).
      if (in_tile && s > 0 && s < T) {
        const int64_t t = step_t(s);
        const bool fused = product.fused(task, cell.product_in(step_t(s - 1)), GH, false,
                                         cell.tile_out(t), GH, cell.tile_epilogue(t, dy));
        assert(fused);
        (void)fused;
        return;
      }
    }
    if (s > 0) {
      const int64_t prev = step_t(s - 1);
      product(task, cell.product_in(prev), GH, Cell::kCarryAccumulates, carry, ls.shape.H);
      loop_rows::copy_dh0(ls, prev, u0, u1, b0, b1, carry, dh0);
    }
    if (s == T) return;
    const int64_t t = step_t(s);
    loop_rows::backward_rows(
        ls, s, t, u0, u1, b0, b1, dy, ld, dhN, carry, trace,
        [&](int64_t b, const float* dy_row, const float* dh_row, bool entering) {
          cell.backward_row(t, b, u0, u1, dy_row, dh_row, entering);
        },
        [&](int64_t b) { cell.backward_skip(t, b, u0, u1); });
  });
}

// The loops for a cell whose step needs two dependent products (the GRU with
// the reset gate before the product: u = r h' must be whole before u W_hn^T):
// two team phases per step, each a product over the task's units and then the
// cell's epilogue for them. The cell provides (see GruResetBeforeForward /
// GruResetBeforeBackward in rnn_layer.cpp):
//   Forward: first_out(t), second_in(t), second_out(t), ld(): the first
//     product h(t-1) W_1^T adds onto first_out, the second u(t) W_2^T onto
//     second_out; forward_first(t, b, u0, u1, h_prev) (writes u),
//     forward_second(t, b, u0, u1, h_prev, state) (writes h), and
//     forward_skip(t, b, u0, u1) for a row past its length (u := 0).
//   Backward: first_in(t) (the gradient rows of the first product), second_in(t)
//     and ld_in(); du (the [B, H] second product's output);
//     backward_second(t, b, u0, u1, dy, dh) (from dh(t): the blocks that do
//     not need du, and carry = the direct dh(t-1) term), backward_first(t, b,
//     u0, u1) (with du: the rest, carry += ...), backward_skip(t, b, u0, u1).
template <class Cell>
void forward_time_loop_two_products(const LoopShape& ls, const Cell& cell,
                                    const StepProduct& first, const StepProduct& second,
                                    float* y, int64_t ld, const float* h0, float* hN,
                                    float* state, bool pack = true) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  (void)H;
  assert(first.tasks() == second.tasks());
  assert(2 * T <= INT32_MAX);
  const int64_t ldp = cell.ld();
  run_phases(first.tasks(), static_cast<int>(2 * T), [&](int phase, int task) {
    const int64_t s = phase / 2;
    const int64_t t = ls.reverse ? T - 1 - s : s;
    const auto [u0, u1] = first.units(task);
    if (phase == 0 && pack) {
      first.prepare(task);
      second.prepare(task);
    }
    const loop_rows::StepState st = loop_rows::step_state(ls, s, t, y, ld, h0, hN, state);
    if (phase % 2 == 0) {
      first(task, st.in, st.ld_in, true, cell.first_out(t), ldp);
      for (int64_t b = 0; b < B && u1 > u0; ++b) {
        if (row_active(ls.lengths, b, t)) {
          cell.forward_first(t, b, u0, u1, st.in ? st.in + b * st.ld_in + u0 : nullptr);
        } else {
          cell.forward_skip(t, b, u0, u1);
        }
      }
      return;
    }
    second(task, cell.second_in(t), ldp, true, cell.second_out(t), ldp);
    loop_rows::forward_rows(
        ls, s, t, u0, u1, 0, ls.shape.B, st, y, ld, hN,
        [&](int64_t b, const float* h_prev, float* out) { cell.forward_second(t, b, u0, u1, h_prev, out); },
        [](int64_t) {});
  });
}

// BPTT for those cells: phase 2s runs the first product of step s-1 (onto the
// carry) and then step s's backward_second; phase 2s+1 the second product of
// step s (into du) and its backward_first; a last phase the first product of
// the last step when dh0 is wanted. trace as in backward_time_loop.
template <class Cell>
void backward_time_loop_two_products(const LoopShape& ls, const Cell& cell,
                                     const StepProduct& first, const StepProduct& second,
                                     const float* dy, int64_t ld, const float* dhN,
                                     float* dh0, float* carry, float* trace) {
  const auto [T, B, I, H] = ls.shape;
  (void)I;
  assert(first.tasks() == second.tasks());
  assert(2 * T + 1 <= INT32_MAX);
  const auto step_t = [&](int64_t s) { return ls.reverse ? s : T - 1 - s; };
  const int phases = static_cast<int>(2 * T + (dh0 != nullptr ? 1 : 0));
  const int64_t ldi = cell.ld_in();
  run_phases(first.tasks(), phases, [&](int phase, int task) {
    const int64_t s = phase / 2;
    const auto [u0, u1] = first.units(task);
    if (phase == 0) {
      first.prepare(task);
      second.prepare(task);
    }
    if (phase % 2 == 1) {
      const int64_t t = step_t(s);
      second(task, cell.second_in(t), ldi, false, cell.du, H);
      for (int64_t b = 0; b < B && u1 > u0; ++b) {
        if (row_active(ls.lengths, b, t)) cell.backward_first(t, b, u0, u1);
      }
      return;
    }
    if (s > 0) {
      const int64_t prev = step_t(s - 1);
      first(task, cell.first_in(prev), ldi, true, carry, H);
      loop_rows::copy_dh0(ls, prev, u0, u1, 0, ls.shape.B, carry, dh0);
    }
    if (s == T) return;
    const int64_t t = step_t(s);
    loop_rows::backward_rows(
        ls, s, t, u0, u1, 0, ls.shape.B, dy, ld, dhN, carry, trace,
        [&](int64_t b, const float* dy_row, const float* dh_row, bool) {
          cell.backward_second(t, b, u0, u1, dy_row, dh_row);
        },
        [&](int64_t b) { cell.backward_skip(t, b, u0, u1); });
  });
}

}  // namespace rnnblas
