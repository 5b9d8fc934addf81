// The forward's input products x W_ih^T run on the packed kernel (native/rnn_layer.cpp
// input_products_packed): W_ih^T packed into 32-column panels, the T*B rows in blocks through
// every panel, the blocks shared out over the team. Shapes that exercise it: several row
// blocks and a ragged last one (T*B not a multiple of the block or of the 12-row tile), a
// ragged last panel (H not a multiple of 32), gate blocks (LSTM 4, GRU 3), a store-less
// forward in chunks (the panels packed once for all chunks), and two tasks. Against the
// float64 reference; and every element is one FMA chain over I, so the bits are the same
// on one thread and on two. The backward's input gradient dx = dA W_ih runs on the same
// kernel when I fills its panels (GRU: two K blocks, the second adding; bidirectional: the
// second direction adding; 2 layers: the lower layer's input is D*H wide).
import { afterAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, getNumThreads, setNumThreads, type RNNBase } from '../src/index.js';
import { referenceGatedBackward, referenceGatedForward } from '../src/reference/gated_reference.js';
import { referenceRnnBackward, referenceRnnForward } from '../src/reference/rnn_reference.js';
import { makeRng } from './helpers/random.js';
import { maxRelError } from './helpers/torch_fixtures.js';

// float32 sums of I = 150 products and 37 recurrent steps against float64.
const TOL = 2e-4;

interface Shape { T: number; B: number; I: number; H: number; bidirectional: boolean }
const SHAPES: Shape[] = [
  { T: 37, B: 13, I: 150, H: 45, bidirectional: false }, // 481 rows: 4 blocks of 156, the last ragged
  { T: 9, B: 7, I: 700, H: 70, bidirectional: true }, // I = 700: blocks of 24 rows
  { T: 130, B: 2, I: 3, H: 33, bidirectional: false }, // tiny I, many rows (noGrad: several chunks)
];

describe('forward input products on the packed kernel', () => {
  const threads = getNumThreads();
  afterAll(() => setNumThreads(threads));
  for (const mode of ['RNN', 'LSTM', 'GRU'] as const) {
    for (const s of SHAPES) {
      it(`${mode} T=${s.T} B=${s.B} I=${s.I} H=${s.H}${s.bidirectional ? ' bi' : ''}: the float64 reference, the same bits on 1 and 2 threads`, () => {
        const rng = makeRng(s.T * 1000 + s.I);
        const x = Float32Array.from({ length: s.T * s.B * s.I }, () => rng.normal());
        const options = { inputSize: s.I, hiddenSize: s.H, bidirectional: s.bidirectional, seed: 7 };
        const m: RNNBase = mode === 'RNN' ? new RNN(options) : mode === 'LSTM' ? new LSTM(options) : new GRU(options);
        const xt = { data: x, shape: [s.T, s.B, s.I] };
        const results = [1, 2].map((n) => {
          setNumThreads(Math.min(n, threads));
          return { taped: m.forward(xt).y.data, chunked: m.forward(xt, { noGrad: true }).y.data };
        });
        const weights = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
        const cfg = { inputSize: s.I, hiddenSize: s.H, numLayers: 1, bias: true, bidirectional: s.bidirectional, batchFirst: false };
        const ref = mode === 'RNN'
          ? referenceRnnForward({ ...cfg, nonlinearity: 'tanh' }, weights, Float64Array.from(x), s.T, s.B, null, null).y
          : referenceGatedForward({ ...cfg, mode }, weights, Float64Array.from(x), s.T, s.B).y;
        for (const r of results) {
          expect(maxRelError(r.taped, ref)).toBeLessThan(TOL);
          expect(r.chunked).toEqual(r.taped);
        }
        expect(results[1].taped).toEqual(results[0].taped);
      });
    }
  }

  const GRAD_SHAPES = [
    { T: 21, B: 11, I: 64, H: 40, L: 1, bidirectional: false },
    { T: 13, B: 6, I: 96, H: 48, L: 2, bidirectional: true }, // layer 1's input: 96 wide
    { T: 40, B: 17, I: 256, H: 33, L: 1, bidirectional: true }, // 680 rows, K = G*33
  ];
  for (const mode of ['RNN', 'LSTM', 'GRU'] as const) {
    for (const s of GRAD_SHAPES) {
      it(`${mode} T=${s.T} B=${s.B} I=${s.I} H=${s.H} L=${s.L}${s.bidirectional ? ' bi' : ''}: the input gradient matches the reference, the same bits on 1 and 2 threads`, () => {
        const rng = makeRng(s.T * 7 + s.I);
        const D = s.bidirectional ? 2 : 1;
        const x = Float32Array.from({ length: s.T * s.B * s.I }, () => rng.normal());
        const gy = Float32Array.from({ length: s.T * s.B * D * s.H }, () => rng.normal());
        const options = { inputSize: s.I, hiddenSize: s.H, numLayers: s.L, bidirectional: s.bidirectional, seed: 11 };
        const m: RNNBase = mode === 'RNN' ? new RNN(options) : mode === 'LSTM' ? new LSTM(options) : new GRU(options);
        const results = [1, 2].map((n) => {
          setNumThreads(Math.min(n, threads));
          m.zeroGrad();
          m.forward({ data: x, shape: [s.T, s.B, s.I] });
          const back = m.backward({ gy: { data: gy, shape: [s.T, s.B, D * s.H] } });
          return { gx: back.gx!.data, gw: m.gradStateDict() };
        });
        const weights = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
        const cfg = { inputSize: s.I, hiddenSize: s.H, numLayers: s.L, bias: true, bidirectional: s.bidirectional, batchFirst: false };
        let ref: { gx: Float64Array; grads: Record<string, Float64Array> };
        if (mode === 'RNN') {
          const c = { ...cfg, nonlinearity: 'tanh' as const };
          const f = referenceRnnForward(c, weights, Float64Array.from(x), s.T, s.B, null, null);
          ref = referenceRnnBackward(c, weights, f.cache, Float64Array.from(gy), null);
        } else {
          const f = referenceGatedForward({ ...cfg, mode }, weights, Float64Array.from(x), s.T, s.B);
          ref = referenceGatedBackward(f.cache, { gy: Float64Array.from(gy) });
        }
        for (const r of results) {
          expect(maxRelError(r.gx, ref.gx)).toBeLessThan(TOL);
          for (const k of Object.keys(ref.grads)) expect(maxRelError(r.gw[k].data, ref.grads[k]), k).toBeLessThan(TOL);
        }
        expect(results[1].gx).toEqual(results[0].gx);
      });
    }
  }
});
