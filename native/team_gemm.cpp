#include "team_gemm.h"

#include "blas_runtime.h"
#include "tall_gemm.h"
#include "thread_team.h"

#include <cassert>
#include <climits>
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <cblas.h>

namespace rnnblas {
namespace {

// own_kernels: whether our kernels may stand in for OpenBLAS where they are
// faster (ctx.step_kernel "auto" or "avx512"; "blas" is OpenBLAS throughout).
void sgemm(bool own_kernels, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
           float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  assert(M >= 0 && N >= 0 && K >= 0 && M <= INT_MAX && N <= INT_MAX && K <= INT_MAX);
  if (M == 0 || N == 0) return;
  // The weight gradients of small layers (tall_gemm.h): faster than OpenBLAS there.
  if (own_kernels && trans_a && !trans_b && alpha == 1.0f && tall_gemm_applies(M, N, K)) {
    tall_gemm_at_b(M, N, K, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), alpha, A,
              static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C,
              static_cast<blasint>(ldc));
}

// Below this many multiply-adds (~10 us on one core) a split costs more in
// wake-ups than it saves.
constexpr int64_t kSplitMin = int64_t{1} << 19;

// Slices stay multiples of this many rows/columns: whole OpenBLAS
// micro-tiles (16 for its AVX-512 sgemm), and whole cache lines of C.
constexpr int64_t kGrain = 16;

// How OpenBLAS's kernels take a split of C: every element keeps the bits of
// the unsplit call when the slices are whole micro-tiles (a tile cut short by
// a slice's end takes another path). Its SkylakeX kernels (also Cooperlake's
// and SapphireRapids') keep them for row slices of any multiple of 4 and
// column slices of 16; Haswell's (also Zen's) for row slices of 12 only, and
// for no column slice (measured on an AMD EPYC, 2026-12-02). Other kernel
// sets are taken to be like Haswell's, with 48 rows, a multiple of every
// tile height seen.
struct SplitGrains {
  int64_t rows;
  bool columns_keep_bits;
};

SplitGrains split_grains() {
  static const SplitGrains grains = [] {
    std::string core = blas_info().core;
    std::transform(core.begin(), core.end(), core.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool skylakex = core == "skylakex" || core == "cooperlake" || core == "sapphirerapids";
    return skylakex ? SplitGrains{kGrain, true} : SplitGrains{3 * kGrain, false};
  }();
  return grains;
}

// Offset of element (row, col) of op(X) stored with leading dimension ld.
inline int64_t at(bool trans, int64_t row, int64_t col, int64_t ld) {
  return trans ? col * ld + row : row * ld + col;
}

// The weight-gradient shape (dW = dA^T X over T*B rows): K dwarfs M and N.
// Split by rows or columns, every task would pack the whole of the other
// operand (26 MB twice for W3's dW_hh); split along K each packs only its
// share. Task 0 accumulates into C, the others into scratch; in a second phase
// the partial products are added in task order, each task summing a share of
// C's rows: the same bits for a given task count, whoever ran the tasks.
void split_inner(int tasks, bool own_kernels, bool trans_a, bool trans_b, int64_t M, int64_t N,
                 int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  // Sized by the task count (the binding caps it at the CPUs we may use) and
  // allocated here, on the calling thread: a bad_alloc leaves the entry point.
  assert(!in_team_task() && "split scratch is allocated on the calling thread");
  thread_local std::vector<float> scratch;
  const int64_t need = (tasks - 1) * M * N;
  if (static_cast<int64_t>(scratch.size()) < need) {
    scratch.clear();
    scratch.shrink_to_fit();
    scratch.resize(need);
  }
  float* partial = scratch.data();
  run_phases(tasks, 2, [&](int phase, int task) {
    if (phase == 0) {
      const auto [k0, k1] = task_share(K, kGrain, task, tasks);
      const float* a = A + at(trans_a, 0, k0, lda);
      const float* b = B + at(trans_b, k0, 0, ldb);
      if (task == 0) {
        sgemm(own_kernels, trans_a, trans_b, M, N, k1 - k0, alpha, a, lda, b, ldb, beta, C, ldc);
      } else {
        float* mine = partial + (task - 1) * M * N;
        if (k1 > k0) {
          sgemm(own_kernels, trans_a, trans_b, M, N, k1 - k0, alpha, a, lda, b, ldb, 0.0f,
                mine, N);
        } else {
          std::fill(mine, mine + M * N, 0.0f);
        }
      }
      return;
    }
    const auto [r0, r1] = task_share(M, 1, task, tasks);
    for (int64_t part = 0; part + 1 < tasks; ++part) {
      const float* from = partial + part * M * N;
      for (int64_t i = r0; i < r1; ++i) {
        float* row = C + i * ldc;
        const float* add = from + i * N;
        for (int64_t j = 0; j < N; ++j) row[j] += add[j];
      }
    }
  });
}

}  // namespace

void team_sgemm(const ExecContext& ctx, bool trans_a, bool trans_b, int64_t M, int64_t N,
                int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  const FloatModeScope mode(ctx);
  const int tasks = team_tasks(ctx);
  const bool own = ctx.step_kernel == StepKernel::Auto || ctx.step_kernel == StepKernel::Avx512;
  if (ctx.gemm == GemmThreading::OpenBlas || tasks <= 1 || M * N * K < kSplitMin) {
    sgemm(own, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (K > M && K > N && K >= 2 * kGrain) {
    split_inner(tasks, own, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                beta, C, ldc);
    return;
  }
  // By rows where the kernels would change the bits of a column split.
  const SplitGrains grains = split_grains();
  const bool split_rows = M >= N || (!grains.columns_keep_bits && M >= 2 * grains.rows);
  const int64_t extent = split_rows ? M : N;
  const int64_t grain = split_rows ? grains.rows : kGrain;
  if (extent < 2 * grain) {
    sgemm(own, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  run_phases(tasks, 1, [&](int, int task) {
    const auto [begin, end] = task_share(extent, grain, task, tasks);
    if (begin >= end) return;
    if (split_rows) {
      // Rows of C are rows of op(A): row i of A, or column i of A^T.
      const float* a = trans_a ? A + begin : A + begin * lda;
      sgemm(own, trans_a, trans_b, end - begin, N, K, alpha, a, lda, B, ldb, beta,
            C + begin * ldc, ldc);
    } else {
      const float* b = trans_b ? B + begin * ldb : B + begin;
      sgemm(own, trans_a, trans_b, M, end - begin, K, alpha, A, lda, b, ldb, beta,
            C + begin, ldc);
    }
  });
}

}  // namespace rnnblas
