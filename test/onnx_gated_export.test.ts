/**
 * LSTM and GRU modules through ONNX: export (standard LSTM/GRU nodes, gate blocks permuted, GRU
 * with linear_before_reset=1, or 0 for GRU({ resetAfter: false })) checked in onnxruntime-node and rnnblas' interpreter against the
 * module's own outputs; toLSTM()/toGRU() back to trainable modules; the graphs that do not
 * convert, each refused naming the node and the attribute; PyTorch-exported LSTM/GRU files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Embedding } from '../src/nn/embedding.js';
import { GRU } from '../src/nn/gru.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import { MergeDirections } from '../src/nn/merge.js';
import { Sequential } from '../src/nn/sequential.js';
import { decodeOnnx, encodeOnnx, loadOnnx } from '../src/onnx/index.js';
import { decodeModelProto, encodeModelProto } from '../src/onnx/proto.js';
import type { Tensor } from '../src/tensor.js';
import { attribute, maxAbsDiff, ortRun, randn, type FeedTensor } from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';
import { gatedFeeds, gatedNodeModel, randomGatedWeights } from './onnx_gated_helpers.js';

const TOL = 1e-5;

interface Case {
  mode: 'LSTM' | 'GRU';
  L: number;
  bi: boolean;
  bias: boolean;
  batchFirst: boolean;
  /** GRU: false for the reset-before cell (exported as linear_before_reset=0). */
  resetAfter?: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const mode of ['LSTM', 'GRU'] as const) {
    for (const L of [1, 2, 3]) for (const bi of [false, true]) out.push({ mode, L, bi, bias: true, batchFirst: false });
    out.push({ mode, L: 2, bi: true, bias: false, batchFirst: false });
    out.push({ mode, L: 1, bi: false, bias: true, batchFirst: true });
    out.push({ mode, L: 2, bi: true, bias: false, batchFirst: true });
  }
  for (const L of [1, 2]) for (const bi of [false, true]) out.push({ mode: 'GRU', L, bi, bias: true, batchFirst: false, resetAfter: false });
  out.push({ mode: 'GRU', L: 2, bi: true, bias: false, batchFirst: true, resetAfter: false });
  return out;
}

const name = (c: Case) => `${c.mode}${c.resetAfter === false ? ' resetAfter=false' : ''} L=${c.L} ${c.bi ? 'bi' : 'uni'}${c.bias ? '' : ' no bias'}${c.batchFirst ? ' batchFirst' : ''}`;
const build = (c: Case, seed: number) => {
  const o = { inputSize: 3, hiddenSize: 5, numLayers: c.L, bidirectional: c.bi, bias: c.bias, batchFirst: c.batchFirst, seed };
  return c.mode === 'LSTM' ? new LSTM(o) : new GRU({ ...o, resetAfter: c.resetAfter ?? true });
};

