// Outputs that a call writes in full (a layer's y, the input gradient, a Linear's y and dx, a
// loss's gradient, workspace buffers) come from memory that is not zero-filled first
// (src/native/fresh.ts). With the poison switch on, every such buffer starts as NaN, so an
// element a kernel fails to write shows. Each case runs twice, poisoned and not, and must give
// the same bits everywhere: every cell, one and two directions and layers, padded batches
// (seqLengths), batchFirst, h0, the store-less noGrad forward (chunked), sync and async calls,
// one and two threads, and a Sequential trained by fit (its reused buffers and the one-job step).
import { afterEach, describe, expect, it } from 'vitest';
import {
  Adam, Embedding, getNumThreads, GRU, Linear, LSTM, RNN, Rng, Sequential, charDataset, charVocab, crossEntropy, fit, mseLoss,
  setNumThreads, tensor, type RNNBase, type Tensor,
} from '../src/index.js';
import { freshFloats, freshNativeFloats, setFreshPoison } from '../src/native/fresh.js';
import { makeRng } from './helpers/random.js';

type Make = () => RNNBase;
interface Case {
  name: string;
  make: Make;
  T: number;
  B: number;
  I: number;
  D: number;
  L: number;
  H: number;
  batchFirst?: boolean;
  lengths?: number[];
  h0?: boolean;
}

const rnn = (o: Record<string, unknown>): Make => () => new RNN({ seed: 3, ...o } as never);
const lstm = (o: Record<string, unknown>): Make => () => new LSTM({ seed: 4, ...o } as never);
const gru = (o: Record<string, unknown>): Make => () => new GRU({ seed: 5, ...o } as never);

const CASES: Case[] = [];
for (const [cell, make] of [['RNN', rnn], ['LSTM', lstm], ['GRU', gru]] as const) {
  for (const D of [1, 2]) {
    for (const L of [1, 2]) {
      const base = { inputSize: 7, hiddenSize: 40, numLayers: L, bidirectional: D === 2 };
      CASES.push({ name: `${cell} D=${D} L=${L}`, make: make(base), T: 9, B: 12, I: 7, D, L, H: 40 });
      CASES.push({ name: `${cell} D=${D} L=${L} seqLengths, h0`, make: make(base), T: 9, B: 12, I: 7, D, L, H: 40, lengths: [9, 3, 1, 9, 5, 2, 8, 9, 4, 6, 7, 1], h0: true });
    }
  }
  CASES.push({ name: `${cell} batchFirst bi, seqLengths`, make: make({ inputSize: 5, hiddenSize: 33, bidirectional: true, batchFirst: true }), T: 6, B: 3, I: 5, D: 2, L: 1, H: 33, batchFirst: true, lengths: [6, 2, 4] });
  // Large enough for the team's row split and the chunked store-less forward.
  CASES.push({ name: `${cell} T=70 B=32 H=64`, make: make({ inputSize: 16, hiddenSize: 64 }), T: 70, B: 32, I: 16, D: 1, L: 1, H: 64 });
}
CASES.push({ name: 'RNN relu, no bias, B=1', make: rnn({ inputSize: 4, hiddenSize: 20, nonlinearity: 'relu', bias: false }), T: 5, B: 1, I: 4, D: 1, L: 1, H: 20 });

function inputs(c: Case, seed: number): { x: Tensor; gy: Tensor; ghN: Tensor; h0: Tensor | undefined } {
  const rng = makeRng(seed);
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
  const lead = c.batchFirst ? [c.B, c.T] : [c.T, c.B];
  return {
    x: tensor(f(c.T * c.B * c.I), [...lead, c.I]),
    gy: tensor(f(c.T * c.B * c.D * c.H), [...lead, c.D * c.H]),
    ghN: tensor(f(c.L * c.D * c.B * c.H), [c.L * c.D, c.B, c.H]),
    h0: c.h0 ? tensor(f(c.L * c.D * c.B * c.H), [c.L * c.D, c.B, c.H]) : undefined,
  };
}

