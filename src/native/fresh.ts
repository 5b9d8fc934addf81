/**
 * Buffers for outputs that a call writes in full (a layer's y, an input gradient, a loss's
 * gradient): allocated without the zero-fill pass. Zero-filling reuses of freed heap memory
 * is a memset on the main thread while the team waits: 13 MB on every W5 forward (7-9% of it).
 *
 * With `RNNBLAS_POISON_FRESH=1` in the environment (or setFreshPoison in a test) every such
 * buffer starts as NaN instead, so an element a call fails to write shows in its result.
 */
import { Buffer } from 'node:buffer';
import { native } from './binding.js';

// Below this many floats a zero-filled array costs no more.
const FRESH_MIN = 4096;

let poison = process.env.RNNBLAS_POISON_FRESH === '1';

/** @internal Tests: start every fresh buffer as NaN (true) or as it comes (false). */
export function setFreshPoison(on: boolean): void {
  poison = on;
}

/** @internal n floats on JS memory, contents unspecified: for an output the caller writes in full. */
export function freshFloats(n: number): Float32Array {
  let a: Float32Array;
  if (n < FRESH_MIN) {
    a = new Float32Array(n);
  } else {
    const bytes = Buffer.allocUnsafeSlow(n * 4);
    a = new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  if (poison) a.fill(NaN);
  return a;
}

/** @internal As freshFloats, on native-owned memory (see nativeFloats). */
export function freshNativeFloats(n: number): Float32Array {
  const a = n >= 1 ? native.alloc(n, false) : new Float32Array(0);
  if (poison) a.fill(NaN);
  return a;
}