/** The module and its exported file (onnxruntime and rnnblas' interpreter) on the same inputs. */
async function compare(m: LSTM | GRU, seed: number, opts: { states: boolean; lens: boolean; T?: number; B?: number; opsetVersion?: number }) {
  const cfg = m.config;
  const lstm = cfg.mode === 'LSTM';
  const D = cfg.bidirectional ? 2 : 1;
  const T = opts.T ?? 6;
  const B = opts.B ?? 3;
  const rng = makeRng(seed);
  const xShape = cfg.batchFirst ? [B, T, cfg.inputSize] : [T, B, cfg.inputSize];
  const x = randn(rng, T * B * cfg.inputSize);
  const hShape = [cfg.numLayers * D, B, cfg.hiddenSize];
  const h0 = randn(rng, cfg.numLayers * D * B * cfg.hiddenSize, 0.5);
  const c0 = randn(rng, cfg.numLayers * D * B * cfg.hiddenSize, 0.5);
  const lens = Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + ((b * 5) % T)));
  const callOpts: { h0?: Tensor; c0?: Tensor; seqLengths?: Int32Array } = {};
  if (opts.states) callOpts.h0 = { data: h0, shape: hShape };
  if (opts.states && lstm) callOpts.c0 = { data: c0, shape: hShape };
  if (opts.lens) callOpts.seqLengths = lens;
  const ref = (m as LSTM).forward({ data: x, shape: xShape }, callOpts);
  const bytes = encodeOnnx(m, { sequenceLens: opts.lens, initialH: opts.states, opsetVersion: opts.opsetVersion });
  const feeds: Record<string, FeedTensor> = { X: { data: x, shape: xShape } };
  if (opts.lens) feeds.sequence_lens = { data: lens, shape: [B] };
  if (opts.states) feeds.initial_h = { data: h0, shape: hShape };
  if (opts.states && lstm) feeds.initial_c = { data: c0, shape: hShape };
  const ort = await ortRun(bytes, feeds);
  const own = await decodeOnnx(bytes).run(feeds);
  const want: Record<string, Tensor> = { Y: ref.y, Y_h: ref.hN };
  if (lstm) want.Y_c = ref.cN;
  expect(Object.keys(ort).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) {
    expect(ort[k].shape, k).toEqual([...v.shape]);
    expect(own[k].shape, k).toEqual([...v.shape]);
    expect(maxAbsDiff(ort[k].data, v.data), `${k} vs onnxruntime`).toBeLessThan(TOL);
    expect(maxAbsDiff(own[k].data, v.data), `${k} vs rnnblas' interpreter`).toBeLessThan(TOL);
  }
  return bytes;
}

describe('LSTM/GRU export runs in onnxruntime with the module\'s outputs', () => {
  cases().forEach((c, i) => {
    it(name(c), async () => {
      const m = build(c, 10 + i).eval();
      for (const [states, lens] of [[false, false], [true, false], [false, true], [true, true]]) await compare(m, 100 + i, { states, lens });
    });
  });

  it('writes standard nodes: LSTM with default activations, GRU with linear_before_reset=1', () => {
    const lstm = decodeModelProto(encodeOnnx(new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 1 })));
    const node = lstm.graph!.node!.find((n) => n.opType === 'LSTM')!;
    expect(node.attribute!.map((a) => a.name)).toEqual(['hidden_size', 'direction']);
    expect(lstm.graph!.output!.map((o) => o.name)).toEqual(['Y', 'Y_h', 'Y_c']);
    const gru = decodeModelProto(encodeOnnx(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 })));
    const g = gru.graph!.node!.find((n) => n.opType === 'GRU')!;
    expect(g.attribute!.find((a) => a.name === 'linear_before_reset')!.i).toBe(1);
    expect(gru.graph!.output!.map((o) => o.name)).toEqual(['Y', 'Y_h']);
    // The reset-before GRU: linear_before_reset=0, written out (it is also ONNX's default).
    const rb = decodeModelProto(encodeOnnx(new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false, seed: 1 })));
    const n = rb.graph!.node!.find((x) => x.opType === 'GRU')!;
    expect(n.attribute!.map((a) => a.name)).toEqual(['hidden_size', 'direction', 'linear_before_reset']);
    expect(Number(n.attribute!.find((a) => a.name === 'linear_before_reset')!.i)).toBe(0);
  });

  it('every export opset (11, 14, 22), T=1 and long T', async () => {
    for (const [mode, resetAfter] of [['LSTM', undefined], ['GRU', true], ['GRU', false]] as const) {
      const m = build({ mode, L: 2, bi: true, bias: true, batchFirst: false, resetAfter }, 3).eval();
      for (const opsetVersion of [11, 14, 22]) await compare(m, 7, { states: true, lens: true, opsetVersion });
      await compare(m, 8, { states: true, lens: false, T: 1 });
      await compare(m, 9, { states: false, lens: true, T: 40, B: 2 });
    }
  });
});

