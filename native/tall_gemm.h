// C = beta C + A^T B for tall, narrow A [K, M] and B [K, N] (both row-major):
// the weight gradients of small and mid-sized layers, dW = dA^T X over all
// T*B rows. OpenBLAS runs this shape at 40-60% of a core's peak when N is 32
// or 64 (F1, H = 64: [64 x 12800] x [12800 x 64]) and at 75-85% up to
// M = N = 256 (W2's dW_hh); here each row k of A and B is a rank-1 update of
// a register tile of C, one 32-column strip of B at a time. Against
// OpenBLAS's SkylakeX sgemm, interleaved in one process (AMD EPYC,
// bench/weight_grad_kernel.ts): 1.2-1.35x at N = 64, 1.1-1.2x at M = 256 with
// N = 128 or 256, 1.03-1.1x at M = 768 or N = 512, none at M = 1024 (which
// stays on OpenBLAS), nor where K < 2 max(M, N).
//
// Every C element is one FMA chain over k = 0..K-1 in order, started from
// beta * C, so the bits do not depend on the blocking.
#pragma once
#include <cstdint>

namespace rnnblas {

// The shapes this kernel is used for (those measured faster): AVX-512, N a
// multiple of 32 (whole 32-column tiles) up to kTallGemmMaxN, M at most
// kTallGemmMaxM, K >= 2 max(M, N).
constexpr int64_t kTallGemmMaxM = 768;
constexpr int64_t kTallGemmMaxN = 512;
bool tall_gemm_applies(int64_t M, int64_t N, int64_t K);

// C[M, N] (row stride ldc) = beta C + A^T B, A [K, M] (row stride lda),
// B [K, N] (row stride ldb). Requires tall_gemm_applies(M, N, K).
void tall_gemm_at_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace rnnblas
