// The packed recurrent step kernel (native/packed_gemm.cpp) on the shapes of
// the benchmarks, timed like a time loop: the panels are packed once, then T
// steps each multiply a different A (slice t of a [T, M, lda] sequence, as h
// is read from y) into C, in GFLOP/s (2 M K N per step). Compared against
// cblas_sgemm on the same shape (B unpacked [K, N] row-major, 1 thread) and
// the FMA peak of one core. Every kernel's result is also checked bit for bit
// against a scalar FMA dot product in increasing k order (M = 1..26 and
// around 32, 64, 128; ragged units; one call and a 2-way split).
//
// Build and run (no addon build needed; the flags of the kernels' library):
//   g++ -O3 -fno-trapping-math -std=c++17 -Wall -Inative bench/step_kernel_bench.cpp native/packed_gemm.cpp -lopenblas -lpthread -o /tmp/step_kernel_bench
//   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /tmp/step_kernel_bench
// Options: --reps N (default 40: N repetitions of the T steps, kernels
// interleaved; each step's time is its min over them), --only L5f,W1b,...
// (shape names), --no-blas, --avx2 (also time the AVX2 kernel), --threads 2
// (also run each shape split over 2 threads, unit blocks halved as
// rnn_layer.cpp's task_share does), --shape
// M,K,units[,gates[,lda/K[,forward[,accumulate]]]] (instead of the list;
// repeatable; forward 0: one C buffer for every step), --check (the
// bit-exactness check only). ms/step is the avx512 kernel's.
//
// Against another version of the kernel (both in one process, interleaved:
// the "base" column), compile that version with its namespace renamed, e.g.
// 03ec19a (the 8x32 tile kernel):
//   mkdir -p /tmp/pg_base && git show 03ec19a:native/packed_gemm.cpp > /tmp/pg_base/packed_gemm.cpp && git show 03ec19a:native/packed_gemm.h > /tmp/pg_base/packed_gemm.h
//   g++ -O3 -fno-trapping-math -std=c++17 -Drnnblas=rnnblas_base -c /tmp/pg_base/packed_gemm.cpp -o /tmp/pg_base/pg.o
//   g++ -O3 -fno-trapping-math -std=c++17 -Wall -Inative -DSTEP_BENCH_BASELINE bench/step_kernel_bench.cpp native/packed_gemm.cpp /tmp/pg_base/pg.o -lopenblas -lpthread -o /tmp/step_kernel_bench
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "packed_gemm.h"

#ifdef STEP_BENCH_BASELINE
// The same API in the renamed namespace (see the top of the file).
namespace rnnblas_base {
enum class PackedIsa : int32_t { Avx2 = 1, Avx512 = 2 };
struct PanelLayout {
  int64_t K = 0;
  int64_t units = 0;
  int64_t gates = 1;
};
int64_t packed_size(const PanelLayout& l);
void pack_panels(const float* w, bool transpose, const PanelLayout& l, float* packed,
                 int64_t p0, int64_t p1);
void gemm_packed(PackedIsa isa, int64_t M, const PanelLayout& l, const float* A, int64_t lda,
                 const float* packed, float* C, int64_t ldc, bool accumulate, int64_t p0,
                 int64_t p1);
}  // namespace rnnblas_base
#endif

