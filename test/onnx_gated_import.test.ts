/**
 * ONNX import of the `LSTM` and `GRU` operators: the official ONNX backend node tests (onnx
 * 1.12, ../shared/fixtures/onnx-gated and the eight in test/fixtures/onnx-gated-extra), the
 * generated cases over the whole attribute space (scripts/fixtures/gen_onnx_gated.py, float64
 * numpy reference), onnxruntime-node on random models (every attribute it runs: layout 0), the
 * layout-1 transposition identity, and the errors for nodes it cannot run.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeOnnx, decodeTensorProto, loadOnnx, SUPPORTED_OPERATORS, type OnnxFeed } from '../src/onnx/index.js';
import type { IAttributeProto } from '../src/onnx/proto.js';
import { ONNX_ACTIVATIONS, ACTIVATION_PARAMS, type OnnxActivationName } from '../src/onnx/rnn_generic.js';
import { attribute, maxAbsDiff, ortRun, permute, type FeedTensor } from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';
import { gatedFeeds, gatedNodeModel, randomGatedWeights, type GatedModelSpec } from './onnx_gated_helpers.js';

const TOL = 1e-5;
/** Relative tolerance against onnxruntime with arbitrary activations in the gate slots. */
const ACT_TOL = 1e-3;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const EXTRA = join(FIXTURES, 'onnx-gated-extra');
/** The shared official cases, when this checkout sits next to them (held-out cases land there too). */
const SHARED = fileURLToPath(new URL('../../shared/fixtures/onnx-gated/', import.meta.url));

/** Runs one backend-test directory: feeds input_k.pb, compares with output_k.pb. */
async function runCase(base: string): Promise<void> {
  const model = await loadOnnx(join(base, 'model.onnx'));
  const feeds: Record<string, OnnxFeed> = {};
  model.inputs.forEach((input, k) => {
    const t = decodeTensorProto(readFileSync(join(base, 'test_data_set_0', `input_${k}.pb`)));
    if (t.dtype === 'int64') throw new Error('unexpected int64 input');
    feeds[input.name] = { data: t.data, shape: t.shape };
  });
  const out = await model.run(feeds);
  expect(Object.keys(out)).toEqual(model.outputs.map((o) => o.name));
  model.outputs.forEach((o, k) => {
    const want = decodeTensorProto(readFileSync(join(base, 'test_data_set_0', `output_${k}.pb`)));
    expect(out[o.name].shape, o.name).toEqual([...want.shape]);
    expect(maxAbsDiff(out[o.name].data, want.data), o.name).toBeLessThan(TOL);
  });
}

/**
 * Largest |a_i - b_i| / max(1, |b_i|): activations without a bound (Affine, Relu, Softplus...)
 * in the gate slots let the state grow, and onnxruntime computes in float32.
 */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (Number.isNaN(d)) return Infinity;
    if (d > e) e = d;
  }
  return e;
}

const casesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('test_') || n.startsWith('gated_')).sort() : []);

describe('ONNX backend node tests for LSTM and GRU', () => {
  const official = casesIn(EXTRA).filter((n) => n.startsWith('test_'));
  it('has the eight official onnx 1.12 cases', () => {
    expect(official).toEqual([
      'test_gru_batchwise', 'test_gru_defaults', 'test_gru_seq_length', 'test_gru_with_initial_bias',
      'test_lstm_batchwise', 'test_lstm_defaults', 'test_lstm_with_initial_bias', 'test_lstm_with_peepholes',
    ]);
  });
  it.each(official)('onnx-gated-extra/%s', (name) => runCase(join(EXTRA, name)));

  const shared = casesIn(SHARED);
  it.runIf(shared.length > 0).each(shared)('../shared/fixtures/onnx-gated/%s', (name) => runCase(join(SHARED, name)));
  it.runIf(shared.length > 0)('the shared cases are byte for byte the ones the generator reproduces', () => {
    for (const name of shared.filter((n) => official.includes(n))) {
      expect(readFileSync(join(SHARED, name, 'model.onnx')).equals(readFileSync(join(EXTRA, name, 'model.onnx'))), name).toBe(true);
      expect(readFileSync(join(SHARED, name, 'test_data_set_0', 'output_0.pb')).equals(readFileSync(join(EXTRA, name, 'test_data_set_0', 'output_0.pb'))), name).toBe(true);
    }
  });
});

