// The recurrent product of every time step, C = A B with B (K x N) the same
// for a whole sequence (W_hh^T forward, W_hh backward). B is packed once per
// call into column panels, so each step goes straight to the microkernel;
// OpenBLAS repacks B on every call, which on W3's 128x1024x1024 steps costs
// ~15% (measured: 171 vs 200 GFLOP/s on 2 threads, bench/RESULTS.md).
//
// A (M x K, row stride lda) is read in place. Every C element is one dot
// product over the whole of K in a fixed order, so splitting columns between
// threads never changes a bit of the result.
#pragma once
#include <cstdint>

namespace rnnblas {

constexpr int64_t kPanelWidth = 32;  // columns per packed panel (two zmm)

// The microkernel's instruction sets: AVX-512F (an 8x32 register tile) or
// AVX2 + FMA (6x16 tiles over half panels).
enum class PackedIsa : int32_t { Avx2 = 1, Avx512 = 2 };

// The CPU (and OS) run this instruction set.
bool packed_isa_supported(PackedIsa isa);

// Floats a packed K x N matrix takes (N rounded up to whole panels).
int64_t packed_size(int64_t K, int64_t N);

// Packs panels [p0, p1) of B, where B(k, n) = transpose ? w[n*K + k]
// : w[k*N + n]; columns past N are zero.
void pack_panels(const float* w, bool transpose, int64_t K, int64_t N,
                 float* packed, int64_t p0, int64_t p1);

// C[0:M, n0:n1] = (accumulate ? C : 0) + A B[:, n0:n1]. n0 is a multiple of
// kPanelWidth; n1 <= N; packed_isa_supported(isa).
void gemm_packed(PackedIsa isa, int64_t M, int64_t K, const float* A,
                 int64_t lda, const float* packed, float* C, int64_t ldc,
                 bool accumulate, int64_t n0, int64_t n1);

}  // namespace rnnblas
