#include "optim.h"

#include <cmath>

#include "clones.h"

namespace rnnblas {
namespace {

// Adam in float32, each operation rounded as torch.optim's single-tensor Adam rounds its
// tensors: m.mul_(b1).add_(d, alpha=1-b1); v.mul_(b2).addcmul_(d, d, value=1-b2);
// denom = (v.sqrt() / bc2_sqrt).add_(eps); p.addcdiv_(m, denom, value=-step_size) (after
// AdamW's p.mul_(shrink)). float32 sqrt and division are 16 lanes wide, a float64 form of
// the same formula 8 lanes at twice the latency: 0.18 against 0.64 ms a step for E1's
// 238K parameters on one thread.
struct AdamConsts {
  float b1, c1, b2, c2, neg_step, bc2_sqrt, eps, shrink;
  explicit AdamConsts(const AdamStep& a)
      : b1(static_cast<float>(a.beta1)), c1(static_cast<float>(1 - a.beta1)),
        b2(static_cast<float>(a.beta2)), c2(static_cast<float>(1 - a.beta2)),
        neg_step(static_cast<float>(-a.step_size)), bc2_sqrt(static_cast<float>(a.bc2_sqrt)),
        eps(static_cast<float>(a.eps)), shrink(static_cast<float>(a.shrink)) {}
};

RNNBLAS_CLONES
void adam_plain(float* __restrict p, const float* __restrict d, float* __restrict m,
                float* __restrict v, int64_t n, const AdamConsts k) {
  for (int64_t j = 0; j < n; ++j) {
    const float dj = d[j];
    const float mj = k.b1 * m[j] + k.c1 * dj;
    const float vj = k.b2 * v[j] + (k.c2 * dj) * dj;
    m[j] = mj;
    v[j] = vj;
    const float denom = std::sqrt(vj) / k.bc2_sqrt + k.eps;
    p[j] = p[j] * k.shrink + (k.neg_step * mj) / denom;
  }
}

RNNBLAS_CLONES
void adam_amsgrad(float* __restrict p, const float* __restrict d, float* __restrict m,
                  float* __restrict v, float* __restrict vmax, int64_t n, const AdamConsts k) {
  for (int64_t j = 0; j < n; ++j) {
    const float dj = d[j];
    const float mj = k.b1 * m[j] + k.c1 * dj;
    const float vj = k.b2 * v[j] + (k.c2 * dj) * dj;
    m[j] = mj;
    v[j] = vj;
    const float a = vmax[j];
    const float vv = (a > vj || a != a) ? a : vj;  // torch.maximum: a NaN on either side wins
    vmax[j] = vv;
    const float denom = std::sqrt(vv) / k.bc2_sqrt + k.eps;
    p[j] = p[j] * k.shrink + (k.neg_step * mj) / denom;
  }
}

RNNBLAS_CLONES
void sgd_plain(float* __restrict p, const float* __restrict d, int64_t n, double lr) {
  for (int64_t j = 0; j < n; ++j) p[j] = static_cast<float>(p[j] - lr * d[j]);
}

RNNBLAS_CLONES
void sgd_momentum(float* __restrict p, const float* __restrict d, float* __restrict buf, int64_t n,
                  double lr, double momentum, double keep) {
  for (int64_t j = 0; j < n; ++j) {
    const float b = static_cast<float>(momentum * buf[j] + keep * d[j]);
    buf[j] = b;
    p[j] = static_cast<float>(p[j] - lr * b);
  }
}

RNNBLAS_CLONES
void sgd_nesterov(float* __restrict p, const float* __restrict d, float* __restrict buf, int64_t n,
                  double lr, double momentum) {
  for (int64_t j = 0; j < n; ++j) {
    const double dj = d[j];
    const float b = static_cast<float>(momentum * buf[j] + dj);
    buf[j] = b;
    p[j] = static_cast<float>(p[j] - lr * (dj + momentum * b));
  }
}

}  // namespace

void sgd_step(const SgdStep& s) {
  if (s.buf == nullptr) {
    sgd_plain(s.p, s.d, s.n, s.lr);
  } else if (s.nesterov) {
    sgd_nesterov(s.p, s.d, s.buf, s.n, s.lr, s.momentum);
  } else {
    sgd_momentum(s.p, s.d, s.buf, s.n, s.lr, s.momentum, s.keep);
  }
}

void adam_step(const AdamStep& a) {
  if (a.vmax != nullptr) {
    adam_amsgrad(a.p, a.d, a.m, a.v, a.vmax, a.n, AdamConsts(a));
  } else {
    adam_plain(a.p, a.d, a.m, a.v, a.n, AdamConsts(a));
  }
}

RNNBLAS_CLONES
double add_squares(const float* __restrict g, int64_t n, double s0) {
  // Eight partial sums (element j into lane j % 8), so the adds are not one dependent chain
  // (0.21 ms for E1's 239K gradients as one running sum). The order is fixed, so the bits are.
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int k = 0; k < 8; ++k) {
      const double v = g[j + k];
      lane[k] += v * v;
    }
  }
  double s = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; j < n; ++j) {
    const double v = g[j];
    s += v * v;
  }
  return s0 + s;
}

RNNBLAS_CLONES
void scale_in_place(float* __restrict g, int64_t n, double coef) {
  for (int64_t j = 0; j < n; ++j) g[j] = static_cast<float>(g[j] * coef);
}

}  // namespace rnnblas
