// gradcheck: central finite differences against hand-written backward passes. It must pass
// for correct gradients (the float64 reference RNN with torch's default tolerances, the
// native float32 RNN with loose ones) and report failure, naming the input, for wrong ones.
import { describe, expect, it } from 'vitest';
import { gradcheck, RNN, rnnBackward, rnnForward, tensor, type GradcheckFunction, type Tensor } from '../src/index.js';
import { referenceParameterNames, referenceParameterShapes, referenceRnnBackward, referenceRnnForward, type ReferenceRnnConfig } from '../src/reference/rnn_reference.js';
import { makeRng } from './helpers/random.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

describe('gradcheck on the float64 reference RNN (torch.autograd.gradcheck\'s defaults)', () => {
  for (const nonlinearity of ['tanh', 'relu'] as const) {
    it(`${nonlinearity}, 2 layers, bidirectional, uneven lengths: every element passes`, () => {
      const cfg: ReferenceRnnConfig = { inputSize: 3, hiddenSize: 4, numLayers: 2, nonlinearity, bias: true, bidirectional: true, batchFirst: false };
      const T = 5;
      const B = 2;
      const rng = makeRng(nonlinearity === 'tanh' ? 1 : 2);
      const shapes = referenceParameterShapes(cfg);
      const weights: Record<string, Float64Array> = {};
      for (const name of referenceParameterNames(cfg)) weights[name] = Float64Array.from({ length: shapes[name].reduce((a, b) => a * b, 1) }, () => 0.5 * rng.normal());
      const x = Float64Array.from({ length: T * B * 3 }, () => rng.normal());
      const h0 = Float64Array.from({ length: 4 * B * 4 }, () => 0.5 * rng.normal());
      const gy = Float64Array.from({ length: T * B * 8 }, () => rng.normal());
      const ghN = Float64Array.from({ length: 4 * B * 4 }, () => rng.normal());
      const lengths = [5, 3];
      const fn: GradcheckFunction = {
        loss: () => {
          const r = referenceRnnForward(cfg, weights, x, T, B, h0, lengths);
          return dot(r.y, gy) + dot(r.hN, ghN);
        },
        grad: () => {
          const r = referenceRnnForward(cfg, weights, x, T, B, h0, lengths);
          const g = referenceRnnBackward(cfg, weights, r.cache, gy, ghN);
          return { ...g.grads, x: g.gx, h0: g.gh0 };
        },
      };
      const report = gradcheck(fn, { ...weights, x, h0 });
      expect(report.settings).toEqual({ eps: 1e-6, atol: 1e-5, rtol: 1e-3 });
      const failing = report.tensors.filter((t) => !t.ok).map((t) => `${t.name}: ${JSON.stringify(t.worst)}`);
      expect(failing).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.tensors.map((t) => t.name)).toEqual([...referenceParameterNames(cfg), 'x', 'h0']);
      const total = report.tensors.reduce((n, t) => n + t.checked, 0);
      expect(total).toBe(Object.values(weights).reduce((n, w) => n + w.length, 0) + x.length + h0.length);
      expect(report.lossEvaluations).toBe(2 + 2 * total);
      // Float64 central differences agree far below the tolerance (ReLU: no step crosses a kink here).
      expect(Math.max(...report.tensors.map((t) => t.maxAbsError))).toBeLessThan(1e-6);
    });
  }
});

