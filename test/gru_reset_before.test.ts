// The GRU with the reset gate before the recurrent product (`new GRU({ resetAfter: false })`,
// Keras reset_after=False, ONNX linear_before_reset=0): its option and configuration, repr,
// spec and model files; the native cell (cell 3) against the float64 reference (itself checked
// against onnx's GRU_Helper and finite differences in gated_reference.test.ts) on random and
// team-sized shapes at 1 and 2 threads, against the onnx fixtures through the module, model
// files and fit.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, buildModel, decodeModel, encodeModel, Embedding, fit, getNumThreads, GRU, LastStep, Linear, loadModel, LSTM, modelSpec, RNN, Rng,
  rnnConfig, RnnStream, Sequential, setNumThreads, tensor, type SequenceDataset, type Tensor,
} from '../src/index.js';
import { moduleFromSpec, specParameterShapes } from '../src/io/registry.js';
import { native } from '../src/native/binding.js';
import { rnnParameterShapes, type RnnConfig } from '../src/nn/rnn_config.js';
import { rnnBackward, rnnForward } from '../src/nn/rnn_functional.js';
import { referenceGatedBackward, referenceGatedForward, type ReferenceGatedConfig } from '../src/reference/gated_reference.js';
import { KERNELS, supported } from './helpers/step_kernels.js';
import { makeRng, type Rng as TestRng } from './helpers/random.js';
import { maxRelError, type FixtureTensor } from './helpers/torch_fixtures.js';

// These shapes were sized to run on the thread team (layer calls of at least 2^23 multiply-adds,
// every step split); the defaults now keep calls below 2^26, and steps below 2^19, on one thread.
native.setSoloThresholds(1 << 23, 0);

// As in gated_native.test.ts: float32-exact inputs, so the difference is float32 arithmetic (and
// the clamped rational tanh, ~1e-7); a wrong gate block, bias or step is 1e-2+.
const TOL = 5e-5;

let threads = 1;
beforeAll(() => {
  threads = getNumThreads();
});
afterAll(() => {
  setNumThreads(threads);
});

describe('GRU resetAfter: option, configuration, repr, spec', () => {
  it('defaults to true (PyTorch\'s cell), always present in a GRU configuration, absent elsewhere', () => {
    expect(rnnConfig({ inputSize: 2, hiddenSize: 3 }, 'GRU').resetAfter).toBe(true);
    expect(rnnConfig({ inputSize: 2, hiddenSize: 3, resetAfter: false }, 'GRU').resetAfter).toBe(false);
    expect(new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false, seed: 1 }).config.resetAfter).toBe(false);
    expect(new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 }).config.resetAfter).toBe(true);
    expect('resetAfter' in rnnConfig({ inputSize: 2, hiddenSize: 3 }, 'LSTM')).toBe(false);
    expect('resetAfter' in rnnConfig({ inputSize: 2, hiddenSize: 3 })).toBe(false);
    // A configuration (less its nonlinearity) spreads back into options.
    const { nonlinearity: _tanh, ...cfg } = rnnConfig({ inputSize: 2, hiddenSize: 3, resetAfter: false }, 'GRU');
    expect(new GRU({ ...cfg, seed: 1 }).config.resetAfter).toBe(false);
  });

  it('is refused for an RNN or LSTM (RangeError naming options.resetAfter) and must be a boolean', () => {
    for (const v of [true, false]) {
      expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, resetAfter: v })).toThrow(RangeError);
      expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, resetAfter: v })).toThrow(/options\.resetAfter.*LSTM/);
      expect(() => new RNN({ inputSize: 2, hiddenSize: 3, resetAfter: v } as never)).toThrow(RangeError);
      expect(() => new RNN({ inputSize: 2, hiddenSize: 3, resetAfter: v } as never)).toThrow(/options\.resetAfter.*RNN/);
    }
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: 0 as never })).toThrow(TypeError);
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: 'false' as never })).toThrow(/resetAfter/);
  });

  it('the repr says reset_after=False only when false', () => {
    expect(new GRU({ inputSize: 3, hiddenSize: 5, seed: 1 }).toString()).toBe('GRU(3, 5)');
    expect(new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: true, seed: 1 }).toString()).toBe('GRU(3, 5)');
    expect(new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false, seed: 1 }).toString())
      .toBe('GRU(3, 5, num_layers=2, bidirectional=True, reset_after=False)');
  });

  it('the same parameter names and shapes as PyTorch\'s GRU', () => {
    const a = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false, seed: 1 });
    const b = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 1 });
    expect(a.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(b.namedParameters().map(([n, p]) => [n, p.shape]));
    // Same seed, same draw: only the cell differs.
    expect(a.stateDict()).toEqual(b.stateDict());
  });

  it('the spec records resetAfter: false; PyTorch\'s cell leaves it out; a spec without it builds resetAfter true', () => {
    const before = new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: false, seed: 1 });
    expect(before.toSpec()).toEqual({
      type: 'GRU', config: { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, bidirectional: false, dropout: 0, resetAfter: false },
    });
    const after = new GRU({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const afterConfig = after.toSpec().config as Record<string, unknown>;
    expect(after.toSpec()).toEqual({
      type: 'GRU', config: { inputSize: 3, hiddenSize: 5, numLayers: 1, bias: true, batchFirst: false, bidirectional: false, dropout: 0 },
    });
    expect((moduleFromSpec(before.toSpec()) as GRU).config.resetAfter).toBe(false);
    expect((moduleFromSpec(after.toSpec()) as GRU).config.resetAfter).toBe(true);
    expect((moduleFromSpec({ ...after.toSpec(), config: { ...afterConfig, resetAfter: true } }) as GRU).config.resetAfter).toBe(true);
    expect(specParameterShapes(before.toSpec())).toEqual(specParameterShapes(after.toSpec()));
    // A bad value in a spec is named.
    expect(() => moduleFromSpec({ type: 'GRU', config: { ...afterConfig, resetAfter: 1 } })).toThrow(/resetAfter/);
    expect(() => moduleFromSpec({ type: 'LSTM', config: { inputSize: 3, hiddenSize: 5, resetAfter: false } })).toThrow(/resetAfter/);
  });

  it('model bytes round trip as a reset-before GRU, bare and in a Sequential (weights bit-identical)', () => {
    const bare = new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, resetAfter: false, seed: 5 });
    const back = decodeModel(encodeModel(bare), 'bytes', { expect: GRU }).model;
    expect(back.config.resetAfter).toBe(false);
    expect(back.toString()).toBe(bare.toString());
    expect(back.stateDict()).toEqual(bare.stateDict());
    const head = new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, resetAfter: false, seed: 6 }), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 1, seed: 7 })]);
    const rebuilt = buildModel(modelSpec(head)) as Sequential;
    expect((rebuilt.layers[0] as GRU).config.resetAfter).toBe(false);
    const loaded = decodeModel(encodeModel(head), 'bytes', { expect: Sequential }).model;
    expect((loaded.layers[0] as GRU).config.resetAfter).toBe(false);
    expect(loaded.toString()).toContain('reset_after=False');
  });
});

