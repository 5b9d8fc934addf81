/**
 * ONNX import: loadOnnx/decodeOnnx + OnnxModel.run against the ONNX backend
 * node tests, onnxruntime-node, the native core and PyTorch-exported files;
 * toRNN; and the errors for files it cannot run.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { rnnForward } from '../src/nn/rnn_functional.js';
import { RNN } from '../src/nn/rnn.js';
import type { Tensor } from '../src/tensor.js';
import { decodeOnnx, decodeTensorProto, encodeOnnx, loadOnnx, type OnnxFeed } from '../src/onnx/index.js';
import { DataType, floatTensorProto, int64TensorProto, type INodeProto, type ITensorProto } from '../src/onnx/proto.js';
import { resolveActivations } from '../src/onnx/rnn_op.js';
import { ACTIVATION_PARAMS, ONNX_ACTIVATIONS, type OnnxActivationName } from '../src/onnx/rnn_generic.js';
import {
  attribute,
  maxAbsDiff,
  modelBytes,
  ortRun,
  permute,
  randn,
  randomRnnWeights,
  rnnNodeModel,
  tensorInfo,
  type FeedTensor,
  type RnnNodeWeights,
} from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';

const TOL = 1e-5;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'rnnblas-onnx-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ONNX backend node tests (test/fixtures/onnx-rnn)', () => {
  const cases = readdirSync(join(FIXTURES, 'onnx-rnn')).filter((n) => n.startsWith('test_'));
  it('finds the four cases', () => expect(cases.sort()).toEqual(['test_rnn_seq_length', 'test_simple_rnn_batchwise', 'test_simple_rnn_defaults', 'test_simple_rnn_with_initial_bias']));
  it.each(cases)('%s', async (name) => {
    const base = join(FIXTURES, 'onnx-rnn', name);
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
      expect(out[o.name].shape).toEqual([...want.shape]);
      expect(maxAbsDiff(out[o.name].data, want.data)).toBeLessThan(TOL);
    });
  });
});

/** Runs a one-node RNN model in rnnblas and (layout 0) in onnxruntime; returns both. */
async function runBoth(bytes: Uint8Array, feeds: Record<string, FeedTensor>, withOrt = true) {
  const own = await decodeOnnx(bytes).run(feeds);
  const ort = withOrt ? await ortRun(bytes, feeds) : null;
  return { own, ort };
}

function feedsFor(rng: ReturnType<typeof makeRng>, o: { T: number; B: number; I: number; H: number; D: number; lens?: number[]; h0?: boolean; layout?: 0 | 1 }): Record<string, FeedTensor> {
  const feeds: Record<string, FeedTensor> = {};
  feeds.X = { data: randn(rng, o.T * o.B * o.I), shape: o.layout === 1 ? [o.B, o.T, o.I] : [o.T, o.B, o.I] };
  if (o.lens) feeds.sequence_lens = { data: Int32Array.from(o.lens), shape: [o.B] };
  if (o.h0) feeds.initial_h = { data: randn(rng, o.D * o.B * o.H, 0.5), shape: o.layout === 1 ? [o.B, o.D, o.H] : [o.D, o.B, o.H] };
  return feeds;
}

const ALPHA: Record<OnnxActivationName, number> = {
  Relu: 0, Tanh: 0, Sigmoid: 0, Softsign: 0, Softplus: 0,
  Affine: 0.7, LeakyRelu: 0.15, ThresholdedRelu: 0.3, ScaledTanh: 1.3, HardSigmoid: 0.35, Elu: 0.6,
};
const BETA: Record<OnnxActivationName, number> = {
  Relu: 0, Tanh: 0, Sigmoid: 0, Softsign: 0, Softplus: 0,
  Affine: -0.2, LeakyRelu: 0, ThresholdedRelu: 0, ScaledTanh: 0.8, HardSigmoid: 0.45, Elu: 0,
};

