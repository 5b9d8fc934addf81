// The LSTM and GRU modules: PyTorch 1.13's float64 results (test/fixtures/torch-gated, which
// includes ../shared/fixtures/torch-gated) through the module API, and every library path that
// takes an RNN: Sequential, LastStep, fit with truncated BPTT carrying (h, c), streaming, model
// files, state dicts, and the errors a user meets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Embedding, GRU, LastStep, Linear, LSTM, RNN, RnnStream, Sequential, loadModel, fit, setNumThreads, getNumThreads, Adam, Rng, tensor,
  type Tensor, type SequenceDataset,
} from '../src/index.js';
import { loadGatedFixtures } from './helpers/gated_fixtures.js';
import { maxRelError, type FixtureTensor } from './helpers/torch_fixtures.js';

// As for RNN (rnn_fixtures.test.ts): float32 rounding is ~1e-7 on these sizes; a wrong gate
// block, transpose or step is 1e-2 or more.
const OUTPUT_TOL = 2e-6;
const GRAD_TOL = 5e-6;

const t = (f: FixtureTensor): Tensor => tensor(f.data, f.shape);

let threads = 1;
beforeAll(() => {
  threads = getNumThreads();
});
afterAll(() => {
  setNumThreads(threads);
});

describe('LSTM and GRU match PyTorch 1.13 on every fixture', () => {
  for (const fx of loadGatedFixtures()) {
    const c = fx.config;
    const make = (): LSTM | GRU => {
      const options = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional };
      const m = c.mode === 'LSTM' ? new LSTM(options) : new GRU(options);
      m.loadStateDict(Object.fromEntries(Object.entries(fx.weights).map(([k, v]) => [k, t(v)])));
      return m;
    };
    const state = { h0: fx.inputs.h0 ? t(fx.inputs.h0) : undefined, seqLengths: c.seqLengths ?? undefined };

    it(`${fx.name}: outputs, states and every gradient`, () => {
      const m = make();
      // The state dict is PyTorch's: the same names, order and shapes.
      expect(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape])).toEqual(Object.entries(fx.weights).map(([k, v]) => [k, v.shape]));
      const grads = { gy: t(fx.loss.gy), ghN: t(fx.loss.ghN) };
      if (m instanceof LSTM) {
        const out = m.forward(t(fx.inputs.x), { ...state, c0: fx.inputs.c0 ? t(fx.inputs.c0) : undefined });
        expect(maxRelError(out.y.data, fx.outputs.y.data)).toBeLessThan(OUTPUT_TOL);
        expect(maxRelError(out.hN.data, fx.outputs.hN.data)).toBeLessThan(OUTPUT_TOL);
        expect(maxRelError(out.cN.data, fx.outputs.cN!.data)).toBeLessThan(OUTPUT_TOL);
        const back = m.backward({ ...grads, gcN: t(fx.loss.gcN!) });
        expect(maxRelError(back.gx!.data, fx.gradients.x!.data)).toBeLessThan(GRAD_TOL);
        if (fx.gradients.h0) expect(maxRelError(back.gh0.data, fx.gradients.h0.data)).toBeLessThan(GRAD_TOL);
        if (fx.gradients.c0) expect(maxRelError(back.gc0.data, fx.gradients.c0.data)).toBeLessThan(GRAD_TOL);
      } else {
        const out = m.forward(t(fx.inputs.x), state);
        expect('cN' in out).toBe(false);
        expect(maxRelError(out.y.data, fx.outputs.y.data)).toBeLessThan(OUTPUT_TOL);
        expect(maxRelError(out.hN.data, fx.outputs.hN.data)).toBeLessThan(OUTPUT_TOL);
        const back = m.backward(grads);
        expect('gc0' in back).toBe(false);
        expect(maxRelError(back.gx!.data, fx.gradients.x!.data)).toBeLessThan(GRAD_TOL);
        if (fx.gradients.h0) expect(maxRelError(back.gh0.data, fx.gradients.h0.data)).toBeLessThan(GRAD_TOL);
      }
      const g = m.gradStateDict();
      for (const name of Object.keys(fx.weights)) expect(maxRelError(g[name].data, fx.gradients[name]!.data), name).toBeLessThan(GRAD_TOL);
    });

    it(`${fx.name}: async gives the same bits as sync`, async () => {
      const a = make();
      const b = make();
      const opts = { ...state, ...(fx.inputs.c0 ? { c0: t(fx.inputs.c0) } : {}) };
      const ra = a.forward(t(fx.inputs.x), opts);
      const rb = await b.forwardAsync(t(fx.inputs.x), opts);
      expect(rb.y.data).toEqual(ra.y.data);
      const grads = { gy: t(fx.loss.gy), ghN: t(fx.loss.ghN), ...(fx.loss.gcN ? { gcN: t(fx.loss.gcN) } : {}) };
      const ga = a.backward(grads);
      const gb = await b.backwardAsync(grads);
      expect(gb.gx!.data).toEqual(ga.gx!.data);
      for (const [k, v] of Object.entries(a.gradStateDict())) expect(b.gradStateDict()[k].data, k).toEqual(v.data);
    });
  }
});