interface Case {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  bidirectional: boolean;
  batchFirst: boolean;
  T: number;
  B: number;
  /** Per-row lengths (any order), or null for all T. */
  lengths: number[] | null;
  /** h0 given (else zeros). */
  state: boolean;
  /** ghN given to backward (else only gy). */
  ghN: boolean;
}

const refConfig = (c: Case): ReferenceGatedConfig => ({
  mode: 'GRU', resetAfter: false, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bias: c.bias, bidirectional: c.bidirectional, batchFirst: c.batchFirst,
});
const f32 = (n: number, rng: TestRng, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Run {
  cfg: RnnConfig;
  weights: Record<string, Tensor>;
  x: Tensor;
  h0: Tensor | undefined;
  gy: Tensor;
  ghN: Tensor | undefined;
}

function makeRun(c: Case, seed: number): Run {
  const rng = makeRng(seed);
  const cfg = rnnConfig({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bias: c.bias, bidirectional: c.bidirectional, batchFirst: c.batchFirst, resetAfter: false }, 'GRU');
  const k = 1 / Math.sqrt(c.hiddenSize);
  const weights = Object.fromEntries(rnnParameterShapes(cfg).map(([name, shape]) => [name, { data: Float32Array.from({ length: size(shape) }, () => (rng.uniform() * 2 - 1) * k * 2), shape }]));
  const D = c.bidirectional ? 2 : 1;
  const state = [c.numLayers * D, c.B, c.hiddenSize];
  const xShape = c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize];
  const yShape = c.batchFirst ? [c.B, c.T, D * c.hiddenSize] : [c.T, c.B, D * c.hiddenSize];
  return {
    cfg, weights,
    x: { data: f32(size(xShape), rng), shape: xShape },
    h0: c.state ? { data: f32(size(state), rng, 0.5), shape: state } : undefined,
    gy: { data: f32(size(yShape), rng), shape: yShape },
    ghN: c.ghN ? { data: f32(size(state), rng), shape: state } : undefined,
  };
}

