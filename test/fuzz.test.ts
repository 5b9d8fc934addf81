// Seeded fuzzing of the binding and the RNN module: thousands of random calls
// with wrong shapes, lengths, dtypes, views and sizes. Every call either works
// or throws a JS Error; the process survives and the module still works.
import { describe, expect, it } from 'vitest';
import { RNN, tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { makeRng } from './helpers/random.js';

const rng = makeRng(424242);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
const sizes = [0, 1, 2, 3, 4, 7, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 32 + 1, 2 ** 53, -(2 ** 31)];

function randomArray(n: number): unknown {
  const len = Math.max(0, Math.min(64, Math.floor(n)));
  switch (Math.floor(rng.uniform() * 9)) {
    case 0: return new Float64Array(len);
    case 1: return new Int32Array(len);
    case 2: return Array.from({ length: len }, () => 1);
    case 3: return null;
    case 4: return new Float32Array(new SharedArrayBuffer(4 * len));
    case 5: { const b = new Float32Array(len + 3); return b.subarray(1 + Math.floor(rng.uniform() * 2), 1 + len); }
    case 6: { const buf = new ArrayBuffer(4 * len + 4); return new Float32Array(buf, 4, len); }
    case 7: { const a = new Float32Array(len); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; } // detached
    default: return new Float32Array(len).fill(rng.uniform() < 0.1 ? NaN : 0.5);
  }
}

describe('fuzz: binding', () => {
  it('5000 random forward/backward/sgemm calls never crash', () => {
    let threw = 0;
    let ran = 0;
    for (let i = 0; i < 5000; i++) {
      const dims = Array.from({ length: 5 }, () => (rng.uniform() < 0.8 ? 1 + Math.floor(rng.uniform() * 4) : pick(sizes)));
      const [T, B, I, H, ld] = dims;
      const n = (k: number) => (rng.uniform() < 0.7 ? k : k + pick([-1, 1, 5]));
      const arr = (k: number) => (rng.uniform() < 0.8 ? new Float32Array(Math.max(0, Math.min(4096, Number.isFinite(n(k)) ? n(k) : 0))) : randomArray(n(k)));
      const TBn = T * B;
      try {
        const which = rng.uniform();
        if (which < 0.45) {
          native.forwardLayer([{
            x: arr(TBn * I) as Float32Array, h0: rng.uniform() < 0.5 ? null : (arr(B * H) as Float32Array), wIh: arr(H * I) as Float32Array, wHh: arr(H * H) as Float32Array,
            bIh: null, bHh: null, lengths: rng.uniform() < 0.8 ? null : new Int32Array(Math.max(0, Math.min(8, B))).fill(pick([0, 1, 2, 9])),
            y: arr(TBn * ld) as Float32Array, hN: arr(B * H) as Float32Array, T, B, I, H, ld, act: pick([0, 1, 2, 0.5]) as 0, reverse: pick([true, false, 1 as never]),
          }]);
        } else if (which < 0.9) {
          native.backwardLayer([{
            dx: arr(TBn * I) as Float32Array, dh0: arr(B * H) as Float32Array, dwIh: arr(H * I) as Float32Array, dwHh: arr(H * H) as Float32Array, dbIh: null, dbHh: null,
            work: arr(TBn * H + 2 * B * H + H) as Float32Array, y: arr(TBn * ld) as Float32Array, h0: null, dy: arr(TBn * ld) as Float32Array, dhN: null,
            x: arr(TBn * I) as Float32Array, wIh: arr(H * I) as Float32Array, wHh: arr(H * H) as Float32Array,
            lengths: null, T, B, I, H, ld, act: 0, reverse: rng.uniform() < 0.5,
          }]);
        } else {
          native.sgemm(rng.uniform() < 0.5, rng.uniform() < 0.5, T, B, I, 1, arr(T * I) as Float32Array, pick([I, T, ld]), arr(I * B) as Float32Array, pick([B, I, ld]), 0, arr(T * B) as Float32Array, pick([B, ld]));
        }
        ran++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        threw++;
      }
    }
    expect(ran).toBeGreaterThan(50);
    expect(threw).toBeGreaterThan(1000);
  });
});

describe('fuzz: RNN module', () => {
  it('2000 random forward calls with bad inputs either work or throw, and the module keeps working', () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 5 });
    const good = tensor(new Float32Array(2 * 3 * 3).fill(0.1), [2, 3, 3]);
    const reference = rnn.forward(good).y.data.slice();
    for (let i = 0; i < 2000; i++) {
      const shape = Array.from({ length: pick([1, 2, 3, 4]) }, () => pick([...sizes.slice(0, 7), 3, 3, 3]));
      const len = shape.reduce((a, b) => a * (Number.isFinite(b) && b > 0 ? b : 1), 1);
      const x = { data: randomArray(rng.uniform() < 0.7 ? len : len + 1), shape };
      const opts = rng.uniform() < 0.5 ? undefined : pick([{ seqLengths: [1, 2, 3] }, { seqLengths: [0] }, { h0: x }, { foo: 1 }, null, 7]);
      try {
        rnn.forward(x as never, opts as never);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
    expect(rnn.forward(good).y.data).toEqual(reference);
  });
});

