/**
 * Keras `reset_after=False` GRU weights (every GRU TensorFlow.js 4.x builds) <-> rnnblas'
 * `resetAfter: false` GRU (src/interop/keras.ts), checked against real TensorFlow.js 4.22
 * `tf.layers.gru` models (cpu backend, `recurrentActivation: 'sigmoid'`):
 *
 * - tfjs -> rnnblas: a tfjs model's own randomly initialised weights (`getWeights`), converted,
 *   give the float64 reference (src/reference/gated_reference.ts, `resetAfter: false`) and the
 *   `GRU({ resetAfter: false })` module (`loadKerasWeights`) the tfjs predictions.
 * - rnnblas -> tfjs: a random PyTorch-named state dict with nonzero `bias_hh` (folded into
 *   Keras' one bias) or a module's weights (`toKerasWeightList(gru)`), set into a tfjs model,
 *   give tfjs the reference's / the module's outputs.
 *
 * Configurations: hidden sizes odd and not multiples of 32 (5, 7, 33), 1 and 2 stacked layers,
 * `Bidirectional` (concat), `useBias` false, `returnSequences` true and false (the last
 * layer's final state, PyTorch's hN), batch 1 and 3, one and several steps, an initial state;
 * and a whole tfjs model (Bidirectional GRU -> Dense) against a `Sequential`.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type KerasConversionConfig, fromKerasWeightList, fromKerasWeights, loadKerasWeights, toKerasWeightList, toKerasWeights } from '../src/interop/keras.js';
import { gatedParameterShapes, referenceGatedForward, type ReferenceGatedConfig } from '../src/reference/gated_reference.js';
import { GRU, LastStep, Linear, LSTM, Sequential } from '../src/index.js';
import { type Tensor, tensor } from '../src/tensor.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Deterministic pseudo-random numbers in [-scale, scale). */
function rng(seed: number, scale = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  };
}

interface Case {
  T: number;
  B: number;
  I: number;
  H: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  returnSequences: boolean;
}

const CASES: Case[] = [
  { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: false, bias: true, returnSequences: true },
  { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: false, bias: true, returnSequences: false },
  { T: 5, B: 1, I: 3, H: 5, numLayers: 1, bidirectional: false, bias: false, returnSequences: true },
  { T: 1, B: 3, I: 3, H: 5, numLayers: 1, bidirectional: false, bias: true, returnSequences: true },
  { T: 7, B: 3, I: 4, H: 33, numLayers: 1, bidirectional: false, bias: true, returnSequences: true },
  { T: 6, B: 3, I: 4, H: 7, numLayers: 2, bidirectional: false, bias: true, returnSequences: true },
  { T: 6, B: 2, I: 5, H: 33, numLayers: 2, bidirectional: false, bias: false, returnSequences: false },
  { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: true, bias: true, returnSequences: true },
  { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: true, bias: false, returnSequences: false },
  { T: 5, B: 3, I: 3, H: 5, numLayers: 2, bidirectional: true, bias: true, returnSequences: true },
  { T: 5, B: 3, I: 3, H: 5, numLayers: 2, bidirectional: true, bias: true, returnSequences: false },
  { T: 4, B: 2, I: 6, H: 33, numLayers: 2, bidirectional: true, bias: false, returnSequences: true },
];

const label = (c: Case): string =>
  `T ${c.T}, B ${c.B}, I ${c.I}, H ${c.H}, ${c.numLayers} layer(s), ${c.bidirectional ? 'bidirectional' : 'unidirectional'}, ` +
  `${c.bias ? 'bias' : 'no bias'}, ${c.returnSequences ? 'sequences' : 'last state'}`;

function refConfig(c: Case): ReferenceGatedConfig {
  return { mode: 'GRU', resetAfter: false, inputSize: c.I, hiddenSize: c.H, numLayers: c.numLayers, bias: c.bias, bidirectional: c.bidirectional, batchFirst: true };
}

function kerasConfig(c: Case): KerasConversionConfig {
  return { cell: 'gru', resetAfter: false, numLayers: c.numLayers, bidirectional: c.bidirectional, bias: c.bias };
}

function moduleOptions(c: Case, seed: number): ConstructorParameters<typeof GRU>[0] {
  return { inputSize: c.I, hiddenSize: c.H, numLayers: c.numLayers, bias: c.bias, bidirectional: c.bidirectional, batchFirst: true, resetAfter: false, seed };
}