describe('RNN operator against onnxruntime (layout 0)', () => {
  const T = 5;
  const B = 4;
  const I = 3;
  const H = 4;
  const lens = [5, 3, 1, 4];

  ONNX_ACTIVATIONS.forEach((act, ai) => {
    const other = ONNX_ACTIVATIONS[(ai + 3) % ONNX_ACTIVATIONS.length];
    it(`${act}: forward, reverse and bidirectional (with ${other}), alpha/beta, clip, sequence_lens, initial_h`, async () => {
      const variants: Array<{ direction: string; acts: OnnxActivationName[]; clip?: number; lens?: number[]; h0?: boolean; bias?: boolean }> = [
        { direction: 'forward', acts: [act], lens, h0: true },
        { direction: 'forward', acts: [act], clip: 0.6, bias: false },
        { direction: 'reverse', acts: [act], lens },
        { direction: 'reverse', acts: [act], h0: true, clip: 1.1 },
        { direction: 'bidirectional', acts: [act, other], lens, h0: true },
        { direction: 'bidirectional', acts: [other, act], clip: 0.9, lens },
      ];
      for (const [vi, v] of variants.entries()) {
        const D = v.acts.length;
        const rng = makeRng(1000 * ai + vi);
        const attrs = [
          attribute('hidden_size', H),
          attribute('direction', v.direction),
          attribute('activations', v.acts),
        ];
        // One value per function that takes the parameter, in order (how ONNX and onnxruntime consume the lists).
        const alphas = v.acts.filter((a) => ACTIVATION_PARAMS[a].alpha !== undefined).map((a) => ALPHA[a]);
        const betas = v.acts.filter((a) => ACTIVATION_PARAMS[a].beta !== undefined).map((a) => BETA[a]);
        if (alphas.length > 0) attrs.push(attribute('activation_alpha', alphas, 'float'));
        if (betas.length > 0) attrs.push(attribute('activation_beta', betas, 'float'));
        if (v.clip !== undefined) attrs.push(attribute('clip', v.clip, 'float'));
        const weights = randomRnnWeights(rng, D, H, I, v.bias !== false);
        const bytes = rnnNodeModel({ D, H, I, weights, attrs, seqLens: v.lens !== undefined, initialH: v.h0 });
        const feeds = feedsFor(rng, { T, B, I, H, D, lens: v.lens, h0: v.h0 });
        const { own, ort } = await runBoth(bytes, feeds);
        const msg = `${v.direction} ${v.acts.join('/')}${v.clip !== undefined ? ` clip=${v.clip}` : ''}`;
        expect(own.Y.shape).toEqual([T, D, B, H]);
        expect(own.Y_h.shape).toEqual([D, B, H]);
        expect(maxAbsDiff(own.Y.data, ort!.Y.data), `Y ${msg}`).toBeLessThan(TOL);
        expect(maxAbsDiff(own.Y_h.data, ort!.Y_h.data), `Y_h ${msg}`).toBeLessThan(TOL);
      }
    });
  });

  it('omitted activation_alpha/beta take the ONNX operators defaults', async () => {
    const defaults: Array<[OnnxActivationName, number, number]> = [
      ['Affine', 1, 0], ['LeakyRelu', 0.01, 0], ['ThresholdedRelu', 1, 0], ['HardSigmoid', 0.2, 0.5], ['Elu', 1, 0], ['ScaledTanh', 1, 1],
    ];
    for (const [act, alpha, beta] of defaults) {
      const rng = makeRng(act.length);
      const weights = randomRnnWeights(rng, 1, H, I);
      const base = [attribute('hidden_size', H), attribute('activations', [act])];
      const implicit = rnnNodeModel({ D: 1, H, I, weights, attrs: base });
      const explicit = rnnNodeModel({ D: 1, H, I, weights, attrs: [...base, attribute('activation_alpha', [alpha], 'float'), attribute('activation_beta', [beta], 'float')] });
      const feeds = feedsFor(rng, { T, B, I, H, D: 1 });
      const a = await decodeOnnx(implicit).run(feeds);
      const b = await ortRun(explicit, feeds);
      expect(maxAbsDiff(a.Y.data, b.Y.data), act).toBeLessThan(TOL);
      // onnxruntime agrees on LeakyRelu, HardSigmoid and Elu; it takes 0 for Affine, ThresholdedRelu and ScaledTanh.
      if (['LeakyRelu', 'HardSigmoid', 'Elu'].includes(act)) expect(maxAbsDiff(a.Y.data, (await ortRun(implicit, feeds)).Y.data), act).toBeLessThan(TOL);
    }
  });

  it('consumes activation_alpha/beta in order by the functions that take them (as onnxruntime does)', async () => {
    expect(resolveActivations(['Tanh', 'LeakyRelu'], [0.3], undefined).map((a) => a.alpha)).toEqual([0, 0.3]);
    expect(resolveActivations(['Tanh', 'LeakyRelu'], [0.5, 0.2], undefined).map((a) => a.alpha)).toEqual([0, 0.5]);
    expect(resolveActivations(['HardSigmoid', 'Elu'], [0.1, 0.2, 0.3], [0.4]).map((a) => [a.alpha, a.beta])).toEqual([[0.1, 0.4], [0.2, 0]]);
    expect(resolveActivations(['Elu', 'Affine'], [], undefined).map((a) => [a.alpha, a.beta])).toEqual([[1, 0], [1, 0]]);
    expect(resolveActivations(['Affine', 'HardSigmoid'], [2], [3]).map((a) => [a.alpha, a.beta])).toEqual([[2, 3], [0.2, 0.5]]);
    // The same lists in onnxruntime.
    const rng = makeRng(31);
    const weights = randomRnnWeights(rng, 2, H, I);
    const feeds = feedsFor(rng, { T, B, I, H, D: 2, lens });
    for (const [acts, alpha, beta] of [
      [['Tanh', 'LeakyRelu'], [0.5, 0.2], undefined],
      [['Relu', 'Affine'], [0.7], [-0.2, 5]],
      [['HardSigmoid', 'Elu'], [0.1, 0.2, 0.3], [0.4]],
      [['ScaledTanh', 'ThresholdedRelu'], [1.5, 0.1], [0.5]],
    ] as Array<[OnnxActivationName[], number[], number[] | undefined]>) {
      const attrs = [attribute('hidden_size', H), attribute('direction', 'bidirectional'), attribute('activations', acts), attribute('activation_alpha', alpha, 'float')];
      if (beta) attrs.push(attribute('activation_beta', beta, 'float'));
      const bytes = rnnNodeModel({ D: 2, H, I, weights, attrs, seqLens: true });
      const { own, ort } = await runBoth(bytes, feeds);
      expect(maxAbsDiff(own.Y.data, ort!.Y.data), acts.join('/')).toBeLessThan(TOL);
    }
  });

  it('accepts activation names in any case and no activations attribute (Tanh)', async () => {
    const rng = makeRng(77);
    const weights = randomRnnWeights(rng, 2, H, I);
    const a = rnnNodeModel({ D: 2, H, I, weights, attrs: [attribute('hidden_size', H), attribute('direction', 'bidirectional'), attribute('activations', ['tanh', 'RELU'])], seqLens: true });
    const b = rnnNodeModel({ D: 2, H, I, weights, attrs: [attribute('hidden_size', H), attribute('direction', 'bidirectional'), attribute('activations', ['Tanh', 'Relu'])], seqLens: true });
    const feeds = feedsFor(rng, { T, B, I, H, D: 2, lens });
    const own = await decodeOnnx(a).run(feeds);
    const ort = await ortRun(b, feeds);
    expect(maxAbsDiff(own.Y.data, ort.Y.data)).toBeLessThan(TOL);
    // No attributes at all: direction forward, Tanh, hidden_size from W (onnxruntime needs hidden_size).
    const w1 = randomRnnWeights(rng, 1, H, I);
    const bare = rnnNodeModel({ D: 1, H, I, weights: w1, attrs: [] });
    const sized = rnnNodeModel({ D: 1, H, I, weights: w1, attrs: [attribute('hidden_size', H)] });
    const f1 = feedsFor(rng, { T, B, I, H, D: 1 });
    expect(maxAbsDiff((await decodeOnnx(bare).run(f1)).Y_h.data, (await ortRun(sized, f1)).Y_h.data)).toBeLessThan(TOL);
  });
});

