#include "rnn_layer.h"

#include "blas_runtime.h"
#include "small_gemv.h"

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

// out[B,H] (+)= in[B,H] W_hh^T or in W_hh, as GEMV when B == 1.
void recurrent_product(const float* in, int64_t ld_in, const float* w_hh,
                       bool transpose_w, float beta, float* out, int64_t ld_out,
                       int64_t B, int64_t H) {
  if (B == 1 && H <= kSmallGemvMax) {
    if (transpose_w) {
      gemv_rows(w_hh, in, beta, out, H, H);  // out = W h
    } else {
      gemv_cols(w_hh, in, beta, out, H, H);  // out = dA W
    }
    return;
  }
  if (B == 1) {
    // Row vector times W^T is W times the column vector.
    cblas_sgemv(CblasRowMajor, transpose_w ? CblasNoTrans : CblasTrans,
                as_blas(H), as_blas(H), 1.0f, w_hh, as_blas(H), in, 1, beta,
                out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans,
              transpose_w ? CblasTrans : CblasNoTrans, as_blas(B), as_blas(H),
              as_blas(H), 1.0f, in, as_blas(ld_in), w_hh, as_blas(H), beta, out,
              as_blas(ld_out));
}

// W^T of an H x H matrix, in a per-thread buffer reused across calls (so
// no allocation after the first call of a given size on a thread).
const float* transposed_copy(const float* w, int64_t H) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < H * H) buffer.resize(H * H);
  float* out = buffer.data();
  constexpr int64_t kBlock = 32;  // cache-friendly tiles
  for (int64_t i0 = 0; i0 < H; i0 += kBlock) {
    for (int64_t j0 = 0; j0 < H; j0 += kBlock) {
      const int64_t i1 = i0 + kBlock < H ? i0 + kBlock : H;
      const int64_t j1 = j0 + kBlock < H ? j0 + kBlock : H;
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) out[j * H + i] = w[i * H + j];
      }
    }
  }
  return out;
}

// Below ~8M multiply-adds a whole call takes well under a millisecond on one
// core, and waking OpenBLAS's other threads for its small GEMMs costs more than
// they save (W4, T=100 B=1 H=128: 0.16 ms with 2 threads, 0.09 ms with 1).
bool small_work(const RnnShape& s) {
  return s.T * s.B * s.H * (s.I + s.H) < (int64_t{1} << 23);
}

}  // namespace

void rnn_forward(const RnnForwardArgs& a) {
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  assert((a.b_ih == nullptr) == (a.b_hh == nullptr));
  const std::optional<SingleThreadedBlas> single =
      small_work(a.shape) ? std::make_optional<SingleThreadedBlas>() : std::nullopt;

  // Input products for every step at once: y[T*B, H] = x[T*B, I] W_ih^T.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, as_blas(T * B),
              as_blas(H), as_blas(I), 1.0f, a.x, as_blas(I), a.w_ih,
              as_blas(I), 0.0f, a.y, as_blas(a.ld));

  // OpenBLAS runs h W^T ~9% faster with W^T stored (NoTrans) than with W
  // transposed on the fly; one transpose per call pays for itself over T steps.
  const float* w_rec = a.w_hh;
  bool w_transposed = false;
  if (B > 1 && T >= 4) {
    w_rec = transposed_copy(a.w_hh, H);
    w_transposed = true;
  }
  auto step_product = [&](const float* h, int64_t ld_h, float* y_t) {
    if (w_transposed) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_blas(B),
                  as_blas(H), as_blas(H), 1.0f, h, as_blas(ld_h), w_rec,
                  as_blas(H), 1.0f, y_t, as_blas(a.ld));
    } else {
      recurrent_product(h, ld_h, a.w_hh, /*transpose_w=*/true, 1.0f, y_t, a.ld, B, H);
    }
  };

  if (a.lengths == nullptr) {
    // Every row runs all T steps: h(t-1) is read straight from y (no state
    // copy per step), and a zero h0 needs no product at all.
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = a.reverse ? T - 1 - s : s;
      float* y_t = a.y + t * B * a.ld;
      if (s > 0) {
        step_product(a.y + (a.reverse ? t + 1 : t - 1) * B * a.ld, a.ld, y_t);
      } else if (a.h0 != nullptr) {
        step_product(a.h0, H, y_t);
      }
      for (int64_t b = 0; b < B; ++b) {
        bias_activate_row(y_t + b * a.ld, nullptr, a.b_ih, a.b_hh, H, a.act);
      }
    }
    const float* last = a.y + (a.reverse ? 0 : T - 1) * B * a.ld;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(a.hN + b * H, last + b * a.ld, sizeof(float) * H);
    }
    return;
  }

  // Variable lengths: hN is the running state, so a row keeps its last state
  // once its sequence ends (and, reversed, starts from h0 at its own last step).
  if (a.h0 != nullptr) {
    std::memcpy(a.hN, a.h0, sizeof(float) * B * H);
  } else {
    std::memset(a.hN, 0, sizeof(float) * B * H);
  }
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = a.reverse ? T - 1 - s : s;
    float* y_t = a.y + t * B * a.ld;
    step_product(a.hN, H, y_t);
    for (int64_t b = 0; b < B; ++b) {
      float* row = y_t + b * a.ld;
      if (active(a.lengths, b, t)) {
        bias_activate_row(row, a.hN + b * H, a.b_ih, a.b_hh, H, a.act);
      } else {
        std::memset(row, 0, sizeof(float) * H);  // packed-sequence padding
      }
    }
  }
}

