// Optimizer updates over one parameter's values, in place (the per-element
// formulas of src/optim, evaluated identically, no fused multiply-add, so the
// native and the TypeScript forms give the same bits): SGD in float64 with
// float32 stores, Adam in float32 in torch.optim's order.
#pragma once
#include <cstdint>

namespace rnnblas {

struct AdamStep {
  float* p = nullptr;          // [n] values
  const float* d = nullptr;    // [n] effective gradient
  float* m = nullptr;          // [n] first moment
  float* v = nullptr;          // [n] second moment
  float* vmax = nullptr;       // [n] running max of v (amsgrad), or null
  int64_t n = 0;
  double beta1 = 0, beta2 = 0;
  double step_size = 0;        // lr / (1 - beta1^t)
  double bc2_sqrt = 0;         // sqrt(1 - beta2^t)
  double eps = 0;
  double shrink = 1;           // AdamW's 1 - lr * weightDecay (1 for Adam)

  // Elements [r0, r1) of the same update (elementwise: a split gives the same bits).
  AdamStep slice(int64_t r0, int64_t r1) const {
    AdamStep s = *this;
    s.p += r0;
    s.d += r0;
    s.m += r0;
    s.v += r0;
    if (s.vmax != nullptr) s.vmax += r0;
    s.n = r1 - r0;
    return s;
  }
};

// m = b1 m + (1-b1) d; v = b2 v + ((1-b2) d) d; p = p*shrink + (-step_size m) / (sqrt(v')/bc2_sqrt + eps)
// with v' = v, or max(vmax, v) stored into vmax (amsgrad); every operation in float32, the
// scalars rounded to float32 first (as torch.optim's tensor ops with Python-number operands).
void adam_step(const AdamStep& a);

struct SgdStep {
  float* p = nullptr;          // [n] values
  const float* d = nullptr;    // [n] effective gradient
  float* buf = nullptr;        // [n] momentum buffer, or null (plain SGD)
  int64_t n = 0;
  double lr = 0;
  double momentum = 0;
  double keep = 1;             // 1 - dampening
  bool nesterov = false;

  // Elements [r0, r1) of the same update.
  SgdStep slice(int64_t r0, int64_t r1) const {
    SgdStep s = *this;
    s.p += r0;
    s.d += r0;
    if (s.buf != nullptr) s.buf += r0;
    s.n = r1 - r0;
    return s;
  }
};

// Plain (buf null): p = p - lr d. Momentum: buf = momentum buf + keep d, p = p - lr buf.
// Nesterov (keep 1): buf = momentum buf + d, p = p - lr (d + momentum buf).
void sgd_step(const SgdStep& s);

// clip_grad_norm_'s 2-norm pass, in float64 (the square of a float is exact in a double):
// s0 + (eight partial sums, element j into lane j % 8 for the first n - n % 8 elements, added
// pairwise ((0+1)+(2+3))+((4+5)+(6+7)), then the rest in index order).
double add_squares(const float* g, int64_t n, double s0);

// clip_grad_norm_'s rescale: g[j] = float(g[j] * coef), the product in float64.
void scale_in_place(float* g, int64_t n, double coef);

}  // namespace rnnblas
