// The N-API surface of rnnblas. Declared for TypeScript in src/native/binding.ts;
// argument order there and here must match.
#include <napi.h>

#include <cblas.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../native/blas_runtime.h"
#include "../native/losses.h"
#include "../native/packed_gemm.h"
#include "../native/rnn_layer.h"
#include "../native/team_gemm.h"
#include "../native/thread_team.h"
#include "args.h"

namespace rnnblas::binding {
namespace {

// Arguments of one call, unpacked and checked, plus the JS handles whose
// memory the kernel borrows (kept alive while an async call runs).
struct Prepared {
  std::function<void()> run;
  std::vector<napi_value> handles;
};

template <typename T>
void keep(Prepared& p, const View<T>& v) {
  if (v.handle != nullptr) p.handles.push_back(v.handle);
}

Activation activation(const ArgList& info, size_t i) {
  const double a = number(info, i, "activation");
  if (a == 0) return Activation::Tanh;
  if (a == 1) return Activation::Relu;
  throw_range(info.Env(), "expected activation 0 (tanh) or 1 (relu)");
}

void check_lengths(Napi::Env env, const View<int32_t>& lengths, int64_t T,
                   int64_t B) {
  if (lengths.data == nullptr) return;
  require_length(env, lengths, "lengths", B, "B");
  for (int64_t b = 0; b < B; ++b) {
    if (lengths.data[b] < 1 || lengths.data[b] > T) {
      throw_range(env, "lengths[" + std::to_string(b) + "] is " +
                           std::to_string(lengths.data[b]) + ", expected 1.." +
                           std::to_string(T));
    }
  }
}

int64_t strided_size(Napi::Env env, int64_t rows, int64_t ld, int64_t width) {
  return mul(env, rows - 1, ld) + width;
}

template <typename O, typename... In>
void require_disjoint(Napi::Env env, const View<O>& out, const char* name,
                      const In&... inputs) {
  if ((overlaps(out, inputs) || ...)) {
    throw_range(env, std::string(name) + " shares memory with another argument");
  }
}

// The y view of one forward call, for checking two calls against each other.
struct StridedOut {
  View<float> y;
  int64_t ld = 0, H = 0;
};

// forward(x, h0, wIh, wHh, bIh, bHh, lengths, y, hN, T, B, I, H, ld, act, reverse)
RnnForwardArgs parse_forward(const ArgList& info, std::vector<napi_value>& handles,
                             StridedOut* out = nullptr, View<float>* hN_out = nullptr) {
  Napi::Env env = info.Env();
  if (info.Length() != 16) throw_type(env, "forward expects 16 arguments");
  auto x = f32(info, 0, "x");
  auto h0 = f32(info, 1, "h0", true);
  auto w_ih = f32(info, 2, "wIh");
  auto w_hh = f32(info, 3, "wHh");
  auto b_ih = f32(info, 4, "bIh", true);
  auto b_hh = f32(info, 5, "bHh", true);
  auto lengths = i32(info, 6, "lengths", true);
  auto y = f32(info, 7, "y");
  auto hN = f32(info, 8, "hN");
  RnnShape s{dim(info, 9, "T"), dim(info, 10, "B"), dim(info, 11, "I"),
             dim(info, 12, "H")};
  const int64_t ld = dim(info, 13, "ld");
  const Activation act = activation(info, 14);
  const bool reverse = flag(info, 15, "reverse");

  const int64_t TB = mul(env, s.T, s.B);
  if (TB > INT32_MAX) throw_range(env, "T*B must be below 2^31");
  if (ld < s.H) throw_range(env, "ld must be at least H");
  if ((b_ih.data == nullptr) != (b_hh.data == nullptr)) {
    throw_type(env, "bIh and bHh must both be given or both be null");
  }
  require_length(env, x, "x", mul(env, TB, s.I), "T*B*I");
  require_length(env, h0, "h0", mul(env, s.B, s.H), "B*H");
  require_length(env, w_ih, "wIh", mul(env, s.H, s.I), "H*I");
  require_length(env, w_hh, "wHh", mul(env, s.H, s.H), "H*H");
  require_length(env, b_ih, "bIh", s.H, "H");
  require_length(env, b_hh, "bHh", s.H, "H");
  require_at_least(env, y, "y", strided_size(env, TB, ld, s.H), "(T*B-1)*ld+H");
  require_length(env, hN, "hN", mul(env, s.B, s.H), "B*H");
  check_lengths(env, lengths, s.T, s.B);
  require_disjoint(env, y, "y", x, h0, w_ih, w_hh, b_ih, b_hh, lengths, hN);
  require_disjoint(env, hN, "hN", x, h0, w_ih, w_hh, b_ih, b_hh, lengths);

  RnnForwardArgs a;
  a.y = y.data;
  a.hN = hN.data;
  a.x = x.data;
  a.h0 = h0.data;
  a.w_ih = w_ih.data;
  a.w_hh = w_hh.data;
  a.b_ih = b_ih.data;
  a.b_hh = b_hh.data;
  a.lengths = lengths.data;
  a.shape = s;
  a.ld = ld;
  a.act = act;
  a.reverse = reverse;

  for (napi_value h : {x.handle, h0.handle, w_ih.handle, w_hh.handle, b_ih.handle,
                       b_hh.handle, lengths.handle, y.handle, hN.handle}) {
    if (h != nullptr) handles.push_back(h);
  }
  if (out != nullptr) *out = {y, ld, s.H};
  if (hN_out != nullptr) *hN_out = hN;
  return a;
}

Prepared prepare_forward(const Napi::CallbackInfo& info) {
  Prepared p;
  RnnForwardArgs a = parse_forward(ArgList(info), p.handles);
  p.run = [a] { rnn_forward(a); };
  return p;
}

// Outputs of one backward call, for checking two calls against each other.
struct BackwardOuts {
  std::vector<View<float>> own;  // dh0, dw*, db*, work: must be disjoint between calls
  View<float> dx;                // shared by the two directions of a layer
};

// backward(dx, dh0, dwIh, dwHh, dbIh, dbHh, y, h0, dy, dhN, x, wIh, wHh,
//          lengths, work, T, B, I, H, ld, act, reverse)
RnnBackwardArgs parse_backward(const ArgList& info, std::vector<napi_value>& handles,
                               BackwardOuts* outs = nullptr) {
  Napi::Env env = info.Env();
  if (info.Length() != 22) throw_type(env, "backward expects 22 arguments");
  auto dx = f32(info, 0, "dx", true);
  auto dh0 = f32(info, 1, "dh0", true);
  auto dw_ih = f32(info, 2, "dwIh");
  auto dw_hh = f32(info, 3, "dwHh");
  auto db_ih = f32(info, 4, "dbIh", true);
  auto db_hh = f32(info, 5, "dbHh", true);
  auto y = f32(info, 6, "y");
  auto h0 = f32(info, 7, "h0", true);
  auto dy = f32(info, 8, "dy", true);
  auto dhN = f32(info, 9, "dhN", true);
  auto x = f32(info, 10, "x");
  auto w_ih = f32(info, 11, "wIh");
  auto w_hh = f32(info, 12, "wHh");
  auto lengths = i32(info, 13, "lengths", true);
  auto work = f32(info, 14, "work");
  RnnShape s{dim(info, 15, "T"), dim(info, 16, "B"), dim(info, 17, "I"),
             dim(info, 18, "H")};
  const int64_t ld = dim(info, 19, "ld");
  const Activation act = activation(info, 20);
  const bool reverse = flag(info, 21, "reverse");

  const int64_t TB = mul(env, s.T, s.B);
  if (TB > INT32_MAX) throw_range(env, "T*B must be below 2^31");
  if (ld < s.H) throw_range(env, "ld must be at least H");
  if ((db_ih.data == nullptr) != (db_hh.data == nullptr)) {
    throw_type(env, "dbIh and dbHh must both be given or both be null");
  }
  const int64_t strided = strided_size(env, TB, ld, s.H);
  require_length(env, dx, "dx", mul(env, TB, s.I), "T*B*I");
  require_length(env, dh0, "dh0", mul(env, s.B, s.H), "B*H");
  require_length(env, dw_ih, "dwIh", mul(env, s.H, s.I), "H*I");
  require_length(env, dw_hh, "dwHh", mul(env, s.H, s.H), "H*H");
  require_length(env, db_ih, "dbIh", s.H, "H");
  require_length(env, db_hh, "dbHh", s.H, "H");
  require_at_least(env, y, "y", strided, "(T*B-1)*ld+H");
  require_length(env, h0, "h0", mul(env, s.B, s.H), "B*H");
  require_at_least(env, dy, "dy", strided, "(T*B-1)*ld+H");
  require_length(env, dhN, "dhN", mul(env, s.B, s.H), "B*H");
  require_length(env, x, "x", mul(env, TB, s.I), "T*B*I");
  require_length(env, w_ih, "wIh", mul(env, s.H, s.I), "H*I");
  require_length(env, w_hh, "wHh", mul(env, s.H, s.H), "H*H");
  const int64_t need = mul(env, TB, s.H) + 2 * mul(env, s.B, s.H) + s.H;
  require_at_least(env, work, "work", need, "T*B*H + 2*B*H + H");
  check_lengths(env, lengths, s.T, s.B);
  require_disjoint(env, dx, "dx", dh0, dw_ih, dw_hh, db_ih, db_hh, y, h0, dy,
                   dhN, x, w_ih, w_hh, lengths, work);
  require_disjoint(env, dh0, "dh0", dw_ih, dw_hh, db_ih, db_hh, y, h0, dy, dhN,
                   x, w_ih, w_hh, lengths, work);
  require_disjoint(env, dw_ih, "dwIh", dw_hh, db_ih, db_hh, y, h0, dy, dhN, x,
                   w_ih, w_hh, lengths, work);
  require_disjoint(env, dw_hh, "dwHh", db_ih, db_hh, y, h0, dy, dhN, x, w_ih,
                   w_hh, lengths, work);
  require_disjoint(env, db_ih, "dbIh", db_hh, y, h0, dy, dhN, x, w_ih, w_hh,
                   lengths, work);
  require_disjoint(env, db_hh, "dbHh", y, h0, dy, dhN, x, w_ih, w_hh, lengths,
                   work);
  require_disjoint(env, work, "work", y, h0, dy, dhN, x, w_ih, w_hh, lengths);

  RnnBackwardArgs a;
  a.dx = dx.data;
  a.dh0 = dh0.data;
  a.dw_ih = dw_ih.data;
  a.dw_hh = dw_hh.data;
  a.db_ih = db_ih.data;
  a.db_hh = db_hh.data;
  a.y = y.data;
  a.h0 = h0.data;
  a.dy = dy.data;
  a.dhN = dhN.data;
  a.x = x.data;
  a.w_ih = w_ih.data;
  a.w_hh = w_hh.data;
  a.lengths = lengths.data;
  a.work = work.data;
  a.shape = s;
  a.ld = ld;
  a.act = act;
  a.reverse = reverse;

  for (napi_value h : {dx.handle, dh0.handle, dw_ih.handle, dw_hh.handle,
                       db_ih.handle, db_hh.handle, y.handle, h0.handle,
                       dy.handle, dhN.handle, x.handle, w_ih.handle,
                       w_hh.handle, lengths.handle, work.handle}) {
    if (h != nullptr) handles.push_back(h);
  }
  if (outs != nullptr) *outs = {{dh0, dw_ih, dw_hh, db_ih, db_hh, work}, dx};
  return a;
}

Prepared prepare_backward(const Napi::CallbackInfo& info) {
  Prepared p;
  RnnBackwardArgs a = parse_backward(ArgList(info), p.handles);
  p.run = [a] { rnn_backward(a); };
  return p;
}

// Two strided outputs [rows, ld] of width H may share a buffer when their
// columns do not meet (the two halves of a bidirectional layer's y).
bool strided_disjoint(const StridedOut& a, const StridedOut& b) {
  if (!overlaps(a.y, b.y)) return true;
  if (a.ld != b.ld || a.H != b.H) return false;
  const auto pa = reinterpret_cast<uintptr_t>(a.y.data);
  const auto pb = reinterpret_cast<uintptr_t>(b.y.data);
  const uintptr_t diff = pa > pb ? pa - pb : pb - pa;
  if (diff % sizeof(float) != 0) return false;
  const int64_t cols = static_cast<int64_t>(diff / sizeof(float)) % a.ld;
  return cols >= a.H && cols <= a.ld - a.H;
}

// forwardPair([args of direction 0], [args of direction 1])
Prepared prepare_forward_pair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) throw_type(env, "forwardPair expects two argument lists");
  Prepared p;
  StridedOut ya, yb;
  View<float> ha, hb;
  RnnForwardArgs a = parse_forward(ArgList(env, info[0]), p.handles, &ya, &ha);
  RnnForwardArgs b = parse_forward(ArgList(env, info[1]), p.handles, &yb, &hb);
  if (!strided_disjoint(ya, yb)) throw_range(env, "the two directions' y overlap");
  if (overlaps(ha, hb) || overlaps(ha, yb.y) || overlaps(hb, ya.y)) {
    throw_range(env, "the two directions' outputs overlap");
  }
  p.run = [a, b] { rnn_forward_pair(a, b); };
  return p;
}