describe('RNN operator: native core, generic path and layouts', () => {
  const T = 6;
  const B = 3;
  const I = 2;
  const H = 5;
  const lens = [6, 2, 4];

  function torchWeights(w: RnnNodeWeights, D: number): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (let d = 0; d < D; d++) {
      const s = `l0${d === 1 ? '_reverse' : ''}`;
      sd[`weight_ih_${s}`] = { data: w.W.slice(d * H * I, (d + 1) * H * I), shape: [H, I] };
      sd[`weight_hh_${s}`] = { data: w.R.slice(d * H * H, (d + 1) * H * H), shape: [H, H] };
      if (w.B) {
        sd[`bias_ih_${s}`] = { data: w.B.slice(d * 2 * H, d * 2 * H + H), shape: [H] };
        sd[`bias_hh_${s}`] = { data: w.B.slice(d * 2 * H + H, (d + 1) * 2 * H), shape: [H] };
      }
    }
    return sd;
  }

  for (const act of ['Tanh', 'Relu'] as const) {
    it(`${act}: equals rnnForward on the same weights, and the generic path (clip = 1e30) equals the native one`, async () => {
      for (const direction of ['forward', 'bidirectional'] as const) {
        const D = direction === 'bidirectional' ? 2 : 1;
        const rng = makeRng(D * 10 + act.length);
        const weights = randomRnnWeights(rng, D, H, I);
        const attrs = [attribute('hidden_size', H), attribute('direction', direction), attribute('activations', Array(D).fill(act))];
        const native = rnnNodeModel({ D, H, I, weights, attrs, seqLens: true, initialH: true });
        const generic = rnnNodeModel({ D, H, I, weights, attrs: [...attrs, attribute('clip', 1e30, 'float')], seqLens: true, initialH: true });
        const feeds = feedsFor(rng, { T, B, I, H, D, lens, h0: true });
        const a = await decodeOnnx(native).run(feeds);
        const b = await decodeOnnx(generic).run(feeds);
        const ref = rnnForward({ inputSize: I, hiddenSize: H, nonlinearity: act === 'Tanh' ? 'tanh' : 'relu', bidirectional: D === 2 }, torchWeights(weights, D), feeds.X as Tensor, {
          h0: feeds.initial_h as Tensor,
          seqLengths: lens,
        });
        // rnnblas y is [T,B,D*H]; ONNX Y is [T,D,B,H].
        const y = permute(ref.y.data, [T, B, D, H], [0, 2, 1, 3]).data;
        expect(maxAbsDiff(a.Y.data, y)).toBeLessThan(TOL);
        expect(maxAbsDiff(a.Y_h.data, ref.hN.data)).toBeLessThan(TOL);
        expect(maxAbsDiff(b.Y.data, a.Y.data)).toBeLessThan(TOL);
        expect(maxAbsDiff(b.Y_h.data, a.Y_h.data)).toBeLessThan(TOL);
      }
    });
  }

  it('direction=reverse on the native core (time-reversed within lengths) matches onnxruntime and the generic path', async () => {
    const rng = makeRng(5);
    const weights = randomRnnWeights(rng, 1, H, I);
    const attrs = [attribute('hidden_size', H), attribute('direction', 'reverse'), attribute('activations', ['Relu'])];
    const model = rnnNodeModel({ D: 1, H, I, weights, attrs, seqLens: true, initialH: true });
    const generic = rnnNodeModel({ D: 1, H, I, weights, attrs: [...attrs, attribute('clip', 1e30, 'float')], seqLens: true, initialH: true });
    const feeds = feedsFor(rng, { T, B, I, H, D: 1, lens, h0: true });
    const { own, ort } = await runBoth(model, feeds);
    const gen = await decodeOnnx(generic).run(feeds);
    expect(maxAbsDiff(own.Y.data, ort!.Y.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(own.Y_h.data, ort!.Y_h.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(gen.Y.data, own.Y.data)).toBeLessThan(TOL);
  });

  it('layout=1 gives the layout-0 results transposed (every direction, native and generic activations)', async () => {
    for (const [direction, acts] of [['forward', ['Tanh']], ['reverse', ['Elu']], ['bidirectional', ['Relu', 'HardSigmoid']], ['bidirectional', ['Tanh', 'Tanh']]] as const) {
      const D = acts.length;
      const rng = makeRng(D + acts[0].length);
      const weights = randomRnnWeights(rng, D, H, I);
      const attrs = [attribute('hidden_size', H), attribute('direction', direction), attribute('activations', [...acts])];
      const m0 = rnnNodeModel({ D, H, I, weights, attrs, seqLens: true, initialH: true });
      const m1 = rnnNodeModel({ D, H, I, weights, attrs: [...attrs, attribute('layout', 1)], layout: 1, seqLens: true, initialH: true });
      const f0 = feedsFor(rng, { T, B, I, H, D, lens, h0: true });
      const f1: Record<string, FeedTensor> = {
        X: permute(f0.X.data as Float32Array, [T, B, I], [1, 0, 2]),
        sequence_lens: f0.sequence_lens,
        initial_h: permute(f0.initial_h.data as Float32Array, [D, B, H], [1, 0, 2]),
      };
      const ort0 = await ortRun(m0, f0);
      const own1 = await decodeOnnx(m1).run(f1);
      expect(own1.Y.shape).toEqual([B, T, D, H]);
      expect(own1.Y_h.shape).toEqual([B, D, H]);
      expect(maxAbsDiff(own1.Y.data, permute(ort0.Y.data, [T, D, B, H], [2, 0, 1, 3]).data)).toBeLessThan(TOL);
      expect(maxAbsDiff(own1.Y_h.data, permute(ort0.Y_h.data, [D, B, H], [1, 0, 2]).data)).toBeLessThan(TOL);
    }
  });

  it('a zero sequence length gives zero outputs and the initial state as Y_h', async () => {
    const rng = makeRng(9);
    const weights = randomRnnWeights(rng, 2, H, I);
    const attrs = [attribute('hidden_size', H), attribute('direction', 'bidirectional')];
    const model = rnnNodeModel({ D: 2, H, I, weights, attrs, seqLens: true, initialH: true });
    const feeds = feedsFor(rng, { T, B, I, H, D: 2, lens: [6, 0, 3], h0: true });
    const out = await decodeOnnx(model).run(feeds);
    const h0 = feeds.initial_h.data as Float32Array;
    for (let d = 0; d < 2; d++) {
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) expect(out.Y.data[((t * 2 + d) * B + 1) * H + j]).toBe(0);
      for (let j = 0; j < H; j++) expect(out.Y_h.data[(d * B + 1) * H + j]).toBe(h0[(d * B + 1) * H + j]);
    }
  });

  it('outputs only Y, or only Y_h, when the node names only one', async () => {
    const rng = makeRng(3);
    const weights = randomRnnWeights(rng, 1, H, I);
    for (const outputs of [['Y'], ['', 'Y_h']]) {
      const node: INodeProto = { opType: 'RNN', input: ['X', 'W', 'R'], output: outputs, attribute: [attribute('hidden_size', H)] };
      const bytes = modelBytes({
        nodes: [node],
        inputs: [tensorInfo('X', DataType.FLOAT, ['T', 'N', I])],
        outputs: [tensorInfo(outputs.filter(Boolean)[0], DataType.FLOAT, [])].map((o) => ({ ...o, type: { tensorType: { elemType: DataType.FLOAT } } })),
        initializers: [floatTensorProto('W', [1, H, I], weights.W), floatTensorProto('R', [1, H, H], weights.R)],
      });
      const feeds = feedsFor(rng, { T, B, I, H, D: 1 });
      const own = await decodeOnnx(bytes).run(feeds);
      const ort = await ortRun(bytes, feeds);
      const name = outputs.filter(Boolean)[0];
      expect(Object.keys(own)).toEqual([name]);
      expect(maxAbsDiff(own[name].data, ort[name].data)).toBeLessThan(TOL);
    }
  });
});

