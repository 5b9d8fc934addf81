#include "rnn_layer.h"

#include "blas_runtime.h"
#include "packed_gemm.h"
#include "small_gemv.h"
#include "team_gemm.h"
#include "thread_team.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
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

// Row b is still inside its sequence at step t.
inline bool active(const int32_t* lengths, int64_t b, int64_t t) {
  return lengths == nullptr || t < lengths[b];
}

// Last forward step a row takes: where BPTT injects dhN.
inline int64_t last_step(const int32_t* lengths, int64_t b, int64_t T,
                         bool reverse) {
  if (reverse) return 0;
  return lengths ? lengths[b] - 1 : T - 1;
}

// First forward step a row takes: the one that reads h0.
inline int64_t first_step(const int32_t* lengths, int64_t b, int64_t T,
                          bool reverse) {
  if (!reverse) return 0;
  return lengths ? lengths[b] - 1 : T - 1;
}

// Below ~8M multiply-adds a whole call takes well under a millisecond on one
// core, and waking other threads for its small products costs more than they
// save (W4, T=100 B=1 H=128: 0.16 ms with 2 threads, 0.09 ms with 1).
bool small_work(const RnnShape& s) {
  return s.T * s.B * s.H * (s.I + s.H) < (int64_t{1} << 23);
}

// The context a direction runs with: one thread for small work.
ExecContext sized_for(const ExecContext& ctx, const RnnShape& s) {
  ExecContext c = ctx;
  if (small_work(s)) c.threads = 1;
  return c;
}

ExecContext solo(const ExecContext& ctx) {
  ExecContext c = ctx;
  c.threads = 1;
  return c;
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

// A per-thread buffer reused across calls (no allocation after the first call
// of a given size on a thread), 64-byte aligned: a packed panel row is two
// cache lines.
float* scratch(std::vector<float>& buffer, int64_t floats) {
  constexpr int64_t kSlack = 64 / sizeof(float);
  if (static_cast<int64_t>(buffer.size()) < floats + kSlack) {
    buffer.resize(floats + kSlack);
  }
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

// W^T of an H x H matrix, in a per-thread buffer.
const float* transposed_copy(const float* w, int64_t H) {
  thread_local std::vector<float> buffer;
  float* out = scratch(buffer, H * H);
  constexpr int64_t kBlock = 32;  // cache-friendly tiles
  for (int64_t i0 = 0; i0 < H; i0 += kBlock) {
    for (int64_t j0 = 0; j0 < H; j0 += kBlock) {
      const int64_t i1 = std::min(i0 + kBlock, H);
      const int64_t j1 = std::min(j0 + kBlock, H);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) out[j * H + i] = w[i * H + j];
      }
    }
  }
  return out;
}

// The recurrent product of one step, restricted to hidden columns [c0, c1):
// out[B, c0:c1] (+)= in[B, H] M[:, c0:c1] with M = W_hh^T (forward) or W_hh
// (backward). Each team member computes its own columns, with packed_gemm or
// with OpenBLAS (small_gemv for one row, on a team of one).
class StepProduct {
 public:
  // transpose: M = W_hh^T. threads: the team size the caller may use.
  StepProduct(const float* w_hh, bool transpose, const RnnShape& s,
              const ExecContext& ctx, int threads)
      : w_(w_hh), transpose_(transpose), B_(s.B), H_(s.H),
        isa_(packed_isa_for(ctx, s)), packed_(isa_.has_value()),
        threads_(s.B > 1 ? threads : 1) {
    if (packed_) {
      thread_local std::vector<float> buffer;
      panels_ = scratch(buffer, packed_size(H_, H_));
    } else if (transpose && s.B > 1 && s.T >= 4) {
      // OpenBLAS runs h W^T ~9% faster with W^T stored (NoTrans) than with
      // W transposed on the fly; one transpose per call pays over T steps.
      w_ = transposed_copy(w_hh, H_);
      stored_transposed_ = true;
    }
  }

  int threads() const { return threads_; }

