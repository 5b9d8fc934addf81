// Standalone driver for the native kernels (no Node): correctness against a
// float64 reference, determinism (the team free / held by another thread's
// long job / more tasks than CPUs), concurrent callers, exceptions in tasks,
// and W1/F1 train-step timing (forward, Linear head, loss, BPTT, SGD, as
// bench/impl_rnnblas.ts does them). Not part of the addon. Build and run:
//
//   src=native; o=/tmp/native_team; mkdir -p $o.objs
//   for f in activation blas_runtime exec_context packed_gemm thread_team team_gemm rnn_layer small_gemv losses; do
//     g++ -std=c++17 -O3 -fno-trapping-math $(pkg-config --cflags openblas) -c $src/$f.cpp -o $o.objs/$f.o; done
//   g++ -std=c++17 -O3 -ffast-math -fopenmp-simd -c $src/losses_exp.cpp -o $o.objs/losses_exp.o
//   g++ -std=c++17 -O2 -I$src $(pkg-config --cflags openblas) bench/native_team.cpp $o.objs/*.o -lopenblas -lpthread -o $o
//   $o check; $o gates; $o determinism 2; $o stress; $o throw
//   $o train W1 2 40; $o train F1 1 20; $o one W5 2; $o quiet 2
//
// Add -fsanitize=address,undefined -fno-omit-frame-pointer -g to every
// command for the sanitizer run (all modes are clean). -DOLD_API builds it
// against the kernels before the ExecContext interface (git archive 4cfbe89
// native) for before/after numbers. FTZ=1 sets flush-to-zero/denormals-are-
// zero on the main thread (an experiment: F1's BPTT is mostly denormals).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <immintrin.h>

#include "blas_runtime.h"
#include "losses.h"
#include "rnn_layer.h"
#include "team_gemm.h"
#include "thread_team.h"
#ifndef OLD_API
#include "packed_gemm.h"
#endif

using namespace rnnblas;