describe('fuzz: loss kernels', () => {
  it('2000 random softmaxCrossEntropy/squaredError calls either work or throw', () => {
    let threw = 0;
    for (let i = 0; i < 2000; i++) {
      const N = rng.uniform() < 0.8 ? 1 + Math.floor(rng.uniform() * 5) : pick(sizes);
      const C = rng.uniform() < 0.8 ? 1 + Math.floor(rng.uniform() * 5) : pick(sizes);
      const n = Number.isFinite(N * C) && N * C > 0 && N * C < 100 ? N * C : 4;
      const len = (k: number) => Math.max(0, k + (rng.uniform() < 0.2 ? pick([-1, 1]) : 0));
      try {
        if (rng.uniform() < 0.5) {
          const targets = Int32Array.from({ length: len(Number.isFinite(N) && N > 0 && N < 50 ? N : 2) }, () => pick([0, 1, 2, -100, 99, -1]));
          native.softmaxCrossEntropy(new Float32Array(len(n)), targets, rng.uniform() < 0.3 ? new Uint8Array(len(2)) : null, N, C, pick([-100, 0.5, 2 ** 40]), 1, new Float32Array(len(n)));
        } else {
          native.squaredError(new Float32Array(len(n)), new Float32Array(len(n)), rng.uniform() < 0.3 ? new Uint8Array(len(2)) : null, N, C, 1, new Float32Array(len(n)));
        }
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(100);
  });
});

describe('fuzz: job ops (layersAsync)', () => {
  it('1500 random jobs of embedding, sgemm and loss ops either settle with the reference values or throw before running', async () => {
    let threw = 0;
    let ran = 0;
    const dim = () => (rng.uniform() < 0.85 ? 1 + Math.floor(rng.uniform() * 5) : pick(sizes));
    const len = (k: number) => Math.max(0, Math.min(4096, (Number.isFinite(k) ? Math.floor(k) : 3) + (rng.uniform() < 0.2 ? pick([-1, 1, 7]) : 0)));
    for (let i = 0; i < 1500; i++) {
      const V = dim(), E = dim(), n = 1 + Math.floor(rng.uniform() * 6);
      const ids = Int32Array.from({ length: rng.uniform() < 0.1 ? 0 : n }, () => (rng.uniform() < 0.9 ? Math.floor(rng.uniform() * (Number.isFinite(V) && V > 0 ? V : 3)) : pick([-1, 2 ** 30, V])));
      const weight = rng.uniform() < 0.9 ? Float32Array.from({ length: len(V * E) }, () => rng.normal()) : randomArray(len(V * E));
      const out = rng.uniform() < 0.9 ? new Float32Array(len(ids.length * E)) : randomArray(len(ids.length * E));
      const grad = new Float32Array(len(V * E));
      const gy = Float32Array.from({ length: len(ids.length * E) }, () => rng.normal());
      const loss = rng.uniform() < 0.9 ? new Float64Array(rng.uniform() < 0.9 ? 1 : 2) : undefined;
      const C = dim();
      const logits = new Float32Array(len(ids.length * C));
      const targets = Int32Array.from({ length: len(ids.length) }, () => pick([0, 1, 2, -100, 7]));
      const calls = [
        { op: 'embeddingForward', ids, weight, out, V, E },
        { op: rng.uniform() < 0.95 ? 'embeddingBackward' : 'embeddingBack', ids, gy, grad, V, E },
        { op: 'softmaxCrossEntropy', logits, targets, mask: null, N: ids.length, C, ignoreIndex: -100, scale: 1, grad: new Float32Array(len(ids.length * C)), loss },
      ];
      const before = grad.slice();
      let job: Promise<void>;
      try {
        job = native.layersAsync(calls.slice(0, 1 + Math.floor(rng.uniform() * 3)) as never);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect(Array.from(grad)).toEqual(Array.from(before));  // nothing ran
        threw++;
        continue;
      }
      await job;
      ran++;
      // It ran: the lookup is the table's rows, exactly.
      const w = weight as Float32Array, o = out as Float32Array;
      for (let k = 0; k < ids.length; k++) for (let j = 0; j < E; j++) expect(o[k * E + j]).toBe(w[ids[k] * E + j]);
    }
    expect(threw).toBeGreaterThan(100);
    expect(ran).toBeGreaterThan(100);
  });
});