describe('gradcheck on the native float32 RNN module', () => {
  function moduleProblem(rnn: RNN, T: number, B: number, seed: number) {
    const { inputSize: I, hiddenSize: H, numLayers: L, bidirectional } = rnn.config;
    const D = bidirectional ? 2 : 1;
    const x = tensor(randomArray(T * B * I, seed), [T, B, I]);
    const h0 = tensor(randomArray(L * D * B * H, seed + 1, 0.5), [L * D, B, H]);
    const gy = tensor(randomArray(T * B * D * H, seed + 2), [T, B, D * H]);
    const ghN = tensor(randomArray(L * D * B * H, seed + 3), [L * D, B, H]);
    const seqLengths = Array.from({ length: B }, (_, b) => T - (b % T));
    const fn: GradcheckFunction = {
      loss: () => {
        const { y, hN } = rnn.forward(x, { h0, seqLengths });
        return dot(y.data, gy.data) + dot(hN.data, ghN.data);
      },
      grad: () => {
        rnn.zeroGrad();
        rnn.forward(x, { h0, seqLengths });
        const { gx, gh0 } = rnn.backward({ gy, ghN });
        return { ...Object.fromEntries(rnn.parameters().map((p) => [p.name, p.grad])), x: gx!.data, h0: gh0.data };
      },
    };
    return { fn, inputs: { ...rnn.stateDict(), x, h0 } as Record<string, Tensor> };
  }

  it('tanh, 2 layers, bidirectional: passes with float32 tolerances; the values are restored exactly', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 4 }).eval();
    const { fn, inputs } = moduleProblem(rnn, 4, 2, 10);
    const before = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, Float32Array.from(t.data)]));
    const report = gradcheck(fn, inputs);
    expect(report.settings).toEqual({ eps: 1e-3, atol: 1e-3, rtol: 1e-2 });
    expect(report.tensors.filter((t) => !t.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tensors).toHaveLength(16 + 2);
    const worst = Math.max(...report.tensors.map((t) => t.maxAbsError));
    expect(worst).toBeLessThan(1e-3);
    expect(worst).toBeGreaterThan(0);
    for (const [k, t] of Object.entries(inputs)) expect(t.data, k).toEqual(before[k]);
  });

  it('a wrong parameter gradient fails, naming that tensor only', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, seed: 5 }).eval();
    const { fn, inputs } = moduleProblem(rnn, 4, 2, 20);
    const wrong: GradcheckFunction = {
      loss: fn.loss,
      grad: () => {
        const g = fn.grad();
        // A classic slip: the recurrent weight's gradient transposed.
        const w = Float32Array.from(g.weight_hh_l0);
        const t = new Float32Array(9);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) t[i * 3 + j] = w[j * 3 + i];
        return { ...g, weight_hh_l0: t };
      },
    };
    const report = gradcheck(wrong, inputs);
    expect(report.ok).toBe(false);
    expect(report.tensors.filter((t) => !t.ok).map((t) => t.name)).toEqual(['weight_hh_l0']);
    const bad = report.tensors.find((t) => t.name === 'weight_hh_l0')!;
    expect(bad.failures).toBeGreaterThan(0);
    expect(bad.worst!.error).toBeGreaterThan(1e-2);
    expect(bad.worst!.index % 4).not.toBe(0); // the diagonal is unchanged by a transpose
  });

  it('refuses a loss that is not deterministic (training mode with dropout)', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 2, dropout: 0.5, seed: 6 }).train();
    const { fn, inputs } = moduleProblem(rnn, 3, 2, 30);
    expect(() => gradcheck(fn, inputs)).toThrow(/deterministic/);
  });
});

describe('gradcheck: a layer of your own on the functional form', () => {
  it('the README example, as written', () => {
    // --- README: Checking a backward pass ---
    // A layer of your own on the functional form: an RNN whose outputs are scaled by a learned
    // per-feature gain s, with a hand-written backward.
    const cfg = { inputSize: 3, hiddenSize: 4 };
    const weights = new RNN({ ...cfg, seed: 1 }).stateDict();
    const s = new Float32Array([0.5, -1, 2, 1.5]);
    const x = tensor(Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)), [5, 2, 3]);
    const target = Float32Array.from({ length: 5 * 2 * 4 }, (_, i) => Math.cos(i));

    const loss = (): number => { // L = sum(s * y * target), accumulated in float64
      const { y } = rnnForward(cfg, weights, x);
      let l = 0;
      for (let i = 0; i < y.data.length; i++) l += s[i % 4] * y.data[i] * target[i];
      return l;
    };
    const grad = () => {
      const { y, tape } = rnnForward(cfg, weights, x);
      const gy = new Float32Array(y.data.length);
      const gs = new Float64Array(4);
      for (let i = 0; i < gy.length; i++) {
        gy[i] = s[i % 4] * target[i];
        gs[i % 4] += y.data[i] * target[i];
      }
      const grads = Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, new Float32Array(w.data.length)]));
      const { gx } = rnnBackward(tape, { gy: tensor(gy, y.shape) }, grads);
      return { ...grads, s: gs, x: gx!.data };
    };

    const report = gradcheck({ loss, grad }, { ...weights, s, x }); // float32: eps 1e-3, atol 1e-3, rtol 1e-2
    // report.ok === true; per input: name, checked, maxAbsError, maxRelError, worst { index, analytic, numeric, error }
    // --- end README ---
    expect(report.ok).toBe(true);
    expect(report.tensors.map((t) => t.name)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 's', 'x']);
    expect(report.tensors.find((t) => t.name === 's')!.checked).toBe(4);

    // Forgetting s in gy (gy = target) breaks every gradient that flows through the RNN, but not s's.
    const forgot = () => {
      const g = grad();
      const { y, tape } = rnnForward(cfg, weights, x);
      const grads = Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, new Float32Array(w.data.length)]));
      const { gx } = rnnBackward(tape, { gy: tensor(Float32Array.from(target), y.shape) }, grads);
      return { ...grads, s: g.s, x: gx!.data };
    };
    const bad = gradcheck({ loss, grad: forgot }, { ...weights, s, x });
    expect(bad.ok).toBe(false);
    expect(bad.tensors.filter((t) => t.ok).map((t) => t.name)).toEqual(['s']);
  });

  it('the TSDoc example; a sign error fails', () => {
    const w = new Float64Array([0.5, -1, 2]);
    const fn = { loss: () => w.reduce((acc, v) => acc + Math.sin(v), 0), grad: () => ({ w: w.map(Math.cos) }) };
    const ok = gradcheck(fn, { w });
    expect(ok.ok).toBe(true);
    expect(ok.tensors[0].maxAbsError).toBeLessThan(1e-9);
    const wrong = gradcheck({ ...fn, grad: () => ({ w: w.map((v) => -Math.cos(v)) }) }, { w });
    expect(wrong.ok).toBe(false);
    expect(wrong.tensors[0].failures).toBe(3);
    expect(wrong.tensors[0].worst!.numeric).toBeCloseTo(Math.cos(0.5), 8);
    expect(wrong.tensors[0].maxRelError).toBeCloseTo(2, 6);
  });
});

