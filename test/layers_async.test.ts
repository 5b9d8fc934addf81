// The async driver sends a stack's consecutive layer calls as one job (native.layersAsync) when
// the plan reads nothing in between: the results must be bit-identical to the synchronous path
// (the same kernels in the same order), for deep stacks (the per-layer dx buffers), both
// directions, every cell, lengths, batch-first, dropout and traces (where it must not batch).
import { afterEach, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Sequential, Linear, Embedding, type Tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { makeRng } from './helpers/random.js';

type Ctor = typeof RNN | typeof LSTM | typeof GRU;
const original = native.layersAsync;
let batched: number[] = [];
native.layersAsync = (calls) => {
  batched.push(calls.length);
  return original(calls);
};
afterEach(() => {
  batched = [];
});

const f32 = (n: number, seed: number): Float32Array => {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};

interface Case { cls: Ctor; L: number; bidirectional: boolean; batchFirst: boolean; lengths: boolean; dropout: number; trace: boolean }

async function compare(c: Case): Promise<void> {
  const T = 7, B = 3, I = 5, H = 6;
  const make = () => new c.cls({ inputSize: I, hiddenSize: H, numLayers: c.L, bidirectional: c.bidirectional, batchFirst: c.batchFirst, dropout: c.dropout, seed: 11 });
  const a = make(), b = make();
  if (c.dropout > 0) {
    a.train();
    b.train();
  }
  const D = c.bidirectional ? 2 : 1;
  const x: Tensor = { data: f32(T * B * I, 1), shape: c.batchFirst ? [B, T, I] : [T, B, I] };
  const seqLengths = c.lengths ? [7, 3, 5] : undefined;
  const gy: Tensor = { data: f32(T * B * D * H, 2), shape: c.batchFirst ? [B, T, D * H] : [T, B, D * H] };
  const opts = { inputGrad: true, traceStates: c.trace };
  for (let rep = 0; rep < 2; rep++) {
    const ra = a.forward(x, { seqLengths });
    const rb = await b.forwardAsync(x, { seqLengths });
    expect(Array.from(rb.y.data)).toEqual(Array.from(ra.y.data));
    expect(Array.from(rb.hN.data)).toEqual(Array.from(ra.hN.data));
    const ga = a.backward({ gy }, opts);
    const gb = await b.backwardAsync({ gy }, opts);
    expect(Array.from(gb.gx?.data ?? [])).toEqual(Array.from(ga.gx?.data ?? []));
    expect(Array.from(gb.gh0.data)).toEqual(Array.from(ga.gh0.data));
    if (c.trace) expect(gb.stateGradNorms).toEqual(ga.stateGradNorms);
  }
  const pa = a.parameters(), pb = b.parameters();
  pa.forEach((p, i) => expect(Array.from(pb[i].grad), p.name).toEqual(Array.from(p.grad)));
}

describe('async layer calls batched into one job', () => {
  const cases: Case[] = [];
  for (const cls of [RNN, LSTM, GRU]) {
    for (const L of [1, 2, 4, 5]) cases.push({ cls, L, bidirectional: false, batchFirst: false, lengths: L % 2 === 0, dropout: 0, trace: false });
    cases.push({ cls, L: 3, bidirectional: true, batchFirst: false, lengths: true, dropout: 0, trace: false });
    cases.push({ cls, L: 3, bidirectional: true, batchFirst: true, lengths: false, dropout: 0, trace: false });
    cases.push({ cls, L: 3, bidirectional: false, batchFirst: false, lengths: false, dropout: 0.4, trace: false });
    cases.push({ cls, L: 4, bidirectional: false, batchFirst: false, lengths: false, dropout: 0, trace: true });
  }
  for (const c of cases) {
    const label = `${c.cls.name} L${c.L}${c.bidirectional ? ' bidir' : ''}${c.batchFirst ? ' batchFirst' : ''}${c.lengths ? ' lengths' : ''}${c.dropout ? ' dropout' : ''}${c.trace ? ' traces' : ''}`;
    it(`${label}: async is bit-identical to sync`, async () => {
      await compare(c);
      // Dropout masks (both passes) and traces (backward) are read between layers: one call per job there.
      expect(batched).toEqual(c.L === 1 || c.dropout > 0 ? [] : c.trace ? [c.L, c.L] : [c.L, c.L, c.L, c.L]);
    });
  }

  it('a Sequential pass of a 2-layer RNN is one job each way', async () => {
    const m = new Sequential([new Embedding({ numEmbeddings: 9, embeddingDim: 4, seed: 1 }), new RNN({ inputSize: 4, hiddenSize: 8, numLayers: 2, seed: 2 }), new Linear({ inFeatures: 8, outFeatures: 9, seed: 3 })]);
    const ids = { data: Int32Array.from({ length: 12 }, (_, i) => i % 9), shape: [4, 3] };
    const y = await m.forwardAsync(ids);
    await m.backwardAsync({ data: f32(y.data.length, 3), shape: y.shape });
    expect(batched).toEqual([2, 2]);
  });

  it('a bad call anywhere in the list is refused before any runs', async () => {
    const r = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 1, seed: 1 });
    const w = r.parameters();
    const dir = (y: Float32Array) => ({
      x: new Float32Array(2 * 1 * 2), h0: null, c0: null, wIh: w[0].data, wHh: w[1].data, bIh: w[2].data, bHh: w[3].data, lengths: null,
      y, hN: new Float32Array(3), gates: null, cells: null, cN: null, T: 2, B: 1, I: 2, H: 3, ld: 3, act: 0 as const, reverse: false,
    });
    const y0 = new Float32Array(6).fill(7);
    expect(() => original([{ backward: false, dirs: [dir(y0)] }, { backward: false, dirs: [dir(new Float32Array(2))] }])).toThrow(/layersAsync\[1\]\.dirs\[0\]/);
    expect(Array.from(y0)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(() => original([])).toThrow(RangeError);
  });
});