describe('other operators against onnxruntime', () => {
  const rng = makeRng(42);
  const f = (shape: number[]): FeedTensor => ({ data: randn(rng, shape.reduce((a, b) => a * b, 1)), shape });
  const i64 = (name: string, values: number[], shape = [values.length]) => int64TensorProto(name, shape, values);

  interface OpCase {
    name: string;
    nodes: INodeProto[];
    feeds: Record<string, FeedTensor>;
    inits?: ITensorProto[];
    opset?: number;
  }
  const cases: OpCase[] = [
    { name: 'MatMul 3-D x 2-D', nodes: [{ opType: 'MatMul', input: ['a', 'b'], output: ['y'] }], feeds: { a: f([4, 3, 5]), b: f([5, 2]) } },
    { name: 'MatMul batched broadcast', nodes: [{ opType: 'MatMul', input: ['a', 'b'], output: ['y'] }], feeds: { a: f([2, 1, 3, 4]), b: f([3, 4, 2]) } },
    { name: 'MatMul 1-D x 2-D', nodes: [{ opType: 'MatMul', input: ['a', 'b'], output: ['y'] }], feeds: { a: f([4]), b: f([4, 3]) } },
    { name: 'Gemm transA transB alpha beta', nodes: [{ opType: 'Gemm', input: ['a', 'b', 'c'], output: ['y'], attribute: [attribute('transA', 1), attribute('transB', 1), attribute('alpha', 0.7, 'float'), attribute('beta', -1.3, 'float')] }], feeds: { a: f([4, 3]), b: f([5, 4]), c: f([5]) } },
    { name: 'Gemm defaults, C [M,1]', nodes: [{ opType: 'Gemm', input: ['a', 'b', 'c'], output: ['y'] }], feeds: { a: f([3, 4]), b: f([4, 2]), c: f([3, 1]) } },
    { name: 'Gemm without C', nodes: [{ opType: 'Gemm', input: ['a', 'b'], output: ['y'], attribute: [attribute('transB', 1)] }], feeds: { a: f([3, 4]), b: f([2, 4]) } },
    { name: 'Add broadcast', nodes: [{ opType: 'Add', input: ['a', 'b'], output: ['y'] }], feeds: { a: f([2, 3, 4]), b: f([3, 1]) } },
    { name: 'Sub, Mul', nodes: [{ opType: 'Sub', input: ['a', 'b'], output: ['s'] }, { opType: 'Mul', input: ['s', 'b'], output: ['y'] }], feeds: { a: f([2, 3]), b: f([2, 3]) } },
    { name: 'Transpose perm', nodes: [{ opType: 'Transpose', input: ['a'], output: ['y'], attribute: [attribute('perm', [2, 0, 3, 1])] }], feeds: { a: f([2, 3, 4, 5]) } },
    { name: 'Transpose default', nodes: [{ opType: 'Transpose', input: ['a'], output: ['y'] }], feeds: { a: f([2, 3, 4]) } },
    { name: 'Squeeze/Unsqueeze opset 11 (axes attribute)', opset: 11, nodes: [{ opType: 'Unsqueeze', input: ['a'], output: ['u'], attribute: [attribute('axes', [0, -1])] }, { opType: 'Squeeze', input: ['u'], output: ['y'], attribute: [attribute('axes', [0])] }], feeds: { a: f([3, 1, 2]) } },
    { name: 'Squeeze/Unsqueeze opset 13 (axes input)', opset: 13, inits: [i64('ax', [1, 3]), i64('sq', [1])], nodes: [{ opType: 'Unsqueeze', input: ['a', 'ax'], output: ['u'] }, { opType: 'Squeeze', input: ['u', 'sq'], output: ['y'] }], feeds: { a: f([3, 2]) } },
    { name: 'Squeeze without axes', nodes: [{ opType: 'Squeeze', input: ['a'], output: ['y'] }], feeds: { a: f([1, 3, 1, 2]) } },
    { name: 'Reshape 0 and -1', inits: [i64('s', [0, -1, 2])], nodes: [{ opType: 'Reshape', input: ['a', 's'], output: ['y'] }], feeds: { a: f([2, 3, 4]) } },
    { name: 'Concat axis -1', nodes: [{ opType: 'Concat', input: ['a', 'b', 'a'], output: ['y'], attribute: [attribute('axis', -1)] }], feeds: { a: f([2, 3, 1]), b: f([2, 3, 4]) } },
    { name: 'Slice steps and negative indices', inits: [i64('st', [-1, 0]), i64('en', [-1e18, 4]), i64('ax', [0, 2]), i64('sp', [-2, 3])], nodes: [{ opType: 'Slice', input: ['a', 'st', 'en', 'ax', 'sp'], output: ['y'] }], feeds: { a: f([5, 2, 6]) } },
    { name: 'Slice default axes', inits: [i64('st', [1]), i64('en', [3])], nodes: [{ opType: 'Slice', input: ['a', 'st', 'en'], output: ['y'] }], feeds: { a: f([4, 3]) } },
    { name: 'Identity', nodes: [{ opType: 'Identity', input: ['a'], output: ['y'] }], feeds: { a: f([2, 2]) } },
    { name: 'Shape/Gather/ConstantOfShape/Constant/Expand/Cast/Add', inits: [i64('zero', [0], [])],
      nodes: [
        { opType: 'Shape', input: ['a'], output: ['sh'] },
        { opType: 'Constant', input: [], output: ['three'], attribute: [{ name: 'value', type: 4, t: i64('', [3], [1]) }] },
        { opType: 'Gather', input: ['sh', 'zero'], output: ['n0'], attribute: [attribute('axis', 0)] },
        { opType: 'Unsqueeze', input: ['n0', 'zero1'], output: ['n1'] },
        { opType: 'Concat', input: ['n1', 'three'], output: ['shape2'], attribute: [attribute('axis', 0)] },
        { opType: 'ConstantOfShape', input: ['shape2'], output: ['ones'], attribute: [{ name: 'value', type: 4, t: floatTensorProto('', [1], Float32Array.of(1.5)) }] },
        { opType: 'Cast', input: ['sh'], output: ['shf'], attribute: [attribute('to', DataType.FLOAT)] },
        { opType: 'Expand', input: ['b', 'shape2'], output: ['bx'] },
        { opType: 'Add', input: ['ones', 'bx'], output: ['t'] },
        { opType: 'Gather', input: ['shf', 'zero'], output: ['s0'] },
        { opType: 'Add', input: ['t', 's0'], output: ['y'] },
      ], feeds: { a: f([4, 2]), b: f([1, 3]) } },
    { name: 'GatherElements', inits: [i64('idx', [0, 2, 1, 1, 0, 2], [2, 3])], nodes: [{ opType: 'GatherElements', input: ['a', 'idx'], output: ['y'], attribute: [attribute('axis', 0)] }], feeds: { a: f([3, 3]) } },
  ];
  const zero1 = i64('zero1', [0]);

  it.each(cases)('$name', async (c) => {
    const inputs = Object.entries(c.feeds).map(([name, t]) => tensorInfo(name, DataType.FLOAT, t.shape));
    const bytes = modelBytes({
      nodes: c.nodes,
      inputs,
      outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
      initializers: [...(c.inits ?? []), ...(c.nodes.some((n) => n.input?.includes('zero1')) ? [zero1] : [])],
      opset: c.opset ?? 14,
    });
    const own = await decodeOnnx(bytes).run(c.feeds);
    const ort = await ortRun(bytes, c.feeds);
    expect(own.y.shape).toEqual(ort.y.shape);
    expect(maxAbsDiff(own.y.data, ort.y.data)).toBeLessThan(TOL);
  });
});

