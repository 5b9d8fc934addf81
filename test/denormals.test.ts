// Subnormal floats are flushed to zero inside native calls by default (FTZ/DAZ), on every
// thread of the team, and the calling thread's own mode is restored afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { getFlushDenormals, getNumThreads, setFlushDenormals, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';

const SUB = 1e-40; // a float32 subnormal (normal floats start at 1.18e-38)

// C = A B with A all SUB and B all 1: big enough that 2 threads split it.
function product(): Float32Array {
  const M = 256, N = 256, K = 64;
  const A = new Float32Array(M * K).fill(SUB);
  const B = new Float32Array(K * N).fill(1 / K);
  const C = new Float32Array(M * N);
  native.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
  return C;
}

describe('flushing subnormals', () => {
  const threads = getNumThreads();
  afterAll(() => {
    setFlushDenormals(true);
    setNumThreads(threads);
  });

  it('is on by default and applies to every task of a split GEMM', () => {
    expect(getFlushDenormals()).toBe(true);
    setNumThreads(2);
    const c = product();
    expect(c.every((v) => v === 0)).toBe(true);
  });

  it('can be turned off: IEEE gradual underflow', () => {
    setFlushDenormals(false);
    const c = product();
    expect(c.every((v) => v > 0 && v < 1.2e-38)).toBe(true);
    setFlushDenormals(true);
  });

  it('leaves the calling thread as it was (JS arithmetic keeps its subnormal doubles)', () => {
    product();
    const one = Number(process.argv.length >= 0);
    expect(Number.MIN_VALUE * one).toBeGreaterThan(0);
    expect(() => setFlushDenormals('yes' as never)).toThrow(TypeError);
  });
});
