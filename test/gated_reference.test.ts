// The float64 LSTM/GRU reference (src/reference/gated_reference.ts) against PyTorch 1.13
// float64 results (test/fixtures/torch-gated), the reset-before GRU (resetAfter: false) against
// onnx 1.12's numpy GRU_Helper (test/fixtures/onnx-gru-reset-before), and both against central
// finite differences.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  gatedParameterShapes,
  referenceGatedBackward,
  referenceGatedForward,
  type ReferenceGatedConfig,
} from '../src/reference/gated_reference.js';
import { f64, loadGatedFixtures } from './helpers/gated_fixtures.js';
import { makeRng } from './helpers/random.js';
import { maxRelError, type FixtureTensor } from './helpers/torch_fixtures.js';

const fixtures = loadGatedFixtures();

describe('gated reference vs PyTorch 1.13 (float64)', () => {
  it('has fixtures of both cells', () => {
    expect(fixtures.filter((f) => f.config.mode === 'LSTM').length).toBeGreaterThanOrEqual(3);
    expect(fixtures.filter((f) => f.config.mode === 'GRU').length).toBeGreaterThanOrEqual(3);
  });
  for (const fx of fixtures) {
    it(fx.name, () => {
      const c = fx.config;
      const weights = Object.fromEntries(Object.entries(fx.weights).map(([k, t]) => [k, Float64Array.from(t.data)]));
      const { y, hN, cN, cache } = referenceGatedForward(c, weights, Float64Array.from(fx.inputs.x.data), c.seqLen, c.batch, {
        h0: f64(fx.inputs.h0), c0: f64(fx.inputs.c0), seqLengths: c.seqLengths,
      });
      expect(maxRelError(y, fx.outputs.y.data)).toBeLessThan(1e-12);
      expect(maxRelError(hN, fx.outputs.hN.data)).toBeLessThan(1e-12);
      if (c.mode === 'LSTM') expect(maxRelError(cN, fx.outputs.cN!.data)).toBeLessThan(1e-12);
      const g = referenceGatedBackward(cache, { gy: f64(fx.loss.gy), ghN: f64(fx.loss.ghN), gcN: f64(fx.loss.gcN) });
      expect(maxRelError(g.gx, fx.gradients.x!.data)).toBeLessThan(1e-12);
      if (fx.gradients.h0) expect(maxRelError(g.gh0, fx.gradients.h0.data)).toBeLessThan(1e-12);
      if (fx.gradients.c0) expect(maxRelError(g.gc0, fx.gradients.c0.data)).toBeLessThan(1e-12);
      for (const name of Object.keys(gatedParameterShapes(c))) {
        expect({ name, err: maxRelError(g.grads[name], fx.gradients[name]!.data) < 1e-12 }).toEqual({ name, err: true });
      }
    });
  }
});

describe('reset-before GRU reference vs onnx 1.12 GRU_Helper (linear_before_reset=0)', () => {
  interface ResetBeforeFixture {
    name: string;
    config: ReferenceGatedConfig & { seqLen: number; batch: number; seqLengths: number[] | null };
    inputs: { x: FixtureTensor; h0: FixtureTensor | null };
    weights: Record<string, FixtureTensor>;
    outputs: { y: FixtureTensor; hN: FixtureTensor };
  }
  const dir = fileURLToPath(new URL('./fixtures/onnx-gru-reset-before/', import.meta.url));
  const cases = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResetBeforeFixture);
  it('has the six cases, all resetAfter: false', () => {
    expect(cases.map((c) => c.config.resetAfter)).toEqual([false, false, false, false, false, false]);
  });
  for (const fx of cases) {
    it(fx.name, () => {
      const c = fx.config;
      const weights = Object.fromEntries(Object.entries(fx.weights).map(([k, t]) => [k, Float64Array.from(t.data)]));
      const x = Float64Array.from(fx.inputs.x.data);
      const inputs = { h0: f64(fx.inputs.h0), seqLengths: c.seqLengths };
      const { y, hN } = referenceGatedForward(c, weights, x, c.seqLen, c.batch, inputs);
      expect(maxRelError(y, fx.outputs.y.data)).toBeLessThan(1e-12);
      expect(maxRelError(hN, fx.outputs.hN.data)).toBeLessThan(1e-12);
      // And the flag matters: PyTorch's cell on the same weights gives something else.
      const after = referenceGatedForward({ ...c, resetAfter: true }, weights, x, c.seqLen, c.batch, inputs);
      expect(maxRelError(after.hN, fx.outputs.hN.data)).toBeGreaterThan(1e-4);
    });
  }
});

