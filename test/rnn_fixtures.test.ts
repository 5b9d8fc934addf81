// Native RNN against PyTorch 1.13 float64 reference data (test/fixtures/torch-rnn).
import { describe, expect, it } from 'vitest';
import { RNN, tensor, type Tensor } from '../src/index.js';
import { loadTorchFixtures, maxRelError, type FixtureTensor } from './helpers/torch_fixtures.js';

// Tolerances: PyTorch's own float32 run on these inputs stays below 2e-7 (y, hN)
// and 1e-6 (gradients); ours measured 1.3e-7 and 8.5e-7. We allow 5x that: a
// wrong transpose, a missing bias or an off-by-one in time gives errors of
// order 1e-2..1, far above these, while float32 rounding stays below them.
const OUTPUT_TOL = 1e-6;
const GRAD_TOL = 5e-6;

const t = (f: FixtureTensor): Tensor => tensor(f.data, f.shape);

describe('RNN matches PyTorch 1.13 on every fixture', () => {
  for (const fx of loadTorchFixtures()) {
    const c = fx.config;
    const make = () => {
      const rnn = new RNN({
        inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, nonlinearity: c.nonlinearity,
        bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional,
      });
      rnn.loadStateDict(Object.fromEntries(Object.entries(fx.weights).map(([k, v]) => [k, t(v)])));
      return rnn;
    };
    const opts = { h0: fx.inputs.h0 ? t(fx.inputs.h0) : undefined, seqLengths: c.seqLengths ?? undefined };

    it(`${fx.name}: y, hN, gx, gh0 and every parameter gradient`, () => {
      const rnn = make();
      const { y, hN } = rnn.forward(t(fx.inputs.x), opts);
      expect(y.shape).toEqual(fx.outputs.y.shape);
      expect(hN.shape).toEqual(fx.outputs.hN.shape);
      expect(maxRelError(y.data, fx.outputs.y.data)).toBeLessThan(OUTPUT_TOL);
      expect(maxRelError(hN.data, fx.outputs.hN.data)).toBeLessThan(OUTPUT_TOL);
      let loss = 0;
      for (let i = 0; i < y.data.length; i++) loss += y.data[i] * fx.loss.gy.data[i];
      for (let i = 0; i < hN.data.length; i++) loss += hN.data[i] * fx.loss.ghN.data[i];
      expect(Math.abs(loss - fx.loss.value) / Math.max(1, Math.abs(fx.loss.value))).toBeLessThan(1e-5);

      const { gx, gh0 } = rnn.backward({ gy: t(fx.loss.gy), ghN: t(fx.loss.ghN) });
      expect(gx).not.toBeNull();
      expect(maxRelError(gx!.data, (fx.gradients.x as FixtureTensor).data)).toBeLessThan(GRAD_TOL);
      if (fx.gradients.h0) expect(maxRelError(gh0.data, fx.gradients.h0.data)).toBeLessThan(GRAD_TOL);
      const grads = rnn.gradStateDict();
      expect(Object.keys(grads).sort()).toEqual(Object.keys(fx.weights).sort());
      for (const name of Object.keys(fx.weights)) {
        expect(maxRelError(grads[name].data, (fx.gradients[name] as FixtureTensor).data), name).toBeLessThan(GRAD_TOL);
      }
    });

    it(`${fx.name}: async forward/backward give the same bits as sync`, async () => {
      const a = make();
      const b = make();
      const ra = a.forward(t(fx.inputs.x), opts);
      const rb = await b.forwardAsync(t(fx.inputs.x), opts);
      expect(rb.y.data).toEqual(ra.y.data);
      expect(rb.hN.data).toEqual(ra.hN.data);
      const ga = a.backward({ gy: t(fx.loss.gy), ghN: t(fx.loss.ghN) });
      const gb = await b.backwardAsync({ gy: t(fx.loss.gy), ghN: t(fx.loss.ghN) });
      expect(gb.gx!.data).toEqual(ga.gx!.data);
      expect(gb.gh0.data).toEqual(ga.gh0.data);
      const sa = a.gradStateDict();
      const sb = b.gradStateDict();
      for (const name of Object.keys(sa)) expect(sb[name].data, name).toEqual(sa[name].data);
    });

    it(`${fx.name}: gradients accumulate across backward calls, as .grad does`, () => {
      const rnn = make();
      for (let i = 0; i < 2; i++) {
        rnn.forward(t(fx.inputs.x), opts);
        rnn.backward({ gy: t(fx.loss.gy), ghN: t(fx.loss.ghN) });
      }
      const grads = rnn.gradStateDict();
      for (const name of Object.keys(fx.weights)) {
        const twice = (fx.gradients[name] as FixtureTensor).data.map((v) => 2 * v);
        expect(maxRelError(grads[name].data, twice), name).toBeLessThan(2 * GRAD_TOL);
      }
      rnn.zeroGrad();
      for (const p of rnn.parameters()) expect(p.grad.every((v) => v === 0)).toBe(true);
    });
  }
});