  // This member's columns; with packed_gemm, packs its panels of M.
  std::pair<int64_t, int64_t> claim(TeamMember& m) const {
    if (!packed_) return m.share(H_, 16);
    const int64_t panels = (H_ + kPanelWidth - 1) / kPanelWidth;
    const auto [p0, p1] = m.share(panels, 1);
    pack_panels(w_, transpose_, H_, H_, panels_, p0, p1);
    return {std::min(p0 * kPanelWidth, H_), std::min(p1 * kPanelWidth, H_)};
  }

  void operator()(const float* in, int64_t ld_in, bool accumulate, float* out,
                  int64_t ld_out, int64_t c0, int64_t c1) const {
    if (c1 <= c0) return;
    if (packed_) {
      gemm_packed(*isa_, B_, H_, in, ld_in, panels_, out, ld_out, accumulate,
                  c0, c1);
      return;
    }
    const float beta = accumulate ? 1.0f : 0.0f;
    if (B_ == 1) {
      assert(c0 == 0 && c1 == H_);
      if (H_ <= kSmallGemvMax) {
        if (transpose_) {
          gemv_rows(w_, in, beta, out, H_, H_);  // out = W h
        } else {
          gemv_cols(w_, in, beta, out, H_, H_);  // out = dA W
        }
      } else {
        // Row vector times W^T is W times the column vector.
        cblas_sgemv(CblasRowMajor, transpose_ ? CblasNoTrans : CblasTrans,
                    as_blas(H_), as_blas(H_), 1.0f, w_, as_blas(H_), in, 1,
                    beta, out, 1);
      }
      return;
    }
    // Columns c0..c1 of M: of W_hh^T stored, of W_hh, or rows of W_hh
    // read transposed.
    const bool trans_b = transpose_ && !stored_transposed_;
    const float* b = trans_b ? w_ + c0 * H_ : w_ + c0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                as_blas(B_), as_blas(c1 - c0), as_blas(H_), 1.0f, in,
                as_blas(ld_in), b, as_blas(H_), beta, out + c0, as_blas(ld_out));
  }

 private:
  const float* w_;
  bool transpose_;
  int64_t B_, H_;
  std::optional<PackedIsa> isa_;
  bool packed_;
  int threads_;
  bool stored_transposed_ = false;
  float* panels_ = nullptr;
};

// The forward time loop. Each team member owns hidden columns [c0, c1) at
// every step and waits for the others once per step: h(t) must be whole
// before any member's product for t+1 reads it.
void forward_loop(const RnnForwardArgs& a, const StepProduct& product) {
  const auto [T, B, I, H] = a.shape;
  run_team(product.threads(), [&](TeamMember& m) {
    const auto [c0, c1] = product.claim(m);
    const int64_t n = c1 - c0;
    const float* b_ih = a.b_ih ? a.b_ih + c0 : nullptr;
    const float* b_hh = a.b_hh ? a.b_hh + c0 : nullptr;
    if (a.lengths == nullptr) {
      // Every row runs all T steps: h(t-1) is read straight from y (no state
      // copy per step), and a zero h0 needs no product at all.
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = a.reverse ? T - 1 - s : s;
        float* y_t = a.y + t * B * a.ld;
        if (s > 0) {
          product(a.y + (a.reverse ? t + 1 : t - 1) * B * a.ld, a.ld, true,
                  y_t, a.ld, c0, c1);
        } else if (a.h0 != nullptr) {
          product(a.h0, H, true, y_t, a.ld, c0, c1);
        }
        for (int64_t b = 0; b < B && n > 0; ++b) {
          bias_activate_row(y_t + b * a.ld + c0, nullptr, b_ih, b_hh, n, a.act);
        }
        m.barrier();
      }
      const float* last = a.y + (a.reverse ? 0 : T - 1) * B * a.ld;
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(a.hN + b * H + c0, last + b * a.ld + c0, sizeof(float) * n);
      }
      return;
    }
    // Variable lengths: hN is the running state, so a row keeps its last
    // state once its sequence ends (and, reversed, starts from h0 at its own
    // last step). Every member's product reads hN whole, so it is updated
    // between two barriers.
    for (int64_t b = 0; b < B; ++b) {
      float* state = a.hN + b * H + c0;
      if (a.h0 != nullptr) {
        std::memcpy(state, a.h0 + b * H + c0, sizeof(float) * n);
      } else {
        std::memset(state, 0, sizeof(float) * n);
      }
    }
    m.barrier();
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = a.reverse ? T - 1 - s : s;
      float* y_t = a.y + t * B * a.ld;
      product(a.hN, H, true, y_t, a.ld, c0, c1);
      m.barrier();
      for (int64_t b = 0; b < B && n > 0; ++b) {
        float* row = y_t + b * a.ld + c0;
        if (active(a.lengths, b, t)) {
          bias_activate_row(row, a.hN + b * H + c0, b_ih, b_hh, n, a.act);
        } else {
          std::memset(row, 0, sizeof(float) * n);  // packed-sequence padding
        }
      }
      m.barrier();
    }
  });
}

