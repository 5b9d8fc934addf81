// Native float32 RNN against the float64 TypeScript reference on random
// configurations, including the edges T=1, B=1, H=1, I=1.
import { describe, expect, it } from 'vitest';
import { RNN, type Tensor } from '../src/index.js';
import { referenceRnnBackward, referenceRnnForward, type ReferenceRnnConfig } from '../src/reference/rnn_reference.js';
import { makeRng, type Rng } from './helpers/random.js';
import { maxRelError } from './helpers/torch_fixtures.js';

// Inputs are float32-exact, so the only difference is float32 arithmetic in
// the native path: accumulated rounding over <= 12 steps and widths <= 24 stays
// well below 2e-5 (measured max ~1e-6); a logic error is of order 1e-2 or more.
const TOL = 2e-5;

interface Case extends ReferenceRnnConfig { T: number; B: number; lengths: boolean; h0: boolean }

function randomCase(rng: Rng, i: number): Case {
  const pick = (n: number) => Math.floor(rng.uniform() * n);
  const edge = i % 6; // every sixth case pins one dimension to 1
  return {
    inputSize: edge === 1 ? 1 : 1 + pick(12),
    hiddenSize: edge === 2 ? 1 : 1 + pick(24),
    numLayers: 1 + pick(3),
    nonlinearity: rng.uniform() < 0.3 ? 'relu' : 'tanh',
    bias: rng.uniform() < 0.8,
    bidirectional: rng.uniform() < 0.5,
    batchFirst: rng.uniform() < 0.3,
    T: edge === 3 ? 1 : 1 + pick(12),
    B: edge === 4 ? 1 : 1 + pick(6),
    lengths: rng.uniform() < 0.4,
    h0: rng.uniform() < 0.7,
  };
}