function runNative(c: Case, r: Run) {
  const fwd = rnnForward(r.cfg, r.weights, r.x, { h0: r.h0, seqLengths: c.lengths ?? undefined });
  const grads = Object.fromEntries(rnnParameterShapes(r.cfg).map(([k, s]) => [k, new Float32Array(size(s))]));
  const back = rnnBackward(fwd.tape, { gy: r.gy, ghN: r.ghN }, grads);
  return { y: fwd.y.data, hN: fwd.hN.data, cN: fwd.cN, gx: back.gx!.data, gh0: back.gh0.data, gc0: back.gc0, grads };
}

function compare(c: Case, r: Run, got: ReturnType<typeof runNative>, tol = TOL): void {
  const w64 = Object.fromEntries(Object.entries(r.weights).map(([k, v]) => [k, Float64Array.from(v.data)]));
  const d = (t: Tensor | undefined) => (t ? Float64Array.from(t.data) : null);
  const ref = referenceGatedForward(refConfig(c), w64, Float64Array.from(r.x.data), c.T, c.B, { h0: d(r.h0), seqLengths: c.lengths });
  const g = referenceGatedBackward(ref.cache, { gy: d(r.gy), ghN: d(r.ghN) });
  expect(got.cN).toBeUndefined();
  expect(got.gc0).toBeUndefined();
  expect(maxRelError(got.y, ref.y), 'y').toBeLessThan(tol);
  expect(maxRelError(got.hN, ref.hN), 'hN').toBeLessThan(tol);
  expect(maxRelError(got.gx, g.gx), 'gx').toBeLessThan(tol);
  expect(maxRelError(got.gh0, g.gh0), 'gh0').toBeLessThan(tol);
  for (const name of Object.keys(r.weights)) expect(maxRelError(got.grads[name], g.grads[name]), name).toBeLessThan(tol);
}

function label(c: Case, i: number | string): string {
  return `#${i} T${c.T} B${c.B} I${c.inputSize} H${c.hiddenSize} L${c.numLayers}` +
    `${c.bidirectional ? ' bi' : ''}${c.bias ? '' : ' nobias'}${c.batchFirst ? ' batchFirst' : ''}${c.lengths ? ` lengths [${c.lengths.join(',')}]` : ''}` +
    `${c.state ? '' : ' zero-state'}${c.ghN ? ' ghN' : ''}`;
}

const base: Case = { inputSize: 5, hiddenSize: 7, numLayers: 1, bias: true, bidirectional: false, batchFirst: false, T: 6, B: 3, lengths: null, state: true, ghN: true };
// Every edge named once at least (odd sizes, H not a multiple of 32 and above it, B=1, T=1, H=1,
// I=1, unsorted lengths with 1 and T, bidirectional, 2-3 layers, no bias, batchFirst, h0 and ghN
// given or not), then random shapes.
const CASES: Case[] = [
  base,
  { ...base, state: false, ghN: false },
  { ...base, T: 1, B: 1 },
  { ...base, T: 1, bidirectional: true, numLayers: 2 },
  { ...base, B: 1, hiddenSize: 33, inputSize: 1 },
  { ...base, hiddenSize: 1, inputSize: 1, T: 4, B: 2 },
  { ...base, bias: false, bidirectional: true, lengths: [2, 6, 1] },
  { ...base, numLayers: 2, bidirectional: true, batchFirst: true, lengths: [6, 3, 5], state: false },
  { ...base, hiddenSize: 47, inputSize: 13, numLayers: 2, lengths: [1, 6, 4] },
  { ...base, hiddenSize: 64, inputSize: 9, B: 5, T: 9, bidirectional: true, lengths: [9, 2, 7, 1, 9] },
  { ...base, hiddenSize: 31, inputSize: 3, numLayers: 3, batchFirst: true, ghN: false },
  { ...base, hiddenSize: 65, inputSize: 17, B: 2, T: 3, bias: false, batchFirst: true, state: false, lengths: [3, 1] },
];

