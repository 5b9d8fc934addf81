// cblas_sgemm with the work split over our thread team instead of OpenBLAS's
// own threads.
//
// Why: the time loop runs on the team (thread_team.h), and OpenBLAS's pool
// keeps spinning for ~0.1 s after each threaded call; the two pools then
// fight over the cores (W1 went from 9.5 to 15.7 ms per step with both in
// use). So rnnblas has one threading strategy: OpenBLAS always runs
// single-threaded, and every GEMM of ours is split here, each member calling
// OpenBLAS on its share: by rows or columns of C in whole micro-tiles (each
// element summed exactly as in the unsplit call; with OpenBLAS's Haswell
// kernels only row splits are, so those split by rows), or, for the weight
// gradients' long inner dimension, by K with the partial products added (the
// same up to float rounding).
#pragma once
#include <cstdint>

#include "exec_context.h"

namespace rnnblas {

// Row-major C[M,N] = alpha op(A) op(B) + beta C, split for ctx.threads.
void team_sgemm(const ExecContext& ctx, bool trans_a, bool trans_b, int64_t M, int64_t N,
                int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace rnnblas
