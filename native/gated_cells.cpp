#include "gated_cells.h"

#include <algorithm>

#include "clones.h"
#include "fast_math.h"

namespace rnnblas {
namespace {

// Optional operands (a null c', h', dy or incoming gradient) read from a zero
// row instead, so the loops below have no conditional loads and vectorise;
// rows are processed in chunks of at most kChunk units for that.
constexpr int64_t kChunk = 1024;
alignas(64) const float kZeros[kChunk] = {};

inline const float* or_zeros(const float* p, int64_t j0) { return p != nullptr ? p + j0 : kZeros; }

// ---------------------------------------------------------------------------
// LSTM

RNNBLAS_CLONES
void lstm_forward_chunk(float* __restrict gi, float* __restrict gf, float* __restrict gg,
                        float* __restrict go, const float* __restrict c_prev, float* __restrict c,
                        float* __restrict h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float i = sigmoid_approx(gi[j]);
    const float f = sigmoid_approx(gf[j]);
    const float g = tanh_approx(gg[j]);
    const float o = sigmoid_approx(go[j]);
    const float cj = f * c_prev[j] + i * g;
    gi[j] = i;
    gf[j] = f;
    gg[j] = g;
    go[j] = o;
    c[j] = cj;
    h[j] = o * tanh_approx(cj);
  }
}

RNNBLAS_CLONES
void add_biases(float* __restrict row, const float* __restrict b_ih, const float* __restrict b_hh,
                int64_t n) {
  for (int64_t j = 0; j < n; ++j) row[j] += b_ih[j] + b_hh[j];
}

RNNBLAS_CLONES
// dc_in may be dc_prev (each unit's dc is read before it is overwritten).
void lstm_backward_chunk(float* __restrict da_i, float* __restrict da_f, float* __restrict da_g,
                         float* __restrict da_o, const float* __restrict gi,
                         const float* __restrict gf, const float* __restrict gg,
                         const float* __restrict go, const float* __restrict c,
                         const float* __restrict c_prev, const float* __restrict dy,
                         const float* __restrict dh, const float* dc_in, float* dc_prev,
                         int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float i = gi[j], f = gf[j], g = gg[j], o = go[j];
    const float d = dy[j] + dh[j];
    const float tc = tanh_approx(c[j]);
    const float dc = dc_in[j] + d * o * (1.0f - tc * tc);
    da_i[j] = dc * g * i * (1.0f - i);
    da_f[j] = dc * c_prev[j] * f * (1.0f - f);
    da_g[j] = dc * i * (1.0f - g * g);
    da_o[j] = d * tc * o * (1.0f - o);
    dc_prev[j] = dc * f;
  }
}

RNNBLAS_CLONES
void add_rows(float* __restrict sum, const float* __restrict row, int64_t n) {
  for (int64_t j = 0; j < n; ++j) sum[j] += row[j];
}

// ---------------------------------------------------------------------------
// GRU

RNNBLAS_CLONES
void gru_forward_chunk(float* __restrict xr, float* __restrict xz, float* __restrict xn,
                       float* __restrict hn_out, const float* __restrict hr,
                       const float* __restrict hz, const float* __restrict hn,
                       const float* bi_r, const float* bi_z, const float* bi_n,
                       const float* bh_r, const float* bh_z, const float* bh_n,
                       const float* __restrict h_prev, float* __restrict h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float hnb = hn[j] + bh_n[j];
    const float rg = sigmoid_approx(xr[j] + hr[j] + bi_r[j] + bh_r[j]);
    const float zg = sigmoid_approx(xz[j] + hz[j] + bi_z[j] + bh_z[j]);
    const float ng = tanh_approx(xn[j] + bi_n[j] + rg * hnb);
    xr[j] = rg;
    xz[j] = zg;
    xn[j] = ng;
    hn_out[j] = hnb;
    h[j] = (1.0f - zg) * ng + zg * h_prev[j];
  }
}