describe('generated cases (test/fixtures/onnx-gated-extra/gated_*)', () => {
  const generated = casesIn(EXTRA).filter((n) => n.startsWith('gated_'));
  it('covers LSTM and GRU', () => {
    expect(generated.filter((n) => n.startsWith('gated_lstm_')).length).toBeGreaterThanOrEqual(29);
    expect(generated.filter((n) => n.startsWith('gated_gru_')).length).toBeGreaterThanOrEqual(40);
  });
  it.each(generated)('%s', (name) => runCase(join(EXTRA, name)));
});

describe('the operator list', () => {
  it('names LSTM and GRU', () => {
    expect(SUPPORTED_OPERATORS).toContain('LSTM');
    expect(SUPPORTED_OPERATORS).toContain('GRU');
  });
});

/** Alpha/beta per activation for the random tests (one value per function that takes it). */
const ALPHA: Record<OnnxActivationName, number> = {
  Relu: 0, Tanh: 0, Sigmoid: 0, Softsign: 0, Softplus: 0,
  Affine: 0.7, LeakyRelu: 0.15, ThresholdedRelu: 0.3, ScaledTanh: 1.3, HardSigmoid: 0.35, Elu: 0.6,
};
const BETA: Record<OnnxActivationName, number> = {
  Relu: 0, Tanh: 0, Sigmoid: 0, Softsign: 0, Softplus: 0,
  Affine: -0.2, LeakyRelu: 0, ThresholdedRelu: 0, ScaledTanh: 0.8, HardSigmoid: 0.45, Elu: 0,
};

function activationAttrs(acts: OnnxActivationName[]): IAttributeProto[] {
  const out = [attribute('activations', acts)];
  const alphas = acts.filter((a) => ACTIVATION_PARAMS[a].alpha !== undefined).map((a) => ALPHA[a]);
  const betas = acts.filter((a) => ACTIVATION_PARAMS[a].beta !== undefined).map((a) => BETA[a]);
  if (alphas.length > 0) out.push(attribute('activation_alpha', alphas, 'float'));
  if (betas.length > 0) out.push(attribute('activation_beta', betas, 'float'));
  return out;
}

interface Variant {
  direction: 'forward' | 'reverse' | 'bidirectional';
  acts?: OnnxActivationName[];
  clip?: number;
  inputForget?: boolean;
  lbr?: 0 | 1;
  peepholes?: boolean;
  lens?: number[];
  h0?: boolean;
  c0?: boolean;
  bias?: boolean;
  outputs?: Array<'Y' | 'Y_h' | 'Y_c'>;
}

function variantModel(op: 'LSTM' | 'GRU', v: Variant, dims: { H: number; I: number }, seed: number, layout: 0 | 1 = 0) {
  const D = v.direction === 'bidirectional' ? 2 : 1;
  const rng = makeRng(seed);
  const attrs = [attribute('hidden_size', dims.H), attribute('direction', v.direction)];
  if (v.acts) attrs.push(...activationAttrs(v.acts));
  if (v.clip !== undefined) attrs.push(attribute('clip', v.clip, 'float'));
  if (v.inputForget) attrs.push(attribute('input_forget', 1));
  if (v.lbr !== undefined) attrs.push(attribute('linear_before_reset', v.lbr));
  if (layout === 1) attrs.push(attribute('layout', 1));
  const weights = randomGatedWeights(rng, op, D, dims.H, dims.I, { bias: v.bias, peepholes: v.peepholes, scale: v.clip !== undefined ? 1.5 : 0.5 });
  const spec: GatedModelSpec = { op, D, H: dims.H, I: dims.I, weights, attrs, layout, seqLens: v.lens !== undefined, initialH: v.h0, initialC: v.c0, outputs: v.outputs };
  return { D, rng, spec, bytes: gatedNodeModel(spec) };
}