void forward_on(const ExecContext& ctx, const RnnForwardArgs& a) {
  const int threads = ctx.threads;
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  assert((a.b_ih == nullptr) == (a.b_hh == nullptr));

  // Input products for every step at once: y[T*B, H] = x[T*B, I] W_ih^T.
  team_sgemm(ctx, false, true, T * B, H, I, 1.0f, a.x, I, a.w_ih, I, 0.0f,
             a.y, a.ld);

  forward_loop(a, StepProduct(a.w_hh, /*transpose=*/true, a.shape, ctx, threads));
}

// The BPTT time loop: only dh(t-1) = dA(t) W_hh is per step. Member columns
// as in forward_loop; one barrier per step, between dA(t) (elementwise, own
// columns) and the product that reads it whole. The bias gradient is summed
// here too, while each dA row is still in cache.
void backward_loop(const RnnBackwardArgs& a, const StepProduct& product,
                   float* dA, float* carry, float* bias_sum) {
  const auto [T, B, I, H] = a.shape;
  const bool bias = a.db_ih != nullptr;
  run_team(product.threads(), [&](TeamMember& m) {
    const auto [c0, c1] = product.claim(m);
    const int64_t n = c1 - c0;
    if (bias) std::memset(bias_sum + c0, 0, sizeof(float) * n);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = a.reverse ? s : T - 1 - s;
      float* dA_t = dA + t * B * H;
      for (int64_t b = 0; b < B && n > 0; ++b) {
        float* dA_row = dA_t + b * H + c0;
        if (!active(a.lengths, b, t)) {
          std::memset(dA_row, 0, sizeof(float) * n);
          continue;
        }
        const bool entering = t == last_step(a.lengths, b, T, a.reverse);
        const float* dh_in = entering ? a.dhN : carry;
        if (dh_in != nullptr) dh_in += b * H + c0;
        const float* dy_row = a.dy ? a.dy + (t * B + b) * a.ld + c0 : nullptr;
        activation_backward_row(dA_row, dy_row, dh_in,
                                a.y + (t * B + b) * a.ld + c0, n, a.act);
        if (bias) accumulate_row(bias_sum + c0, dA_row, n);
      }
      m.barrier();
      const bool need_carry = s + 1 < T || a.dh0 != nullptr;
      if (need_carry) product(dA_t, H, false, carry, H, c0, c1);
      if (a.dh0 != nullptr) {
        for (int64_t b = 0; b < B; ++b) {
          if (t == first_step(a.lengths, b, T, a.reverse)) {
            std::memcpy(a.dh0 + b * H + c0, carry + b * H + c0, sizeof(float) * n);
          }
        }
      }
    }
  });
}

// dx += dA W_ih over all T*B rows.
void input_grad_on(const ExecContext& ctx, const RnnBackwardArgs& a) {
  const auto [T, B, I, H] = a.shape;
  assert(a.dx != nullptr);
  team_sgemm(ctx, false, false, T * B, I, H, 1.0f, a.work, H, a.w_ih, I,
             1.0f, a.dx, I);
}