describe('LSTM/GRU inside Sequential', () => {
  it('LSTM -> LastStep -> Linear and Embedding -> GRU -> MergeDirections -> Linear, with sequence_lens and initial states', async () => {
    for (const batchFirst of [false, true]) {
      const rng = makeRng(batchFirst ? 2 : 1);
      const T = 5;
      const B = 3;
      const lens = Int32Array.of(5, 2, 4);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst, seed: 3 });
      const a = new Sequential([lstm, new LastStep({ directions: 2, batchFirst }), new Linear({ inFeatures: 8, outFeatures: 2, seed: 4 })]).eval();
      const xShape = batchFirst ? [B, T, 3] : [T, B, 3];
      const x = { data: randn(rng, T * B * 3), shape: xShape };
      const h = { data: randn(rng, 4 * B * 4, 0.5), shape: [4, B, 4] };
      const c = { data: randn(rng, 4 * B * 4, 0.5), shape: [4, B, 4] };
      const ref = a.forward(x, { seqLengths: lens, h0: [{ h, c }] });
      const bytes = encodeOnnx(a, { sequenceLens: true, initialH: true });
      const feeds = { X: x, sequence_lens: { data: lens, shape: [B] }, initial_h: h, initial_c: c };
      const ort = await ortRun(bytes, feeds);
      const own = await decodeOnnx(bytes).run(feeds);
      expect(ort.Y.shape).toEqual([...ref.shape]);
      expect(maxAbsDiff(ort.Y.data, ref.data), `LSTM Sequential batchFirst=${batchFirst} vs onnxruntime`).toBeLessThan(TOL);
      expect(maxAbsDiff(own.Y.data, ref.data)).toBeLessThan(TOL);

      const gru = new GRU({ inputSize: 4, hiddenSize: 3, bidirectional: true, batchFirst, seed: 5 });
      const b = new Sequential([new Embedding({ numEmbeddings: 7, embeddingDim: 4, seed: 6 }), gru, new MergeDirections('sum'), new Linear({ inFeatures: 3, outFeatures: 2, seed: 7 })]).eval();
      const ids = { data: Int32Array.from({ length: T * B }, (_, i) => (i * 3) % 7), shape: batchFirst ? [B, T] : [T, B] };
      const h0 = { data: randn(rng, 2 * B * 3, 0.5), shape: [2, B, 3] };
      const refB = b.forward(ids, { h0: [h0] });
      const bytesB = encodeOnnx(b, { initialH: true });
      const feedsB = { X: ids, initial_h: h0 };
      const ortB = await ortRun(bytesB, feedsB);
      expect(maxAbsDiff(ortB.Y.data, refB.data), `GRU Sequential batchFirst=${batchFirst} vs onnxruntime`).toBeLessThan(TOL);
      expect(maxAbsDiff((await decodeOnnx(bytesB).run(feedsB)).Y.data, refB.data)).toBeLessThan(TOL);
    }
  });

  it('two recurrent layers get initial_h_<j> and initial_c_<j>', async () => {
    const rng = makeRng(9);
    const m = new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }), new LSTM({ inputSize: 3, hiddenSize: 4, seed: 2 })]).eval();
    const bytes = encodeOnnx(m, { initialH: true });
    const model = decodeOnnx(bytes);
    expect(model.inputs.map((i) => i.name)).toEqual(['X', 'initial_h_0', 'initial_h_1', 'initial_c_1']);
    const x = { data: randn(rng, 4 * 2 * 2), shape: [4, 2, 2] };
    const g0 = { data: randn(rng, 2 * 3), shape: [1, 2, 3] };
    const h1 = { data: randn(rng, 2 * 4), shape: [1, 2, 4] };
    const c1 = { data: randn(rng, 2 * 4), shape: [1, 2, 4] };
    const ref = m.forward(x, { h0: [g0, { h: h1, c: c1 }] });
    const feeds = { X: x, initial_h_0: g0, initial_h_1: h1, initial_c_1: c1 };
    expect(maxAbsDiff((await ortRun(bytes, feeds)).Y.data, ref.data)).toBeLessThan(TOL);
  });
});