namespace {

using rnnblas::PackedIsa;
using rnnblas::PanelLayout;
using Clock = std::chrono::steady_clock;

struct Shape {
  const char* name;
  int64_t M, K, units, gates;
  int64_t lda_mult;  // A's row stride in K (2: a bidirectional y)
  bool accumulate;
  bool forward;  // C: a new slice per step (the input projection, cold);
                 // else one buffer (backward's carry, warm)
  const char* note;
};

// Forward: K = H, N = G*H (W_hh^T packed, gates blocks of H units).
// Backward: K = G*H, N = H (W_hh packed, one block).
const Shape kShapes[] = {
    {"L5f", 64, 256, 256, 4, 2, true, true, "LSTM L5 fwd (one core per direction)"},
    {"W1f", 32, 256, 256, 1, 1, true, true, "Elman W1 fwd"},
    {"W1b", 32, 256, 256, 1, 1, false, false, "Elman W1 bwd"},
    {"W3f", 128, 1024, 1024, 1, 1, true, true, "Elman W3 fwd (= bwd shape)"},
    {"L1f", 32, 256, 256, 4, 1, true, true, "LSTM L1 fwd"},
    {"L1b", 32, 1024, 256, 1, 1, false, false, "LSTM L1 bwd"},
    {"G1f", 32, 256, 256, 3, 1, false, true, "GRU G1 fwd"},
    {"G1b", 32, 768, 256, 1, 1, true, false, "GRU G1 bwd"},
    {"G5f", 64, 256, 256, 3, 2, false, true, "GRU G5 fwd"},
    {"W2f", 64, 256, 256, 1, 2, true, true, "Elman W2 fwd"},
    {"m1", 1, 256, 256, 4, 1, true, true, "small batch"},
    {"m2", 2, 256, 256, 4, 1, true, true, "small batch"},
    {"m3", 3, 256, 256, 4, 1, true, true, "small batch"},
    {"m4", 4, 256, 256, 4, 1, true, true, "small batch"},
    {"m5", 5, 256, 256, 4, 1, true, true, "small batch"},
    {"m6", 6, 256, 256, 4, 1, true, true, "small batch"},
    {"m7", 7, 256, 256, 4, 1, true, true, "small batch"},
    {"m8", 8, 256, 256, 4, 1, true, true, "small batch"},
    {"m16", 16, 256, 256, 4, 1, true, true, "small batch"},
    {"m24", 24, 256, 256, 4, 1, true, true, "batch 24"},
    {"m48", 48, 256, 256, 4, 1, true, true, "batch 48"},
};

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// One core's FMA peak: 24 independent zmm FMA chains.
__attribute__((target("avx512f,fma"), noinline)) float fma_loop(int64_t n, float x) {
  __m512 acc[24];
  __m512 b = _mm512_set1_ps(x);
  const __m512 c = _mm512_set1_ps(0.999f);
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (int64_t k = 0; k < n; ++k) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], c, b);
    __asm__ volatile("" : "+v"(b));
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  return lanes[0] + lanes[15];
}

double fma_peak_gflops() {
  const int64_t n = 1000000;
  double best = 1e30;
  volatile float sink = 0;
  for (int r = 0; r < 15; ++r) {
    const double t0 = now_s();
    sink = sink + fma_loop(n, 1e-3f);
    best = std::min(best, now_s() - t0);
  }
  return static_cast<double>(n) * 24 * 16 * 2 / best / 1e9;
}

// A spinning two-thread barrier (sense reversal).
struct SpinBarrier {
  std::atomic<int> count{0};
  std::atomic<int> sense{0};
  int n;
  explicit SpinBarrier(int threads) : n(threads) {}
  void wait() {
    const int s = sense.load(std::memory_order_relaxed);
    if (count.fetch_add(1, std::memory_order_acq_rel) == n - 1) {
      count.store(0, std::memory_order_relaxed);
      sense.store(s ^ 1, std::memory_order_release);
    } else {
      while (sense.load(std::memory_order_acquire) == s) _mm_pause();
    }
  }
};

struct Problem {
  Shape s;
  int64_t T, N, lda, ldc;
  std::vector<float> w;       // B as [K, N] row-major
  std::vector<float> seq;     // T+1 slices of A, each M x lda
  std::vector<float> c_init;  // T slices of C
  std::vector<float> c;

  explicit Problem(const Shape& shape, int64_t steps) : s(shape), T(steps) {
    N = s.gates * s.units;
    lda = s.K * s.lda_mult;
    ldc = N;
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    w.resize(s.K * N);
    for (auto& x : w) x = u(rng);
    seq.resize((T + 1) * s.M * lda);
    for (auto& x : seq) x = u(rng);
    c_init.resize((s.forward ? T : 1) * s.M * ldc);
    for (auto& x : c_init) x = u(rng);
    c = c_init;
  }
  const float* A(int64_t t) const { return seq.data() + t * s.M * lda; }
  float* C(int64_t t) { return c.data() + (s.forward ? t : 0) * s.M * ldc; }
  // h(t-1) was just written by the previous step's cell: bring A(t) into
  // the cache, as the time loop has it (untimed).
  float touch(int64_t t) const {
    float sum = 0.0f;
    const float* a = A(t);
    for (int64_t i = 0; i < s.M; ++i)
      for (int64_t k = 0; k < s.K; ++k) sum += a[i * lda + k];
    return sum;
  }
  double flops_per_step() const { return 2.0 * s.M * s.K * N; }
};

struct Kernel {
  std::string name;
  // Step t of the loop over unit blocks [b0, b1).
  std::function<void(Problem&, int64_t, int64_t, int64_t)> step;
};

template <class Isa, class Layout>
struct PackedRunner {
  std::vector<float, std::allocator<float>> storage;
  float* panels = nullptr;
  Layout layout;
  Isa isa;
  int64_t gates = 1;