describe('LSTM and GRU against onnxruntime (layout 0, random weights)', () => {
  const T = 6;
  const B = 4;
  const I = 3;
  const H = 5;
  const lens = [6, 3, 1, 5];
  const dims = { H, I };

  async function check(op: 'LSTM' | 'GRU', v: Variant, seed: number, tol = TOL): Promise<void> {
    const { D, rng, bytes } = variantModel(op, v, dims, seed);
    const feeds = gatedFeeds(rng, { T, B, I, H, D, lens: v.lens, h0: v.h0, c0: v.c0 });
    const own = await decodeOnnx(bytes).run(feeds);
    const ort = await ortRun(bytes, feeds);
    const msg = `${op} ${JSON.stringify(v)}`;
    expect(Object.keys(own).sort(), msg).toEqual(Object.keys(ort).sort());
    for (const k of Object.keys(ort)) {
      expect(own[k].shape, `${k} ${msg}`).toEqual(ort[k].shape);
      expect(relDiff(own[k].data, ort[k].data), `${k} ${msg}`).toBeLessThan(tol);
    }
  }

  const directions = ['forward', 'reverse', 'bidirectional'] as const;

  it('LSTM: every direction with sequence_lens, initial_h/initial_c, peepholes, no bias', async () => {
    let seed = 1;
    for (const direction of directions) {
      await check('LSTM', { direction, lens, h0: true, c0: true, peepholes: true }, seed++);
      await check('LSTM', { direction, h0: true }, seed++);
      await check('LSTM', { direction, c0: true, bias: false, peepholes: true }, seed++);
      await check('LSTM', { direction, lens: [6, 6, 6, 6] }, seed++);
    }
  });

  it('LSTM: clip and input_forget, alone and with peepholes, in every direction', async () => {
    let seed = 100;
    for (const direction of directions) {
      await check('LSTM', { direction, clip: 0.6, h0: true, c0: true }, seed++);
      await check('LSTM', { direction, clip: 0.4, peepholes: true, lens, c0: true }, seed++);
      await check('LSTM', { direction, inputForget: true, h0: true, c0: true }, seed++);
      await check('LSTM', { direction, inputForget: true, peepholes: true, clip: 0.9, lens, h0: true, c0: true }, seed++);
    }
  });

  it('GRU: linear_before_reset 0 and 1, every direction, sequence_lens, initial_h, clip, no bias', async () => {
    let seed = 200;
    for (const lbr of [0, 1] as const) {
      for (const direction of directions) {
        await check('GRU', { direction, lbr, lens, h0: true }, seed++);
        await check('GRU', { direction, lbr, clip: 0.5, h0: true }, seed++);
        await check('GRU', { direction, lbr, bias: false, lens }, seed++);
      }
    }
  });

  ONNX_ACTIVATIONS.forEach((act, ai) => {
    const a2 = ONNX_ACTIVATIONS[(ai + 3) % ONNX_ACTIVATIONS.length];
    const a3 = ONNX_ACTIVATIONS[(ai + 7) % ONNX_ACTIVATIONS.length];
    // Activations without a bound in a gate slot let the state grow step by step, so every
    // variant clips and the tolerance is relative (onnxruntime computes in float32).
    it(`${act} in each activation slot (with ${a2}, ${a3}), alpha/beta consumed in order`, async () => {
      const lstmSets: OnnxActivationName[][] = [[act, 'Tanh', 'Tanh'], ['Sigmoid', act, a2], ['HardSigmoid', a3, act]];
      let seed = 300 + 10 * ai;
      for (const acts of lstmSets) {
        await check('LSTM', { direction: 'forward', acts, h0: true, c0: true, peepholes: true, clip: 1.5 }, seed++, ACT_TOL);
        await check('LSTM', { direction: 'bidirectional', acts: [...acts, a2, act, a3], lens, h0: true, c0: true, clip: 2.5 }, seed++, ACT_TOL);
      }
      const gruSets: OnnxActivationName[][] = [[act, 'Tanh'], ['Sigmoid', act], [a2, act]];
      for (const acts of gruSets) {
        for (const lbr of [0, 1] as const) {
          await check('GRU', { direction: 'reverse', acts, lbr, h0: true, clip: 1.5 }, seed++, ACT_TOL);
          await check('GRU', { direction: 'bidirectional', acts: [...acts, a3, act], lbr, lens, h0: true, clip: 2.5 }, seed++, ACT_TOL);
        }
      }
    });
  });

  it('activations with default alpha/beta, as onnxruntime reads them (LeakyRelu, HardSigmoid, Elu)', async () => {
    await check('LSTM', { direction: 'bidirectional', acts: ['HardSigmoid', 'LeakyRelu', 'Elu', 'Sigmoid', 'Elu', 'LeakyRelu'], lens, h0: true, c0: true, clip: 2 }, 450, ACT_TOL);
    await check('GRU', { direction: 'forward', acts: ['HardSigmoid', 'Elu'], lens, h0: true }, 451, ACT_TOL);
  });

  it('any subset of the outputs (the rest unnamed), Y_h and Y_c at each sequence end', async () => {
    let seed = 500;
    const lstmSubsets: Array<Array<'Y' | 'Y_h' | 'Y_c'>> = [['Y'], ['Y_h'], ['Y_c'], ['Y', 'Y_c'], ['Y_h', 'Y_c'], ['Y', 'Y_h']];
    for (const outputs of lstmSubsets) await check('LSTM', { direction: 'bidirectional', lens, h0: true, c0: true, outputs }, seed++);
    for (const outputs of [['Y'], ['Y_h']] as Array<Array<'Y' | 'Y_h'>>) await check('GRU', { direction: 'bidirectional', lbr: 1, lens, outputs }, seed++);
  });

  it('a length-0 sequence runs no step: Y is 0 and its final state is the initial state (onnxruntime writes 0 there)', async () => {
    for (const op of ['LSTM', 'GRU'] as const) {
      const { D, rng, bytes } = variantModel(op, { direction: 'bidirectional', lens: [6, 0, 2, 0], h0: true, c0: op === 'LSTM' }, dims, 600);
      const feeds = gatedFeeds(rng, { T, B, I, H, D, lens: [6, 0, 2, 0], h0: true, c0: op === 'LSTM' });
      const own = await decodeOnnx(bytes).run(feeds);
      const ort = await ortRun(bytes, feeds);
      expect(maxAbsDiff(own.Y.data, ort.Y.data)).toBeLessThan(TOL);
      for (let d = 0; d < D; d++) {
        for (const b of [1, 3]) {
          const at = (d * B + b) * H;
          expect(Array.from(own.Y_h.data.subarray(at, at + H))).toEqual(Array.from(feeds.initial_h.data.subarray(at, at + H)));
          if (op === 'LSTM') expect(Array.from(own.Y_c.data.subarray(at, at + H))).toEqual(Array.from(feeds.initial_c.data.subarray(at, at + H)));
        }
        for (const b of [0, 2]) {
          const at = (d * B + b) * H;
          expect(maxAbsDiff(own.Y_h.data.subarray(at, at + H), ort.Y_h.data.subarray(at, at + H))).toBeLessThan(TOL);
        }
      }
    }
  });

  it('no hidden_size attribute: taken from R (onnxruntime needs it; compared with the sized model)', async () => {
    for (const op of ['LSTM', 'GRU'] as const) {
      const { D, rng, spec, bytes } = variantModel(op, { direction: 'bidirectional', lens, h0: true }, dims, 700);
      const bare = gatedNodeModel({ ...spec, attrs: spec.attrs.filter((a) => a.name !== 'hidden_size') });
      const feeds = gatedFeeds(rng, { T, B, I, H, D, lens, h0: true });
      const a = await decodeOnnx(bare).run(feeds);
      const b = await ortRun(bytes, feeds);
      expect(maxAbsDiff(a.Y.data, b.Y.data)).toBeLessThan(TOL);
    }
  });

  it('opset 7 models (no layout attribute) run the same', async () => {
    for (const op of ['LSTM', 'GRU'] as const) {
      const { D, rng, spec } = variantModel(op, { direction: 'bidirectional', lens, h0: true, c0: op === 'LSTM', clip: 1.5 }, dims, 800);
      const bytes = gatedNodeModel({ ...spec, opset: 7 });
      const feeds = gatedFeeds(rng, { T, B, I, H, D, lens, h0: true, c0: op === 'LSTM' });
      const own = await decodeOnnx(bytes).run(feeds);
      const ort = await ortRun(bytes, feeds);
      for (const k of Object.keys(ort)) expect(maxAbsDiff(own[k].data, ort[k].data), `${op} ${k}`).toBeLessThan(TOL);
    }
  });
});