// Every array a pass hands out, in a fixed order.
async function run(c: Case, mode: 'sync' | 'async' | 'noGrad'): Promise<Float32Array[]> {
  const m = c.make();
  const { x, gy, ghN, h0 } = inputs(c, c.T * 31 + c.B);
  const opts = { ...(h0 ? { h0 } : {}), ...(c.lengths ? { seqLengths: c.lengths } : {}) };
  if (mode === 'noGrad') {
    const out = m.forward(x, { ...opts, noGrad: true });
    return [out.y.data, out.hN.data];
  }
  const out = mode === 'sync' ? m.forward(x, opts) : await m.forwardAsync(x, opts);
  const grads = { gy, ghN };
  const back = mode === 'sync' ? m.backward(grads) : await m.backwardAsync(grads);
  const g = m.gradStateDict();
  return [out.y.data, out.hN.data, back.gx!.data, back.gh0.data, ...Object.keys(g).sort().map((k) => g[k].data)];
}

function differing(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function expectSame(plain: Float32Array[], poisoned: Float32Array[]): void {
  expect(poisoned.length).toBe(plain.length);
  for (let k = 0; k < plain.length; k++) {
    expect(plain[k].some((v) => Number.isNaN(v)), `array ${k} of the plain run`).toBe(false);
    expect(differing(plain[k], poisoned[k]), `array ${k}`).toBe(0);
  }
}

describe('fresh (not zero-filled) output buffers', () => {
  const threads = getNumThreads();
  afterEach(() => {
    setFreshPoison(false);
    setNumThreads(threads);
  });

  it('the poison switch starts fresh buffers as NaN, of any size, on JS and native memory', () => {
    setFreshPoison(true);
    for (const n of [1, 100, 5000, 70000]) {
      expect(freshFloats(n).every((v) => Number.isNaN(v))).toBe(true);
      expect(freshNativeFloats(n).every((v) => Number.isNaN(v))).toBe(true);
    }
    expect(freshFloats(0).length).toBe(0);
    expect(freshNativeFloats(0).length).toBe(0);
  });

  for (const c of CASES) {
    for (const n of [1, 2]) {
      it(`${c.name}, ${n} thread(s): every output and gradient written, poisoned or not`, async () => {
        setNumThreads(Math.min(n, threads));
        for (const mode of ['sync', 'async', 'noGrad'] as const) {
          setFreshPoison(false);
          const plain = await run(c, mode);
          setFreshPoison(true);
          const poisoned = await run(c, mode);
          expectSame(plain, poisoned);
        }
      });
    }
  }

  it('Linear (with and without bias, one row and many) and both losses write their outputs in full', () => {
    const go = (): Float32Array[] => {
      const rng = makeRng(9);
      const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
      const out: Float32Array[] = [];
      for (const bias of [true, false]) {
        for (const rows of [1, 3, 300]) {
          const lin = new Linear({ inFeatures: 24, outFeatures: 70, bias, seed: 2 });
          const y = lin.forward(tensor(f(rows * 24), [rows, 24]));
          const dx = lin.backward(tensor(f(rows * 70), [rows, 70]))!;
          out.push(y.data, dx.data, ...lin.parameters().map((p) => p.grad));
          const targets = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? -100 : (i * 7) % 70));
          out.push(crossEntropy(y, targets).grad.data);
          out.push(crossEntropy(y, targets, { mask: Uint8Array.from({ length: rows }, (_, i) => i % 2) }).grad.data);
          out.push(mseLoss(y, tensor(f(rows * 70), [rows, 70]), { mask: Uint8Array.from({ length: rows }, (_, i) => (i + 1) % 2) }).grad.data);
        }
      }
      return out;
    };
    const plain = go();
    setFreshPoison(true);
    expectSame(plain, go());
  });

  it('fit (one native job a step, reused buffers) trains to the same weights poisoned or not', async () => {
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
    const vocab = charVocab(text);
    const train = async (): Promise<Float32Array[]> => {
      const model = new Sequential([
        new Embedding({ numEmbeddings: vocab.size, embeddingDim: 8, seed: 1 }),
        new GRU({ inputSize: 8, hiddenSize: 24, numLayers: 2, seed: 2 }),
        new Linear({ inFeatures: 24, outFeatures: vocab.size, seed: 3 }),
      ]);
      await fit(model, charDataset(text, vocab, { seqLen: 16 }), {
        batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(model.parameters(), { lr: 1e-2 }), clipNorm: 1, rng: new Rng(4), steps: 12,
      });
      return model.parameters().map((p) => p.data);
    };
    const plain = await train();
    setFreshPoison(true);
    expectSame(plain, await train());
  });
});