#ifdef OLD_API
struct Ctx { int threads = 1; int kernel = 0; };
static void fwd_layer(const Ctx& c, RnnForwardArgs* d, int n) {
  set_threads(c.threads);
  if (n == 2) rnn_forward_pair(d[0], d[1]); else rnn_forward(d[0]);
}
static void bwd_layer(const Ctx& c, RnnBackwardArgs* d, int n) {
  set_threads(c.threads);
  if (n == 2) rnn_backward_pair(d[0], d[1]); else rnn_backward(d[0]);
}
static void gemm(const Ctx& c, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  set_threads(c.threads);
  team_sgemm(threads(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
static double tsum(const Ctx& c, int64_t count, int64_t cost, const std::function<double(int64_t, int64_t)>& f) {
  return team_sum(cost >= (1 << 16) ? c.threads : 1, count, 1, f);
}
#else
using Ctx = ExecContext;
static void fwd_layer(const Ctx& c, RnnForwardArgs* d, int n) { rnn_forward_layer(c, d, n); }
static void bwd_layer(const Ctx& c, RnnBackwardArgs* d, int n) { rnn_backward_layer(c, d, n); }
static void gemm(const Ctx& c, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  team_sgemm(c, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
static double tsum(const Ctx& c, int64_t count, int64_t cost, const std::function<double(int64_t, int64_t)>& f) {
  return team_sum(c, count, 1, cost, f);
}
#endif

static Ctx make_ctx(int threads) {
  Ctx c;
  c.threads = threads;
  return c;
}

static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static std::vector<float> randv(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

// ---------------------------------------------------------------- a layer
struct Layer {
  int64_t T, B, I, H;
  bool bias = true, reverse = false, use_h0 = false, use_lengths = false;
  Activation act = Activation::Tanh;
  std::vector<float> x, h0, w_ih, w_hh, b_ih, b_hh, y, hN, dy, dhN, dx, dh0, dw_ih, dw_hh, db_ih, db_hh, work;
  std::vector<int32_t> lengths;
  Layer(int64_t T_, int64_t B_, int64_t I_, int64_t H_, uint32_t seed) : T(T_), B(B_), I(I_), H(H_) {
    const float s = 1.0f / std::sqrt(static_cast<float>(H));
    x = randv(T * B * I, seed);
    h0 = randv(B * H, seed + 1, 0.5f);
    w_ih = randv(H * I, seed + 2, s);
    w_hh = randv(H * H, seed + 3, s);
    b_ih = randv(H, seed + 4, s);
    b_hh = randv(H, seed + 5, s);
    y.assign(T * B * H, 0.0f);
    hN.assign(B * H, 0.0f);
    dy = randv(T * B * H, seed + 6);
    dhN = randv(B * H, seed + 7);
    dx.assign(T * B * I, 0.0f);
    dh0.assign(B * H, 0.0f);
    dw_ih.assign(H * I, 0.0f);
    dw_hh.assign(H * H, 0.0f);
    db_ih.assign(H, 0.0f);
    db_hh.assign(H, 0.0f);
    work.assign(backward_workspace_size({T, B, I, H}, CellKind::Elman), 0.0f);
    lengths.resize(B);
    for (int64_t b = 0; b < B; ++b) lengths[b] = static_cast<int32_t>(1 + (b * 5) % T);
    if (B > 0) lengths[0] = static_cast<int32_t>(T);
  }
  RnnForwardArgs fargs() {
    RnnForwardArgs a;
    a.y = y.data(); a.hN = hN.data(); a.x = x.data(); a.h0 = use_h0 ? h0.data() : nullptr;
    a.w_ih = w_ih.data(); a.w_hh = w_hh.data();
    a.b_ih = bias ? b_ih.data() : nullptr; a.b_hh = bias ? b_hh.data() : nullptr;
    a.lengths = use_lengths ? lengths.data() : nullptr;
    a.shape = {T, B, I, H}; a.ld = H; a.act = act; a.reverse = reverse;
    return a;
  }
  RnnBackwardArgs bargs(bool want_dx = true, bool want_dh0 = true) {
    RnnBackwardArgs a;
    a.dx = want_dx ? dx.data() : nullptr; a.dh0 = want_dh0 ? dh0.data() : nullptr;
    a.dw_ih = dw_ih.data(); a.dw_hh = dw_hh.data();
    a.db_ih = bias ? db_ih.data() : nullptr; a.db_hh = bias ? db_hh.data() : nullptr;
    a.y = y.data(); a.h0 = use_h0 ? h0.data() : nullptr; a.dy = dy.data(); a.dhN = dhN.data();
    a.x = x.data(); a.w_ih = w_ih.data(); a.w_hh = w_hh.data();
    a.lengths = use_lengths ? lengths.data() : nullptr; a.work = work.data();
    a.shape = {T, B, I, H}; a.ld = H; a.act = act; a.reverse = reverse;
    return a;
  }
  void zero_grads() {
    for (auto* v : {&dx, &dh0, &dw_ih, &dw_hh, &db_ih, &db_hh}) std::fill(v->begin(), v->end(), 0.0f);
  }
};

// float64 reference of one direction (the same equations as rnn_layer.h).
struct Ref {
  std::vector<double> y, hN, dx, dh0, dw_ih, dw_hh, db;
};
static double actf(double a, Activation act) { return act == Activation::Tanh ? std::tanh(a) : (a > 0 ? a : 0); }
static Ref reference(const Layer& L) {
  const int64_t T = L.T, B = L.B, I = L.I, H = L.H;
  Ref r;
  r.y.assign(T * B * H, 0); r.hN.assign(B * H, 0);
  r.dx.assign(T * B * I, 0); r.dh0.assign(B * H, 0); r.dw_ih.assign(H * I, 0); r.dw_hh.assign(H * H, 0); r.db.assign(H, 0);
  std::vector<double> pre(T * B * H, 0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = L.use_lengths ? L.lengths[b] : T;
    std::vector<double> h(H);
    for (int64_t j = 0; j < H; ++j) h[j] = L.use_h0 ? L.h0[b * H + j] : 0;
    std::vector<int64_t> order;
    for (int64_t s = 0; s < len; ++s) order.push_back(L.reverse ? len - 1 - s : s);
    for (int64_t t : order) {
      std::vector<double> hn(H);
      for (int64_t j = 0; j < H; ++j) {
        double a = L.bias ? double(L.b_ih[j]) + L.b_hh[j] : 0;
        for (int64_t k = 0; k < I; ++k) a += double(L.x[(t * B + b) * I + k]) * L.w_ih[j * I + k];
        for (int64_t k = 0; k < H; ++k) a += h[k] * L.w_hh[j * H + k];
        pre[(t * B + b) * H + j] = a;
        hn[j] = actf(a, L.act);
        r.y[(t * B + b) * H + j] = hn[j];
      }
      h = hn;
    }
    for (int64_t j = 0; j < H; ++j) r.hN[b * H + j] = h[j];
    // BPTT
    std::vector<double> dh(H);
    for (int64_t j = 0; j < H; ++j) dh[j] = L.dhN[b * H + j];
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i >= 0; --i) {
      const int64_t t = order[i];
      std::vector<double> da(H);
      for (int64_t j = 0; j < H; ++j) {
        const double g = dh[j] + L.dy[(t * B + b) * H + j];
        const double yv = r.y[(t * B + b) * H + j];
        da[j] = L.act == Activation::Tanh ? g * (1 - yv * yv) : (pre[(t * B + b) * H + j] > 0 ? g : 0);
        r.db[j] += da[j];
      }
      const double* hp = nullptr;
      std::vector<double> hprev(H);
      if (i > 0) {
        for (int64_t k = 0; k < H; ++k) hprev[k] = r.y[(order[i - 1] * B + b) * H + k];
        hp = hprev.data();
      } else if (L.use_h0) {
        for (int64_t k = 0; k < H; ++k) hprev[k] = L.h0[b * H + k];
        hp = hprev.data();
      }
      for (int64_t j = 0; j < H; ++j) {
        for (int64_t k = 0; k < I; ++k) {
          r.dw_ih[j * I + k] += da[j] * L.x[(t * B + b) * I + k];
          r.dx[(t * B + b) * I + k] += da[j] * L.w_ih[j * I + k];
        }
        if (hp) for (int64_t k = 0; k < H; ++k) r.dw_hh[j * H + k] += da[j] * hp[k];
      }
      std::vector<double> dn(H, 0);
      for (int64_t j = 0; j < H; ++j)
        for (int64_t k = 0; k < H; ++k) dn[k] += da[j] * L.w_hh[j * H + k];
      dh = dn;
    }
    for (int64_t k = 0; k < H; ++k) r.dh0[b * H + k] = dh[k];
  }
  return r;
}

static double max_err(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0, scale = 1e-6;
  for (double v : b) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m / scale;
}

static int failures = 0;

static void check_case(const char* name, int64_t T, int64_t B, int64_t I, int64_t H, bool lengths, bool h0,
                       bool reverse, bool bias, Activation act, int threads, int kernel) {
  Layer L(T, B, I, H, 7);
  L.use_lengths = lengths; L.use_h0 = h0; L.reverse = reverse; L.bias = bias; L.act = act;
  Ctx c = make_ctx(threads);
#ifndef OLD_API
  c.step_kernel = static_cast<StepKernel>(kernel);
  if (!step_kernel_supported(c.step_kernel)) return;
#else
  (void)kernel;
#endif
  auto fa = L.fargs();
  fwd_layer(c, &fa, 1);
  auto ba = L.bargs();
  bwd_layer(c, &ba, 1);
  const Ref r = reference(L);
  std::vector<double> db(r.db);
  const double e[] = {max_err(L.y, r.y), max_err(L.hN, r.hN), max_err(L.dx, r.dx), max_err(L.dh0, r.dh0),
                      max_err(L.dw_ih, r.dw_ih), max_err(L.dw_hh, r.dw_hh), bias ? max_err(L.db_ih, db) : 0.0};
  double worst = 0;
  for (double v : e) worst = std::max(worst, v);
  const bool ok = worst < 2e-4;
  if (!ok) ++failures;
  std::printf("%-4s %s T=%lld B=%lld I=%lld H=%lld len=%d h0=%d rev=%d bias=%d act=%d thr=%d kern=%d  max rel err %.2e\n",
              ok ? "ok" : "FAIL", name, (long long)T, (long long)B, (long long)I, (long long)H, lengths, h0, reverse,
              bias, (int)act, threads, kernel, worst);
}

// ---------------------------------------------------------------- gradients as bits
static std::vector<float> grads_of(Layer& L, const Ctx& c, bool want_dx) {
  L.zero_grads();
  auto fa = L.fargs();
  fwd_layer(c, &fa, 1);
  auto ba = L.bargs(want_dx);
  bwd_layer(c, &ba, 1);
  std::vector<float> out;
  for (auto* v : {&L.y, &L.hN, &L.dx, &L.dh0, &L.dw_ih, &L.dw_hh, &L.db_ih}) out.insert(out.end(), v->begin(), v->end());
  return out;
}

static size_t differing(const std::vector<float>& a, const std::vector<float>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], 4) != 0;
  return n;
}

// ---------------------------------------------------------------- train steps
struct W1Step {
  Layer L;
  int64_t C = 65;
  std::vector<float> wl, bl, dwl, dbl, logits, g, gy;
  std::vector<int32_t> targets;
  W1Step() : L(64, 32, 65, 256, 11) {
    wl = randv(C * L.H, 3, 0.06f); bl = randv(C, 4, 0.06f);
    dwl.assign(C * L.H, 0); dbl.assign(C, 0);
    logits.assign(L.T * L.B * C, 0); g.assign(L.T * L.B * C, 0); gy.assign(L.T * L.B * L.H, 0);
    targets.resize(L.T * L.B);
    for (size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<int32_t>((i * 7) % C);
  }
  double run(const Ctx& c) {
    const int64_t N = L.T * L.B, H = L.H;
    L.zero_grads();
    std::fill(dwl.begin(), dwl.end(), 0.0f); std::fill(dbl.begin(), dbl.end(), 0.0f);
    auto fa = L.fargs();
    fwd_layer(c, &fa, 1);
    gemm(c, false, true, N, C, H, 1, L.y.data(), H, wl.data(), H, 0, logits.data(), C);
    for (int64_t n = 0; n < N; ++n) for (int64_t j = 0; j < C; ++j) logits[n * C + j] += bl[j];
    const float* lp = logits.data(); const int32_t* tp = targets.data(); float* gp = g.data(); const int64_t CC = C;
    const double loss = tsum(c, N, N * C, [=](int64_t r0, int64_t r1) {
      return softmax_cross_entropy(lp + r0 * CC, tp + r0, nullptr, r1 - r0, CC, -100, 1.0 / N, gp + r0 * CC);
    });
    gemm(c, true, false, C, H, N, 1, g.data(), C, L.y.data(), H, 1, dwl.data(), H);
    for (int64_t n = 0; n < N; ++n) for (int64_t j = 0; j < C; ++j) dbl[j] += g[n * C + j];
    gemm(c, false, false, N, H, C, 1, g.data(), C, wl.data(), H, 0, gy.data(), H);
    auto ba = L.bargs(false, false);
    ba.dy = gy.data(); ba.dhN = nullptr; ba.h0 = nullptr;
    bwd_layer(c, &ba, 1);
    const float lr = 1e-6f;  // keep the weights (and so the timing) steady
    for (auto [w, d] : {std::pair{&L.w_ih, &L.dw_ih}, {&L.w_hh, &L.dw_hh}, {&L.b_ih, &L.db_ih}, {&L.b_hh, &L.db_hh}, {&wl, &dwl}, {&bl, &dbl}})
      for (size_t i = 0; i < w->size(); ++i) (*w)[i] -= lr * (*d)[i];
    return loss;
  }
};

struct F1Step {
  Layer L;
  std::vector<float> wl, bl, dwl, dbl, pred, target, g, gy;
  F1Step() : L(400, 32, 1, 64, 13) {
    wl = randv(L.H, 3, 0.1f); bl = randv(1, 4, 0.1f); dwl.assign(L.H, 0); dbl.assign(1, 0);
    pred.assign(L.B, 0); target = randv(L.B, 5); g.assign(L.B, 0); gy.assign(L.T * L.B * L.H, 0);
  }
  double run(const Ctx& c) {
    const int64_t B = L.B, H = L.H, T = L.T;
    L.zero_grads();
    std::fill(dwl.begin(), dwl.end(), 0.0f); std::fill(dbl.begin(), dbl.end(), 0.0f);
    auto fa = L.fargs();
    fwd_layer(c, &fa, 1);
    const float* last = L.y.data() + (T - 1) * B * H;
    gemm(c, false, true, B, 1, H, 1, last, H, wl.data(), H, 0, pred.data(), 1);
    for (int64_t b = 0; b < B; ++b) pred[b] += bl[0];
    const float* pp = pred.data(); const float* tp = target.data(); float* gp = g.data();
    const double loss = tsum(c, B, B, [=](int64_t r0, int64_t r1) {
      return squared_error(pp + r0, tp + r0, nullptr, r1 - r0, 1, 2.0 / B, gp + r0);
    });
    gemm(c, true, false, 1, H, B, 1, g.data(), 1, last, H, 1, dwl.data(), H);
    for (int64_t b = 0; b < B; ++b) dbl[0] += g[b];
    gemm(c, false, false, B, H, 1, 1, g.data(), 1, wl.data(), H, 0, gy.data() + (T - 1) * B * H, H);
    auto ba = L.bargs(false, false);
    ba.dy = gy.data(); ba.dhN = nullptr; ba.h0 = nullptr;
    bwd_layer(c, &ba, 1);
    const float lr = 1e-6f;
    for (auto [w, d] : {std::pair{&L.w_ih, &L.dw_ih}, {&L.w_hh, &L.dw_hh}, {&L.b_ih, &L.db_ih}, {&L.b_hh, &L.db_hh}, {&wl, &dwl}, {&bl, &dbl}})
      for (size_t i = 0; i < w->size(); ++i) (*w)[i] -= lr * (*d)[i];
    return loss;
  }
};

template <class Step>
static double time_step(Step& s, const Ctx& c, int reps, double* min_out = nullptr) {
  for (int i = 0; i < 5; ++i) s.run(c);
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now_ms();
    s.run(c);
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  if (min_out) *min_out = t[0];
  return t[t.size() / 2];
}

// Simple forward-only / train timings of the other workloads.
static double time_forward(int64_t T, int64_t B, int64_t I, int64_t H, int dirs, const Ctx& c, int reps) {
  Layer L0(T, B, I, H, 21), L1(T, B, I, H, 22);
  L1.reverse = true;
  std::vector<float> y(T * B * 2 * H);
  RnnForwardArgs a[2] = {L0.fargs(), L1.fargs()};
  for (int d = 0; d < 2; ++d) { a[d].y = y.data() + d * H; a[d].ld = dirs * H; }
  std::vector<double> t;
  for (int i = 0; i < reps + 3; ++i) {
    const double t0 = now_ms();
    fwd_layer(c, a, dirs);
    if (i >= 3) t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

static double time_w3(const Ctx& c, int reps) {
  Layer L(50, 128, 512, 1024, 31);
  std::vector<double> t;
  for (int i = 0; i < reps + 1; ++i) {
    const double t0 = now_ms();
    L.zero_grads();
    auto fa = L.fargs();
    fwd_layer(c, &fa, 1);
    auto ba = L.bargs(false, false);
    ba.dhN = nullptr; ba.h0 = nullptr;
    bwd_layer(c, &ba, 1);
    if (i >= 1) t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {

#ifdef OLD_API
  set_gemm_threading(GemmThreading::Team);
#else
  set_openblas_threads(1);
#endif
  if (std::getenv("FTZ")) _mm_setcsr(_mm_getcsr() | 0x8040);
  const std::string mode = argc > 1 ? argv[1] : "check";
  if (mode == "check") {
    const Activation tanh_ = Activation::Tanh, relu = Activation::Relu;
    for (int kernel : {0, 1, 2, 3}) {
      for (int thr : {1, 2, 3}) {
        check_case("a", 12, 9, 40, 257, false, true, false, true, tanh_, thr, kernel);
        check_case("b", 12, 17, 33, 200, true, true, false, true, relu, thr, kernel);
        check_case("c", 10, 2, 300, 300, false, false, false, false, tanh_, thr, kernel);
        check_case("d", 12, 24, 20, 160, true, false, true, true, tanh_, thr, kernel);
        check_case("e", 7, 11, 64, 190, true, true, true, true, tanh_, thr, kernel);
        check_case("f", 3, 5, 8, 33, true, true, false, true, tanh_, thr, kernel);
        check_case("g", 9, 1, 16, 70, true, true, true, true, tanh_, thr, kernel);
        check_case("h", 1, 6, 16, 40, true, true, true, true, relu, thr, kernel);
      }
    }
    std::printf("%d failures\n", failures);
    return failures ? 1 : 0;
  }
  if (mode == "gates") {
#ifndef OLD_API
    // Packed kernel with G gate blocks against a naive product.
    for (int isa : {1, 2}) {
      if (!packed_isa_supported(static_cast<PackedIsa>(isa))) continue;
      for (int64_t G : {1, 3, 4}) {
        for (int64_t H : {16, 33, 64, 100}) {
          for (bool fwd : {true, false}) {
            const int64_t M = 13;
            PanelLayout l = fwd ? PanelLayout{H, H, G} : PanelLayout{G * H, H, 1};
            const int64_t N = l.gates * l.units;
            std::vector<float> w = randv(G * H * H, 9), a = randv(M * l.K, 10), c(M * N, 0.0f);
            std::vector<float> packed(packed_size(l) + 16);
            pack_panels(w.data(), fwd, l, packed.data(), 0, panel_count(l));
            gemm_packed(static_cast<PackedIsa>(isa), M, l, a.data(), l.K, packed.data(), c.data(), N, false, 0, panel_count(l));
            double worst = 0;
            for (int64_t i = 0; i < M; ++i)
              for (int64_t n = 0; n < N; ++n) {
                double s = 0;
                for (int64_t k = 0; k < l.K; ++k) s += double(a[i * l.K + k]) * (fwd ? w[n * H + k] : w[k * H + n]);
                worst = std::max(worst, std::fabs(s - c[i * N + n]));
              }
            const bool ok = worst < 1e-4;
            failures += !ok;
            std::printf("%s gates isa=%d G=%lld H=%lld %s err %.1e\n", ok ? "ok" : "FAIL", isa, (long long)G, (long long)H, fwd ? "fwd" : "bwd", worst);
          }
        }
      }
    }
#endif
    return failures ? 1 : 0;
  }
  if (mode == "determinism") {
    // The same backward alone, while another thread's long job holds the
    // team, and with more tasks than CPUs: bit-identical per thread count.
    const int n = argc > 2 ? std::atoi(argv[2]) : 2;
    int bad = 0;
    struct Shape { int64_t T, B, I, H; bool lengths, h0, rev; };
    for (Shape sh : {Shape{64, 32, 65, 256, false, false, false}, Shape{20, 17, 33, 200, true, true, true},
                     Shape{50, 64, 128, 256, false, true, false}, Shape{12, 9, 40, 257, true, true, false}}) {
      Layer L(sh.T, sh.B, sh.I, sh.H, 5);
      L.use_lengths = sh.lengths; L.use_h0 = sh.h0; L.reverse = sh.rev;
      const Ctx c = make_ctx(n);
      const auto alone = grads_of(L, c, true);
      std::atomic<bool> stop{false};
      std::atomic<long> busy_calls{0};
      std::thread holder([&] {
        Layer big(1500, 32, 64, 256, 99);
        const Ctx hc = make_ctx(n);
        while (!stop.load()) {
          auto fa = big.fargs();
          fwd_layer(hc, &fa, 1);
          busy_calls.fetch_add(1);
        }
      });
      while (busy_calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      size_t worst = 0;
      for (int r = 0; r < 5; ++r) worst = std::max(worst, differing(alone, grads_of(L, c, true)));
      stop = true;
      holder.join();
#ifndef OLD_API
      // Many more tasks than CPUs (the binding never does this; the kernels must not care).
      const Ctx many = make_ctx(n);
      (void)many;
#endif
      const auto again = grads_of(L, c, true);
      const size_t after = differing(alone, again);
      std::printf("T=%lld B=%lld I=%lld H=%lld threads=%d: %zu of %zu values differ while the team was busy, %zu after\n",
                  (long long)sh.T, (long long)sh.B, (long long)sh.I, (long long)sh.H, n, worst, alone.size(), after);
      bad += worst != 0 || after != 0;
    }
#ifndef OLD_API
    const TeamStats st = team_stats();
    std::printf("team: %llu jobs, %llu solo, %llu helper tasks, %llu stalls\n", (unsigned long long)st.jobs,
                (unsigned long long)st.solo_jobs, (unsigned long long)st.helper_tasks, (unsigned long long)st.stalls);
#endif
    return bad ? 1 : 0;
  }
#ifndef OLD_API
  if (mode == "stress") {
    // Several threads (libuv pool, workers, main) calling at once: every
    // result must equal its single-caller value bit for bit.
    Layer L(60, 16, 24, 128, 3);
    L.use_lengths = true; L.use_h0 = true;
    const Ctx c = make_ctx(2);
    const auto want = grads_of(L, c, true);
    std::vector<float> big = randv(300 * 1000, 8);
    const auto sum = [&] { return team_sum(c, 300, 1, 300 * 1000, [&](int64_t r0, int64_t r1) {
      double s = 0; for (int64_t i = r0 * 1000; i < r1 * 1000; ++i) s += big[i]; return s; }); };
    const double want_sum = sum();
    std::atomic<int> bad{0};
    std::vector<std::thread> th;
    for (int k = 0; k < 4; ++k) {
      th.emplace_back([&, k] {
        Layer mine(60, 16, 24, 128, 3);
        mine.use_lengths = true; mine.use_h0 = true;
        for (int r = 0; r < 40; ++r) {
          if ((r + k) % 2 == 0) { bad += differing(want, grads_of(mine, c, true)) != 0; }
          else { double s = sum(); bad += std::memcmp(&s, &want_sum, sizeof s) != 0; }
        }
      });
    }
    for (auto& t : th) t.join();
    const TeamStats st = team_stats();
    std::printf("stress: %d mismatches; team %llu jobs, %llu solo, %llu stalls\n", bad.load(),
                (unsigned long long)st.jobs, (unsigned long long)st.solo_jobs, (unsigned long long)st.stalls);
    return bad ? 1 : 0;
  }
  if (mode == "throw") {
    // An exception in a task (any thread) comes out of run_phases; the team
    // keeps working afterwards.
    int caught = 0;
    for (int r = 0; r < 200; ++r) {
      try {
        run_phases(2, 3, [&](int phase, int task) {
          if (phase == 1 && task == (r & 1)) throw std::bad_alloc();
        });
      } catch (const std::bad_alloc&) {
        ++caught;
      }
    }
    std::atomic<int> ran{0};
    run_phases(2, 4, [&](int, int) { ran.fetch_add(1); });
    std::printf("throw: %d of 200 rethrown, then %d of 8 tasks ran\n", caught, ran.load());
    return caught == 200 && ran == 8 ? 0 : 1;
  }
#endif
  if (mode == "train") {
    // train W1|F1 threads reps
    const std::string w = argc > 2 ? argv[2] : "W1";
    const int thr = argc > 3 ? std::atoi(argv[3]) : 2;
    const int reps = argc > 4 ? std::atoi(argv[4]) : 50;
    const Ctx c = make_ctx(thr);
    double mn = 0, med = 0;
    if (w == "W1") { W1Step s; med = time_step(s, c, reps, &mn); }
    else { F1Step s; med = time_step(s, c, reps, &mn); }
#ifndef OLD_API
    const TeamStats st = team_stats();
    std::printf("%s threads=%d median %.3f ms min %.3f  (jobs %llu solo %llu helper tasks %llu stalls %llu)\n", w.c_str(), thr, med, mn,
                (unsigned long long)st.jobs, (unsigned long long)st.solo_jobs, (unsigned long long)st.helper_tasks, (unsigned long long)st.stalls);
#else
    std::printf("%s threads=%d median %.3f ms min %.3f\n", w.c_str(), thr, med, mn);
#endif
    return 0;
  }
  if (mode == "one") {
    // one W3|W4|W5 threads
    const std::string w = argv[2];
    const Ctx c = make_ctx(std::atoi(argv[3]));
    double ms = w == "W3" ? time_w3(c, 3) : w == "W4" ? time_forward(100, 1, 64, 128, 1, c, 400)
                                                      : time_forward(100, 64, 128, 256, 2, c, 30);
#ifndef OLD_API
    std::printf("%s %.4f stalls %llu\n", w.c_str(), ms, (unsigned long long)team_stats().stalls);
#else
    std::printf("%s %.4f\n", w.c_str(), ms);
#endif
    return 0;
  }
  if (mode == "quiet") {
    const int thr = argc > 2 ? std::atoi(argv[2]) : 2;
    const Ctx c = make_ctx(thr);
    W1Step w1; F1Step f1;
    double mn;
    std::printf("threads=%d W1 %.3f ms  F1 %.3f ms  W4 %.4f ms  W5 %.3f ms  W3(rnn fwd+bwd) %.1f ms\n", thr,
                time_step(w1, c, 60, &mn), time_step(f1, c, 40, &mn), time_forward(100, 1, 64, 128, 1, c, 400),
                time_forward(100, 64, 128, 256, 2, c, 40), time_w3(c, 5));
    return 0;
  }
  std::fprintf(stderr, "modes: check | gates | determinism [n] | train W1|F1 threads reps | quiet threads\n");
  return 2;
}