describe('initializers', () => {
  it('reads float_data and raw_data floats, int64 shapes and int32 sequence lengths', async () => {
    const rng = makeRng(11);
    const H = 3;
    const I = 2;
    const w = randomRnnWeights(rng, 1, H, I);
    const inits: ITensorProto[] = [
      { name: 'W', dims: [1, H, I], dataType: DataType.FLOAT, floatData: Array.from(w.W) },
      floatTensorProto('R', [1, H, H], w.R),
      { name: 'lens', dims: [2], dataType: DataType.INT32, int32Data: [3, 1] },
      { name: 'shape', dims: [2], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(0n, -1n).buffer) },
    ];
    const nodes: INodeProto[] = [
      { opType: 'RNN', input: ['X', 'W', 'R', '', 'lens'], output: ['Y'], attribute: [attribute('hidden_size', H)] },
      { opType: 'Reshape', input: ['Y', 'shape'], output: ['out'] },
    ];
    const bytes = modelBytes({ nodes, inputs: [tensorInfo('X', DataType.FLOAT, [3, 2, I])], outputs: [tensorInfo('out', DataType.FLOAT, [3, 2 * H])], initializers: inits });
    const feeds = { X: { data: randn(rng, 3 * 2 * I), shape: [3, 2, I] } };
    const own = await decodeOnnx(bytes).run(feeds);
    const ort = await ortRun(bytes, feeds);
    expect(own.out.shape).toEqual([3, 2 * H]);
    expect(maxAbsDiff(own.out.data, ort.out.data)).toBeLessThan(TOL);
  });

  it('lets a feed override an initializer that is also a graph input', async () => {
    const rng = makeRng(12);
    const w = randomRnnWeights(rng, 1, 2, 2);
    const bytes = modelBytes({
      nodes: [{ opType: 'RNN', input: ['X', 'W', 'R'], output: ['Y'], attribute: [attribute('hidden_size', 2)] }],
      inputs: [tensorInfo('X', DataType.FLOAT, [1, 1, 2]), tensorInfo('W', DataType.FLOAT, [1, 2, 2])],
      outputs: [tensorInfo('Y', DataType.FLOAT, [1, 1, 1, 2])],
      initializers: [floatTensorProto('W', [1, 2, 2], w.W), floatTensorProto('R', [1, 2, 2], w.R)],
    });
    const m = decodeOnnx(bytes);
    expect(m.inputs.map((i) => i.name)).toEqual(['X']);
    const X = { data: Float32Array.of(1, 1), shape: [1, 1, 2] };
    const a = await m.run({ X });
    const b = await m.run({ X, W: { data: new Float32Array(4), shape: [1, 2, 2] } });
    expect(Array.from(b.Y.data)).toEqual([0, 0]);
    expect(Array.from(a.Y.data)).not.toEqual([0, 0]);
  });
});

