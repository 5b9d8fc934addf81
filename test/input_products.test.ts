// The forward's input products x W_ih^T run on the packed kernel (native/rnn_layer.cpp
// input_products_packed): W_ih^T packed into 32-column panels, the T*B rows in blocks through
// every panel, the blocks shared out over the team. Shapes that exercise it: several row
// blocks and a ragged last one (T*B not a multiple of the block or of the 12-row tile), a
// ragged last panel (H not a multiple of 32), gate blocks (LSTM 4, GRU 3), a store-less
// forward in chunks (the panels packed once for all chunks), and two tasks. Against the
// float64 reference; and every element is one FMA chain over I, so the bits are the same
// on one thread and on two.
import { afterAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, getNumThreads, setNumThreads, type RNNBase } from '../src/index.js';
import { referenceGatedForward } from '../src/reference/gated_reference.js';
import { referenceRnnForward } from '../src/reference/rnn_reference.js';
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
});
