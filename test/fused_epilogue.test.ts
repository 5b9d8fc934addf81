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

/**
 * One test per step kernel and thread count (1, and 2 where there are two cores), every step
 * on the team (solo thresholds 0); the defaults are restored after the describe block.
 */
function onEveryKernelAndThreadCount(title: string, body: () => void): void {
  const threads = getNumThreads();
  afterAll(() => {
    native.setSoloThresholds(2 ** 26, 2 ** 19);
    native.setStepKernel('auto');
    setNumThreads(threads);
  });
  const counts = [1, ...(blasInfo().availableCpus >= 2 ? [2] : [])];
  for (const kernel of KERNELS) {
    for (const n of counts) {
      it.skipIf(!supported(kernel))(`${kernel}, ${n} thread(s): ${title}`, () => {
        native.setStepKernel(kernel);
        setNumThreads(n);
        native.setSoloThresholds(0, 0);
        body();
      });
    }
  }
}

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
  onEveryKernelAndThreadCount('the same bits as the separate pass, and float64 within 2e-5', () => {
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
});

// BPTT: the tile that finishes dh(t-1) = dA(t) W_hh writes dA(t-1) = (dy + dh) * act'(a) itself
// (TileEpilogue::grad, no lengths, no trace, H <= 32) where the row path writes the carry and a
// second pass reads it back; its bias sums are then taken after the loop. Against the same call
// with lengths all T (the row path): every gradient bit for bit, and a float64 BPTT within 2e-5.
// A tile reading dy or y of the wrong row, column or step, a missed partial panel, a rows-split
// task's rows, a missing dy, or bias sums in another order shows here. ld > H: one direction of a
// bidirectional layer's output.
interface GradCase extends Case { ld: number; dy: boolean; dhN: boolean; dx: boolean }

const GRAD_CASES: GradCase[] = [
  { T: 9, B: 1, I: 3, H: 1, ld: 1, act: 0, bias: true, h0: false, reverse: false, dy: true, dhN: true, dx: true },
  { T: 11, B: 3, I: 2, H: 17, ld: 34, act: 0, bias: true, h0: true, reverse: true, dy: true, dhN: false, dx: true },
  { T: 8, B: 5, I: 4, H: 40, ld: 40, act: 1, bias: true, h0: true, reverse: false, dy: true, dhN: true, dx: false },
  { T: 13, B: 7, I: 1, H: 32, ld: 32, act: 0, bias: false, h0: false, reverse: false, dy: false, dhN: true, dx: true },
  { T: 10, B: 13, I: 6, H: 64, ld: 128, act: 0, bias: true, h0: true, reverse: false, dy: true, dhN: true, dx: true },
  { T: 7, B: 32, I: 1, H: 32, ld: 32, act: 0, bias: true, h0: false, reverse: true, dy: true, dhN: false, dx: false },
  { T: 6, B: 33, I: 5, H: 48, ld: 96, act: 1, bias: false, h0: true, reverse: false, dy: true, dhN: true, dx: true },
  { T: 5, B: 20, I: 3, H: 65, ld: 65, act: 0, bias: true, h0: true, reverse: false, dy: true, dhN: true, dx: true },
  { T: 9, B: 24, I: 4, H: 64, ld: 64, act: 1, bias: true, h0: false, reverse: true, dy: true, dhN: true, dx: false },
  { T: 6, B: 16, I: 2, H: 33, ld: 66, act: 0, bias: true, h0: true, reverse: true, dy: false, dhN: true, dx: true },
];

function gradInputs(c: GradCase, seed: number) {
  const rng = makeRng(seed);
  const f = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const { T, B, H, ld } = c;
  const dy = c.dy ? f(T * B * ld, 0.5) : null;
  return { ...inputs(c, seed), dy, dhN: c.dhN ? f(B * H, 0.5) : null };
}