interface TorchFixture {
  name: string;
  config: { input_size: number; hidden_size: number; num_layers?: number; nonlinearity?: 'tanh' | 'relu'; bias?: boolean; batch_first?: boolean; bidirectional?: boolean; head: string | null };
  weights: Record<string, { shape: number[]; data: number[] }>;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

describe('PyTorch-exported files (test/fixtures/onnx-torch)', () => {
  const dir = join(FIXTURES, 'onnx-torch');
  const names = readdirSync(dir).filter((n) => n.endsWith('.onnx')).map((n) => n.slice(0, -5)).sort();
  it('finds the fixtures', () => expect(names.length).toBe(4));

  it.each(names)('%s runs and matches PyTorch and onnxruntime', async (name) => {
    const fx = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as TorchFixture;
    const path = join(dir, `${name}.onnx`);
    const model = await loadOnnx(path);
    expect(model.producerName).toBe('pytorch');
    const feeds: Record<string, FeedTensor> = {};
    for (const [k, v] of Object.entries(fx.inputs)) feeds[k] = { data: Float32Array.from(v.data), shape: v.shape };
    const own = await model.run(feeds);
    const ort = await ortRun(path, feeds);
    for (const [k, v] of Object.entries(fx.outputs)) {
      expect(own[k].shape).toEqual(v.shape);
      expect(maxAbsDiff(own[k].data, v.data), `${k} vs PyTorch`).toBeLessThan(TOL);
      expect(maxAbsDiff(own[k].data, ort[k].data), `${k} vs onnxruntime`).toBeLessThan(TOL);
    }
    if (fx.config.head !== null) {
      expect(() => model.toRNN()).toThrow(/not a single Elman RNN: it computes with a Gemm node/);
      return;
    }
    const rnn = model.toRNN().eval();
    const c = fx.config;
    expect(rnn.config).toMatchObject({
      inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers ?? 1, nonlinearity: c.nonlinearity ?? 'tanh',
      bias: c.bias ?? true, batchFirst: c.batch_first ?? false, bidirectional: c.bidirectional ?? false,
    });
    const sd = rnn.stateDict();
    expect(Object.keys(sd).sort()).toEqual(Object.keys(fx.weights).sort());
    for (const [k, v] of Object.entries(fx.weights)) expect(Array.from(sd[k].data)).toEqual(v.data);
    const out = rnn.forward(feeds.X as Tensor, { h0: feeds.initial_h as Tensor | undefined });
    expect(maxAbsDiff(out.y.data, fx.outputs.Y.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(out.hN.data, fx.outputs.Y_h.data)).toBeLessThan(TOL);
  });
});

describe('toRNN', () => {
  it('rebuilds every exported configuration with its weights', () => {
    for (const [L, bi, bf, bias, nl] of [[1, false, false, true, 'tanh'], [3, true, true, false, 'relu'], [2, true, false, true, 'relu']] as const) {
      const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: L, bidirectional: bi, batchFirst: bf, bias, nonlinearity: nl, seed: L });
      const back = decodeOnnx(encodeOnnx(rnn, { sequenceLens: true, initialH: true })).toRNN();
      expect(back.config).toMatchObject({ inputSize: 3, hiddenSize: 4, numLayers: L, bidirectional: bi, batchFirst: bf, bias, nonlinearity: nl });
      const a = rnn.stateDict();
      const b = back.stateDict();
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data));
    }
  });

  it('refuses graphs that are not one Elman RNN', () => {
    const rng = makeRng(1);
    const w = randomRnnWeights(rng, 2, 3, 2);
    const attrs = (acts: string[], extra = []) => [attribute('hidden_size', 3), attribute('direction', 'bidirectional'), attribute('activations', acts), ...extra];
    expect(() => decodeOnnx(rnnNodeModel({ D: 2, H: 3, I: 2, weights: w, attrs: attrs(['Tanh', 'Relu']) })).toRNN()).toThrow(/activations Tanh, Relu/);
    expect(() => decodeOnnx(rnnNodeModel({ D: 2, H: 3, I: 2, weights: w, attrs: attrs(['Sigmoid', 'Sigmoid']) })).toRNN()).toThrow(/activations Sigmoid/);
    expect(() => decodeOnnx(rnnNodeModel({ D: 2, H: 3, I: 2, weights: w, attrs: [...attrs(['Tanh', 'Tanh']), attribute('clip', 2, 'float')] })).toRNN()).toThrow(/clips/);
    const w1 = randomRnnWeights(rng, 1, 3, 2);
    expect(() => decodeOnnx(rnnNodeModel({ D: 1, H: 3, I: 2, weights: w1, attrs: [attribute('direction', 'reverse')] })).toRNN()).toThrow(/reverse/);
    const fedWeights = modelBytes({
      nodes: [{ opType: 'RNN', input: ['X', 'W', 'R'], output: ['Y'], attribute: [attribute('hidden_size', 3)] }],
      inputs: [tensorInfo('X', DataType.FLOAT, [1, 1, 2]), tensorInfo('W', DataType.FLOAT, [1, 3, 2]), tensorInfo('R', DataType.FLOAT, [1, 3, 3])],
      outputs: [tensorInfo('Y', DataType.FLOAT, [1, 1, 1, 3])],
    });
    expect(() => decodeOnnx(fedWeights).toRNN()).toThrow(/W of RNN node #0 is not a float initializer/);
    // layout=1 is read as batch-first.
    const bf = decodeOnnx(rnnNodeModel({ D: 1, H: 3, I: 2, weights: w1, attrs: [attribute('hidden_size', 3), attribute('layout', 1)], layout: 1 })).toRNN();
    expect(bf.config.batchFirst).toBe(true);
  });
});

