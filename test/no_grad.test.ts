// Forward passes with noGrad (no BPTT store: the native layer runs the sequence in chunks of
// steps, carrying h and c between them): the same bits as the stored forward, which
// gated_native.test.ts checks against the float64 reference; here too against the reference
// directly, on shapes with many chunks (the chunk is ~1 MB of gate store per thread of the
// team: B=16, H=64 gives 16 steps at 1 thread, B=64, H=256 one; B=32, H=128 gives 16 at 1 thread
// and 32 at 2; a bidirectional pair runs each direction on one thread), packed lengths ending
// inside and between chunks, both directions, and at 1 and 2 threads. Then the errors: backward after a noGrad forward, bad
// option types, and the binding's store fields.
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, GRU, LSTM, Linear, Sequential, setNumThreads } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { referenceGatedForward } from '../src/reference/gated_reference.js';
import type { Tensor } from '../src/tensor.js';
import { makeRng } from './helpers/random.js';
import { maxRelError } from './helpers/torch_fixtures.js';

const threadsBefore = getNumThreads();
afterAll(() => setNumThreads(threadsBefore));

interface Shape {
  mode: 'LSTM' | 'GRU';
  T: number;
  B: number;
  I: number;
  H: number;
  layers: number;
  bi: boolean;
  lengths: boolean;
  state: boolean;
}

const SHAPES: Shape[] = [
  { mode: 'LSTM', T: 50, B: 16, I: 8, H: 64, layers: 2, bi: true, lengths: true, state: true },
  { mode: 'GRU', T: 50, B: 16, I: 8, H: 64, layers: 1, bi: true, lengths: true, state: false },
  { mode: 'LSTM', T: 37, B: 5, I: 3, H: 200, layers: 1, bi: false, lengths: false, state: true },
  { mode: 'GRU', T: 40, B: 7, I: 6, H: 150, layers: 2, bi: false, lengths: true, state: true },
  { mode: 'GRU', T: 40, B: 32, I: 8, H: 128, layers: 1, bi: false, lengths: true, state: true },
  { mode: 'LSTM', T: 40, B: 32, I: 8, H: 128, layers: 1, bi: false, lengths: false, state: true },
  { mode: 'LSTM', T: 6, B: 64, I: 16, H: 256, layers: 1, bi: true, lengths: true, state: true },
  { mode: 'GRU', T: 5, B: 64, I: 16, H: 256, layers: 1, bi: true, lengths: false, state: true },
  { mode: 'LSTM', T: 1, B: 3, I: 2, H: 5, layers: 1, bi: true, lengths: false, state: false },
];

function build(s: Shape, seed: number) {
  const rng = makeRng(seed);
  const Cls = s.mode === 'LSTM' ? LSTM : GRU;
  const m = new Cls({ inputSize: s.I, hiddenSize: s.H, numLayers: s.layers, bidirectional: s.bi, seed });
  m.eval();
  const D = s.bi ? 2 : 1;
  const f = (n: number, k = 1) => Float32Array.from({ length: n }, () => rng.normal() * k);
  const state = [s.layers * D, s.B, s.H];
  const x: Tensor = { data: f(s.T * s.B * s.I), shape: [s.T, s.B, s.I] };
  const h0: Tensor | undefined = s.state ? { data: f(s.layers * D * s.B * s.H, 0.5), shape: state } : undefined;
  const c0: Tensor | undefined = s.state && s.mode === 'LSTM' ? { data: f(s.layers * D * s.B * s.H, 0.5), shape: state } : undefined;
  // Lengths ending in the first chunk, at chunk edges and at T.
  const seqLengths = s.lengths ? Array.from({ length: s.B }, (_, b) => (b === 0 ? s.T : b === 1 ? 1 : b === 2 ? Math.min(s.T, 16) : 1 + Math.floor(rng.uniform() * s.T))) : undefined;
  return { m, x, h0, c0, seqLengths };
}

const label = (s: Shape) => `${s.mode} T${s.T} B${s.B} I${s.I} H${s.H} L${s.layers}${s.bi ? ' bi' : ''}${s.lengths ? ' lengths' : ''}${s.state ? '' : ' zero-state'}`;