function layerGrads(c: GradCase, v: ReturnType<typeof gradInputs>, lengths: Int32Array | null) {
  const { T, B, I, H, ld } = c;
  const y = new Float32Array(T * B * ld), hN = new Float32Array(B * H);
  native.forwardLayer([{
    x: v.x, wIh: v.wIh, wHh: v.wHh, bIh: v.bIh, bHh: v.bHh, h0: v.h0, lengths, y, hN,
    gates: null, cells: null, c0: null, cN: null, T, B, I, H, ld, cell: 0, act: c.act, reverse: c.reverse,
  }] as never);
  const g = {
    dx: c.dx ? new Float32Array(T * B * I) : null, dh0: c.h0 ? new Float32Array(B * H) : null,
    dwIh: new Float32Array(H * I), dwHh: new Float32Array(H * H),
    dbIh: c.bias ? new Float32Array(H) : null, dbHh: c.bias ? new Float32Array(H) : null,
  };
  native.backwardLayer([{
    ...g, dxAssign: true, trace: null, work: new Float32Array(native.backwardWorkspaceSize(T, B, I, H, 0)),
    y, h0: v.h0, dy: v.dy, dhN: v.dhN, x: v.x, wIh: v.wIh, wHh: v.wHh, lengths,
    T, B, I, H, ld, cell: 0, act: c.act, reverse: c.reverse,
  }] as never);
  return g;
}

/** BPTT in float64 over the float64 forward: every gradient the native call writes. */
function float64Grads(c: GradCase, v: ReturnType<typeof gradInputs>): Record<string, Float64Array> {
  const { T, B, I, H, ld } = c;
  const y = float64Forward(c, v);
  const dx = new Float64Array(T * B * I), dwIh = new Float64Array(H * I), dwHh = new Float64Array(H * H);
  const db = new Float64Array(H);
  let carry = Float64Array.from(v.dhN ?? new Float32Array(B * H));
  for (let s = T - 1; s >= 0; s--) {
    const t = c.reverse ? T - 1 - s : s;
    const prev = s === 0 ? null : (c.reverse ? t + 1 : t - 1);
    const next = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const h = y[(t * B + b) * H + j];
        const dh = (v.dy?.[(t * B + b) * ld + j] ?? 0) + carry[b * H + j];
        const dA = c.act === 0 ? dh * (1 - h * h) : (h > 0 ? dh : 0);
        db[j] += dA;
        for (let i = 0; i < I; i++) {
          dwIh[j * I + i] += dA * v.x[(t * B + b) * I + i];
          dx[(t * B + b) * I + i] += dA * v.wIh[j * I + i];
        }
        for (let k = 0; k < H; k++) {
          const hPrev = prev === null ? (v.h0?.[b * H + k] ?? 0) : y[(prev * B + b) * H + k];
          dwHh[j * H + k] += dA * hPrev;
          next[b * H + k] += dA * v.wHh[j * H + k];
        }
      }
    }
    carry = next;
  }
  return { dx, dh0: carry, dwIh, dwHh, dbIh: db, dbHh: db };
}

describe('the Elman BPTT epilogue inside the step product', () => {
  onEveryKernelAndThreadCount("every gradient's bits as the row path's, and float64 within 2e-5", () => {
    for (const [i, c] of GRAD_CASES.entries()) {
      const v = gradInputs(c, 200 + i);
      const fusedPath = layerGrads(c, v, null);
      const rowPath = layerGrads(c, v, new Int32Array(c.B).fill(c.T));
      const ref = float64Grads(c, v);
      for (const [name, got] of Object.entries(fusedPath)) {
        const label = `case ${i} (B=${c.B}, H=${c.H}): ${name}`;
        const row = rowPath[name as keyof typeof rowPath];
        if (got === null || row === null) {
          expect(got, label).toBe(row);
          continue;
        }
        expect(Buffer.from(got.buffer).equals(Buffer.from(row.buffer)), `${label} bits`).toBe(true);
        let worst = 0, scale = 1;
        for (let k = 0; k < got.length; k++) {
          worst = Math.max(worst, Math.abs(got[k] - ref[name][k]));
          scale = Math.max(scale, Math.abs(ref[name][k]));
        }
        expect(worst / scale, label).toBeLessThan(2e-5);
      }
    }
  });
});