describe('gradcheck options and errors', () => {
  const w = new Float64Array(Array.from({ length: 50 }, (_, i) => i / 10));
  const fn = { loss: () => w.reduce((acc, v) => acc + v * v * v, 0), grad: () => ({ w: w.map((v) => 3 * v * v), extra: [1] }) };

  it('maxElements samples distinct elements reproducibly', () => {
    const a = gradcheck(fn, { w }, { maxElements: 7, seed: 3 });
    expect(a.ok).toBe(true);
    expect(a.tensors[0].checked).toBe(7);
    expect(a.lossEvaluations).toBe(2 + 14);
    expect(gradcheck(fn, { w }, { maxElements: 100 }).tensors[0].checked).toBe(50);
  });

  it('tolerances decide: a tiny error passes loosely and fails tightly', () => {
    const off = { ...fn, grad: () => ({ w: w.map((v) => 3 * v * v + 1e-4) }) };
    expect(gradcheck(off, { w }, { atol: 1e-3 }).ok).toBe(true);
    expect(gradcheck(off, { w }, { atol: 1e-6, rtol: 0 }).ok).toBe(false);
  });

  it('names what is wrong', () => {
    expect(() => gradcheck(null as never, { w })).toThrow(/for fn but/);
    expect(() => gradcheck({ loss: fn.loss } as never, { w })).toThrow(/for fn\.grad/);
    expect(() => gradcheck(fn, {})).toThrow(/at least one input for inputs/);
    expect(() => gradcheck(fn, { w: [1, 2] as never })).toThrow(/for inputs\["w"\]/);
    expect(() => gradcheck(fn, { v: w })).toThrow(/for fn\.grad\(\)\["v"\] but received undefined/);
    expect(() => gradcheck({ ...fn, grad: () => ({ w: [1] }) }, { w })).toThrow(/50 values.*for fn\.grad\(\)\["w"\] but received 1 values/);
    expect(() => gradcheck(fn, { w }, { eps: 0 })).toThrow(/options\.eps/);
    expect(() => gradcheck(fn, { w }, { atol: -1 })).toThrow(/options\.atol/);
    expect(() => gradcheck(fn, { w }, { maxElements: 0 })).toThrow(/options\.maxElements/);
    expect(() => gradcheck(fn, { w }, { tol: 1 } as never)).toThrow(/unknown option 'tol'/);
    expect(() => gradcheck({ ...fn, loss: () => NaN }, { w })).toThrow(/finite loss at the given inputs for fn\.loss\(\)/);
    const big = new Float32Array([1e6]);
    expect(() => gradcheck({ loss: () => big[0], grad: () => ({ big: [1] }) }, { big }, { eps: 1e-3 })).toThrow(/for options\.eps/);
    expect(() => gradcheck(fn, { w, same: w })).toThrow(/shares memory|does not share memory/);
    expect(Array.from(w.slice(0, 3))).toEqual([0, 0.1, 0.2]);
  });
});