// backwardPair([args of direction 0], [args of direction 1]); dx is shared.
Prepared prepare_backward_pair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) throw_type(env, "backwardPair expects two argument lists");
  Prepared p;
  BackwardOuts oa, ob;
  RnnBackwardArgs a = parse_backward(ArgList(env, info[0]), p.handles, &oa);
  RnnBackwardArgs b = parse_backward(ArgList(env, info[1]), p.handles, &ob);
  if (a.dx != b.dx || oa.dx.length != ob.dx.length) {
    throw_range(env, "the two directions must share one dx (or both pass null)");
  }
  for (const auto& u : oa.own) {
    for (const auto& v : ob.own) {
      if (overlaps(u, v)) throw_range(env, "the two directions' gradient outputs overlap");
    }
  }
  p.run = [a, b] { rnn_backward_pair(a, b); };
  return p;
}

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc):
// row-major C = alpha op(A) op(B) + beta C.
Prepared prepare_sgemm(const Napi::CallbackInfo& call) {
  const ArgList info(call);
  Napi::Env env = info.Env();
  if (info.Length() != 13) throw_type(env, "sgemm expects 13 arguments");
  const bool ta = flag(info, 0, "transA");
  const bool tb = flag(info, 1, "transB");
  const int64_t M = dim(info, 2, "M"), N = dim(info, 3, "N"), K = dim(info, 4, "K");
  const float alpha = static_cast<float>(number(info, 5, "alpha"));
  auto A = f32(info, 6, "A");
  const int64_t lda = dim(info, 7, "lda");
  auto Bm = f32(info, 8, "B");
  const int64_t ldb = dim(info, 9, "ldb");
  const float beta = static_cast<float>(number(info, 10, "beta"));
  auto C = f32(info, 11, "C");
  const int64_t ldc = dim(info, 12, "ldc");
  // Row-major op(A) is M x K; stored as rows x cols with leading dimension lda.
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
  if (lda < a_cols) throw_range(env, "lda is smaller than A's row length");
  if (ldb < b_cols) throw_range(env, "ldb is smaller than B's row length");
  if (ldc < N) throw_range(env, "ldc is smaller than N");
  require_at_least(env, A, "A", strided_size(env, a_rows, lda, a_cols), "rows*lda");
  require_at_least(env, Bm, "B", strided_size(env, b_rows, ldb, b_cols), "rows*ldb");
  require_at_least(env, C, "C", strided_size(env, M, ldc, N), "M*ldc");
  require_disjoint(env, C, "C", A, Bm);
  Prepared p;
  float* a = A.data;
  float* b = Bm.data;
  float* c = C.data;
  p.run = [=] {
    team_sgemm(threads(), ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  };
  keep(p, A); keep(p, Bm); keep(p, C);
  return p;
}

// Runs prepared work on the libuv pool; the typed arrays it borrows are
// referenced until the promise settles.
class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, Prepared p)
      : Napi::AsyncWorker(env, "rnnblas"),
        deferred_(Napi::Promise::Deferred::New(env)),
        run_(std::move(p.run)) {
    for (napi_value h : p.handles) {
      refs_.push_back(Napi::Persistent(Napi::Value(env, h).As<Napi::Object>()));
    }
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { run_(); }
  void OnOK() override {
    refs_.clear();
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    refs_.clear();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> run_;
  std::vector<Napi::ObjectReference> refs_;
};

template <Prepared (*Prepare)(const Napi::CallbackInfo&)>
Napi::Value sync_call(const Napi::CallbackInfo& info) {
  Prepare(info).run();
  return info.Env().Undefined();
}

template <Prepared (*Prepare)(const Napi::CallbackInfo&)>
Napi::Value async_call(const Napi::CallbackInfo& info) {
  auto* worker = new KernelWorker(info.Env(), Prepare(info));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// Elementwise row work is split over the team from 64K elements (~20 us).
int rows_threads(int64_t elements) { return elements >= (int64_t{1} << 16) ? threads() : 1; }

// softmaxCrossEntropy(logits, targets, mask, N, C, ignoreIndex, scale, grad) -> summed loss
Napi::Value softmax_cross_entropy_js(const Napi::CallbackInfo& call) {
  const ArgList info(call);
  Napi::Env env = info.Env();
  if (info.Length() != 8) throw_type(env, "softmaxCrossEntropy expects 8 arguments");
  auto logits = f32(info, 0, "logits");
  auto targets = i32(info, 1, "targets");
  auto mask = u8(info, 2, "mask", true);
  const int64_t N = dim(info, 3, "N"), C = dim(info, 4, "C");
  const double ignore = number(info, 5, "ignoreIndex");
  const double scale = number(info, 6, "scale");
  auto grad = f32(info, 7, "grad");
  require_length(env, logits, "logits", mul(env, N, C), "N*C");
  require_length(env, targets, "targets", N, "N");
  require_length(env, mask, "mask", N, "N");
  require_length(env, grad, "grad", mul(env, N, C), "N*C");
  require_disjoint(env, grad, "grad", logits, targets, mask);
  if (ignore != static_cast<double>(static_cast<int32_t>(ignore))) throw_range(env, "ignoreIndex must be a 32-bit integer");
  const int32_t ignore_index = static_cast<int32_t>(ignore);
  for (int64_t n = 0; n < N; ++n) {
    const int32_t t = targets.data[n];
    if (mask.data != nullptr && mask.data[n] == 0) continue;
    if (t != ignore_index && (t < 0 || t >= C)) {
      throw_range(env, "targets[" + std::to_string(n) + "] is " + std::to_string(t) + ", expected 0.." + std::to_string(C - 1));
    }
  }
  const float* x = logits.data;
  const int32_t* t = targets.data;
  const uint8_t* m = mask.data;
  float* g = grad.data;
  const double total = team_sum(rows_threads(N * C), N, 1, [=](int64_t r0, int64_t r1) {
    return softmax_cross_entropy(x + r0 * C, t + r0, m ? m + r0 : nullptr, r1 - r0, C, ignore_index, scale, g + r0 * C);
  });
  return Napi::Number::New(env, total);
}

// squaredError(pred, target, mask, rows, inner, scale, grad) -> summed squared error
Napi::Value squared_error_js(const Napi::CallbackInfo& call) {
  const ArgList info(call);
  Napi::Env env = info.Env();
  if (info.Length() != 7) throw_type(env, "squaredError expects 7 arguments");
  auto pred = f32(info, 0, "pred");
  auto target = f32(info, 1, "target");
  auto mask = u8(info, 2, "mask", true);
  const int64_t rows = dim(info, 3, "rows"), inner = dim(info, 4, "inner");
  const double scale = number(info, 5, "scale");
  auto grad = f32(info, 6, "grad");
  const int64_t n = mul(env, rows, inner);
  require_length(env, pred, "pred", n, "rows*inner");
  require_length(env, target, "target", n, "rows*inner");
  require_length(env, mask, "mask", rows, "rows");
  require_length(env, grad, "grad", n, "rows*inner");
  require_disjoint(env, grad, "grad", pred, target, mask);
  const float* p = pred.data;
  const float* t = target.data;
  const uint8_t* m = mask.data;
  float* g = grad.data;
  const double total = team_sum(rows_threads(n), rows, 1, [=](int64_t r0, int64_t r1) {
    return squared_error(p + r0 * inner, t + r0 * inner, m ? m + r0 : nullptr, r1 - r0, inner, scale, g + r0 * inner);
  });
  return Napi::Number::New(env, total);
}

Napi::Value blas_info_js(const Napi::CallbackInfo& info) {
  const BlasInfo b = blas_info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("version", b.version);
  o.Set("config", b.config);
  o.Set("core", b.core);
  o.Set("numThreads", b.num_threads);
  o.Set("numProcs", b.num_procs);
  o.Set("parallel", b.parallel);
  return o;
}

Napi::Value set_num_threads_js(const Napi::CallbackInfo& call) {
  const ArgList info(call);
  const int64_t n = dim(info, 0, "n");
  if (n > 1024) throw_range(info.Env(), "expected at most 1024 threads");
  set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value get_num_threads_js(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), threads());
}

// setStepKernel("auto" | "blas" | "avx2" | "avx512"): how per-step products
// of a batch run (rnn_layer.h); an instruction set the CPU lacks is refused.
Napi::Value set_step_kernel_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = info.Length() == 1 && info[0].IsString()
                               ? info[0].As<Napi::String>().Utf8Value()
                               : std::string();
  StepKernel k;
  if (name == "auto") {
    k = StepKernel::Auto;
  } else if (name == "blas") {
    k = StepKernel::Blas;
  } else if (name == "avx2") {
    k = StepKernel::Avx2;
  } else if (name == "avx512") {
    k = StepKernel::Avx512;
  } else {
    throw_range(env, "kernel: expected \"auto\", \"blas\", \"avx2\" or \"avx512\"");
  }
  if (!step_kernel_supported(k)) throw_range(env, "kernel: \"" + name + "\" is not supported by this CPU");
  set_step_kernel(k);
  return env.Undefined();
}

