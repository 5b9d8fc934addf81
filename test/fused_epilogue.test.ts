// The Elman step's epilogue (biases + tanh/relu) applied inside the packed AVX-512 tile
// (TileEpilogue, for steps without lengths, H <= 64) against the same step with lengths all T,
// whose rows take the separate epilogue pass: the two must agree bit for bit (same operations in
// the same order), and both must match a float64 loop. At I <= 4 the fused tile also computes the
// step's input product itself (TileEpilogue::x) where the row path reads the whole-sequence input
// GEMM's. A tile adding the wrong bias column, a partial panel's lanes, a missed tile or task, x's
// wrong rows or step, or h0 = 0 at the first step shows here.
import { afterAll, describe, expect, it } from 'vitest';
import { blasInfo, getNumThreads, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { KERNELS, supported } from './helpers/step_kernels.js';
import { makeRng } from './helpers/random.js';

interface Case { T: number; B: number; I: number; H: number; act: 0 | 1; bias: boolean; h0: boolean; reverse: boolean }

// H: one lane, a partial panel, one panel, a panel and a half, the largest fused H, the first
// unfused one. B: the pair tiles (B <= 6), 10-12-row tiles and their remainders, rows split
// between two tasks (B >= 16).
const CASES: Case[] = [
  { T: 9, B: 1, I: 3, H: 1, act: 0, bias: true, h0: false, reverse: false },
  { T: 11, B: 3, I: 2, H: 17, act: 0, bias: true, h0: true, reverse: true },
  { T: 8, B: 5, I: 4, H: 40, act: 1, bias: true, h0: true, reverse: false },
  { T: 13, B: 7, I: 1, H: 32, act: 0, bias: false, h0: false, reverse: false },
  { T: 10, B: 13, I: 6, H: 64, act: 0, bias: true, h0: true, reverse: false },
  { T: 7, B: 32, I: 1, H: 32, act: 0, bias: true, h0: false, reverse: true },
  { T: 6, B: 33, I: 5, H: 48, act: 1, bias: false, h0: true, reverse: false },
  { T: 5, B: 20, I: 3, H: 65, act: 0, bias: true, h0: true, reverse: false },
  { T: 9, B: 24, I: 4, H: 64, act: 1, bias: true, h0: false, reverse: false },
  { T: 6, B: 16, I: 2, H: 33, act: 0, bias: true, h0: true, reverse: true },
];

function inputs(c: Case, seed: number) {
  const rng = makeRng(seed);
  const f = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const { T, B, I, H } = c;
  return {
    x: f(T * B * I, 1), wIh: f(H * I, 0.5), wHh: f(H * H, 1 / Math.sqrt(H)),
    bIh: c.bias ? f(H, 0.3) : null, bHh: c.bias ? f(H, 0.3) : null, h0: c.h0 ? f(B * H, 0.8) : null,
  };
}

function forward(c: Case, v: ReturnType<typeof inputs>, lengths: Int32Array | null) {
  const { T, B, I, H } = c;
  const y = new Float32Array(T * B * H), hN = new Float32Array(B * H);
  native.forwardLayer([{
    ...v, lengths, y, hN, gates: null, cells: null, c0: null, cN: null,
    T, B, I, H, ld: H, cell: 0, act: c.act, reverse: c.reverse,
  }] as never);
  return { y, hN };
}

/** The layer in float64: h(t) = act(W_ih x(t) + b_ih + W_hh h(t-1) + b_hh). */
function float64Forward(c: Case, v: ReturnType<typeof inputs>): Float64Array {
  const { T, B, I, H } = c;
  const y = new Float64Array(T * B * H);
  const h = Float64Array.from(v.h0 ?? new Float32Array(B * H));
  for (let s = 0; s < T; s++) {
    const t = c.reverse ? T - 1 - s : s;
    const next = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        let a = (v.bIh?.[j] ?? 0) + (v.bHh?.[j] ?? 0);
        for (let i = 0; i < I; i++) a += v.wIh[j * I + i] * v.x[(t * B + b) * I + i];
        for (let k = 0; k < H; k++) a += v.wHh[j * H + k] * h[b * H + k];
        next[b * H + j] = c.act === 0 ? Math.tanh(a) : Math.max(a, 0);
      }
    }
    h.set(next);
    y.set(next, t * B * H);
  }
  return y;
}

describe('the Elman epilogue inside the step product', () => {
  const threads = getNumThreads();
  afterAll(() => {
    native.setSoloThresholds(2 ** 26, 2 ** 19);
    native.setStepKernel('auto');
    setNumThreads(threads);
  });
  const counts = [1, ...(blasInfo().availableCpus >= 2 ? [2] : [])];
  for (const kernel of KERNELS) {
    for (const n of counts) {
      it.skipIf(!supported(kernel))(`${kernel}, ${n} thread(s): the same bits as the separate pass, and float64 within 2e-5`, () => {
        native.setStepKernel(kernel);
        setNumThreads(n);
        native.setSoloThresholds(0, 0); // every step on the team when n = 2
        for (const [i, c] of CASES.entries()) {
          const v = inputs(c, 100 + i);
          const fusedPath = forward(c, v, null);
          const rowPath = forward(c, v, new Int32Array(c.B).fill(c.T));
          const label = `case ${i} (B=${c.B}, H=${c.H})`;
          expect(Buffer.from(fusedPath.y.buffer).equals(Buffer.from(rowPath.y.buffer)), `${label}: y`).toBe(true);
          expect(Buffer.from(fusedPath.hN.buffer).equals(Buffer.from(rowPath.hN.buffer)), `${label}: hN`).toBe(true);
          const ref = float64Forward(c, v);
          let worst = 0;
          for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(fusedPath.y[k] - ref[k]));
          expect(worst, label).toBeLessThan(2e-5);
        }
      });
    }
  }
});