describe('files it cannot run', () => {
  const rng = makeRng(99);
  const H = 3;
  const I = 2;
  const w = randomRnnWeights(rng, 1, H, I);
  const good = () => rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('hidden_size', H)], seqLens: true });
  const feeds = () => ({ X: { data: randn(rng, 4 * 2 * I), shape: [4, 2, I] }, sequence_lens: { data: Int32Array.of(4, 2), shape: [2] } });

  it('a good file runs (control)', async () => {
    const out = await decodeOnnx(good()).run(feeds());
    expect(out.Y.shape).toEqual([4, 1, 2, H]);
  });

  it('not protobuf', async () => {
    const path = join(tmp, 'text.onnx');
    writeFileSync(path, '{"this": "is JSON, not an ONNX protobuf"}\n');
    await expect(loadOnnx(path)).rejects.toThrow(/Not a valid ONNX model/);
    expect(() => decodeOnnx(new Uint8Array(0))).toThrow(/empty/);
    expect(() => decodeOnnx(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(/Not a valid ONNX model/);
  });

  it('truncated', async () => {
    const bytes = encodeOnnx(new RNN({ inputSize: 4, hiddenSize: 8, numLayers: 2, seed: 1 }));
    for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 7]) {
      expect(() => decodeOnnx(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(/Not a valid ONNX model/);
    }
  });

  it('unsupported operator (Conv)', () => {
    const bytes = modelBytes({
      nodes: [{ opType: 'Conv', name: 'conv1', input: ['X', 'K'], output: ['Y'] }],
      inputs: [tensorInfo('X', DataType.FLOAT, [1, 1, 4, 4])],
      outputs: [tensorInfo('Y', DataType.FLOAT, [1, 1, 2, 2])],
      initializers: [floatTensorProto('K', [1, 1, 3, 3], new Float32Array(9))],
    });
    expect(() => decodeOnnx(bytes)).toThrow(/Unsupported operator 'Conv' \(Conv node 'conv1'\)/);
  });

  it('unsupported operator domain', () => {
    const bytes = modelBytes({
      nodes: [{ opType: 'FusedRNN', domain: 'com.microsoft', input: ['X'], output: ['Y'] }],
      inputs: [tensorInfo('X', DataType.FLOAT, [1])],
      outputs: [tensorInfo('Y', DataType.FLOAT, [1])],
    });
    expect(() => decodeOnnx(bytes)).toThrow(/Unsupported operator com\.microsoft\.FusedRNN/);
  });

  it('unsupported attribute value (direction=sideways) and unknown attribute', () => {
    const sideways = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('hidden_size', H), attribute('direction', 'sideways')] });
    expect(() => decodeOnnx(sideways)).toThrow(/Unsupported value "sideways" of attribute 'direction' on RNN node 'rnn'/);
    const gelu = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('activations', ['Gelu'])] });
    expect(() => decodeOnnx(gelu)).toThrow(/"Gelu" of attribute 'activations'/);
    const twoActs = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('activations', ['Tanh', 'Tanh'])] });
    expect(() => decodeOnnx(twoActs)).toThrow(/1 activation \(one per direction/);
    const layout2 = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('layout', 2)] });
    expect(() => decodeOnnx(layout2)).toThrow(/value 2 of attribute 'layout'/);
    const extra = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('output_sequence', 1)] });
    expect(() => decodeOnnx(extra)).toThrow(/Unsupported attribute 'output_sequence' on RNN node 'rnn'/);
    const wrongType = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('hidden_size', 3.5, 'float')] });
    expect(() => decodeOnnx(wrongType)).toThrow(/attribute 'hidden_size'.*expected type INT but the file has FLOAT/);
  });

  it('wrong initializer size', () => {
    const bytes = modelBytes({
      nodes: [{ opType: 'RNN', input: ['X', 'W', 'R'], output: ['Y'], attribute: [attribute('hidden_size', H)] }],
      inputs: [tensorInfo('X', DataType.FLOAT, [1, 1, I])],
      outputs: [tensorInfo('Y', DataType.FLOAT, [1, 1, 1, H])],
      initializers: [floatTensorProto('W', [1, H, I], w.W.subarray(1)), floatTensorProto('R', [1, H, H], w.R)],
    });
    const err = (() => { try { decodeOnnx(bytes); } catch (e) { return e as Error; } return null; })();
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.message).toMatch(/initializer 'W'.raw_data but received 20 bytes/);
    const fd = modelBytes({
      nodes: [{ opType: 'Identity', input: ['c'], output: ['Y'] }],
      inputs: [],
      outputs: [tensorInfo('Y', DataType.FLOAT, [2, 2])],
      initializers: [{ name: 'c', dims: [2, 2], dataType: DataType.FLOAT, floatData: [1, 2, 3] }],
    });
    expect(() => decodeOnnx(fd)).toThrow(/initializer 'c'.float_data but received 3 elements/);
  });

  it('a weight whose shape disagrees with hidden_size fails at run time naming the input', async () => {
    const bad = rnnNodeModel({ D: 1, H, I, weights: w, attrs: [attribute('hidden_size', H + 1)], seqLens: true });
    await expect(decodeOnnx(bad).run(feeds())).rejects.toThrow(/Invalid input W of RNN node 'rnn': expected shape \[1, 4, 2\] but received \[1, 3, 2\]/);
  });

  it('unsupported data type', () => {
    const bytes = modelBytes({
      nodes: [{ opType: 'Identity', input: ['c'], output: ['Y'] }],
      inputs: [],
      outputs: [tensorInfo('Y', DataType.FLOAT, [2])],
      initializers: [{ name: 'c', dims: [2], dataType: 11, doubleData: [1, 2] }],
    });
    expect(() => decodeOnnx(bytes)).toThrow(/Unsupported data type DOUBLE of tensor initializer 'c'/);
  });

  it('missing input feed', async () => {
    const m = decodeOnnx(good());
    await expect(m.run({ X: feeds().X })).rejects.toThrow(/a tensor for the input 'sequence_lens'/);
    await expect(m.run({ ...feeds(), extra: feeds().X })).rejects.toThrow(/unknown input 'extra'/);
  });

  it('feed of the wrong shape or dtype', async () => {
    const m = decodeOnnx(good());
    const f = feeds();
    await expect(m.run({ ...f, X: { data: new Float32Array(4 * 2 * 3), shape: [4, 2, 3] } })).rejects.toThrow(/shape \[T, N, 2\] for feeds\.X\.shape but received \[4, 2, 3\]/);
    await expect(m.run({ ...f, X: { data: new Float32Array(8), shape: [4, 2] } })).rejects.toThrow(RangeError);
    await expect(m.run({ ...f, X: { data: new Float32Array(5), shape: [4, 2, 2] } })).rejects.toThrow(/16 elements for shape \[4, 2, 2\]/);
    await expect(m.run({ ...f, sequence_lens: { data: Int32Array.of(4, 2, 1), shape: [3] } })).rejects.toThrow(/axis 0 \('N'\) to be 2/);
    await expect(m.run({ ...f, sequence_lens: { data: Float32Array.of(4, 2), shape: [2] } })).rejects.toThrow(/Int32Array \(int32\) for feeds\.sequence_lens\.data/);
    await expect(m.run({ ...f, X: { data: new Int32Array(16), shape: [4, 2, 2] } })).rejects.toThrow(TypeError);
    await expect(m.run({ ...f, sequence_lens: { data: Int32Array.of(5, 2), shape: [2] } })).rejects.toThrow(/Invalid value 5 at index 0 of input sequence_lens.*0\.\.4/);
  });

  it('graphs with dangling inputs or unsupported opsets', () => {
    const dangling = modelBytes({ nodes: [{ opType: 'Identity', input: ['nowhere'], output: ['Y'] }], inputs: [], outputs: [tensorInfo('Y', DataType.FLOAT, [1])] });
    expect(() => decodeOnnx(dangling)).toThrow(/input 'nowhere' of Identity node #0 is not a graph input/);
    const old = modelBytes({ nodes: [], inputs: [tensorInfo('X', DataType.FLOAT, [1])], outputs: [tensorInfo('X', DataType.FLOAT, [1])], opset: 6 });
    expect(() => decodeOnnx(old)).toThrow(/Unsupported opset 6/);
  });
});