RNNBLAS_CLONES
// dh may be carry (each unit's dh is read before carry is written).
void gru_backward_chunk(float* __restrict d_r, float* __restrict d_z, float* __restrict d_n,
                        float* __restrict dn_pre, const float* __restrict gr,
                        const float* __restrict gz, const float* __restrict gn,
                        const float* __restrict ghn, const float* __restrict h_prev,
                        const float* __restrict dy, const float* dh, float* carry, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float rg = gr[j], zg = gz[j], ng = gn[j];
    const float d = dy[j] + dh[j];  // dh may be carry: read before carry is written
    const float dn = d * (1.0f - zg) * (1.0f - ng * ng);
    d_r[j] = dn * ghn[j] * rg * (1.0f - rg);
    d_z[j] = d * (h_prev[j] - ng) * zg * (1.0f - zg);
    d_n[j] = dn * rg;
    dn_pre[j] = dn;
    carry[j] = d * zg;
  }
}

// ---------------------------------------------------------------------------
// GRU, reset before the product

RNNBLAS_CLONES
void gru_rb_gates_chunk(float* __restrict ar, float* __restrict az, float* __restrict u,
                        const float* bi_r, const float* bi_z, const float* bh_r,
                        const float* bh_z, const float* __restrict h_prev, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float rg = sigmoid_approx(ar[j] + bi_r[j] + bh_r[j]);
    ar[j] = rg;
    az[j] = sigmoid_approx(az[j] + bi_z[j] + bh_z[j]);
    u[j] = rg * h_prev[j];
  }
}

RNNBLAS_CLONES
void gru_rb_output_chunk(float* __restrict an, const float* __restrict gz, const float* bi_n,
                         const float* bh_n, const float* __restrict h_prev,
                         float* __restrict h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float ng = tanh_approx(an[j] + bi_n[j] + bh_n[j]);
    const float zg = gz[j];
    an[j] = ng;
    h[j] = (1.0f - zg) * ng + zg * h_prev[j];
  }
}

RNNBLAS_CLONES
// dh may be carry (each unit's dh is read before carry is written).
void gru_rb_backward_out_chunk(float* __restrict d_z, float* __restrict d_n,
                               const float* __restrict gz, const float* __restrict gn,
                               const float* __restrict h_prev, const float* __restrict dy,
                               const float* dh, float* carry, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float zg = gz[j], ng = gn[j];
    const float d = dy[j] + dh[j];
    d_n[j] = d * (1.0f - zg) * (1.0f - ng * ng);
    d_z[j] = d * (h_prev[j] - ng) * zg * (1.0f - zg);
    carry[j] = d * zg;
  }
}

RNNBLAS_CLONES
void gru_rb_backward_gates_chunk(float* __restrict d_r, const float* __restrict gr,
                                 const float* __restrict h_prev, const float* __restrict du,
                                 float* __restrict carry, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float rg = gr[j];
    d_r[j] = du[j] * h_prev[j] * rg * (1.0f - rg);
    carry[j] += du[j] * rg;
  }
}

}  // namespace

void lstm_forward_row(const LstmForwardRow& r) {
  const int64_t H = r.H;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* g = r.gates + j0;
    if (r.b_ih != nullptr) {
      for (int64_t k = 0; k < 4; ++k) add_biases(g + k * H, r.b_ih + k * H + j0, r.b_hh + k * H + j0, n);
    }
    lstm_forward_chunk(g, g + H, g + 2 * H, g + 3 * H, or_zeros(r.c_prev, j0), r.c + j0, r.h + j0, n);
    if (r.state != nullptr) std::copy(r.h + j0, r.h + j0 + n, r.state + j0);
  }
}

void lstm_backward_row(const LstmBackwardRow& r) {
  const int64_t H = r.H;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* da = r.dA + j0;
    const float* g = r.gates + j0;
    lstm_backward_chunk(da, da + H, da + 2 * H, da + 3 * H, g, g + H, g + 2 * H, g + 3 * H,
                        r.c + j0, or_zeros(r.c_prev, j0), or_zeros(r.dy, j0), or_zeros(r.dh, j0),
                        or_zeros(r.dc_in, j0), r.dc_prev + j0, n);
    if (r.dc0 != nullptr) std::copy(r.dc_prev + j0, r.dc_prev + j0 + n, r.dc0 + j0);
    if (r.bias_sum != nullptr) {
      for (int64_t k = 0; k < 4; ++k) add_rows(r.bias_sum + k * H + j0, da + k * H, n);
    }
  }
}