/** A random PyTorch-named state dict (every bias, bias_hh included, nonzero). */
function randomStateDict(c: Case, seed: number): Record<string, Tensor> {
  const next = rng(seed, 0.6);
  const sd: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(gatedParameterShapes(refConfig(c)))) {
    sd[name] = tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next), shape);
  }
  return sd;
}

const f64 = (sd: Record<string, Tensor>): Record<string, Float64Array> =>
  Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, Float64Array.from(t.data)]));

/** x `[B, T, I]` batch-first, as tfjs takes it. */
function randomInput(c: Case, seed: number): Float32Array {
  return Float32Array.from({ length: c.B * c.T * c.I }, rng(seed));
}

/** The last layer's final states `[B, D*H]` (what tfjs returns without returnSequences) from hN `[L*D, B, H]`. */
function lastStates(c: Case, hN: ArrayLike<number>): Float64Array {
  const D = c.bidirectional ? 2 : 1;
  const out = new Float64Array(c.B * D * c.H);
  for (let b = 0; b < c.B; b++) {
    for (let d = 0; d < D; d++) {
      const row = (c.numLayers - 1) * D + d;
      for (let j = 0; j < c.H; j++) out[(b * D + d) * c.H + j] = hN[(row * c.B + b) * c.H + j];
    }
  }
  return out;
}

/** What the tfjs model outputs, by the reference: y `[B, T, D*H]` or the last layer's final states. */
function referenceOutput(c: Case, sd: Record<string, Tensor>, x: Float32Array): Float64Array {
  const { y, hN } = referenceGatedForward(refConfig(c), f64(sd), Float64Array.from(x), c.T, c.B);
  return c.returnSequences ? y : lastStates(c, hN);
}

/** The module's output in the same form. */
function moduleOutput(c: Case, gru: GRU, x: Float32Array): Float32Array {
  const { y, hN } = gru.forward(tensor(x, [c.B, c.T, c.I]));
  return c.returnSequences ? y.data : Float32Array.from(lastStates(c, hN.data));
}

/** A tfjs stack of GRU layers (reset_after=False, tfjs' only kind) with seeded random initial weights. */
function tfjsGruModel(c: Case, seed: number): tf.Sequential {
  const model = tf.sequential();
  for (let k = 0; k < c.numLayers; k++) {
    const first = k === 0 ? { inputShape: [c.T, c.I] } : {};
    const s = seed + 10 * k;
    const layer = tf.layers.gru({
      units: c.H,
      activation: 'tanh',
      recurrentActivation: 'sigmoid', // Keras' default; tfjs defaults to hardSigmoid
      useBias: c.bias,
      returnSequences: k < c.numLayers - 1 || c.returnSequences,
      kernelInitializer: tf.initializers.glorotUniform({ seed: s }),
      // tfjs' default (orthogonal) where it is quick; it warns of slowness above 2000 elements
      recurrentInitializer: 3 * c.H * c.H <= 2000 ? tf.initializers.orthogonal({ seed: s + 1 }) : tf.initializers.glorotUniform({ seed: s + 1 }),
      ...(c.bias ? { biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: s + 2 }) } : {}),
      ...(c.bidirectional ? {} : first),
    });
    model.add(c.bidirectional ? tf.layers.bidirectional({ layer, mergeMode: 'concat', ...first }) : layer);
  }
  return model;
}

const toTf = (list: Tensor[]): tf.Tensor[] => list.map((t) => tf.tensor(t.data, [...t.shape]));
const fromTf = (list: tf.Tensor[]): Tensor[] => list.map((t) => tensor(Float32Array.from(t.dataSync()), t.shape));

function predict(c: Case, model: tf.LayersModel, x: Float32Array): Float32Array {
  return tf.tidy(() => Float32Array.from((model.predict(tf.tensor3d(x, [c.B, c.T, c.I])) as tf.Tensor).dataSync()));
}

