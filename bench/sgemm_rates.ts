/**
 * The sgemm peak measurement bench/run.ts, bench/e1.ts and the rnnblas child share: GFLOP/s of
 * cblas_sgemm 2048³ calls (row-major, no transposes) through the addon, at the thread count and
 * GEMM threading already set. Callers pick the median or the fastest.
 */
import { native } from '../src/native/binding.js';

const N = 2048;

/**
 * A runner of single sgemm 2048³ calls on matrices made once (48 MB): each call returns its
 * GFLOP/s. No warm-up: for measurements next to other work (the rnnblas child's adjacent peak).
 */
export function sgemmRunner(): () => number {
  const A = new Float32Array(N * N).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const B = new Float32Array(N * N).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const C = new Float32Array(N * N);
  return () => {
    const t0 = performance.now();
    native.sgemm(false, false, N, N, N, 1, A, N, B, N, 0, C, N);
    return (2 * N ** 3) / ((performance.now() - t0) * 1e6);
  };
}

/**
 * GFLOP/s of each of `reps` calls after a warm-up of at least a second (the first calls pay for
 * page faults, thread start-up and clock ramp-up).
 */
export function sgemmRates(reps: number): number[] {
  const run = sgemmRunner();
  const w0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - w0 < 1000; i++) run();
  const rates: number[] = [];
  for (let i = 0; i < reps; i++) rates.push(run());
  return rates;
}
