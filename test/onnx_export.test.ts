/**
 * ONNX export: files written by encodeOnnx/exportOnnx run in onnxruntime-node
 * (and in rnnblas' own interpreter) and reproduce the rnnblas model's outputs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { MergeDirections, type MergeMode } from '../src/nn/merge.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import type { Layer } from '../src/nn/layer.js';
import { decodeOnnx, encodeOnnx, exportOnnx, loadOnnx } from '../src/onnx/index.js';
import { decodeModelProto, toNumber, type IGraphProto } from '../src/onnx/proto.js';
import { maxAbsDiff, ortRun, randn, type FeedTensor } from './helpers/onnx.js';
import { makeRng } from './helpers/random.js';

const TOL = 1e-5;
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-onnx-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RnnCase {
  L: number;
  bi: boolean;
  nl: 'tanh' | 'relu';
  bias: boolean;
  batchFirst: boolean;
}

function rnnCases(): RnnCase[] {
  const out: RnnCase[] = [];
  for (const L of [1, 2, 3]) for (const bi of [false, true]) for (const nl of ['tanh', 'relu'] as const) for (const bias of [true, false]) out.push({ L, bi, nl, bias, batchFirst: false });
  for (const L of [1, 2]) for (const bi of [false, true]) out.push({ L, bi, nl: 'tanh', bias: true, batchFirst: true });
  return out;
}

const caseName = (c: RnnCase) => `L=${c.L} ${c.bi ? 'bi' : 'uni'} ${c.nl} ${c.bias ? 'bias' : 'no bias'}${c.batchFirst ? ' batchFirst' : ''}`;

/** Runs the RNN and the exported file (onnxruntime and rnnblas' interpreter) on the same inputs; returns the worst differences. */
async function compareRnn(rnn: RNN, seed: number, opts: { h0: boolean; lens: boolean; T?: number; B?: number; opsetVersion?: number }) {
  const cfg = rnn.config;
  const D = cfg.bidirectional ? 2 : 1;
  const T = opts.T ?? 5;
  const B = opts.B ?? 3;
  const rng = makeRng(seed);
  const xShape = cfg.batchFirst ? [B, T, cfg.inputSize] : [T, B, cfg.inputSize];
  const x = randn(rng, T * B * cfg.inputSize);
  const hShape = [cfg.numLayers * D, B, cfg.hiddenSize];
  const h0 = randn(rng, cfg.numLayers * D * B * cfg.hiddenSize, 0.5);
  const lens = Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + ((b * 7) % T)));
  const ref = rnn.forward({ data: x, shape: xShape }, { h0: opts.h0 ? { data: h0, shape: hShape } : undefined, seqLengths: opts.lens ? lens : undefined });
  const bytes = encodeOnnx(rnn, { sequenceLens: opts.lens, initialH: opts.h0, opsetVersion: opts.opsetVersion });
  const feeds: Record<string, FeedTensor> = { X: { data: x, shape: xShape } };
  if (opts.lens) feeds.sequence_lens = { data: lens, shape: [B] };
  if (opts.h0) feeds.initial_h = { data: h0, shape: hShape };
  const ort = await ortRun(bytes, feeds);
  const own = await decodeOnnx(bytes).run(feeds);
  expect(ort.Y.shape).toEqual([...ref.y.shape]);
  expect(ort.Y_h.shape).toEqual([...ref.hN.shape]);
  expect(own.Y.shape).toEqual([...ref.y.shape]);
  expect(own.Y_h.shape).toEqual([...ref.hN.shape]);
  return {
    ortY: maxAbsDiff(ort.Y.data, ref.y.data),
    ortH: maxAbsDiff(ort.Y_h.data, ref.hN.data),
    ownY: maxAbsDiff(own.Y.data, ref.y.data),
    ownH: maxAbsDiff(own.Y_h.data, ref.hN.data),
  };
}

describe('RNN export runs in onnxruntime with the same outputs', () => {
  rnnCases().forEach((c, i) => {
    it(caseName(c), async () => {
      const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: c.L, bidirectional: c.bi, nonlinearity: c.nl, bias: c.bias, batchFirst: c.batchFirst, seed: 100 + i });
      rnn.eval();
      for (const [h0, lens] of [[false, false], [true, false], [false, true], [true, true]]) {
        const d = await compareRnn(rnn, 200 + i, { h0, lens });
        expect(d.ortY, `Y vs onnxruntime (h0=${h0}, lens=${lens})`).toBeLessThan(TOL);
        expect(d.ortH, `Y_h vs onnxruntime (h0=${h0}, lens=${lens})`).toBeLessThan(TOL);
        expect(d.ownY).toBeLessThan(TOL);
        expect(d.ownH).toBeLessThan(TOL);
      }
    });
  });

  it('keeps sequence and batch dynamic: one file runs at several T and B', async () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 7 }).eval();
    for (const [T, B] of [[1, 1], [7, 2], [3, 5]]) {
      const d = await compareRnn(rnn, T * 10 + B, { h0: true, lens: true, T, B });
      expect(Math.max(d.ortY, d.ortH, d.ownY, d.ownH)).toBeLessThan(TOL);
    }
  });

  it.each([11, 12, 13, 14, 15, 17, 19, 21, 22])('writes opset %i', async (opsetVersion) => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, seed: opsetVersion }).eval();
    const d = await compareRnn(rnn, opsetVersion, { h0: true, lens: true, opsetVersion });
    expect(Math.max(d.ortY, d.ortH, d.ownY, d.ownH)).toBeLessThan(TOL);
    const m = decodeModelProto(encodeOnnx(rnn, { opsetVersion }));
    expect(toNumber((m.opsetImport ?? [])[0].version)).toBe(opsetVersion);
  });

  it('exports the evaluation-mode graph of a model with dropout', async () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 3, dropout: 0.5, seed: 3 }).eval();
    const d = await compareRnn(rnn, 3, { h0: false, lens: false });
    expect(Math.max(d.ortY, d.ortH)).toBeLessThan(TOL);
  });
});

