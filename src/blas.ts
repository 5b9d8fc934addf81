/**
 * The BLAS runtime: what OpenBLAS is linked and how many threads rnnblas uses.
 */
import { native, type NativeBlasInfo } from './native/binding.js';
import { checkInt } from './validate.js';

/** OpenBLAS version, build configuration, detected core and thread counts, and rnnblas' step kernel. */
export interface BlasInfo extends NativeBlasInfo {
  /**
   * How the recurrent product of each time step runs for batches of 2 or more: rnnblas' packed
   * kernel on a copy of W_hh packed once per call, in its "avx512" or "avx2" form (the best the
   * CPU has), or "blas" (OpenBLAS per step, on CPUs with neither).
   */
  stepKernel: 'avx512' | 'avx2' | 'blas';
}

/** Reports the linked OpenBLAS (version, config, the CPU core it chose), threads in use, cores detected and the step kernel. */
export function blasInfo(): BlasInfo {
  return { ...native.blasInfo(), stepKernel: native.stepKernel() };
}

/**
 * Sets the number of threads rnnblas' native calls use (process-wide; the default is all
 * cores). rnnblas runs its own thread team: the time loop's per-step products and every
 * GEMM are split over it, while OpenBLAS itself stays single-threaded (its pool would
 * otherwise spin for ~0.1 s after each call and fight the team for the cores).
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkInt('n', n, 1, 1024));
}

/** The number of threads rnnblas' native calls use now. */
export function getNumThreads(): number {
  return native.getNumThreads();
}