describe('native reset-before GRU (cell 3) vs the float64 reference', () => {
  const rng = makeRng(20261202);
  const pick = (n: number) => Math.floor(rng.uniform() * n);
  for (let i = 0; i < 10; i++) {
    const T = 1 + pick(10), B = 1 + pick(7);
    CASES.push({
      inputSize: 1 + pick(12), hiddenSize: 1 + pick(45), numLayers: 1 + pick(2), bias: rng.uniform() < 0.8, bidirectional: rng.uniform() < 0.5,
      batchFirst: rng.uniform() < 0.3, T, B, lengths: rng.uniform() < 0.5 ? Array.from({ length: B }, () => 1 + pick(T)) : null,
      state: rng.uniform() < 0.7, ghN: rng.uniform() < 0.7,
    });
  }
  for (const [i, c] of CASES.entries()) {
    it(label(c, i), () => {
      setNumThreads(1);
      const r = makeRun(c, 3000 + i);
      compare(c, r, runNative(c, r));
    });
  }

  it('a noGrad forward (no gate store) gives the same bits, on the team too', () => {
    for (const [i, c] of [CASES[7], CASES[9], { ...base, T: 5, B: 64, inputSize: 16, hiddenSize: 256, bidirectional: true, lengths: null }].entries()) {
      setNumThreads(2);
      const r = makeRun(c, 4000 + i);
      const opts = { h0: r.h0, seqLengths: c.lengths ?? undefined };
      const kept = rnnForward(r.cfg, r.weights, r.x, opts);
      const bare = rnnForward(r.cfg, r.weights, r.x, { ...opts, noGrad: true });
      expect(bare.y.data, label(c, i)).toEqual(kept.y.data);
      expect(bare.hN.data, label(c, i)).toEqual(kept.hN.data);
    }
  });

  it('differs from PyTorch\'s cell on the same weights (the flag reaches the kernel)', () => {
    const c = CASES[0];
    const r = makeRun(c, 3000);
    const before = rnnForward(r.cfg, r.weights, r.x, { h0: r.h0 }).hN.data;
    const after = rnnForward(rnnConfig({ inputSize: c.inputSize, hiddenSize: c.hiddenSize }, 'GRU'), r.weights, r.x, { h0: r.h0 }).hN.data;
    expect(maxRelError(before, after)).toBeGreaterThan(1e-3);
  });
});

// Team-sized: the layer runs on the thread team (and a bidirectional one as a pair at 2 threads).
const TEAM_CASES: Case[] = [
  { inputSize: 64, hiddenSize: 256, numLayers: 1, bias: true, bidirectional: false, batchFirst: false, T: 6, B: 64, lengths: null, state: true, ghN: true },
  { inputSize: 33, hiddenSize: 130, numLayers: 2, bias: true, bidirectional: true, batchFirst: true, T: 8, B: 17, lengths: [8, 3, 5, 8, 1, 7, 2, 6, 4, 8, 8, 2, 3, 5, 7, 1, 6], state: true, ghN: false },
  { inputSize: 50, hiddenSize: 300, numLayers: 1, bias: false, bidirectional: false, batchFirst: false, T: 5, B: 1, lengths: null, state: false, ghN: true },
];

describe('native reset-before GRU on the thread team, every step kernel, 1 and 2 threads', () => {
  afterAll(() => native.setStepKernel('auto'));
  for (const kernel of KERNELS) {
    for (const [i, c] of TEAM_CASES.entries()) {
      it.skipIf(!supported(kernel))(`${kernel}: ${label(c, i)}`, () => {
        native.setStepKernel(kernel);
        const r = makeRun(c, 700 + i);
        setNumThreads(1);
        const one = runNative(c, r);
        setNumThreads(2);
        const two = runNative(c, r);
        compare(c, r, two, 1e-4);
        expect(maxRelError(two.y, one.y)).toBeLessThan(1e-5);
        expect(maxRelError(two.gx, one.gx)).toBeLessThan(1e-5);
        expect(runNative(c, r).gx).toEqual(two.gx);
      });
    }
  }
});

describe('GRU({ resetAfter: false }) module vs onnx 1.12 GRU_Helper (test/fixtures/onnx-gru-reset-before)', () => {
  interface Fixture {
    name: string;
    config: { seqLen: number; batch: number; inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; bidirectional: boolean; batchFirst: boolean; seqLengths: number[] | null };
    inputs: { x: FixtureTensor; h0: FixtureTensor | null };
    weights: Record<string, FixtureTensor>;
    outputs: { y: FixtureTensor; hN: FixtureTensor };
  }
  const dir = fileURLToPath(new URL('./fixtures/onnx-gru-reset-before/', import.meta.url));
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture);
  const t = (f: FixtureTensor): Tensor => tensor(Float32Array.from(f.data), f.shape);
  for (const fx of fixtures) {
    it(`${fx.name}: sync and async`, async () => {
      const { seqLen: _T, batch: _B, seqLengths, ...options } = fx.config;
      const m = new GRU({ ...options, resetAfter: false, seed: 1 });
      m.loadStateDict(Object.fromEntries(Object.entries(fx.weights).map(([k, v]) => [k, t(v)])));
      const opts = { h0: fx.inputs.h0 ? t(fx.inputs.h0) : undefined, seqLengths: seqLengths ?? undefined };
      const out = m.forward(t(fx.inputs.x), opts);
      expect(maxRelError(out.y.data, fx.outputs.y.data)).toBeLessThan(2e-6);
      expect(maxRelError(out.hN.data, fx.outputs.hN.data)).toBeLessThan(2e-6);
      const again = await m.forwardAsync(t(fx.inputs.x), opts);
      expect(again.y.data).toEqual(out.y.data);
    });
  }
});