void gru_forward_row(const GruForwardRow& r) {
  const int64_t H = r.H;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* x = r.gates + j0;
    const float* p = r.hprod + j0;
    const bool b = r.b_ih != nullptr;
    gru_forward_chunk(x, x + H, x + 2 * H, x + 3 * H, p, p + H, p + 2 * H,
                      b ? r.b_ih + j0 : kZeros, b ? r.b_ih + H + j0 : kZeros, b ? r.b_ih + 2 * H + j0 : kZeros,
                      b ? r.b_hh + j0 : kZeros, b ? r.b_hh + H + j0 : kZeros, b ? r.b_hh + 2 * H + j0 : kZeros,
                      or_zeros(r.h_prev, j0), r.h + j0, n);
    if (r.state != nullptr) std::copy(r.h + j0, r.h + j0 + n, r.state + j0);
  }
}

void gru_backward_row(const GruBackwardRow& r) {
  const int64_t H = r.H;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* d = r.dh_prod + j0;
    const float* g = r.gates + j0;
    gru_backward_chunk(d, d + H, d + 2 * H, r.dn_pre + j0, g, g + H, g + 2 * H, g + 3 * H,
                       or_zeros(r.h_prev, j0), or_zeros(r.dy, j0), or_zeros(r.dh, j0), r.carry + j0, n);
    if (r.bias_hh_sum != nullptr) {
      for (int64_t k = 0; k < 3; ++k) add_rows(r.bias_hh_sum + k * H + j0, d + k * H, n);
      add_rows(r.bias_in_sum + j0, r.dn_pre + j0, n);
    }
  }
}

void gru_rb_gates_row(const GruRbGatesRow& r) {
  const int64_t H = r.H;
  const bool b = r.b_ih != nullptr;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* a = r.gates + j0;
    gru_rb_gates_chunk(a, a + H, a + 3 * H, b ? r.b_ih + j0 : kZeros, b ? r.b_ih + H + j0 : kZeros,
                       b ? r.b_hh + j0 : kZeros, b ? r.b_hh + H + j0 : kZeros,
                       or_zeros(r.h_prev, j0), n);
  }
}

void gru_rb_output_row(const GruRbOutputRow& r) {
  const int64_t H = r.H;
  const bool b = r.b_ih != nullptr;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* a = r.gates + j0;
    gru_rb_output_chunk(a + 2 * H, a + H, b ? r.b_ih + 2 * H + j0 : kZeros,
                        b ? r.b_hh + 2 * H + j0 : kZeros, or_zeros(r.h_prev, j0), r.h + j0, n);
    if (r.state != nullptr) std::copy(r.h + j0, r.h + j0 + n, r.state + j0);
  }
}

void gru_rb_backward_out_row(const GruRbBackwardOutRow& r) {
  const int64_t H = r.H;
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    float* d = r.dA + j0;
    const float* g = r.gates + j0;
    gru_rb_backward_out_chunk(d + H, d + 2 * H, g + H, g + 2 * H, or_zeros(r.h_prev, j0),
                              or_zeros(r.dy, j0), or_zeros(r.dh, j0), r.carry + j0, n);
    if (r.bias_sum != nullptr) {
      for (int64_t k = 1; k < 3; ++k) add_rows(r.bias_sum + k * H + j0, d + k * H, n);
    }
  }
}

void gru_rb_backward_gates_row(const GruRbBackwardGatesRow& r) {
  for (int64_t j0 = 0; j0 < r.n; j0 += kChunk) {
    const int64_t n = std::min(kChunk, r.n - j0);
    gru_rb_backward_gates_chunk(r.dA + j0, r.gates + j0, or_zeros(r.h_prev, j0), r.du + j0,
                                r.carry + j0, n);
    if (r.bias_sum != nullptr) add_rows(r.bias_sum + j0, r.dA + j0, n);
  }
}

}  // namespace rnnblas