void backward_on(const ExecContext& ctx, const RnnBackwardArgs& a) {
  const int threads = ctx.threads;
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  float* dA = a.work;                  // [T*B, H]
  float* carry = dA + T * B * H;       // [B, H] dh flowing into the next step back
  float* gathered = carry + B * H;     // [B, H]
  float* bias_sum = gathered + B * H;  // [H]

  backward_loop(a, StepProduct(a.w_hh, /*transpose=*/false, a.shape, ctx, threads),
                dA, carry, bias_sum);

  // Whole-sequence gradient GEMMs.
  // dW_hh += sum_t dA(t)^T h(t-1). h(t-1) is y one step earlier in processing
  // order (zero padding past a length contributes nothing), or h0 at each
  // row's first step.
  if (T > 1) {
    const float* dA_rows = a.reverse ? dA : dA + B * H;
    const float* h_rows = a.reverse ? a.y + B * a.ld : a.y;
    team_sgemm(ctx, true, false, H, H, (T - 1) * B, 1.0f, dA_rows, H,
               h_rows, a.ld, 1.0f, a.dw_hh, H);
  }
  if (a.h0 != nullptr) {
    const float* dA_first = dA;  // forward: every row starts at t = 0
    if (a.reverse) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t t = first_step(a.lengths, b, T, true);
        std::memcpy(gathered + b * H, dA + (t * B + b) * H, sizeof(float) * H);
      }
      dA_first = gathered;
    }
    team_sgemm(ctx, true, false, H, H, B, 1.0f, dA_first, H, a.h0, H, 1.0f,
               a.dw_hh, H);
  }

  // dW_ih += dA^T x over all T*B rows.
  team_sgemm(ctx, true, false, H, I, T * B, 1.0f, dA, H, a.x, I, 1.0f,
             a.dw_ih, I);

  // db += column sums of dA (b_ih and b_hh get the same gradient).
  if (a.db_ih != nullptr) {
    for (int64_t j = 0; j < H; ++j) {
      a.db_ih[j] += bias_sum[j];
      a.db_hh[j] += bias_sum[j];
    }
  }

  if (a.dx != nullptr) input_grad_on(ctx, a);
}

}  // namespace

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

int64_t backward_workspace_size(const RnnShape& s) {
  return s.T * s.B * s.H + 2 * s.B * s.H + s.H;
}

namespace {

// Below this many multiply-adds per direction, a second thread costs more
// than it saves (measured: ~30 us per pair call).
constexpr int64_t kPairMinMacs = int64_t{1} << 21;

bool run_as_pair(const ExecContext& ctx, const RnnShape& s, int count) {
  return count == 2 && ctx.threads >= 2 && s.T * s.B * s.H * (s.I + s.H) >= kPairMinMacs;
}

}  // namespace

// A pair runs its two directions on two threads, one core each (a team of
// one per direction).
void rnn_forward_layer(const ExecContext& ctx, const RnnForwardArgs* dirs, int count) {
  assert(count == 1 || count == 2);
  if (run_as_pair(ctx, dirs[0].shape, count)) {
    const RnnForwardArgs& rev = dirs[1];
    const ExecContext one = solo(ctx);
    std::thread other([&] { forward_on(one, rev); });
    forward_on(one, dirs[0]);
    other.join();
    return;
  }
  for (int d = 0; d < count; ++d) forward_on(sized_for(ctx, dirs[d].shape), dirs[d]);
}

void rnn_backward_layer(const ExecContext& ctx, const RnnBackwardArgs* dirs, int count) {
  assert(count == 1 || count == 2);
  if (run_as_pair(ctx, dirs[0].shape, count)) {
    assert(dirs[0].dx == dirs[1].dx);
    RnnBackwardArgs f = dirs[0], r = dirs[1];
    f.dx = nullptr;
    r.dx = nullptr;
    const ExecContext one = solo(ctx);
    std::thread other([&] { backward_on(one, r); });
    backward_on(one, f);
    other.join();
    if (dirs[0].dx != nullptr) {
      for (int d = 0; d < 2; ++d) input_grad_on(sized_for(ctx, dirs[d].shape), dirs[d]);
    }
    return;
  }
  for (int d = 0; d < count; ++d) backward_on(sized_for(ctx, dirs[d].shape), dirs[d]);
}

}  // namespace rnnblas