/** max |a - b| / max(1, max |b|): float32 outputs of tanh-bounded cells, so ~ the absolute error. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / scale;
}

const TOL = 1e-5;

describe('tfjs GRU (reset_after=False) -> rnnblas', () => {
  it.each(CASES.map((c, i) => [label(c), c, i] as const))('getWeights -> state dict: the reference and the resetAfter=false module predict tfjs (%s)', (_, c, i) => {
    const model = tfjsGruModel(c, 100 + i);
    const list = fromTf(model.getWeights());
    expect(list.length).toBe(c.numLayers * (c.bidirectional ? 2 : 1) * (c.bias ? 3 : 2));
    if (c.bias) expect(list[2].shape).toEqual([3 * c.H]); // the single reset_after=False bias
    const sd = fromKerasWeightList(list, kerasConfig(c));
    expect(Object.keys(sd)).toEqual(Object.keys(gatedParameterShapes(refConfig(c)))); // PyTorch's names and order
    for (const [k, t] of Object.entries(sd)) if (k.startsWith('bias_hh')) expect(t.data.every((v) => v === 0)).toBe(true);
    const x = randomInput(c, 200 + i);
    const want = predict(c, model, x);
    expect(relDiff(referenceOutput(c, sd, x), want)).toBeLessThan(TOL);
    const gru = new GRU(moduleOptions(c, 1));
    const loaded = loadKerasWeights(gru, list);
    expect(loaded).toEqual(sd);
    expect(relDiff(moduleOutput(c, gru, x), want)).toBeLessThan(TOL);
    // and back: the list tfjs had, exactly (bias_ih + 0)
    const again = toKerasWeightList(gru);
    again.forEach((t, j) => {
      expect(t.shape).toEqual(list[j].shape);
      expect(Array.from(t.data)).toEqual(Array.from(list[j].data));
    });
    model.dispose();
  });
});

describe('rnnblas resetAfter=false GRU -> tfjs', () => {
  it.each(CASES.map((c, i) => [label(c), c, i] as const))('state dict with nonzero bias_hh -> setWeights: tfjs predicts the reference (%s)', (_, c, i) => {
    const sd = randomStateDict(c, 300 + i);
    if (c.bias) expect(sd.bias_hh_l0.data.some((v) => v !== 0)).toBe(true);
    const list = toKerasWeightList(sd, kerasConfig(c));
    if (c.bias) {
      // Keras' one bias is bias_ih + bias_hh, in Keras' gate order z, r, h (PyTorch's r, z, n)
      const H = c.H;
      const [bih, bhh] = [sd.bias_ih_l0.data, sd.bias_hh_l0.data];
      const want = [...Array(3 * H).keys()].map((j) => {
        const torchBlock = [1, 0, 2][Math.floor(j / H)];
        const t = torchBlock * H + (j % H);
        return Math.fround(bih[t] + bhh[t]);
      });
      expect(list[2].shape).toEqual([3 * H]);
      expect(Array.from(list[2].data)).toEqual(want);
    }
    const model = tfjsGruModel(c, 400 + i);
    const weights = toTf(list);
    model.setWeights(weights);
    const x = randomInput(c, 500 + i);
    expect(relDiff(predict(c, model, x), referenceOutput(c, sd, x))).toBeLessThan(TOL);
    tf.dispose(weights);
    model.dispose();
  });

  it.each(CASES.map((c, i) => [label(c), c, i] as const))('module (its own random weights, bias_hh nonzero) -> toKerasWeightList(gru): tfjs predicts the module (%s)', (_, c, i) => {
    const gru = new GRU(moduleOptions(c, 600 + i));
    if (c.bias) expect(gru.stateDict().bias_hh_l0.data.some((v) => v !== 0)).toBe(true);
    const model = tfjsGruModel(c, 700 + i);
    const weights = toTf(toKerasWeightList(gru));
    model.setWeights(weights);
    const x = randomInput(c, 800 + i);
    expect(relDiff(predict(c, model, x), moduleOutput(c, gru, x))).toBeLessThan(TOL);
    // the same weights as the state-dict path with the explicit config
    expect(toKerasWeightList(gru, kerasConfig(c))).toEqual(toKerasWeightList(gru.stateDict(), kerasConfig(c)));
    tf.dispose(weights);
    model.dispose();
  });
});

describe('initial and final states', () => {
  it('h0 into tfjs initialState, hN from returnState, both directions of the conversion', () => {
    const c: Case = { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: false, bias: true, returnSequences: true };
    const gru = new GRU(moduleOptions(c, 901));
    const h0 = Float32Array.from({ length: c.B * c.H }, rng(902));
    const xIn = tf.input({ shape: [c.T, c.I] });
    const hIn = tf.input({ shape: [c.H] });
    const layer = tf.layers.gru({ units: c.H, recurrentActivation: 'sigmoid', returnSequences: true, returnState: true });
    const model = tf.model({ inputs: [xIn, hIn], outputs: layer.apply(xIn, { initialState: [hIn] }) as tf.SymbolicTensor[] });
    layer.setWeights(toTf(toKerasWeightList(gru)));
    const x = randomInput(c, 903);
    const run = (): Float32Array[] =>
      tf.tidy(() => (model.predict([tf.tensor3d(x, [c.B, c.T, c.I]), tf.tensor2d(h0, [c.B, c.H])]) as tf.Tensor[]).map((t) => Float32Array.from(t.dataSync())));
    const [y, hN] = run();
    const out = gru.forward(tensor(x, [c.B, c.T, c.I]), { h0: tensor(h0, [1, c.B, c.H]) });
    expect(relDiff(out.y.data, y)).toBeLessThan(TOL);
    expect(relDiff(out.hN.data, hN)).toBeLessThan(TOL);
    // tfjs' own weights into a fresh module
    layer.setWeights([tf.randomUniform([c.I, 3 * c.H], -0.5, 0.5, 'float32', 1), tf.randomUniform([c.H, 3 * c.H], -0.5, 0.5, 'float32', 2), tf.randomUniform([3 * c.H], -0.5, 0.5, 'float32', 3)]);
    const [y2, hN2] = run();
    const other = new GRU(moduleOptions(c, 904));
    loadKerasWeights(other, fromTf(layer.getWeights()));
    const out2 = other.forward(tensor(x, [c.B, c.T, c.I]), { h0: tensor(h0, [1, c.B, c.H]) });
    expect(relDiff(out2.y.data, y2)).toBeLessThan(TOL);
    expect(relDiff(out2.hN.data, hN2)).toBeLessThan(TOL);
    model.dispose();
  });
});

describe('which Keras GRU a module converts as', () => {
  const base = { inputSize: 3, hiddenSize: 5, batchFirst: true, seed: 3 };

  it('a resetAfter=false GRU exports one [3H] bias (reset_after=False), a default GRU two rows (reset_after=True)', () => {
    const before = toKerasWeights(new GRU({ ...base, resetAfter: false }));
    expect(before[0].forward.bias?.shape).toEqual([15]);
    const after = toKerasWeights(new GRU(base));
    expect(after[0].forward.bias?.shape).toEqual([2, 15]);
    expect(toKerasWeights(new GRU({ ...base, resetAfter: true }))[0].forward.bias?.shape).toEqual([2, 15]);
    // the module's config fills in everything, and agreeing fields are accepted
    expect(toKerasWeightList(new GRU({ ...base, resetAfter: false }), { cell: 'gru', resetAfter: false, numLayers: 1, bidirectional: false, bias: true }).length).toBe(3);
  });

  it('cfg.resetAfter disagreeing with the module is a RangeError naming cfg.resetAfter, both ways', () => {
    const torchCell = new GRU(base);
    const resetBefore = new GRU({ ...base, resetAfter: false });
    expect(() => toKerasWeights(torchCell, { resetAfter: false })).toThrow(RangeError);
    expect(() => toKerasWeights(torchCell, { resetAfter: false })).toThrow(
      /^Expected true or no value \(the module is a GRU module with PyTorch's cell \(resetAfter true, Keras' reset_after=True\); a reset_after=False Keras GRU, what TensorFlow\.js builds, converts with new GRU\(\{ \.\.\., resetAfter: false \}\)\) for cfg\.resetAfter but received false$/,
    );
    expect(() => toKerasWeightList(resetBefore, { cell: 'gru', resetAfter: true, numLayers: 1, bidirectional: false, bias: true })).toThrow(
      /^Expected false or no value \(the module is a GRU module with resetAfter false \(the reset gate before the recurrent product, Keras' reset_after=False\); .*\) for cfg\.resetAfter but received true$/,
    );
    // loading: the same check, and nothing is loaded
    const list = toKerasWeightList(resetBefore);
    const beforeLoad = torchCell.stateDict();
    expect(() => loadKerasWeights(torchCell, list, { resetAfter: false })).toThrow(/for cfg\.resetAfter but received false$/);
    expect(torchCell.stateDict()).toEqual(beforeLoad);
  });

  it("a tfjs GRU's list into a PyTorch-cell module: the [3H] bias is refused, saying which module to build", () => {
    const c: Case = { T: 4, B: 2, I: 3, H: 5, numLayers: 1, bidirectional: false, bias: true, returnSequences: true };
    const model = tfjsGruModel(c, 950);
    const list = fromTf(model.getWeights());
    expect(() => loadKerasWeights(new GRU(base), list)).toThrow(
      /^Expected shape \[2, 15\] \(a reset_after=True GRU's input and recurrent biases; cfg\.resetAfter is true\) for weights\[2\] \(layer 0 bias\)\.shape but received \[15\], the bias of a reset_after=False GRU \(every TensorFlow\.js 4\.x GRU: pass cfg\.resetAfter: false\)$/,
    );
    // and a reset_after=True list into a resetAfter=false module, the other way round
    expect(() => loadKerasWeights(new GRU({ ...base, resetAfter: false }), toKerasWeightList(new GRU(base)))).toThrow(
      /^Expected shape \[15\] \(a reset_after=False GRU's bias; cfg\.resetAfter is false\) for weights\[2\] \(layer 0 bias\)\.shape but received \[2, 15\], the input and recurrent biases of a reset_after=True GRU \(pass cfg\.resetAfter: true\)$/,
    );
    model.dispose();
  });

  it('other fields of cfg are checked against the module too, each named', () => {
    const gru = new GRU({ ...base, resetAfter: false, numLayers: 2 });
    expect(() => toKerasWeights(gru, { cell: 'lstm' })).toThrow(/^Expected 'gru' or no value \(the module is a GRU module with resetAfter false .*\) for cfg\.cell but received 'lstm'$/);
    expect(() => toKerasWeights(gru, { numLayers: 1 })).toThrow(/^Expected 2 or no value \(the module's numLayers\) for cfg\.numLayers but received 1$/);
    expect(() => toKerasWeights(gru, { bidirectional: true })).toThrow(/for cfg\.bidirectional but received true$/);
    expect(() => toKerasWeights(gru, { hiddenSize: 6 })).toThrow(/^Expected 5 or no value \(the module's hiddenSize\) for cfg\.hiddenSize but received 6$/);
    expect(() => toKerasWeights(new LSTM(base), { resetAfter: false })).toThrow(/^Expected no value \(it is a GRU option and the module is an LSTM module\) for cfg\.resetAfter but received false$/);
    expect(() => loadKerasWeights({} as unknown as GRU, [])).toThrow(/^Expected an RNN, LSTM or GRU module for module but received an object \(Object\)$/);
  });

  it('per-layer weights load too, and a bias-free tfjs GRU converts (its shapes cannot tell the variant: the module decides)', () => {
    const c: Case = { T: 5, B: 2, I: 3, H: 5, numLayers: 2, bidirectional: true, bias: false, returnSequences: true };
    const model = tfjsGruModel(c, 960);
    const list = fromTf(model.getWeights());
    const layers = toKerasWeights(fromKerasWeightList(list, kerasConfig(c)), kerasConfig(c));
    const gru = new GRU(moduleOptions(c, 5));
    loadKerasWeights(gru, layers);
    const x = randomInput(c, 961);
    expect(relDiff(moduleOutput(c, gru, x), predict(c, model, x))).toBeLessThan(TOL);
    expect(fromKerasWeights(layers, kerasConfig(c))).toEqual(gru.stateDict());
    model.dispose();
  });
});

describe('a whole model', () => {
  it('tfjs Bidirectional(GRU) -> Dense equals Sequential [GRU(resetAfter false), LastStep, Linear] with the converted weights', () => {
    const c: Case = { T: 6, B: 3, I: 4, H: 7, numLayers: 1, bidirectional: true, bias: true, returnSequences: false };
    const model = tfjsGruModel(c, 990);
    model.add(tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 991 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 992 }) }));
    const list = fromTf(model.getWeights()); // 6 GRU tensors, then Dense kernel [14, 4] and bias [4]
    const gru = new GRU(moduleOptions(c, 6));
    const linear = new Linear({ inFeatures: 2 * c.H, outFeatures: 4, seed: 7 });
    const seq = new Sequential([gru, new LastStep({ directions: 2, batchFirst: true }), linear]);
    loadKerasWeights(gru, list.slice(0, 6));
    const [kernel, bias] = list.slice(6);
    const weight = new Float32Array(4 * 2 * c.H);
    for (let o = 0; o < 4; o++) for (let i = 0; i < 2 * c.H; i++) weight[o * 2 * c.H + i] = kernel.data[i * 4 + o];
    linear.loadStateDict({ weight: tensor(weight, [4, 2 * c.H]), bias });
    const x = randomInput(c, 993);
    expect(relDiff(seq.forward(tensor(x, [c.B, c.T, c.I])).data, predict(c, model, x))).toBeLessThan(TOL);
    model.dispose();
  });
});