describe('toLSTM / toGRU', () => {
  it('rebuild every exported configuration with its weights and outputs', async () => {
    for (const [i, c] of cases().entries()) {
      const m = build(c, 50 + i);
      const model = decodeOnnx(encodeOnnx(m, { sequenceLens: true, initialH: true }));
      const back = c.mode === 'LSTM' ? model.toLSTM() : model.toGRU();
      expect(back).toBeInstanceOf(c.mode === 'LSTM' ? LSTM : GRU);
      expect(back.config).toMatchObject({ mode: c.mode, inputSize: 3, hiddenSize: 5, numLayers: c.L, bidirectional: c.bi, bias: c.bias, batchFirst: c.batchFirst });
      expect(back.config.resetAfter, name(c)).toBe(c.mode === 'GRU' ? c.resetAfter ?? true : undefined);
      const a = m.stateDict();
      const b = back.stateDict();
      expect(Object.keys(b), name(c)).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) expect(Array.from(b[k].data), `${name(c)} ${k}`).toEqual(Array.from(a[k].data));
    }
  });

  it('converts hand-built ONNX nodes (ONNX gate order) into modules with the node\'s outputs, layout 1 as batchFirst', async () => {
    const T = 5, B = 3, I = 3, H = 4;
    const lens = [5, 2, 4];
    for (const [op, lbr] of [['LSTM', null], ['GRU', 1], ['GRU', 0], ['GRU', 'default']] as const) {
      for (const layout of [0, 1] as const) {
        for (const direction of ['forward', 'bidirectional'] as const) {
          const D = direction === 'bidirectional' ? 2 : 1;
          const rng = makeRng(layout * 10 + D);
          const weights = randomGatedWeights(rng, op, D, H, I);
          if (op === 'LSTM') weights.P = new Float32Array(D * 3 * H); // all-zero peepholes convert
          const attrs = [attribute('hidden_size', H), attribute('direction', direction)];
          // linear_before_reset 0, given or by default, is GRU({ resetAfter: false }).
          if (typeof lbr === 'number') attrs.push(attribute('linear_before_reset', lbr));
          if (layout === 1) attrs.push(attribute('layout', 1));
          const bytes = gatedNodeModel({ op, D, H, I, weights, attrs, layout, seqLens: true, initialH: true, initialC: op === 'LSTM' });
          const model = decodeOnnx(bytes);
          const m = op === 'LSTM' ? model.toLSTM() : model.toGRU();
          expect(m.config.batchFirst).toBe(layout === 1);
          expect(m.config.resetAfter).toBe(op === 'LSTM' ? undefined : lbr === 1);
          const feeds = gatedFeeds(rng, { T, B, I, H, D, lens, h0: true, c0: op === 'LSTM', layout });
          // [P,Q,H] -> [Q,P,H]: ONNX layout 1 has states [B,D,H]; module states are [L*D,B,H] whatever batchFirst is.
          const swap = (t: FeedTensor, P: number, Q: number): Float32Array => {
            const out = new Float32Array(t.data.length);
            for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) out.set(t.data.subarray((p * Q + q) * H, (p * Q + q + 1) * H) as Float32Array, (q * P + p) * H);
            return out;
          };
          const st = (t: FeedTensor): Tensor => ({ data: layout === 1 ? swap(t, B, D) : (t.data as Float32Array), shape: [D, B, H] });
          const onnxFeeds = feeds;
          const own = await model.run(onnxFeeds);
          const r = (m as LSTM).forward(feeds.X as Tensor, op === 'LSTM' ? { h0: st(feeds.initial_h), c0: st(feeds.initial_c), seqLengths: lens } : { h0: st(feeds.initial_h), seqLengths: lens });
          // ONNX Y [T,D,B,H] (layout 0) or [B,T,D,H] (layout 1) vs the module's [T,B,D*H] / [B,T,D*H].
          const y = new Float32Array(r.y.data.length);
          for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) {
            const src = layout === 0 ? ((t * B + b) * D + d) * H : ((b * T + t) * D + d) * H;
            const dst = layout === 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H;
            y.set(r.y.data.subarray(src, src + H), dst);
          }
          const tag = `${op} linear_before_reset=${lbr} layout ${layout} ${direction}`;
          expect(maxAbsDiff(own.Y.data, y), `Y ${tag}`).toBeLessThan(TOL);
          const hN = layout === 1 ? swap({ data: r.hN.data, shape: [D, B, H] }, D, B) : r.hN.data;
          expect(maxAbsDiff(own.Y_h.data, hN), `Y_h ${tag}`).toBeLessThan(TOL);
        }
      }
    }
  });

  it('refuses nodes that are not one of rnnblas\' cells, naming the node and the attribute', () => {
    const rng = makeRng(3);
    const H = 3, I = 2;
    const lw = randomGatedWeights(rng, 'LSTM', 1, H, I);
    const gw = randomGatedWeights(rng, 'GRU', 1, H, I);
    const lstm = (attrs: ReturnType<typeof attribute>[], P: Float32Array | null = null) => decodeOnnx(gatedNodeModel({ op: 'LSTM', D: 1, H, I, weights: { ...lw, P }, attrs }));
    const gru = (attrs: ReturnType<typeof attribute>[]) => decodeOnnx(gatedNodeModel({ op: 'GRU', D: 1, H, I, weights: gw, attrs }));
    expect(() => gru([])).not.toThrow();
    // linear_before_reset=0 (the default) is GRU({ resetAfter: false }); clip is nobody's GRU.
    expect(gru([]).toGRU().config.resetAfter).toBe(false);
    expect(() => gru([attribute('linear_before_reset', 1), attribute('clip', 2, 'float')]).toGRU()).toThrow(/GRU node 'gru' is not one of rnnblas' GRU cells: clip=2/);
    expect(() => gru([attribute('clip', 2, 'float')]).toGRU()).toThrow(/GRU node 'gru' is not one of rnnblas' GRU cells: clip=2/);
    expect(() => gru([attribute('linear_before_reset', 1), attribute('activations', ['HardSigmoid', 'Tanh'])]).toGRU()).toThrow(/activations=\[HardSigmoid, Tanh\]/);
    expect(() => gru([attribute('linear_before_reset', 1), attribute('direction', 'reverse')]).toGRU()).toThrow(/GRU node 'gru' runs in reverse only/);
    expect(() => lstm([attribute('input_forget', 1)]).toLSTM()).toThrow(/LSTM node 'lstm' is not PyTorch's LSTM cell: input_forget=1/);
    expect(() => lstm([attribute('clip', 5, 'float')]).toLSTM()).toThrow(/clip=5/);
    expect(() => lstm([attribute('activations', ['Sigmoid', 'Tanh', 'Relu'])]).toLSTM()).toThrow(/activations=\[Sigmoid, Tanh, Relu\]/);
    expect(() => lstm([], Float32Array.of(0, 0, 0, 0.5, 0, 0, 0, 0, 0)).toLSTM()).toThrow(/LSTM node 'lstm' has peepholes \(input P is not all zero\)/);
    expect(() => lstm([], new Float32Array(9)).toLSTM()).not.toThrow();
    // A stack whose layers disagree on linear_before_reset is neither GRU.
    const stack = decodeModelProto(encodeOnnx(new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, resetAfter: false, seed: 1 })));
    const second = stack.graph!.node!.filter((n) => n.opType === 'GRU')[1];
    second.attribute!.find((x) => x.name === 'linear_before_reset')!.i = 1;
    expect(() => decodeOnnx(encodeModelProto(stack)).toGRU()).toThrow(/not a single GRU: GRU node '.*' has linear_before_reset=1 but the first layer 0/);
    // The other kind of graph.
    expect(() => gru([]).toLSTM()).toThrow(/not a single LSTM: it has no LSTM node \(it has GRU nodes: use toGRU\(\)\)/);
    expect(() => lstm([]).toRNN()).toThrow(/not a single Elman RNN: it has no RNN node \(it has LSTM nodes: use toLSTM\(\)\)/);
    expect(() => decodeOnnx(encodeOnnx(new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }))).toGRU()).toThrow(/use toLSTM\(\)/);
    // A head: not one module.
    const seq = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 }), new Linear({ inFeatures: 3, outFeatures: 1, seed: 2 })]);
    expect(() => decodeOnnx(encodeOnnx(seq)).toLSTM()).toThrow(/not a single LSTM: it computes with a MatMul node/);
  });
});

