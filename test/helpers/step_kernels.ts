/** The per-step kernels a test runs each of, and whether this CPU has one. */
import { native } from '../../src/native/binding.js';

/** Every step kernel (avx512 and avx2 both run on an AVX-512 machine). */
export const KERNELS = ['avx512', 'avx2', 'blas'] as const;

/** Whether this CPU runs `kernel` (the setting is put back to 'auto'). */
export function supported(kernel: (typeof KERNELS)[number]): boolean {
  try {
    native.setStepKernel(kernel);
    return true;
  } catch {
    return false;
  } finally {
    native.setStepKernel('auto');
  }
}