describe('layout=1 (onnxruntime refuses it): the layout-0 results transposed', () => {
  const T = 5;
  const B = 3;
  const I = 2;
  const H = 4;
  const lens = [5, 2, 4];
  const variants: Array<['LSTM' | 'GRU', Variant]> = [
    ['LSTM', { direction: 'forward', h0: true, c0: true, peepholes: true }],
    ['LSTM', { direction: 'reverse', lens, h0: true, c0: true, clip: 0.7 }],
    ['LSTM', { direction: 'bidirectional', lens, h0: true, c0: true, peepholes: true, inputForget: true, acts: ['HardSigmoid', 'Elu', 'Softsign', 'Sigmoid', 'Tanh', 'Tanh'] }],
    ['GRU', { direction: 'bidirectional', lens, h0: true, lbr: 0 }],
    ['GRU', { direction: 'reverse', h0: true, lbr: 1, acts: ['Sigmoid', 'ScaledTanh'] }],
  ];
  it.each(variants.map((v, i) => [i, ...v] as const))('case %i: %s', async (i, op, v) => {
    const m0 = variantModel(op, v, { H, I }, 900 + i, 0);
    const m1 = variantModel(op, v, { H, I }, 900 + i, 1);
    const D = m0.D;
    const f0 = gatedFeeds(m0.rng, { T, B, I, H, D, lens: v.lens, h0: v.h0, c0: v.c0 });
    const f1: Record<string, FeedTensor> = { X: { data: permute(f0.X.data as Float32Array, [T, B, I], [1, 0, 2]).data, shape: [B, T, I] } };
    if (f0.sequence_lens) f1.sequence_lens = f0.sequence_lens;
    for (const k of ['initial_h', 'initial_c']) if (f0[k]) f1[k] = { data: permute(f0[k].data as Float32Array, [D, B, H], [1, 0, 2]).data, shape: [B, D, H] };
    const a = await decodeOnnx(m0.bytes).run(f0);
    const b = await decodeOnnx(m1.bytes).run(f1);
    expect(b.Y.shape).toEqual([B, T, D, H]);
    expect(maxAbsDiff(b.Y.data, permute(a.Y.data, [T, D, B, H], [2, 0, 1, 3]).data)).toBeLessThan(1e-7);
    for (const k of op === 'LSTM' ? ['Y_h', 'Y_c'] : ['Y_h']) {
      expect(b[k].shape).toEqual([B, D, H]);
      expect(maxAbsDiff(b[k].data, permute(a[k].data, [D, B, H], [1, 0, 2]).data), k).toBeLessThan(1e-7);
    }
  });
});

