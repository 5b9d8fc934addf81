#include "gated_cells.h"

#include "clones.h"
#include "fast_math.h"

namespace rnnblas {
namespace {

// Optional operands read as zero; the null checks are hoisted out of the
// loops by the compiler (loop unswitching), so each variant vectorises.
inline float at(const float* p, int64_t j) { return p != nullptr ? p[j] : 0.0f; }

}  // namespace

// ---------------------------------------------------------------------------
// LSTM

RNNBLAS_CLONES
void lstm_forward_row(const LstmForwardRow& r) {
  const int64_t H = r.H;
  float* gi = r.gates;
  float* gf = gi + H;
  float* gg = gi + 2 * H;
  float* go = gi + 3 * H;
  const float* bi = r.b_ih;
  const float* bh = r.b_hh;
  if (bi != nullptr) {
    for (int64_t j = 0; j < r.n; ++j) {
      gi[j] += bi[j] + bh[j];
      gf[j] += bi[H + j] + bh[H + j];
      gg[j] += bi[2 * H + j] + bh[2 * H + j];
      go[j] += bi[3 * H + j] + bh[3 * H + j];
    }
  }
  for (int64_t j = 0; j < r.n; ++j) {
    const float i = sigmoid_approx(gi[j]);
    const float f = sigmoid_approx(gf[j]);
    const float g = tanh_approx(gg[j]);
    const float o = sigmoid_approx(go[j]);
    const float c = f * at(r.c_prev, j) + i * g;
    gi[j] = i;
    gf[j] = f;
    gg[j] = g;
    go[j] = o;
    r.c[j] = c;
    r.h[j] = o * tanh_approx(c);
  }
  if (r.state != nullptr) {
    for (int64_t j = 0; j < r.n; ++j) r.state[j] = r.h[j];
  }
}

RNNBLAS_CLONES
void lstm_backward_row(const LstmBackwardRow& r) {
  const int64_t H = r.H;
  const float* gi = r.gates;
  const float* gf = gi + H;
  const float* gg = gi + 2 * H;
  const float* go = gi + 3 * H;
  float* da = r.dA;
  for (int64_t j = 0; j < r.n; ++j) {
    const float i = gi[j], f = gf[j], g = gg[j], o = go[j];
    const float dh = at(r.dy, j) + at(r.dh, j);
    const float tc = tanh_approx(r.c[j]);
    const float dc = at(r.dc_in, j) + dh * o * (1.0f - tc * tc);
    da[j] = dc * g * i * (1.0f - i);
    da[H + j] = dc * at(r.c_prev, j) * f * (1.0f - f);
    da[2 * H + j] = dc * i * (1.0f - g * g);
    da[3 * H + j] = dh * tc * o * (1.0f - o);
    r.dc_prev[j] = dc * f;
  }
  if (r.dc0 != nullptr) {
    for (int64_t j = 0; j < r.n; ++j) r.dc0[j] = r.dc_prev[j];
  }
  if (r.bias_sum != nullptr) {
    for (int64_t k = 0; k < 4; ++k) {
      for (int64_t j = 0; j < r.n; ++j) r.bias_sum[k * H + j] += da[k * H + j];
    }
  }
}

// ---------------------------------------------------------------------------
// GRU

RNNBLAS_CLONES
void gru_forward_row(const GruForwardRow& r) {
  const int64_t H = r.H;
  float* xr = r.gates;
  float* xz = xr + H;
  float* xn = xr + 2 * H;
  float* hn_out = xr + 3 * H;
  const float* hr = r.hprod;
  const float* hz = hr + H;
  const float* hn = hr + 2 * H;
  const float* bi = r.b_ih;
  const float* bh = r.b_hh;
  for (int64_t j = 0; j < r.n; ++j) {
    const float rb = bi != nullptr ? bi[j] + bh[j] : 0.0f;
    const float zb = bi != nullptr ? bi[H + j] + bh[H + j] : 0.0f;
    const float nb = at(bi ? bi + 2 * H : nullptr, j);
    const float hnb = hn[j] + at(bh ? bh + 2 * H : nullptr, j);
    const float rg = sigmoid_approx(xr[j] + hr[j] + rb);
    const float zg = sigmoid_approx(xz[j] + hz[j] + zb);
    const float ng = tanh_approx(xn[j] + nb + rg * hnb);
    const float h = (1.0f - zg) * ng + zg * at(r.h_prev, j);
    xr[j] = rg;
    xz[j] = zg;
    xn[j] = ng;
    hn_out[j] = hnb;
    r.h[j] = h;
  }
  if (r.state != nullptr) {
    for (int64_t j = 0; j < r.n; ++j) r.state[j] = r.h[j];
  }
}

RNNBLAS_CLONES
void gru_backward_row(const GruBackwardRow& r) {
  const int64_t H = r.H;
  const float* gr = r.gates;
  const float* gz = gr + H;
  const float* gn = gr + 2 * H;
  const float* ghn = gr + 3 * H;
  float* d = r.dh_prod;
  for (int64_t j = 0; j < r.n; ++j) {
    const float rg = gr[j], zg = gz[j], ng = gn[j];
    const float dh = at(r.dy, j) + at(r.dh, j);
    const float dn = dh * (1.0f - zg) * (1.0f - ng * ng);
    const float dz = dh * (at(r.h_prev, j) - ng) * zg * (1.0f - zg);
    const float dr = dn * ghn[j] * rg * (1.0f - rg);
    d[j] = dr;
    d[H + j] = dz;
    d[2 * H + j] = dn * rg;
    r.dn_pre[j] = dn;
    r.carry[j] = dh * zg;
  }
  if (r.bias_hh_sum != nullptr) {
    for (int64_t k = 0; k < 3; ++k) {
      for (int64_t j = 0; j < r.n; ++j) r.bias_hh_sum[k * H + j] += d[k * H + j];
    }
    for (int64_t j = 0; j < r.n; ++j) r.bias_in_sum[j] += r.dn_pre[j];
  }
}

}  // namespace rnnblas