describe('LSTM/GRU modules: options, repr, errors', () => {
  it('PyTorch parameter names, shapes, repr and init range', () => {
    const lstm = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2, bidirectional: true, seed: 1 });
    expect(lstm.mode).toBe('LSTM');
    expect(lstm.stateDict()['weight_ih_l0'].shape).toEqual([128, 8]);
    expect(lstm.stateDict()['weight_hh_l1_reverse'].shape).toEqual([128, 32]);
    expect(lstm.stateDict()['weight_ih_l1'].shape).toEqual([128, 64]);
    expect(lstm.toString()).toBe('LSTM(8, 32, num_layers=2, bidirectional=True)');
    const gru = new GRU({ inputSize: 3, hiddenSize: 5, bias: false, batchFirst: true, seed: 2 });
    expect(Object.keys(gru.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0']);
    expect(gru.stateDict()['weight_hh_l0'].shape).toEqual([15, 5]);
    expect(gru.toString()).toBe('GRU(3, 5, bias=False, batch_first=True)');
    const k = 1 / Math.sqrt(32);
    for (const p of lstm.parameters()) expect(p.data.every((v) => Math.abs(v) <= k)).toBe(true);
  });

  it('refuses what does not belong to the cell, naming it', () => {
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu' } as never)).toThrow(/nonlinearity/);
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const x = tensor(new Float32Array(2 * 1 * 2), [2, 1, 2]);
    expect(() => gru.forward(x, { c0: tensor(new Float32Array(3), [1, 1, 3]) } as never)).toThrow(/c0/);
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 1 });
    expect(() => lstm.forward(x, { c0: tensor(new Float32Array(6), [1, 2, 3]) })).toThrow(RangeError);
    expect(() => lstm.forward(x, { c0: tensor(new Float32Array(6), [1, 2, 3]) })).toThrow(/c0/);
    // A GRU's state dict in an LSTM: the first mismatching tensor is named with both shapes.
    expect(() => lstm.loadStateDict(gru.stateDict())).toThrow(/weight_ih_l0/);
    expect(() => lstm.loadStateDict(gru.stateDict())).toThrow(/\[12, 2\]|12, 2/);
    // Nothing changed.
    const before = lstm.stateDict()['weight_ih_l0'].data.slice();
    try { lstm.loadStateDict(gru.stateDict()); } catch { /* expected */ }
    expect(lstm.stateDict()['weight_ih_l0'].data).toEqual(before);
    expect(() => lstm.backward()).toThrow(/LSTM.backward called before forward/);
  });

  it('fit on a bare module says how to wrap it', async () => {
    const data = { x: tensor(new Float32Array(8), [1, 4, 2]), y: tensor(new Float32Array(4), [1, 4, 1]) };
    await expect(fit(new LSTM({ inputSize: 2, hiddenSize: 4 }) as never, data as never, { loss: 'mse', epochs: 1 } as never)).rejects.toThrow(/bare LSTM.*new Sequential\(\[lstm, new Linear\(\{ inFeatures: 4/);
  });

  it('dropout between layers in training mode only', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 8, numLayers: 2, dropout: 0.5, seed: 3 });
    const x = tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i)), [4, 2, 3]);
    const a = m.forward(x).y.data.slice();
    const b = m.forward(x).y.data.slice();
    expect(a).not.toEqual(b);
    m.eval();
    expect(m.forward(x).y.data).toEqual(m.forward(x).y.data);
  });

  it('backward({ traceStates }) returns one ‖∂L/∂h_t‖ curve per layer and direction', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 4, numLayers: 2, seed: 4 });
    const x = tensor(Float32Array.from({ length: 5 * 3 * 2 }, (_, i) => Math.cos(i)), [5, 3, 2]);
    const { y } = m.forward(x);
    const gy = tensor(new Float32Array(y.data.length), y.shape);
    gy.data.fill(1, 4 * 3 * 4); // loss on the last step only
    const r = m.backward({ gy }, { traceStates: true });
    expect(r.stateGradNorms).toHaveLength(2);
    expect(r.stateGradNorms![1][4]).toBeCloseTo(Math.sqrt(12), 5);
    m.forward(x);
    expect(() => m.backward({ gy }, { traceStates: 'yes' } as never)).toThrow(/traceStates/);
  });
});