describe('LSTM and GRU nodes it cannot run', () => {
  const H = 3;
  const I = 2;
  const rng = makeRng(42);
  const lstmW = randomGatedWeights(rng, 'LSTM', 1, H, I, { peepholes: true });
  const gruW = randomGatedWeights(rng, 'GRU', 1, H, I);
  const lstm = (attrs: IAttributeProto[], over: Partial<GatedModelSpec> = {}) => gatedNodeModel({ op: 'LSTM', D: 1, H, I, weights: lstmW, attrs, ...over });
  const gru = (attrs: IAttributeProto[], over: Partial<GatedModelSpec> = {}) => gatedNodeModel({ op: 'GRU', D: 1, H, I, weights: gruW, attrs, ...over });
  const X = { data: new Float32Array(4 * 2 * I).fill(0.5), shape: [4, 2, I] };

  it('controls: the good files run', async () => {
    expect((await decodeOnnx(lstm([attribute('hidden_size', H)])).run({ X })).Y.shape).toEqual([4, 1, 2, H]);
    expect((await decodeOnnx(gru([attribute('hidden_size', H)])).run({ X })).Y_h.shape).toEqual([1, 2, H]);
  });

  it('bad attribute values, named with the node', () => {
    expect(() => decodeOnnx(lstm([attribute('direction', 'sideways')]))).toThrow(/Unsupported value "sideways" of attribute 'direction' on LSTM node 'lstm'/);
    expect(() => decodeOnnx(lstm([attribute('activations', ['Sigmoid', 'Gelu', 'Tanh'])]))).toThrow(/"Gelu" of attribute 'activations' on LSTM node 'lstm': expected one of Relu/);
    expect(() => decodeOnnx(lstm([attribute('activations', ['Sigmoid', 'Tanh'])]))).toThrow(/attribute 'activations' on LSTM node 'lstm': expected 3 activations \(f, g, h per direction, direction=forward\)/);
    expect(() => decodeOnnx(gru([attribute('direction', 'bidirectional'), attribute('activations', ['Sigmoid', 'Tanh'])]))).toThrow(/expected 4 activations \(f, g per direction, direction=bidirectional\)/);
    expect(() => decodeOnnx(lstm([attribute('clip', -1, 'float')]))).toThrow(/value -1 of attribute 'clip' on LSTM node 'lstm': expected a positive number/);
    expect(() => decodeOnnx(gru([attribute('clip', 0, 'float')]))).toThrow(/value 0 of attribute 'clip' on GRU node 'gru'/);
    expect(() => decodeOnnx(lstm([attribute('clip', Number.NaN, 'float')]))).toThrow(/attribute 'clip'/);
    expect(() => decodeOnnx(lstm([attribute('input_forget', 2)]))).toThrow(/value 2 of attribute 'input_forget' on LSTM node 'lstm': expected 0 or 1/);
    expect(() => decodeOnnx(gru([attribute('linear_before_reset', -1)]))).toThrow(/value -1 of attribute 'linear_before_reset' on GRU node 'gru': expected 0 or 1/);
    expect(() => decodeOnnx(lstm([attribute('layout', 2)]))).toThrow(/value 2 of attribute 'layout'/);
    expect(() => decodeOnnx(lstm([attribute('hidden_size', 0)]))).toThrow(/value 0 of attribute 'hidden_size'.*positive integer/);
    expect(() => decodeOnnx(lstm([attribute('linear_before_reset', 1)]))).toThrow(/Unsupported attribute 'linear_before_reset' on LSTM node 'lstm'/);
    expect(() => decodeOnnx(gru([attribute('input_forget', 1)]))).toThrow(/Unsupported attribute 'input_forget' on GRU node 'gru'/);
    expect(() => decodeOnnx(gru([attribute('layout', 1)], { opset: 13 }))).toThrow(/Unsupported attribute 'layout' on GRU node 'gru'/);
    expect(() => decodeOnnx(lstm([attribute('hidden_size', 3.5, 'float')]))).toThrow(/attribute 'hidden_size'.*expected type INT but the file has FLOAT/);
  });

  it('inputs of the wrong shape, named with what was expected and what arrived', async () => {
    const run = (bytes: Uint8Array, feeds: Record<string, FeedTensor> = { X }) => decodeOnnx(bytes).run(feeds);
    // hidden_size disagrees with the weights.
    await expect(run(lstm([attribute('hidden_size', H + 1)]))).rejects.toThrow(/Invalid input W of LSTM node 'lstm': expected shape \[1, 16, 2\] \(4 gates x hidden_size 4\) but received \[1, 12, 2\]/);
    // direction=bidirectional with one direction's weights.
    await expect(run(gru([attribute('direction', 'bidirectional')]))).rejects.toThrow(/Invalid input W of GRU node 'gru': expected shape \[2, 9, 2\] \(num_directions=2 for direction=bidirectional\) but received \[1, 9, 2\]/);
    // X with another input size.
    await expect(run(lstm([]), { X: { data: new Float32Array(4 * 2 * 5), shape: [4, 2, 5] } })).rejects.toThrow(/feeds\.X\.shape/);
    // B and P of the wrong length.
    const badB = gatedNodeModel({ op: 'GRU', D: 1, H, I, weights: { ...gruW, B: new Float32Array(3 * H) }, attrs: [], dims: { B: [1, 3 * H] } });
    await expect(decodeOnnx(badB).run({ X })).rejects.toThrow(/Invalid input B of GRU node 'gru': expected shape \[1, 18\] \(\[Wb \| Rb\]\) but received \[1, 9\]/);
    const badP = gatedNodeModel({ op: 'LSTM', D: 1, H, I, weights: { ...lstmW, P: new Float32Array(4 * H) }, attrs: [], dims: { P: [1, 4 * H] } });
    await expect(decodeOnnx(badP).run({ X })).rejects.toThrow(/Invalid input P/);
    const badR = gatedNodeModel({ op: 'GRU', D: 1, H, I, weights: { ...gruW, R: new Float32Array(3 * H * 4) }, attrs: [attribute('hidden_size', H)], dims: { R: [1, 3 * H, 4] } });
    await expect(decodeOnnx(badR).run({ X })).rejects.toThrow(/Invalid input R of GRU node 'gru': expected shape \[1, 9, 3\] \(3 gates x hidden_size 3\) but received \[1, 9, 4\]/);
    const rank2 = gatedNodeModel({ op: 'GRU', D: 1, H, I, weights: gruW, attrs: [], dims: { W: [3 * H, I] } });
    await expect(decodeOnnx(rank2).run({ X })).rejects.toThrow(/Invalid input W of GRU node 'gru': expected shape \[num_directions, 3\*hidden_size, input_size\] but received \[9, 2\]/);
    await expect(decodeOnnx(badP).run({ X })).rejects.toThrow(/Invalid input P of LSTM node 'lstm': expected shape \[1, 9\] \(peepholes i, o, f\) but received \[1, 12\]/);
    // initial_h / initial_c / sequence_lens of the wrong shape.
    const withStates = lstm([attribute('hidden_size', H)], { initialH: true, initialC: true, seqLens: true });
    const good = { X, sequence_lens: { data: Int32Array.of(4, 2), shape: [2] }, initial_h: { data: new Float32Array(2 * H), shape: [1, 2, H] }, initial_c: { data: new Float32Array(2 * H), shape: [1, 2, H] } };
    expect((await run(withStates, good)).Y_c.shape).toEqual([1, 2, H]);
    await expect(run(withStates, { ...good, sequence_lens: { data: Int32Array.of(5, 2), shape: [2] } })).rejects.toThrow(/Invalid value 5 at index 0 of input sequence_lens of LSTM node 'lstm': expected 0\.\.4/);
    await expect(run(withStates, { ...good, sequence_lens: { data: Int32Array.of(-1, 2), shape: [2] } })).rejects.toThrow(/Invalid value -1 at index 0/);
  });

  it('a huge hidden_size or X is refused before anything is allocated', async () => {
    const huge = lstm([attribute('hidden_size', 2 ** 40)]);
    await expect(decodeOnnx(huge).run({ X })).rejects.toThrow(/Invalid input W of LSTM node 'lstm': expected shape \[1, 4398046511104, 2\]/);
    // An X past the per-graph budget: the outputs are sized and charged first.
    const m = decodeOnnx(lstm([attribute('hidden_size', H)]), { maxGraphElements: 10_000 });
    const big = { data: new Float32Array(400 * 4 * I), shape: [400, 4, I] };
    await expect(m.run({ X: big })).rejects.toThrow(/maxGraphElements/);
  });

  it('empty batch, no steps and no input features give well-formed outputs', async () => {
    const m = decodeOnnx(lstm([attribute('hidden_size', H)], { initialH: true, initialC: true }));
    const none = await m.run({ X: { data: new Float32Array(0), shape: [4, 0, I] }, initial_h: { data: new Float32Array(0), shape: [1, 0, H] }, initial_c: { data: new Float32Array(0), shape: [1, 0, H] } });
    expect(none.Y.shape).toEqual([4, 1, 0, H]);
    const h0 = { data: Float32Array.from({ length: 2 * H }, (_, i) => i / 10), shape: [1, 2, H] };
    const noSteps = await m.run({ X: { data: new Float32Array(0), shape: [0, 2, I] }, initial_h: h0, initial_c: h0 });
    expect(noSteps.Y.shape).toEqual([0, 1, 2, H]);
    expect(Array.from(noSteps.Y_h.data)).toEqual(Array.from(h0.data));
  });
});