describe('graph structure', () => {
  it('has one RNN node per layer, weights as [D,H,I]/[D,H,H]/[D,2H] initializers, named dynamic axes', () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 3, bidirectional: true, seed: 1 });
    const m = decodeModelProto(encodeOnnx(rnn, { sequenceLens: true, initialH: true }));
    const g = m.graph as IGraphProto;
    const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
    const rnnNodes = (g.node ?? []).filter((n) => n.opType === 'RNN');
    expect(rnnNodes).toHaveLength(3);
    for (const n of rnnNodes) {
      const attrs = Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', a]));
      expect(toNumber(attrs.hidden_size.i)).toBe(4);
      expect(text(attrs.direction.s)).toBe('bidirectional');
      expect((attrs.activations.strings ?? []).map(text)).toEqual(['Tanh', 'Tanh']);
      expect((n.input ?? [])[4]).toBe('sequence_lens');
    }
    const shapes = Object.fromEntries((g.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map((d) => toNumber(d))]));
    expect(shapes.W_l0).toEqual([2, 4, 3]);
    expect(shapes.W_l1).toEqual([2, 4, 8]);
    expect(shapes.R_l2).toEqual([2, 4, 4]);
    expect(shapes.B_l2).toEqual([2, 8]);
    const inputs = g.input ?? [];
    expect(inputs.map((i) => i.name)).toEqual(['X', 'sequence_lens', 'initial_h']);
    expect((g.output ?? []).map((o) => o.name)).toEqual(['Y', 'Y_h']);
    const dims = (i: number) => inputs[i].type?.tensorType?.shape?.dim?.map((d) => d.dimParam || toNumber(d.dimValue));
    expect(dims(0)).toEqual(['sequence', 'batch', 3]);
    expect(dims(2)).toEqual([6, 'batch', 4]);
    expect(m.producerName).toBe('rnnblas');
  });

  it('stores B as [b_ih | b_hh] per direction and the reverse direction second', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 2 });
    const sd = rnn.stateDict();
    const m = decodeOnnx(encodeOnnx(rnn));
    const back = m.toRNN().stateDict();
    for (const k of Object.keys(sd)) expect(Array.from(back[k].data)).toEqual(Array.from(sd[k].data));
  });
});

describe('exportOnnx', () => {
  it('writes the file atomically (no temporary left, replaces an existing file) and loadOnnx reads it back', async () => {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, 'old contents');
    const rnn = new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, nonlinearity: 'relu', batchFirst: true, seed: 5 }).eval();
    await exportOnnx(rnn, path, { opsetVersion: 14 });
    expect(readdirSync(dir)).toEqual(['model.onnx']);
    expect(Buffer.compare(readFileSync(path), Buffer.from(encodeOnnx(rnn)))).toBe(0);
    const m = await loadOnnx(path);
    expect(m.inputs.map((i) => i.name)).toEqual(['X']);
    expect(m.outputs.map((o) => o.name)).toEqual(['Y', 'Y_h']);
    const back = m.toRNN();
    expect(back.config).toMatchObject({ inputSize: 3, hiddenSize: 5, numLayers: 2, nonlinearity: 'relu', batchFirst: true, bidirectional: false, bias: true });
    const x = { data: randn(makeRng(1), 4 * 2 * 3), shape: [2, 4, 3] };
    const a = rnn.forward(x);
    const b = back.eval().forward(x);
    expect(maxAbsDiff(a.y.data, b.y.data)).toBe(0);
    const r = await ortRun(path, { X: x as FeedTensor });
    expect(maxAbsDiff(r.Y.data, a.y.data)).toBeLessThan(TOL);
  });

  it('rejects bad arguments', async () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1 });
    expect(() => encodeOnnx(rnn, { opsetVersion: 10 })).toThrow(RangeError);
    expect(() => encodeOnnx(rnn, { opsetVersion: 23 })).toThrow(/opsetVersion/);
    expect(() => encodeOnnx(rnn, { layout: 1 } as never)).toThrow(/unknown option 'layout'/);
    expect(() => encodeOnnx({} as never)).toThrow(/an RNN or a Sequential/);
    await expect(exportOnnx(rnn, '')).rejects.toThrow(TypeError);
    await expect(exportOnnx(rnn, join(dir, 'missing-dir', 'x.onnx'))).rejects.toThrow(/ENOENT/);
  });
});

