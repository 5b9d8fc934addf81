/**
 * The sgemm peak measurement bench/run.ts and bench/e1.ts share: GFLOP/s of each of `reps`
 * cblas_sgemm 2048³ calls (row-major, no transposes) through the addon, at the thread count and
 * GEMM threading already set, after a warm-up of at least a second (the first calls pay for page
 * faults, thread start-up and clock ramp-up). Callers pick the median or the fastest.
 */
import { native } from '../src/native/binding.js';

/** GFLOP/s of each timed call. */
export function sgemmRates(reps: number): number[] {
  const N = 2048;
  const A = new Float32Array(N * N).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const B = new Float32Array(N * N).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const C = new Float32Array(N * N);
  const run = (): void => native.sgemm(false, false, N, N, N, 1, A, N, B, N, 0, C, N);
  const w0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - w0 < 1000; i++) run();
  const rates: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    rates.push((2 * N ** 3) / ((performance.now() - t0) * 1e6));
  }
  return rates;
}
