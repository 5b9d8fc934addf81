/**
 * The BLAS runtime: what OpenBLAS is linked and how many threads rnnblas uses.
 */
import { native, type NativeBlasInfo } from './native/binding.js';
import { openBlasCoreSource } from './native/load.js';
import { checkBool, checkInt } from './validate.js';

/** OpenBLAS version, build configuration, detected core and thread counts, and rnnblas' step kernel. */
export interface BlasInfo extends NativeBlasInfo {
  /**
   * How the recurrent product of each time step runs for batches of 2 or more: rnnblas' packed
   * kernel on a copy of W_hh packed once per call, in its "avx512" or "avx2" form (the best the
   * CPU has), or "blas" (OpenBLAS per step, on CPUs with neither).
   */
  stepKernel: 'avx512' | 'avx2' | 'blas';
  /**
   * Who chose OpenBLAS' kernels: 'environment' (OPENBLAS_CORETYPE was set), 'rnnblas' (it was
   * unset, and rnnblas set it from the CPU's flags before OpenBLAS loaded: 'SkylakeX' with
   * AVX-512, 'Haswell' with AVX2 and FMA; OpenBLAS builds older than the CPU otherwise fall back
   * to slow generic kernels) or 'unset' (OpenBLAS detected the CPU itself).
   */
  coreTypeFrom: 'environment' | 'rnnblas' | 'unset';
}

/** Reports the linked OpenBLAS (version, config, the CPU core it chose), threads in use, cores detected and the step kernel. */
export function blasInfo(): BlasInfo {
  return { ...native.blasInfo(), stepKernel: native.stepKernel(), coreTypeFrom: openBlasCoreSource };
}

/**
 * Sets the number of threads rnnblas' native calls use in this environment (the main thread and
 * each worker thread have their own setting). The default, and the cap, is the number of CPUs
 * this process may use: its CPU affinity mask (taskset, cpusets), further limited by a cgroup CPU
 * quota (docker --cpus, Kubernetes limits). A larger n is capped there; the count in effect is
 * returned. Results at a given count are bit-identical from run to run, whatever else the process
 * runs at the same time. rnnblas runs its own thread team: the time loop's per-step products and
 * every GEMM are split over it, while OpenBLAS itself stays single-threaded.
 */
export function setNumThreads(n: number): number {
  return native.setNumThreads(checkInt('n', n, 1, 1024));
}

/** The number of threads rnnblas' native calls use now. */
export function getNumThreads(): number {
  return native.getNumThreads();
}

/**
 * Whether rnnblas' native calls flush subnormal floats (below ~1.2e-38) to zero, in this
 * environment (default true). Gradients that vanish over long sequences reach subnormal values,
 * whose arithmetic is microcode-assisted and 10-100x slower on x86; flushing them changes
 * results only below float's normal range (PyTorch's opt-in equivalent is
 * `torch.set_flush_denormal(True)`). Pass false for IEEE gradual underflow.
 */
export function setFlushDenormals(on: boolean): void {
  native.setFlushDenormals(checkBool('on', on));
}

/** Whether native calls flush subnormal floats to zero (see {@link setFlushDenormals}). */
export function getFlushDenormals(): boolean {
  return native.getFlushDenormals();
}