describe('Sequential export', () => {
  async function compareSequential(model: Sequential, x: { data: Float32Array | Int32Array; shape: number[] }, opts: { lens?: Int32Array; h0?: Array<{ data: Float32Array; shape: number[] }> }) {
    model.eval();
    const ref = model.forward(x as never, { seqLengths: opts.lens, h0: opts.h0 });
    const bytes = encodeOnnx(model, { sequenceLens: opts.lens !== undefined, initialH: opts.h0 !== undefined });
    const feeds: Record<string, FeedTensor> = { X: x };
    if (opts.lens) feeds.sequence_lens = { data: opts.lens, shape: [opts.lens.length] };
    opts.h0?.forEach((h, j) => {
      feeds[opts.h0?.length === 1 ? 'initial_h' : `initial_h_${j}`] = h;
    });
    const ort = await ortRun(bytes, feeds);
    const own = await decodeOnnx(bytes).run(feeds);
    expect(ort.Y.shape).toEqual([...ref.shape]);
    expect(own.Y.shape).toEqual([...ref.shape]);
    expect(maxAbsDiff(ort.Y.data, ref.data)).toBeLessThan(TOL);
    expect(maxAbsDiff(own.Y.data, ref.data)).toBeLessThan(TOL);
    return bytes;
  }

  const T = 6;
  const B = 4;
  const lens = Int32Array.from([6, 2, 4, 1]);

  it('RNN -> Linear (every step) as MatMul + Add', async () => {
    const model = new Sequential([new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1 }), new Linear({ inFeatures: 5, outFeatures: 2, seed: 2 })]);
    const x = { data: randn(makeRng(1), T * B * 3), shape: [T, B, 3] };
    const bytes = await compareSequential(model, x, {});
    const ops = (decodeModelProto(bytes).graph?.node ?? []).map((n) => n.opType);
    expect(ops).toContain('MatMul');
    expect(ops).toContain('Add');
    await compareSequential(model, x, { lens });
  });

  it('RNN -> LastStep -> Linear, with and without sequence_lens, uni and bi, time-major and batch-first', async () => {
    for (const bi of [false, true]) {
      for (const batchFirst of [false, true]) {
        const D = bi ? 2 : 1;
        const model = new Sequential([
          new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: bi, batchFirst, seed: 3 }),
          new LastStep({ directions: D as 1 | 2, batchFirst }),
          new Linear({ inFeatures: 4 * D, outFeatures: 3, seed: 4 }),
        ]);
        const x = { data: randn(makeRng(2), T * B * 3), shape: batchFirst ? [B, T, 3] : [T, B, 3] };
        await compareSequential(model, x, {});
        await compareSequential(model, x, { lens });
        const h0 = { data: randn(makeRng(3), D * B * 4, 0.5), shape: [D, B, 4] };
        await compareSequential(model, x, { lens, h0: [h0] });
      }
    }
  });

  it('Embedding -> RNN -> RNN -> MergeDirections -> Linear, with a state per RNN layer', async () => {
    for (const mode of ['concat', 'sum', 'mul', 'ave'] as MergeMode[]) {
      const model = new Sequential([
        new Embedding({ numEmbeddings: 10, embeddingDim: 3, seed: 5 }),
        new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 6 }),
        new RNN({ inputSize: 8, hiddenSize: 4, bidirectional: true, nonlinearity: 'relu', seed: 7 }),
        new MergeDirections({ mode }),
        new Linear({ inFeatures: mode === 'concat' ? 8 : 4, outFeatures: 2, bias: false, seed: 8 }),
      ]);
      const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % 10);
      const h0 = [
        { data: randn(makeRng(4), 2 * B * 4, 0.5), shape: [2, B, 4] },
        { data: randn(makeRng(5), 2 * B * 4, 0.5), shape: [2, B, 4] },
      ];
      await compareSequential(model, { data: ids, shape: [T, B] }, { lens, h0 });
    }
  });

  it('rejects layers it cannot export', () => {
    const custom: Layer = { forwardLayer: (x) => x as never, backwardLayer: () => null, parameters: () => [], train: () => undefined };
    expect(() => encodeOnnx(new Sequential([new RNN({ inputSize: 2, hiddenSize: 2 }), custom]))).toThrow(/layers\[1\] \(Object\).*supports RNN, Linear/);
    expect(() => encodeOnnx(new Sequential([new LastStep(), new Linear({ inFeatures: 2, outFeatures: 1 })]))).toThrow(/first layer must be/);
    expect(() => encodeOnnx(new Sequential([new RNN({ inputSize: 2, hiddenSize: 2 }), new Linear({ inFeatures: 3, outFeatures: 1 })]))).toThrow(/inFeatures/);
  });
});