  void pack(const Problem& p, Isa which,
            void (*pack_fn)(const float*, bool, const Layout&, float*, int64_t, int64_t),
            int64_t (*size_fn)(const Layout&)) {
    isa = which;
    layout.K = p.s.K;
    layout.units = p.s.units;
    layout.gates = p.s.gates;
    gates = p.s.gates;
    const int64_t n = size_fn(layout);
    storage.assign(n + 16, 0.0f);
    const auto addr = reinterpret_cast<uintptr_t>(storage.data());
    panels = storage.data() + ((64 - addr % 64) % 64) / sizeof(float);  // as rnn_layer.cpp
    const int64_t blocks = (p.s.units + 31) / 32;
    pack_fn(p.w.data(), false, layout, panels, 0, blocks * gates);
  }
};

// The scalar reference: one FMA chain per element over k = 0..K-1, then C +.
void reference(const Problem& p, int64_t t, std::vector<float>& out) {
  const auto& s = p.s;
  out.assign(p.c_init.begin() + t * s.M * p.ldc, p.c_init.begin() + (t + 1) * s.M * p.ldc);
  const float* A = p.A(t);
  for (int64_t i = 0; i < s.M; ++i) {
    for (int64_t n = 0; n < p.N; ++n) {
      float acc = 0.0f;
      for (int64_t k = 0; k < s.K; ++k) acc = std::fma(A[i * p.lda + k], p.w[k * p.N + n], acc);
      out[i * p.ldc + n] = s.accumulate ? out[i * p.ldc + n] + acc : acc;
    }
  }
}

struct Options {
  int reps = 40;
  std::vector<std::string> only;
  bool blas = true;
  bool avx2 = false;
  int threads = 1;
  bool check_only = false;
  std::vector<Shape> custom;  // --shape: run these instead of kShapes
};

bool selected(const Options& o, const char* name) {
  if (o.only.empty()) return true;
  for (const auto& n : o.only)
    if (n == name) return true;
  return false;
}