interface TorchFixture {
  name: string;
  config: { mode: 'LSTM' | 'GRU'; input_size: number; hidden_size: number; num_layers?: number; bias?: boolean; batch_first?: boolean; bidirectional?: boolean; head: string | null };
  weights: Record<string, { shape: number[]; data: number[] }>;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

describe('PyTorch-exported LSTM/GRU files (test/fixtures/onnx-gated-extra/torch)', () => {
  const dir = fileURLToPath(new URL('./fixtures/onnx-gated-extra/torch/', import.meta.url));
  const names = readdirSync(dir).filter((n) => n.endsWith('.onnx')).map((n) => n.slice(0, -5)).sort();
  it('finds the fixtures', () => expect(names.length).toBe(7));

  it.each(names)('%s runs, matches PyTorch and onnxruntime, and converts back', async (n) => {
    const fx = JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as TorchFixture;
    const path = join(dir, `${n}.onnx`);
    const model = await loadOnnx(path);
    expect(model.producerName).toBe('pytorch');
    const feeds: Record<string, FeedTensor> = {};
    for (const [k, v] of Object.entries(fx.inputs)) feeds[k] = { data: Float32Array.from(v.data), shape: v.shape };
    const own = await model.run(feeds);
    const ort = await ortRun(path, feeds);
    for (const [k, v] of Object.entries(fx.outputs)) {
      expect(own[k].shape, k).toEqual(v.shape);
      expect(maxAbsDiff(own[k].data, v.data), `${k} vs PyTorch`).toBeLessThan(TOL);
      expect(maxAbsDiff(own[k].data, ort[k].data), `${k} vs onnxruntime`).toBeLessThan(TOL);
    }
    const c = fx.config;
    const convert = () => (c.mode === 'LSTM' ? model.toLSTM() : model.toGRU());
    if (c.head !== null) {
      expect(convert).toThrow(new RegExp(`not a single ${c.mode}: it computes with a (Gemm|MatMul) node`));
      return;
    }
    const m = convert().eval();
    expect(m.config).toMatchObject({
      mode: c.mode, inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers ?? 1,
      bias: c.bias ?? true, batchFirst: c.batch_first ?? false, bidirectional: c.bidirectional ?? false,
    });
    const sd = m.stateDict();
    expect(Object.keys(sd).sort()).toEqual(Object.keys(fx.weights).sort());
    for (const [k, v] of Object.entries(fx.weights)) expect(Array.from(sd[k].data), k).toEqual(v.data);
    const opts: { h0?: Tensor; c0?: Tensor } = {};
    if (feeds.initial_h) opts.h0 = feeds.initial_h as Tensor;
    if (feeds.initial_c) opts.c0 = feeds.initial_c as Tensor;
    const r = (m as LSTM).forward(feeds.X as Tensor, opts);
    expect(maxAbsDiff(r.y.data, fx.outputs.Y.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(r.hN.data, fx.outputs.Y_h.data)).toBeLessThan(TOL);
    if (c.mode === 'LSTM') expect(maxAbsDiff(r.cN.data, fx.outputs.Y_c.data)).toBeLessThan(TOL);
  });
});
