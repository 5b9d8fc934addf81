/**
 * The weight-gradient kernel (native/tall_gemm.h) against OpenBLAS on the shapes it takes:
 * C = A^T B with A [K, M], B [K, N], K = T*B rows (12800: F1; 6400: W2, W5; 2048: W1, E1, L1, G1),
 * through the addon's sgemm, which runs
 * the kernel with the step kernel "auto" and OpenBLAS with "blas". The two alternate, 30 rounds
 * of 5 calls each; the fastest call of each is kept (the host is shared: alternating keeps its
 * drift out of the ratio).
 *
 *   OPENBLAS_CORETYPE=SkylakeX npx tsx bench/weight_grad_kernel.ts
 */
import { setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';

// [M, N, K]: F1's dW_hh and dW_ih-like narrow shapes, W2's dW_hh and dW_ih (layer 0: I = 128, layer
// 1: I = 512), W1's dW_hh, G1's dW_hh (M = 3H), and an LSTM's at H = 256 (M = 1024: OpenBLAS keeps it).
const SHAPES: Array<[number, number, number]> = [
  [64, 64, 12800], [32, 32, 12800], [64, 32, 12800], [128, 32, 12800], [256, 64, 12800],
  [256, 256, 6400], [256, 128, 6400], [256, 512, 6400], [256, 256, 2048], [768, 256, 2048], [1024, 256, 6400],
];

console.log('| threads | M × N × K | kernel µs | OpenBLAS µs | speed-up | kernel GFLOP/s |');
console.log('|---:|---|---:|---:|---:|---:|');
for (const threads of [1, 2]) {
  setNumThreads(threads);
  for (const [M, N, K] of SHAPES) {
    const A = native.alloc(K * M);
    const B = native.alloc(K * N);
    const C = native.alloc(M * N);
    for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
    for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
    for (let j = 0; j < 20; j++) native.sgemm(true, false, M, N, K, 1, A, M, B, N, 0, C, N); // warm-up (the team's helpers too)
    const best = { auto: Infinity, blas: Infinity };
    for (let round = 0; round < 30; round++) {
      for (const kernel of ['auto', 'blas'] as const) {
        native.setStepKernel(kernel);
        for (let j = 0; j < 5; j++) {
          const t0 = performance.now();
          native.sgemm(true, false, M, N, K, 1, A, M, B, N, 0, C, N);
          best[kernel] = Math.min(best[kernel], performance.now() - t0);
        }
      }
    }
    const gflops = (2 * M * N * K) / best.auto / 1e6;
    console.log(`| ${threads} | ${M} × ${N} × ${K} | ${(best.auto * 1e3).toFixed(0)} | ${(best.blas * 1e3).toFixed(0)} | ${(best.blas / best.auto).toFixed(2)}× | ${gflops.toFixed(0)} |`);
  }
}
native.setStepKernel('auto');
