/**
 * The BLAS runtime: what OpenBLAS is linked and how many threads it uses.
 */
import { native, type NativeBlasInfo } from './native/binding.js';
import { checkInt } from './validate.js';

/** OpenBLAS version, build configuration, detected core and thread counts. */
export type BlasInfo = NativeBlasInfo;

/** Reports the linked OpenBLAS: version, config, the CPU core it chose, threads in use and cores detected. */
export function blasInfo(): BlasInfo {
  return native.blasInfo();
}

/**
 * Sets the number of threads BLAS calls use (process-wide in OpenBLAS;
 * the default is all cores).
 */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkInt('n', n, 1, 1024));
}

/** The number of threads BLAS calls use now. */
export function getNumThreads(): number {
  return native.getNumThreads();
}