// The kernel per-step products of a batch (B >= 2) use now.
Napi::Value step_kernel_js(const Napi::CallbackInfo& info) {
  const char* names[] = {"auto", "blas", "avx2", "avx512"};
  return Napi::String::New(info.Env(), names[static_cast<int>(step_kernel())]);
}

// setGemmThreading("team" | "openblas"): how big GEMMs use several cores
// (blas_runtime.h). "openblas" is for comparison and the sgemm peak.
Napi::Value set_gemm_threading_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = info.Length() == 1 && info[0].IsString()
                               ? info[0].As<Napi::String>().Utf8Value()
                               : std::string();
  if (name == "team") {
    set_gemm_threading(GemmThreading::Team);
  } else if (name == "openblas") {
    set_gemm_threading(GemmThreading::OpenBlas);
  } else {
    throw_range(env, "threading: expected \"team\" or \"openblas\"");
  }
  return env.Undefined();
}

Napi::Value workspace_size_js(const Napi::CallbackInfo& call) {
  const ArgList info(call);
  RnnShape s{dim(info, 0, "T"), dim(info, 1, "B"), dim(info, 2, "I"),
             dim(info, 3, "H")};
  return Napi::Number::New(info.Env(),
                           static_cast<double>(backward_workspace_size(s)));
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("forward", Napi::Function::New<sync_call<prepare_forward>>(env, "forward"));
  exports.Set("forwardAsync", Napi::Function::New<async_call<prepare_forward>>(env, "forwardAsync"));
  exports.Set("backward", Napi::Function::New<sync_call<prepare_backward>>(env, "backward"));
  exports.Set("backwardAsync", Napi::Function::New<async_call<prepare_backward>>(env, "backwardAsync"));
  exports.Set("forwardPair", Napi::Function::New<sync_call<prepare_forward_pair>>(env, "forwardPair"));
  exports.Set("forwardPairAsync", Napi::Function::New<async_call<prepare_forward_pair>>(env, "forwardPairAsync"));
  exports.Set("backwardPair", Napi::Function::New<sync_call<prepare_backward_pair>>(env, "backwardPair"));
  exports.Set("backwardPairAsync", Napi::Function::New<async_call<prepare_backward_pair>>(env, "backwardPairAsync"));
  exports.Set("sgemm", Napi::Function::New<sync_call<prepare_sgemm>>(env, "sgemm"));
  exports.Set("sgemmAsync", Napi::Function::New<async_call<prepare_sgemm>>(env, "sgemmAsync"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New<softmax_cross_entropy_js>(env, "softmaxCrossEntropy"));
  exports.Set("squaredError", Napi::Function::New<squared_error_js>(env, "squaredError"));
  exports.Set("blasInfo", Napi::Function::New<blas_info_js>(env, "blasInfo"));
  exports.Set("setNumThreads", Napi::Function::New<set_num_threads_js>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<get_num_threads_js>(env, "getNumThreads"));
  exports.Set("setStepKernel", Napi::Function::New<set_step_kernel_js>(env, "setStepKernel"));
  exports.Set("setGemmThreading", Napi::Function::New<set_gemm_threading_js>(env, "setGemmThreading"));
  exports.Set("stepKernel", Napi::Function::New<step_kernel_js>(env, "stepKernel"));
  exports.Set("backwardWorkspaceSize", Napi::Function::New<workspace_size_js>(env, "backwardWorkspaceSize"));
  return exports;
}

}  // namespace
}  // namespace rnnblas::binding

static Napi::Object InitRnnblas(Napi::Env env, Napi::Object exports) {
  return rnnblas::binding::init(env, exports);
}

NODE_API_MODULE(rnnblas, InitRnnblas)