describe('LSTM/GRU in every path that takes an RNN', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rnnblas-gated-'));
    setNumThreads(1);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const V = 4;
  function delayTask(N: number, T: number, K: number, seed: number): SequenceDataset {
    const rng = new Rng(seed);
    const x = new Int32Array(N * T).map(() => rng.int(V));
    const y = new Int32Array(N * T).map((_, i) => (i % T >= K ? x[i - K] : -100));
    return { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
  }

  for (const Cell of [LSTM, GRU]) {
    const name = Cell.name;
    const charModel = () => new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 8, seed: 1 }),
      new Cell({ inputSize: 8, hiddenSize: 24, numLayers: 2, seed: 2 }),
      new Linear({ inFeatures: 24, outFeatures: V, seed: 3 }),
    ]);

    it(`${name}: fit with truncated BPTT learns a delay across chunk boundaries (state carried)`, async () => {
      const model = charModel();
      const data = delayTask(64, 48, 3, 7);
      const r = await fit(model, data, { loss: 'crossEntropy', optimizer: new Adam(model.parameters(), { lr: 0.02 }), epochs: 6, batchSize: 16, tbptt: 8, seed: 1 } as never);
      const losses = (r as { history: Array<{ loss: number }> }).history.map((h) => h.loss);
      expect(losses[losses.length - 1]).toBeLessThan(0.2);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 4);
      const states = model.lastStates();
      expect(states).toHaveLength(1);
      if (Cell === LSTM) expect(states[0]).toHaveProperty('c');
    });

    it(`${name}: streaming one step at a time equals the whole sequence`, () => {
      const model = charModel();
      model.eval();
      const ids = Int32Array.from({ length: 10 }, (_, i) => (i * 3) % V);
      const whole = model.forward({ data: ids, shape: [10, 1] }).data.slice();
      const stream = new RnnStream(model);
      const parts: number[] = [];
      for (let i = 0; i < 10; i++) parts.push(...stream.step({ data: ids.subarray(i, i + 1), shape: [1, 1] }).data);
      expect(maxRelError(Float32Array.from(parts), whole)).toBeLessThan(1e-5);
      // A bare module streams too, carrying (h, c) for an LSTM.
      const bare = new Cell({ inputSize: 2, hiddenSize: 5, seed: 9 });
      const xs = Float32Array.from({ length: 6 * 2 }, (_, i) => Math.sin(i));
      const full = bare.forward(tensor(xs, [6, 1, 2])).y.data.slice();
      const s2 = new RnnStream(bare);
      const got: number[] = [];
      for (let i = 0; i < 6; i++) got.push(...s2.step(tensor(xs.subarray(2 * i, 2 * i + 2), [1, 1, 2])).data);
      expect(maxRelError(Float32Array.from(got), full)).toBeLessThan(1e-5);
    });

    it(`${name}: model files round trip (bare and in a Sequential with LastStep)`, async () => {
      const bare = new Cell({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 5 });
      await bare.save(join(dir, `${name}.safetensors`));
      const loaded = (await loadModel(join(dir, `${name}.safetensors`))).model;
      expect(loaded).toBeInstanceOf(Cell);
      expect(loaded.toString()).toBe(bare.toString());
      const x = tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i)), [4, 2, 3]);
      expect((loaded as LSTM | GRU).forward(x).y.data).toEqual(bare.forward(x).y.data);

      const head = new Sequential([new Cell({ inputSize: 3, hiddenSize: 6, seed: 6 }), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 1, seed: 7 })]);
      await head.save(join(dir, `${name}-head.safetensors`));
      const back = (await loadModel(join(dir, `${name}-head.safetensors`))).model as Sequential;
      expect(back.layers[0]).toBeInstanceOf(Cell);
      expect(back.forward(x).data).toEqual(head.forward(x).data);
      // An RNN is not silently built from an LSTM file.
      expect(loaded).not.toBeInstanceOf(RNN);
    });
  }
});