describe('forward with noGrad: no gate store, the same results', () => {
  for (const threads of [1, 2]) {
    for (const s of SHAPES) {
      it(`${label(s)}, ${threads} thread(s)`, () => {
        setNumThreads(threads);
        const { m, x, h0, c0, seqLengths } = build(s, 7 + s.T + s.H);
        const opts = s.mode === 'LSTM' ? { h0, c0, seqLengths } : { h0, seqLengths };
        const stored = m.forward(x, opts) as { y: Tensor; hN: Tensor; cN?: Tensor };
        const bare = m.forward(x, { ...opts, noGrad: true }) as { y: Tensor; hN: Tensor; cN?: Tensor };
        expect(Buffer.from(bare.y.data.buffer).equals(Buffer.from(stored.y.data.buffer)), 'y bits').toBe(true);
        expect(Array.from(bare.hN.data)).toEqual(Array.from(stored.hN.data));
        if (s.mode === 'LSTM') expect(Array.from(bare.cN!.data)).toEqual(Array.from(stored.cN!.data));

        const w64 = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
        const d = (t: Tensor | undefined) => (t ? Float64Array.from(t.data) : null);
        const cfg = { mode: s.mode, inputSize: s.I, hiddenSize: s.H, numLayers: s.layers, bias: true, bidirectional: s.bi, batchFirst: false };
        const ref = referenceGatedForward(cfg, w64, Float64Array.from(x.data), s.T, s.B, { h0: d(h0), c0: d(c0), seqLengths: seqLengths ?? null });
        expect(maxRelError(bare.y.data, ref.y), 'y vs reference').toBeLessThan(5e-5);
        expect(maxRelError(bare.hN.data, ref.hN), 'hN vs reference').toBeLessThan(5e-5);
        if (s.mode === 'LSTM') expect(maxRelError(bare.cN!.data, ref.cN), 'cN vs reference').toBeLessThan(5e-5);
      });
    }
  }

  it('async forward with noGrad gives the same bits', async () => {
    const s = SHAPES[0];
    const { m, x, h0, c0, seqLengths } = build(s, 3);
    const lstm = m as LSTM;
    const a = lstm.forward(x, { h0, c0, seqLengths });
    const b = await lstm.forwardAsync(x, { h0, c0, seqLengths, noGrad: true });
    expect(Array.from(b.y.data)).toEqual(Array.from(a.y.data));
  });
});

describe('noGrad: what is refused', () => {
  it('backward after a noGrad forward throws, naming noGrad (module and Sequential)', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const x: Tensor = { data: new Float32Array(4 * 2 * 2), shape: [4, 2, 2] };
    lstm.forward(x, { noGrad: true });
    expect(() => lstm.backward({ gy: { data: new Float32Array(4 * 2 * 3), shape: [4, 2, 3] } })).toThrow(/noGrad: true/);
    const net = new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }), new Linear({ inFeatures: 3, outFeatures: 1, seed: 1 })]);
    net.forward(x, { noGrad: true });
    expect(() => net.backward({ data: new Float32Array(4 * 2), shape: [4, 2, 1] })).toThrow(/noGrad: true/);
    // A normal forward after it backpropagates again.
    net.forward(x);
    expect(() => net.backward({ data: new Float32Array(4 * 2), shape: [4, 2, 1] })).not.toThrow();
  });

  it('a non-boolean noGrad is a TypeError naming it', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const x: Tensor = { data: new Float32Array(4), shape: [1, 2, 2] };
    expect(() => gru.forward(x, { noGrad: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => gru.forward(x, { noGrad: 1 as unknown as boolean })).toThrow(/noGrad/);
    const net = new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 })]);
    expect(() => net.forward(x, { noGrad: 'yes' as unknown as boolean })).toThrow(/options\.noGrad/);
  });

  it('the binding: no store for the Elman cell, LSTM cells exactly with gates', () => {
    const T = 2, B = 1, I = 1, H = 2;
    const base = (cell: number, G: number) => ({
      x: new Float32Array(T * B * I), h0: null, c0: null, wIh: new Float32Array(G * H * I), wHh: new Float32Array(G * H * H), bIh: null, bHh: null,
      lengths: null, y: new Float32Array(T * B * H), hN: new Float32Array(B * H), cN: cell === 1 ? new Float32Array(B * H) : null, T, B, I, H, ld: H, cell, act: 0, reverse: false,
    });
    expect(() => native.forwardLayer([{ ...base(0, 1), gates: new Float32Array(T * B * 4 * H) }] as never)).toThrow(/gates is not taken by the Elman cell/);
    expect(() => native.forwardLayer([{ ...base(1, 4), gates: new Float32Array(T * B * 4 * H), cells: null }] as never)).toThrow(/cells must be given exactly when gates is/);
    expect(() => native.forwardLayer([{ ...base(1, 4), gates: null, cells: new Float32Array(T * B * H) }] as never)).toThrow(/cells must be given exactly when gates is/);
    expect(() => native.forwardLayer([{ ...base(1, 4), gates: null, cells: null, cN: null }] as never)).toThrow(/cN is required for LSTM/);
    expect(() => native.forwardLayer([{ ...base(2, 3), gates: null, cells: null }] as never)).not.toThrow();
  });
});