int64_t backward_workspace_size(const RnnShape& s) {
  return s.T * s.B * s.H + 2 * s.B * s.H + s.H;
}

void rnn_backward(const RnnBackwardArgs& a) {
  const auto [T, B, I, H] = a.shape;
  assert(T >= 1 && B >= 1 && I >= 1 && H >= 1 && a.ld >= H);
  const std::optional<SingleThreadedBlas> single =
      small_work(a.shape) ? std::make_optional<SingleThreadedBlas>() : std::nullopt;
  float* dA = a.work;                  // [T*B, H]
  float* carry = dA + T * B * H;       // [B, H] dh flowing into the next step back
  float* gathered = carry + B * H;     // [B, H]
  float* bias_sum = gathered + B * H;  // [H]
  const bool bias = a.db_ih != nullptr;
  if (bias) std::memset(bias_sum, 0, sizeof(float) * H);

  // The time loop: only dh(t-1) = dA(t) W_hh is per step. The bias gradient
  // is summed here too, while each dA row is still in cache.
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = a.reverse ? s : T - 1 - s;
    float* dA_t = dA + t * B * H;
    for (int64_t b = 0; b < B; ++b) {
      float* dA_row = dA_t + b * H;
      if (!active(a.lengths, b, t)) {
        std::memset(dA_row, 0, sizeof(float) * H);
        continue;
      }
      const bool entering = t == last_step(a.lengths, b, T, a.reverse);
      const float* dh_in = entering ? a.dhN : carry;
      if (dh_in != nullptr) dh_in += b * H;
      const float* dy_row = a.dy ? a.dy + (t * B + b) * a.ld : nullptr;
      activation_backward_row(dA_row, dy_row, dh_in, a.y + (t * B + b) * a.ld,
                              H, a.act);
      if (bias) accumulate_row(bias_sum, dA_row, H);
    }
    const bool need_carry = s + 1 < T || a.dh0 != nullptr;
    if (need_carry) {
      recurrent_product(dA_t, H, a.w_hh, /*transpose_w=*/false, 0.0f, carry, H,
                        B, H);
    }
    if (a.dh0 != nullptr) {
      for (int64_t b = 0; b < B; ++b) {
        if (t == first_step(a.lengths, b, T, a.reverse)) {
          std::memcpy(a.dh0 + b * H, carry + b * H, sizeof(float) * H);
        }
      }
    }
  }

  // Whole-sequence gradient GEMMs.
  // dW_hh += sum_t dA(t)^T h(t-1). h(t-1) is y one step earlier in processing
  // order (zero padding past a length contributes nothing), or h0 at each
  // row's first step.
  if (T > 1) {
    const float* dA_rows = a.reverse ? dA : dA + B * H;
    const float* h_rows = a.reverse ? a.y + B * a.ld : a.y;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, as_blas(H), as_blas(H),
                as_blas((T - 1) * B), 1.0f, dA_rows, as_blas(H), h_rows,
                as_blas(a.ld), 1.0f, a.dw_hh, as_blas(H));
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
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, as_blas(H), as_blas(H),
                as_blas(B), 1.0f, dA_first, as_blas(H), a.h0, as_blas(H), 1.0f,
                a.dw_hh, as_blas(H));
  }

  // dW_ih += dA^T x over all T*B rows.
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, as_blas(H), as_blas(I),
              as_blas(T * B), 1.0f, dA, as_blas(H), a.x, as_blas(I), 1.0f,
              a.dw_ih, as_blas(I));

  // db += column sums of dA (b_ih and b_hh get the same gradient).
  if (bias) {
    for (int64_t j = 0; j < H; ++j) {
      a.db_ih[j] += bias_sum[j];
      a.db_hh[j] += bias_sum[j];
    }
  }

  if (a.dx != nullptr) rnn_backward_input_grad(a);
}

void rnn_backward_input_grad(const RnnBackwardArgs& a) {
  const auto [T, B, I, H] = a.shape;
  assert(a.dx != nullptr);
  // dx += dA W_ih over all T*B rows.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_blas(T * B),
              as_blas(I), as_blas(H), 1.0f, a.work, as_blas(H), a.w_ih,
              as_blas(I), 1.0f, a.dx, as_blas(I));
}

void rnn_forward_pair(const RnnForwardArgs& fwd, const RnnForwardArgs& rev) {
  SingleThreadedBlas single;
  std::thread other([&rev] { rnn_forward(rev); });
  rnn_forward(fwd);
  other.join();
}

void rnn_backward_pair(const RnnBackwardArgs& fwd, const RnnBackwardArgs& rev) {
  assert(fwd.dx == rev.dx);
  RnnBackwardArgs f = fwd, r = rev;
  f.dx = nullptr;
  r.dx = nullptr;
  {
    SingleThreadedBlas single;
    std::thread other([&r] { rnn_backward(r); });
    rnn_backward(f);
    other.join();
  }
  if (fwd.dx != nullptr) {
    rnn_backward_input_grad(fwd);
    rnn_backward_input_grad(rev);
  }
}

}  // namespace rnnblas