describe('GRU({ resetAfter: false }) in the library', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rnnblas-gru-rb-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a model file round trip computes the same outputs (bare, and in a Sequential with LastStep)', async () => {
    setNumThreads(1);
    const bare = new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, resetAfter: false, seed: 5 });
    await bare.save(join(dir, 'gru.safetensors'));
    const loaded = (await loadModel(join(dir, 'gru.safetensors'), { expect: GRU })).model;
    expect(loaded.config.resetAfter).toBe(false);
    const x = tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i)), [4, 2, 3]);
    expect(loaded.forward(x).y.data).toEqual(bare.forward(x).y.data);
    // PyTorch's cell with the same weights computes something else.
    const torchCell = new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 1 });
    torchCell.loadStateDict(bare.stateDict());
    expect(maxRelError(torchCell.forward(x).y.data, bare.forward(x).y.data)).toBeGreaterThan(1e-3);

    const head = new Sequential([new GRU({ inputSize: 3, hiddenSize: 6, resetAfter: false, seed: 6 }), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 1, seed: 7 })]);
    await head.save(join(dir, 'head.safetensors'));
    const back = (await loadModel(join(dir, 'head.safetensors'), { expect: Sequential })).model;
    expect((back.layers[0] as GRU).config.resetAfter).toBe(false);
    expect(back.forward(x).data).toEqual(head.forward(x).data);
  });

  it('async forward/backward give the same bits as sync; streaming step by step equals the whole sequence', async () => {
    setNumThreads(1);
    const make = () => new GRU({ inputSize: 3, hiddenSize: 9, numLayers: 2, bidirectional: true, resetAfter: false, seed: 11 });
    const x = tensor(Float32Array.from({ length: 7 * 4 * 3 }, (_, i) => Math.sin(0.7 * i)), [7, 4, 3]);
    const opts = { seqLengths: [7, 3, 1, 5] };
    const a = make();
    const b = make();
    const ya = a.forward(x, opts);
    const yb = await b.forwardAsync(x, opts);
    expect(yb.y.data).toEqual(ya.y.data);
    expect(yb.hN.data).toEqual(ya.hN.data);
    const ga = a.backward({ gy: ya.y, ghN: ya.hN });
    const gb = await b.backwardAsync({ gy: yb.y, ghN: yb.hN });
    expect(gb.gx!.data).toEqual(ga.gx!.data);
    expect(gb.gh0.data).toEqual(ga.gh0.data);
    expect(b.gradStateDict()).toEqual(a.gradStateDict());

    const uni = new GRU({ inputSize: 2, hiddenSize: 5, numLayers: 2, resetAfter: false, seed: 9 });
    const xs = Float32Array.from({ length: 6 * 2 }, (_, i) => Math.sin(i));
    const full = uni.forward(tensor(xs, [6, 1, 2])).y.data.slice();
    const stream = new RnnStream(uni);
    const got: number[] = [];
    for (let i = 0; i < 6; i++) got.push(...stream.step(tensor(xs.subarray(2 * i, 2 * i + 2), [1, 1, 2])).data);
    expect(maxRelError(Float32Array.from(got), full)).toBeLessThan(1e-5);
  });

  it('fit trains it (loss falls over a few epochs), with truncated BPTT carrying the state', async () => {
    setNumThreads(1);
    const V = 4;
    const rng = new Rng(7);
    const N = 64, T = 24, K = 2;
    const ids = new Int32Array(N * T).map(() => rng.int(V));
    const y = new Int32Array(N * T).map((_, i) => (i % T >= K ? ids[i - K] : -100));
    const data: SequenceDataset = { x: { data: ids, shape: [N, T] }, y: { data: y, shape: [N, T] } };
    const model = new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 8, seed: 1 }),
      new GRU({ inputSize: 8, hiddenSize: 24, numLayers: 2, resetAfter: false, seed: 2 }),
      new Linear({ inFeatures: 24, outFeatures: V, seed: 3 }),
    ]);
    const r = await fit(model, data, { loss: 'crossEntropy', optimizer: new Adam(model.parameters(), { lr: 0.02 }), epochs: 4, batchSize: 16, tbptt: 8, seed: 1 });
    const losses = r.history.map((h) => h.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 2);
  });
});