double load_average() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      o.reps = std::atoi(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      std::string list = argv[++i];
      size_t pos = 0;
      while (pos <= list.size()) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        o.only.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (a == "--no-blas") {
      o.blas = false;
    } else if (a == "--avx2") {
      o.avx2 = true;
    } else if (a == "--threads" && i + 1 < argc) {
      o.threads = std::atoi(argv[++i]);
    } else if (a == "--shape" && i + 1 < argc) {
      Shape c{"custom", 0, 0, 0, 1, 1, true, true, "--shape"};
      int fwd = 1, acc = 1;
      if (std::sscanf(argv[++i], "%ld,%ld,%ld,%ld,%ld,%d,%d", &c.M, &c.K, &c.units, &c.gates,
                      &c.lda_mult, &fwd, &acc) < 3) {
        std::fprintf(stderr, "--shape M,K,units[,gates[,lda/K[,forward[,accumulate]]]]\n");
        return 2;
      }
      c.forward = fwd != 0;
      c.accumulate = acc != 0;
      o.custom.push_back(c);
    } else if (a == "--check") {
      o.check_only = true;
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  openblas_set_num_threads(1);  // sgemm on one thread, as rnnblas runs it
  // Debian's OpenBLAS does not know Sapphire Rapids: without
  // OPENBLAS_CORETYPE=SkylakeX its sgemm runs a kernel ~4x slower.
  std::printf("OpenBLAS core %s (%s)\n", openblas_get_corename(), openblas_get_config());
  const bool avx512 = rnnblas::packed_isa_supported(PackedIsa::Avx512);
  std::printf("load average %.2f at start; 1-core FMA peak %.1f GFLOP/s\n", load_average(),
              avx512 ? fma_peak_gflops() : 0.0);

  // Bit-exactness on many shapes (ragged units, every M up to 20, lda > K).
  {
    int bad = 0, checked = 0;
    std::vector<int64_t> batches;
    for (int64_t M = 1; M <= 26; ++M) batches.push_back(M);
    for (int64_t M : {31, 32, 33, 63, 64, 65, 127, 128, 129}) batches.push_back(M);
    for (int64_t M : batches) {
      // The last: panels over 1 MB in one call (the kernel's L3 streaming).
      for (const auto& [K, units, gates] : std::vector<std::array<int64_t, 3>>{
               {64, 64, 1}, {37, 100, 3}, {256, 256, 4}, {5, 33, 2}, {300, 31, 1},
               {1100, 100, 3}}) {
        if (K == 1100 && M > 33) continue;  // (the reference's time)
        for (bool acc : {false, true}) {
          Shape s{"chk", M, K, units, gates, 2, acc, true, ""};
          Problem p(s, 1);
          std::vector<float> ref;
          reference(p, 0, ref);
          std::vector<PackedIsa> isas;
          if (avx512) isas.push_back(PackedIsa::Avx512);
          if (rnnblas::packed_isa_supported(PackedIsa::Avx2)) isas.push_back(PackedIsa::Avx2);
          for (PackedIsa isa : isas) {
            PanelLayout l{K, units, gates};
            std::vector<float> panels(rnnblas::packed_size(l) + 16);
            float* pp = panels.data() + 3;  // deliberately not 64-byte aligned
            const int64_t nb = rnnblas::panel_count(l);
            rnnblas::pack_panels(p.w.data(), false, l, pp, 0, nb);
            // In one call, and in two (a 2-thread split).
            for (int split : {0, 1}) {
              std::vector<float> c(p.c_init.begin(), p.c_init.begin() + M * p.ldc);
              const int64_t half = split ? rnnblas::unit_blocks(l) / 2 * gates : nb;
              rnnblas::gemm_packed(isa, M, l, p.A(0), p.lda, pp, c.data(), p.ldc, acc, 0, half);
              rnnblas::gemm_packed(isa, M, l, p.A(0), p.lda, pp, c.data(), p.ldc, acc, half, nb);
              ++checked;
              if (std::memcmp(c.data(), ref.data(), sizeof(float) * c.size()) != 0) {
                ++bad;
                if (bad < 10)
                  std::printf("MISMATCH isa %d M %ld K %ld units %ld gates %ld acc %d split %d\n",
                              static_cast<int>(isa), M, K, units, gates, acc, split);
              }
            }
          }
        }
      }
    }
    std::printf("bit-exact check: %d/%d cases match the scalar FMA reference\n", checked - bad,
                checked);
    if (bad) return 1;
    if (o.check_only) return 0;
  }

  std::printf("\n%-5s %4s %5s %5s %3s %8s", "shape", "M", "K", "N", "thr", "ms/step");
#ifdef STEP_BENCH_BASELINE
  std::printf(" %8s", "base");
#endif
  std::printf(" %8s", "avx512");
  if (o.avx2) std::printf(" %8s", "avx2");
  if (o.blas) std::printf(" %8s", "sgemm");
  std::printf("   GFLOP/s (per step: min of %d)\n", o.reps);

  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  if (!o.custom.empty()) shapes = o.custom;
  for (const Shape& s : shapes) {
    if (o.custom.empty() && !selected(o, s.name)) continue;
    for (int threads = 1; threads <= o.threads; ++threads) {
      const int64_t T = s.M * s.K * s.units * s.gates > (int64_t{1} << 26) ? 16 : 64;
      Problem p(s, T);
      const int64_t nblocks = (s.units + 31) / 32;
      if (threads > nblocks) continue;

      std::vector<Kernel> kernels;
      PackedRunner<PackedIsa, PanelLayout> mine, mine2;
      auto share = [&](int64_t b, int th) { return std::pair<int64_t, int64_t>{b * th / threads, b * (th + 1) / threads}; };
#ifdef STEP_BENCH_BASELINE
      PackedRunner<rnnblas_base::PackedIsa, rnnblas_base::PanelLayout> base;
      base.pack(p, rnnblas_base::PackedIsa::Avx512, rnnblas_base::pack_panels,
                rnnblas_base::packed_size);
      kernels.push_back({"base",
                         [&](Problem& q, int64_t t, int64_t b0, int64_t b1) {
                           rnnblas_base::gemm_packed(base.isa, s.M, base.layout, q.A(t), q.lda,
                                                     base.panels, q.C(t), q.ldc, s.accumulate,
                                                     b0 * s.gates, b1 * s.gates);
                         }});
#endif
      if (avx512) {
        mine.pack(p, PackedIsa::Avx512, rnnblas::pack_panels, rnnblas::packed_size);
        kernels.push_back({"avx512",
                           [&](Problem& q, int64_t t, int64_t b0, int64_t b1) {
                             rnnblas::gemm_packed(mine.isa, s.M, mine.layout, q.A(t), q.lda,
                                                  mine.panels, q.C(t), q.ldc, s.accumulate,
                                                  b0 * s.gates, b1 * s.gates);
                           }});
      }
      if (o.avx2) {
        mine2.pack(p, PackedIsa::Avx2, rnnblas::pack_panels, rnnblas::packed_size);
        kernels.push_back({"avx2",
                           [&](Problem& q, int64_t t, int64_t b0, int64_t b1) {
                             rnnblas::gemm_packed(mine2.isa, s.M, mine2.layout, q.A(t), q.lda,
                                                  mine2.panels, q.C(t), q.ldc, s.accumulate,
                                                  b0 * s.gates, b1 * s.gates);
                           }});
      }
      if (o.blas) {
        // Columns of the unit share: every gate block's slice of them.
        kernels.push_back({"sgemm",
                           [&](Problem& q, int64_t t, int64_t b0, int64_t b1) {
                             const int64_t u0 = std::min(b0 * 32, s.units);
                             const int64_t u1 = std::min(b1 * 32, s.units);
                             if (b0 == 0 && b1 == nblocks) {
                               cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, q.N, s.K,
                                           1.0f, q.A(t), q.lda, q.w.data(), q.N,
                                           s.accumulate ? 1.0f : 0.0f, q.C(t), q.ldc);
                               return;
                             }
                             for (int64_t g = 0; g < s.gates; ++g) {
                               const int64_t c0 = g * s.units + u0;
                               cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, u1 - u0,
                                           s.K, 1.0f, q.A(t), q.lda, q.w.data() + c0, q.N,
                                           s.accumulate ? 1.0f : 0.0f, q.C(t) + c0, q.ldc);
                             }
                           }});
      }

      // Correctness of the timed configuration at step 0 (not for sgemm).
      {
        std::vector<float> ref;
        reference(p, 0, ref);
        for (auto& k : kernels) {
          if (k.name == "sgemm") continue;
          std::copy(p.c_init.begin(), p.c_init.end(), p.c.begin());
          for (int th = 0; th < threads; ++th) {
            const auto [b0, b1] = share(nblocks, th);
            k.step(p, 0, b0, b1);
          }
          if (std::memcmp(p.c.data(), ref.data(), sizeof(float) * ref.size()) != 0) {
            std::printf("%s: %s differs from the reference\n", s.name, k.name.c_str());
            return 1;
          }
        }
      }

      // Each step's time is the min over the repetitions; a kernel's time
      // is the sum of those (a busy machine preempts a whole loop of T
      // steps far more often than any one step).
      std::vector<std::vector<double>> best(kernels.size(), std::vector<double>(T, 1e30));
      std::thread helper;
      SpinBarrier barrier(threads);
      std::atomic<int> job{-1};  // kernel index for the helper, -2: quit
      if (threads == 2) {
        helper = std::thread([&] {
          for (;;) {
            barrier.wait();
            const int j = job.load();
            if (j == -2) return;
            const auto [b0, b1] = share(nblocks, 1);
            for (int64_t t = 0; t < T; ++t) {
              kernels[j].step(p, t, b0, b1);
              barrier.wait();
            }
          }
        });
      }
      volatile float sink = 0.0f;
      for (int r = 0; r < o.reps + 2; ++r) {
        for (size_t j = 0; j < kernels.size(); ++j) {
          std::copy(p.c_init.begin(), p.c_init.end(), p.c.begin());
          job.store(static_cast<int>(j));
          if (threads == 2) barrier.wait();
          const auto [b0, b1] = share(nblocks, 0);
          for (int64_t t = 0; t < T; ++t) {
            sink = sink + p.touch(t);
            const double t0 = now_s();
            kernels[j].step(p, t, b0, b1);
            if (threads == 2) barrier.wait();
            const double t1 = now_s();
            if (r >= 2) best[j][t] = std::min(best[j][t], t1 - t0);  // two warm-up rounds
          }
        }
      }
      if (threads == 2) {
        job.store(-2);
        barrier.wait();
        helper.join();
      }
      std::vector<double> total(kernels.size(), 0.0);
      for (size_t j = 0; j < kernels.size(); ++j)
        for (double x : best[j]) total[j] += x;
      size_t mine_index = 0;
      for (size_t j = 0; j < kernels.size(); ++j)
        if (kernels[j].name == "avx512") mine_index = j;
      std::printf("%-5s %4ld %5ld %5ld %3d %8.4f", s.name, s.M, s.K, p.N, threads,
                  total[mine_index] / T * 1e3);
      for (size_t j = 0; j < kernels.size(); ++j)
        std::printf(" %8.1f", p.flops_per_step() * T / total[j] / 1e9);
      std::printf("   %s\n", s.note);
      std::fflush(stdout);
    }
  }
  std::printf("load average %.2f at end\n", load_average());
  return 0;
}
