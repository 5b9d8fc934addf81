// C = beta C + A^T B for tall, narrow A [K, M] and B [K, N] (both row-major):
// the weight gradients of small layers, dW_hh = dA^T h over all T*B rows.
// OpenBLAS runs this shape at 40-60% of a core's peak when N is 32 or 64
// (F1, H = 64: [64 x 12800] x [12800 x 64]); here each row k of A and B is a
// rank-1 update of a register tile of C. Against OpenBLAS's SkylakeX sgemm,
// interleaved in one process, K = 12800 (bench/weight_grad_kernel.ts, AMD
// EPYC): 1.5-1.6x at M = N = 32, 1.2x at M = N = 64, 1.2-1.3x at M = 256,
// N = 64; N = 48 or 96 and M = N = 128 were no faster (Xeon), so those stay
// on OpenBLAS.
//
// Every C element is one FMA chain over k = 0..K-1 in order, started from
// beta * C, so the bits do not depend on the blocking.
#pragma once
#include <cstdint>

namespace rnnblas {

// The shapes this kernel is used for (those measured faster): AVX-512, N 32
// or 64 (whole 32-column tiles), M at most kTallGemmMaxM, K >= 4 max(M, N).
constexpr int64_t kTallGemmMaxM = 256;
constexpr int64_t kTallGemmMaxN = 64;
bool tall_gemm_applies(int64_t M, int64_t N, int64_t K);

// C[M, N] (row stride ldc) = beta C + A^T B, A [K, M] (row stride lda),
// B [K, N] (row stride ldb). Requires tall_gemm_applies(M, N, K).
void tall_gemm_at_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace rnnblas