const f32 = (n: number, rng: Rng, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

describe('native RNN vs float64 reference on random shapes', () => {
  const rng = makeRng(20261127);
  for (let i = 0; i < 60; i++) {
    const c = randomCase(rng, i);
    const label = `#${i} T${c.T} B${c.B} I${c.inputSize} H${c.hiddenSize} L${c.numLayers} ${c.nonlinearity}` +
      `${c.bidirectional ? ' bi' : ''}${c.bias ? '' : ' nobias'}${c.batchFirst ? ' batchFirst' : ''}${c.lengths ? ' lengths' : ''}${c.h0 ? '' : ' h0=0'}`;
    it(label, () => {
      const { T: _T, B: _B, lengths: _l, h0: _h, ...options } = c;
      const rnn = new RNN({ ...options, seed: i });
      const D = c.bidirectional ? 2 : 1;
      const x = f32(c.T * c.B * c.inputSize, rng);
      const h0 = c.h0 ? f32(c.numLayers * D * c.B * c.hiddenSize, rng, 0.5) : null;
      const lengths = c.lengths ? Array.from({ length: c.B }, () => 1 + Math.floor(rng.uniform() * c.T)) : null;
      const yShape = c.batchFirst ? [c.B, c.T, D * c.hiddenSize] : [c.T, c.B, D * c.hiddenSize];
      const gy = f32(yShape.reduce((a, b) => a * b), rng);
      const ghN = f32(c.numLayers * D * c.B * c.hiddenSize, rng);

      const xShape = c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize];
      const h0t: Tensor | undefined = h0 ? { data: h0, shape: [c.numLayers * D, c.B, c.hiddenSize] } : undefined;
      const { y, hN } = rnn.forward({ data: x, shape: xShape }, { h0: h0t, seqLengths: lengths ?? undefined });
      const { gx, gh0 } = rnn.backward({ gy: { data: gy, shape: yShape }, ghN: { data: ghN, shape: hN.shape } });

      const weights = Object.fromEntries(Object.entries(rnn.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
      const ref = referenceRnnForward(c, weights, Float64Array.from(x), c.T, c.B, h0 ? Float64Array.from(h0) : null, lengths);
      const refGrad = referenceRnnBackward(c, weights, ref.cache, Float64Array.from(gy), Float64Array.from(ghN));

      expect(maxRelError(y.data, ref.y)).toBeLessThan(TOL);
      expect(maxRelError(hN.data, ref.hN)).toBeLessThan(TOL);
      expect(maxRelError(gx!.data, refGrad.gx)).toBeLessThan(TOL);
      expect(maxRelError(gh0.data, refGrad.gh0)).toBeLessThan(TOL);
      const grads = rnn.gradStateDict();
      for (const [name, g] of Object.entries(refGrad.grads)) {
        expect(maxRelError(grads[name].data, g), name).toBeLessThan(TOL);
      }
    });
  }
});

describe('skipping the input gradient', () => {
  it('inputGrad: false returns gx null and the same weight gradients', () => {
    const rng = makeRng(7);
    const cfg = { inputSize: 5, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: 3 };
    const a = new RNN(cfg);
    const b = new RNN(cfg);
    const x = { data: f32(4 * 3 * 5, rng), shape: [4, 3, 5] };
    const gy = { data: f32(4 * 3 * 14, rng), shape: [4, 3, 14] };
    a.forward(x);
    b.forward(x);
    const ra = a.backward({ gy });
    const rb = b.backward({ gy }, { inputGrad: false });
    expect(ra.gx).not.toBeNull();
    expect(rb.gx).toBeNull();
    const ga = a.gradStateDict();
    const gb = b.gradStateDict();
    for (const k of Object.keys(ga)) expect(gb[k].data).toEqual(ga[k].data);
  });
});

describe('reused workspaces', () => {
  it('repeated calls with changing shapes on one module give the bits of a fresh module', () => {
    const rng2 = makeRng(77);
    const cfg = { inputSize: 4, hiddenSize: 6, numLayers: 3, bidirectional: true, dropout: 0, seed: 12 };
    const reused = new RNN(cfg);
    for (const [T, B, lengths] of [[5, 3, [5, 2, 4]], [7, 2, null], [3, 4, [1, 3, 2, 3]], [7, 2, [7, 6]]] as const) {
      const x = { data: f32(T * B * 4, rng2), shape: [T, B, 4] };
      const gy = { data: f32(T * B * 12, rng2), shape: [T, B, 12] };
      const opts = lengths ? { seqLengths: lengths } : undefined;
      const fresh = new RNN(cfg);
      const a = reused.forward(x, opts);
      const b = fresh.forward(x, opts);
      expect(a.y.data).toEqual(b.y.data);
      expect(a.hN.data).toEqual(b.hN.data);
      reused.zeroGrad();
      const ga = reused.backward({ gy });
      const gb = fresh.backward({ gy });
      expect(ga.gx!.data).toEqual(gb.gx!.data);
      expect(ga.gh0.data).toEqual(gb.gh0.data);
      reused.parameters().forEach((p, i) => expect(p.grad).toEqual(fresh.parameters()[i].grad));
    }
  });
});

describe('bidirectional layers run as a native pair (one thread per direction)', () => {
  it('match the float64 reference, sync and async, and leave the BLAS thread count as set', async () => {
    const { getNumThreads, setNumThreads } = await import('../src/index.js');
    setNumThreads(2);
    const rng3 = makeRng(5);
    // T*B*H*(I+H) = 20*16*64*128 > 2^21: large enough for the pair path.
    const c = { inputSize: 64, hiddenSize: 64, numLayers: 2, nonlinearity: 'tanh' as const, bias: true, bidirectional: true, batchFirst: false };
    const T = 20;
    const B = 16;
    const x = f32(T * B * 64, rng3);
    const lengths = Array.from({ length: B }, (_, b) => 1 + ((b * 7) % T));
    const gy = f32(T * B * 128, rng3);
    const ghN = f32(4 * B * 64, rng3);
    for (const mode of ['sync', 'async'] as const) {
      const rnn = new RNN({ ...c, seed: 3 });
      const xt = { data: x, shape: [T, B, 64] };
      const { y, hN } = mode === 'sync' ? rnn.forward(xt, { seqLengths: lengths }) : await rnn.forwardAsync(xt, { seqLengths: lengths });
      const grads = { gy: { data: gy, shape: [T, B, 128] }, ghN: { data: ghN, shape: [4, B, 64] } };
      const { gx, gh0 } = mode === 'sync' ? rnn.backward(grads) : await rnn.backwardAsync(grads);
      expect(getNumThreads()).toBe(2);
      const weights = Object.fromEntries(Object.entries(rnn.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
      const ref = referenceRnnForward(c, weights, Float64Array.from(x), T, B, null, lengths);
      const refGrad = referenceRnnBackward(c, weights, ref.cache, Float64Array.from(gy), Float64Array.from(ghN));
      expect(maxRelError(y.data, ref.y)).toBeLessThan(TOL);
      expect(maxRelError(hN.data, ref.hN)).toBeLessThan(TOL);
      expect(maxRelError(gx!.data, refGrad.gx)).toBeLessThan(TOL);
      expect(maxRelError(gh0.data, refGrad.gh0)).toBeLessThan(TOL);
      const g = rnn.gradStateDict();
      for (const [name, v] of Object.entries(refGrad.grads)) expect(maxRelError(g[name].data, v), name).toBeLessThan(TOL);
    }
  });
});