describe('gated reference: finite differences', () => {
  const rng = makeRng(77);
  const configs: Array<ReferenceGatedConfig & { T: number; B: number; lengths?: number[]; state: boolean }> = [
    { mode: 'LSTM', inputSize: 3, hiddenSize: 4, numLayers: 1, bias: true, bidirectional: false, batchFirst: false, T: 4, B: 2, state: true },
    { mode: 'GRU', inputSize: 3, hiddenSize: 4, numLayers: 1, bias: true, bidirectional: false, batchFirst: false, T: 4, B: 2, state: true },
    { mode: 'LSTM', inputSize: 2, hiddenSize: 3, numLayers: 2, bias: true, bidirectional: true, batchFirst: true, T: 5, B: 3, lengths: [5, 1, 3], state: true },
    { mode: 'GRU', inputSize: 2, hiddenSize: 3, numLayers: 2, bias: false, bidirectional: true, batchFirst: false, T: 5, B: 3, lengths: [2, 5, 4], state: false },
    { mode: 'GRU', inputSize: 1, hiddenSize: 1, numLayers: 3, bias: true, bidirectional: false, batchFirst: true, T: 3, B: 1, state: true },
    { mode: 'LSTM', inputSize: 1, hiddenSize: 1, numLayers: 1, bias: false, bidirectional: true, batchFirst: false, T: 1, B: 1, state: false },
    // The reset-before GRU (Keras reset_after=False, ONNX linear_before_reset=0).
    { mode: 'GRU', resetAfter: false, inputSize: 3, hiddenSize: 4, numLayers: 1, bias: true, bidirectional: false, batchFirst: false, T: 4, B: 2, state: true },
    { mode: 'GRU', resetAfter: false, inputSize: 2, hiddenSize: 3, numLayers: 2, bias: true, bidirectional: true, batchFirst: true, T: 5, B: 3, lengths: [5, 1, 3], state: true },
    { mode: 'GRU', resetAfter: false, inputSize: 2, hiddenSize: 3, numLayers: 2, bias: false, bidirectional: true, batchFirst: false, T: 5, B: 3, lengths: [2, 5, 4], state: false },
    { mode: 'GRU', resetAfter: false, inputSize: 1, hiddenSize: 1, numLayers: 3, bias: true, bidirectional: false, batchFirst: true, T: 3, B: 1, state: true },
    { mode: 'GRU', resetAfter: false, inputSize: 2, hiddenSize: 2, numLayers: 1, bias: true, bidirectional: true, batchFirst: false, T: 1, B: 2, state: true },
    { mode: 'GRU', resetAfter: false, inputSize: 3, hiddenSize: 5, numLayers: 1, bias: false, bidirectional: false, batchFirst: true, T: 6, B: 4, lengths: [3, 6, 1, 4], state: true },
  ];
  for (const c of configs) {
    it(`${c.mode}${c.resetAfter === false ? ' resetAfter=false' : ''} L=${c.numLayers} D=${c.bidirectional ? 2 : 1} bias=${c.bias} batchFirst=${c.batchFirst} lengths=${c.lengths ?? 'all'}`, () => {
      const D = c.bidirectional ? 2 : 1;
      const n = c.numLayers * D * c.B * c.hiddenSize;
      const r = (k: number) => Float64Array.from({ length: k }, () => rng.normal() * 0.6);
      const weights = Object.fromEntries(Object.entries(gatedParameterShapes(c)).map(([k, s]) => [k, r(s.reduce((a, b) => a * b, 1))]));
      const x = r(c.T * c.B * c.inputSize);
      const h0 = c.state ? r(n) : null;
      const c0 = c.state && c.mode === 'LSTM' ? r(n) : null;
      const gy = r(c.T * c.B * D * c.hiddenSize);
      const ghN = r(n);
      const gcN = r(n);
      const loss = () => {
        const f = referenceGatedForward(c, weights, x, c.T, c.B, { h0, c0, seqLengths: c.lengths });
        let s = 0;
        f.y.forEach((v, i) => (s += v * gy[i]));
        f.hN.forEach((v, i) => (s += v * ghN[i]));
        f.cN.forEach((v, i) => (s += v * gcN[i]));
        return s;
      };
      const f = referenceGatedForward(c, weights, x, c.T, c.B, { h0, c0, seqLengths: c.lengths });
      const g = referenceGatedBackward(f.cache, { gy, ghN, gcN });
      const check = (what: string, arr: Float64Array, analytic: Float64Array) => {
        let worst = 0;
        for (let i = 0; i < arr.length; i++) {
          const keep = arr[i];
          arr[i] = keep + 1e-6;
          const up = loss();
          arr[i] = keep - 1e-6;
          const down = loss();
          arr[i] = keep;
          worst = Math.max(worst, Math.abs((up - down) / 2e-6 - analytic[i]) / Math.max(1, Math.abs(analytic[i])));
        }
        expect({ what, ok: worst < 1e-7 }).toEqual({ what, ok: true });
      };
      check('x', x, g.gx);
      if (h0) check('h0', h0, g.gh0);
      if (c0) check('c0', c0, g.gc0);
      for (const k of Object.keys(weights)) check(k, weights[k], g.grads[k]);
    });
  }
});
