// The two per-step kernels (packed_gemm on our own threads, and OpenBLAS)
// against the float64 reference on shapes large enough to run on the team,
// with widths that leave partial 32-column panels and batches that leave
// partial 8-row tiles.
import { afterAll, describe, expect, it } from 'vitest';
import { RNN, getNumThreads, setNumThreads, type Tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';
import { referenceRnnBackward, referenceRnnForward, type ReferenceRnnConfig } from '../src/reference/rnn_reference.js';
import { KERNELS, supported } from './helpers/step_kernels.js';
import { makeRng, type Rng } from './helpers/random.js';
import { maxRelError } from './helpers/torch_fixtures.js';

// These shapes were sized to run on the thread team (layer calls of at least 2^23 multiply-adds,
// every step split); the defaults now keep calls below 2^26, and steps below 2^19, on one thread.
native.setSoloThresholds(1 << 23, 0);

// float32 sums over up to ~300 terms per product and 12 steps: measured max
// ~3e-6; a wrong column, row or step is of order 1e-2.
const TOL = 5e-5;

interface Case extends ReferenceRnnConfig { T: number; B: number; lengths: boolean; h0: boolean }

// T*B*H*(I+H) >= 2^23 in each, so the layer runs multi-threaded.
const CASES: Case[] = [
  { T: 12, B: 9, inputSize: 40, hiddenSize: 257, numLayers: 1, nonlinearity: 'tanh', bias: true, bidirectional: false, batchFirst: false, lengths: false, h0: true },
  { T: 12, B: 17, inputSize: 33, hiddenSize: 200, numLayers: 2, nonlinearity: 'relu', bias: true, bidirectional: false, batchFirst: true, lengths: true, h0: true },
  { T: 10, B: 2, inputSize: 300, hiddenSize: 300, numLayers: 1, nonlinearity: 'tanh', bias: false, bidirectional: false, batchFirst: false, lengths: false, h0: false },
  { T: 12, B: 24, inputSize: 20, hiddenSize: 160, numLayers: 1, nonlinearity: 'tanh', bias: true, bidirectional: false, batchFirst: false, lengths: true, h0: false },
  { T: 12, B: 11, inputSize: 64, hiddenSize: 190, numLayers: 2, nonlinearity: 'tanh', bias: true, bidirectional: true, batchFirst: false, lengths: true, h0: true },
];


const f32 = (n: number, rng: Rng, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

function run(c: Case, seed: number) {
  const rng = makeRng(seed);
  const { T: _T, B: _B, lengths: _l, h0: _h, ...options } = c;
  const rnn = new RNN({ ...options, seed });
  const D = c.bidirectional ? 2 : 1;
  const x = f32(c.T * c.B * c.inputSize, rng);
  const h0 = c.h0 ? f32(c.numLayers * D * c.B * c.hiddenSize, rng, 0.5) : null;
  const lengths = c.lengths ? Array.from({ length: c.B }, (_, b) => 1 + ((b * 5) % c.T)) : null;
  const yShape = c.batchFirst ? [c.B, c.T, D * c.hiddenSize] : [c.T, c.B, D * c.hiddenSize];
  const gy = f32(yShape.reduce((a, b) => a * b), rng);
  const ghN = f32(c.numLayers * D * c.B * c.hiddenSize, rng);
  const xShape = c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize];
  const h0t: Tensor | undefined = h0 ? { data: h0, shape: [c.numLayers * D, c.B, c.hiddenSize] } : undefined;
  const out = rnn.forward({ data: x, shape: xShape }, { h0: h0t, seqLengths: lengths ?? undefined });
  const back = rnn.backward({ gy: { data: gy, shape: yShape }, ghN: { data: ghN, shape: out.hN.shape } });
  return { rnn, x, h0, lengths, gy, ghN, y: out.y.data.slice(), hN: out.hN.data.slice(), gx: back.gx!.data.slice(), gh0: back.gh0.data.slice(), grads: rnn.gradStateDict() };
}

describe('per-step kernels on the thread team', () => {
  const threadsBefore = getNumThreads();
  afterAll(() => {
    native.setStepKernel('auto');
    setNumThreads(threadsBefore);
  });

  it('reports which kernel runs and rejects unknown names', () => {
    expect(['avx512', 'avx2', 'blas']).toContain(native.stepKernel());
    native.setStepKernel('blas');
    expect(native.stepKernel()).toBe('blas');
    native.setStepKernel('auto');
    expect(() => native.setStepKernel('fast' as 'auto')).toThrow(RangeError);
  });

  for (const [i, c] of CASES.entries()) {
    const label = `T${c.T} B${c.B} I${c.inputSize} H${c.hiddenSize} L${c.numLayers} ${c.nonlinearity}` +
      `${c.bidirectional ? ' bi' : ''}${c.bias ? '' : ' nobias'}${c.lengths ? ' lengths' : ''}${c.h0 ? '' : ' h0=0'}`;
    for (const kernel of KERNELS) {
      it.skipIf(!supported(kernel))(`${label}: ${kernel} kernel, 2 threads, matches the float64 reference`, () => {
        native.setStepKernel(kernel);
        setNumThreads(2);
        const r = run(c, 100 + i);
        const weights = Object.fromEntries(Object.entries(r.rnn.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]));
        const ref = referenceRnnForward(c, weights, Float64Array.from(r.x), c.T, c.B, r.h0 ? Float64Array.from(r.h0) : null, r.lengths);
        const refGrad = referenceRnnBackward(c, weights, ref.cache, Float64Array.from(r.gy), Float64Array.from(r.ghN));
        expect(maxRelError(r.y, ref.y)).toBeLessThan(TOL);
        expect(maxRelError(r.hN, ref.hN)).toBeLessThan(TOL);
        expect(maxRelError(r.gx, refGrad.gx)).toBeLessThan(TOL);
        expect(maxRelError(r.gh0, refGrad.gh0)).toBeLessThan(TOL);
        for (const [name, g] of Object.entries(refGrad.grads)) {
          expect(maxRelError(r.grads[name].data, g), name).toBeLessThan(TOL);
        }
      });
    }
    it(`${label}: the step kernel in use gives the same bits on 1 and 2 threads`, () => {
      native.setStepKernel('auto');
      setNumThreads(1);
      const one = run(c, 100 + i);
      setNumThreads(2);
      const two = run(c, 100 + i);
      expect(Buffer.from(two.y.buffer).equals(Buffer.from(one.y.buffer))).toBe(true);
      expect(Buffer.from(two.hN.buffer).equals(Buffer.from(one.hN.buffer))).toBe(true);
      expect(Buffer.from(two.gh0.buffer).equals(Buffer.from(one.gh0.buffer))).toBe(true);
      // Weight gradients sum over T*B rows, split in two halves on 2 threads
      // (team_gemm.h): the same up to float rounding.
      for (const name of Object.keys(one.grads)) {
        expect(maxRelError(two.grads[name].data, one.grads[name].data), name).toBeLessThan(1e-5);
      }
    });
  }
});
