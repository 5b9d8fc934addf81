/**
 * Model files and checkpoints: round trips (weights bit-identical, outputs
 * identical), the file layout, resuming equals an uninterrupted run bit for bit,
 * refusing mismatches, corrupt files, atomic saves, invalid arguments.
 */
import fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import { charVocab, type SequenceDataset } from '../src/data/index.js';
import {
  buildModel,
  decodeModel,
  encodeModel,
  loadModel,
  modelSpec,
  saveModel,
  type ModelSpec,
} from '../src/io/model_file.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint_file.js';
import { FormatError, decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import type { Layer } from '../src/nn/layer.js';
import { Linear } from '../src/nn/linear.js';
import { MergeDirections } from '../src/nn/merge.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, SGD, StepLR } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';
import { fit } from '../src/train/index.js';

let dir = '';
beforeAll(async () => {
  setNumThreads(1);
  dir = await fsp.mkdtemp(join(tmpdir(), 'rnnblas-model-file-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const weightBits = (m: { parameters(): Array<{ name: string; data: Float32Array }> }): Record<string, number[]> => Object.fromEntries(m.parameters().map((p) => [p.name, bits(p.data)]));

function input(T: number, B: number, F: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return { data: new Float32Array(T * B * F).map(() => rng.normal()), shape: [T, B, F] };
}

function charModel(seed = 1, H = 12): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: 5, embeddingDim: 6, seed }),
    new RNN({ inputSize: 6, hiddenSize: H, numLayers: 2, dropout: 0.25, seed: seed + 1 }),
    new Linear({ inFeatures: H, outFeatures: 5, seed: seed + 2 }),
  ]);
}

function delayTask(N: number, T: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Int32Array(N * T).map(() => rng.int(5));
  const y = new Int32Array(N * T).map((_, i) => (i % T >= 2 ? x[i - 2] : -100));
  return { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
}

describe('saveModel / loadModel', () => {
  it('round-trips an RNN: same configuration, bit-identical weights, identical outputs', async () => {
    const rnn = new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, nonlinearity: 'relu', seed: 4 });
    const path = join(dir, 'rnn.safetensors');
    await saveModel(rnn, path, { note: 'hello', n: [1, 2] });
    const { model, extra } = await loadModel(path);
    expect(model).toBeInstanceOf(RNN);
    const loaded = model as RNN;
    expect(loaded.config).toEqual(rnn.config);
    expect(weightBits(loaded)).toEqual(weightBits(rnn));
    expect(extra).toEqual({ note: 'hello', n: [1, 2] });
    const x = input(4, 2, 3, 1);
    expect(bits(loaded.forward(x).y.data)).toEqual(bits(rnn.forward(x).y.data));

    // The file: tensors under the state-dict names, the architecture in the metadata.
    const file = decodeSafetensors(await fsp.readFile(path));
    expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(rnn.stateDict()).sort());
    expect(file.metadata.format).toBe('rnnblas');
    expect(file.metadata.version).toBe('1');
    expect(file.metadata.kind).toBe('model');
    expect(JSON.parse(file.metadata.model)).toEqual({ type: 'RNN', config: { inputSize: 3, hiddenSize: 5, numLayers: 2, nonlinearity: 'relu', bias: true, batchFirst: false, bidirectional: true, dropout: 0 } });
  });

  it('round-trips Sequentials of every layer kind', async () => {
    const vocab = charVocab('hello');
    const models = [
      charModel(),
      new Sequential([
        new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, bias: false, seed: 1 }),
        new MergeDirections({ mode: 'sum' }),
        new LastStep(),
        new Linear({ inFeatures: 4, outFeatures: 2, bias: false, seed: 2 }),
      ]),
      new Sequential([new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 1 }), new LastStep({ directions: 2 }), new Linear({ inFeatures: 8, outFeatures: 1, seed: 3 })]),
    ];
    for (const [i, m] of models.entries()) {
      const path = join(dir, `seq${i}.safetensors`);
      await saveModel(m, path, { vocab: [...vocab.chars] });
      const { model, extra } = await loadModel(path);
      expect(model).toBeInstanceOf(Sequential);
      const loaded = model as Sequential;
      expect(modelSpec(loaded)).toEqual(modelSpec(m));
      expect(weightBits(loaded)).toEqual(weightBits(m));
      expect(extra).toEqual({ vocab: ['e', 'h', 'l', 'o'] });
      m.eval();
      loaded.eval();
      const x = i === 0 ? { data: new Int32Array([0, 1, 2, 3, 4, 0]), shape: [3, 2] } : input(5, 2, 3, 2);
      expect(bits(loaded.forward(x).data)).toEqual(bits(m.forward(x).data));
    }
    const file = decodeSafetensors(encodeModel(models[0]));
    expect(Object.keys(file.tensors).sort()).toEqual(['0.weight', '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0', '1.weight_ih_l1', '1.weight_hh_l1', '1.bias_ih_l1', '1.bias_hh_l1', '2.weight', '2.bias'].sort());
    expect((JSON.parse(file.metadata.model) as ModelSpec & { layers: unknown[] }).layers).toEqual([
      { type: 'Embedding', numEmbeddings: 5, embeddingDim: 6 },
      { type: 'RNN', config: { inputSize: 6, hiddenSize: 12, numLayers: 2, nonlinearity: 'tanh', bias: true, batchFirst: false, bidirectional: false, dropout: 0.25 } },
      { type: 'Linear', inFeatures: 12, outFeatures: 5, bias: true },
    ]);
    expect(modelSpec(buildModel(modelSpec(models[1]))).type).toBe('Sequential');
    expect(decodeModel(encodeModel(models[1])).model).toBeInstanceOf(Sequential);
  });

  it('leaves the previous file in place when a save fails', async () => {
    const path = join(dir, 'atomic.safetensors');
    const first = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 });
    await saveModel(first, path);
    const before = await fsp.readFile(path);
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('simulated EIO'), { code: 'EIO' }));
    await expect(saveModel(new RNN({ inputSize: 2, hiddenSize: 3, seed: 2 }), path)).rejects.toThrow('simulated EIO');
    expect(Buffer.compare(await fsp.readFile(path), before)).toBe(0);
    expect((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // A model that cannot be described fails before anything is written.
    const custom = { forwardLayer: () => ({ data: new Float32Array(0), shape: [0] }), backwardLayer: () => null, parameters: () => [], train: () => undefined } as Layer;
    await expect(saveModel(new Sequential([first, custom]), path)).rejects.toThrow(TypeError);
    expect(Buffer.compare(await fsp.readFile(path), before)).toBe(0);
  });

  it('refuses corrupt or foreign files with a FormatError naming the path and the problem', async () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const good = decodeSafetensors(encodeModel(m));
    const write = async (name: string, metadata: Record<string, string>, tensors: Record<string, Tensor> = good.tensors): Promise<string> => {
      const p = join(dir, name);
      await fsp.writeFile(p, encodeSafetensors(tensors, metadata));
      return p;
    };
    const cases: Array<[string, Record<string, string>, RegExp, Record<string, Tensor>?]> = [
      ['json.safetensors', { ...good.metadata, model: '{"type":"RNN",' }, /json\.safetensors: the metadata entry 'model' is not valid JSON/],
      ['nomodel.safetensors', { format: 'rnnblas', version: '1', kind: 'model' }, /the metadata has no 'model' entry/],
      ['foreign.safetensors', { format: 'pt' }, /not an rnnblas model file \(metadata 'format' is "pt", expected "rnnblas"\)/],
      ['version.safetensors', { ...good.metadata, version: '7' }, /unsupported rnnblas file version "7"/],
      ['layer.safetensors', { ...good.metadata, model: '{"type":"Sequential","layers":[{"type":"Transformer"}]}' }, /the architecture in the metadata is invalid: Expected a registered module type \(one of .*'Linear'.*'RNN'.*\) for spec\.layers\[0\]\.type but received "Transformer"/],
      ['config.safetensors', { ...good.metadata, model: '{"type":"RNN","config":{"inputSize":2,"hiddenSize":-3}}' }, /the architecture in the metadata is invalid: Expected an integer in 1\.\.1048576 for hiddenSize but received -3/],
      ['weights.safetensors', good.metadata, /the weights do not fit the architecture in the metadata: .*missing keys: bias_hh_l0/, { weight_ih_l0: good.tensors.weight_ih_l0, weight_hh_l0: good.tensors.weight_hh_l0, bias_ih_l0: good.tensors.bias_ih_l0 }],
      ['extra.safetensors', { ...good.metadata, extra: '[1]' }, /the metadata entry 'extra' is not a JSON object/],
    ];
    for (const [name, meta, message, tensors] of cases) {
      const p = await write(name, meta, tensors);
      const err = await loadModel(p).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(FormatError);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message.startsWith(p), name).toBe(true);
    }
    await fsp.writeFile(join(dir, 'garbage.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(loadModel(join(dir, 'garbage.safetensors'))).rejects.toThrow(FormatError);
  });

  it('refuses invalid arguments', async () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 });
    await expect(saveModel({} as never, join(dir, 'x'))).rejects.toThrow(new TypeError('Expected a module (an RNN, a Sequential, a Linear, an Embedding, ...) for model but received an object (Object)'));
    await expect(saveModel(m, '')).rejects.toThrow(new TypeError('Expected a non-empty string for path but received ""'));
    await expect(saveModel(m, join(dir, 'x'), [1] as never)).rejects.toThrow(new TypeError('Expected a JSON-serialisable object for extra but received an array of length 1'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(saveModel(m, join(dir, 'x'), cyclic as never)).rejects.toThrow(TypeError);
    await expect(loadModel(7 as never)).rejects.toThrow(new TypeError('Expected a non-empty string for path but received 7'));
    await expect(loadModel(join(dir, 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
    expect(() => encodeModel(null as never)).toThrow(TypeError);
    expect(() => decodeModel('abc' as never)).toThrow(new TypeError('Expected a Uint8Array for bytes but received "abc"'));
    expect(() => modelSpec([] as never)).toThrow(new TypeError('Expected a module (an RNN, a Sequential, a Linear, an Embedding, ...) for model but received an array of length 0'));
    expect(() => buildModel({ type: 'Transformer' } as never)).toThrow(RangeError);
    expect(() => buildModel({ type: 'Transformer' } as never)).toThrow(/^Expected a registered module type \(one of .*'Sequential'.*\) for spec\.type but received "Transformer"$/);
    expect(() => buildModel({ type: 'Sequential', layers: [] } as never)).toThrow(new TypeError('Expected a non-empty array of layer descriptions for spec.layers but received an array of length 0'));
  });
});

describe('checkpoints', () => {
  /** A model, its Adam and a StepLR; `seed` changes the initial weights only. */
  function setup(seed: number): { model: Sequential; optimizer: Adam; scheduler: StepLR } {
    const model = charModel(seed);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    return { model, optimizer, scheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.8 }) };
  }
  const data = delayTask(40, 10, 3);
  const fitOptions = { batchSize: 8, loss: 'crossEntropy' as const, clipNorm: 5 };

  it('resuming from a checkpoint continues the uninterrupted trajectory bit for bit', async () => {
    // Uninterrupted: 4 epochs.
    const a = setup(1);
    const full = await fit(a.model, data, { ...fitOptions, epochs: 4, optimizer: a.optimizer, scheduler: a.scheduler, rng: new Rng(11) });

    // Interrupted after 2 epochs, saved, restored into fresh objects with other weights and seeds.
    const b = setup(1);
    const rngB = new Rng(11);
    const half = await fit(b.model, data, { ...fitOptions, epochs: 2, optimizer: b.optimizer, scheduler: b.scheduler, rng: rngB });
    const path = join(dir, 'ck.safetensors');
    const step = half.history[half.history.length - 1].step;
    await saveCheckpoint(path, { model: b.model, optimizer: b.optimizer, scheduler: b.scheduler, rng: rngB, step, epoch: 2, extra: { run: 'x' } });

    const c = setup(50);
    const rngC = new Rng(999);
    expect(weightBits(c.model)).not.toEqual(weightBits(b.model));
    const ck = await loadCheckpoint(path, { model: c.model, optimizer: c.optimizer, scheduler: c.scheduler, rng: rngC });
    expect(ck.step).toBe(10);
    expect(ck.epoch).toBe(2);
    expect(ck.extra).toEqual({ run: 'x' });
    expect(ck.model).toBe(c.model);
    expect(rngC.getState()).toEqual(rngB.getState());
    const rest = await fit(c.model, data, { ...fitOptions, epochs: 4, initialEpoch: ck.epoch, initialStep: ck.step, optimizer: c.optimizer, scheduler: c.scheduler, rng: rngC });

    expect([...half.history, ...rest.history]).toEqual(full.history);
    expect(weightBits(c.model)).toEqual(weightBits(a.model));
    expect(c.optimizer.stateDict()).toEqual(a.optimizer.stateDict());

    // Without a model to restore into, loadCheckpoint builds one; the optimizer state comes back too.
    const fresh = await loadCheckpoint(path);
    expect(weightBits(fresh.model)).toEqual(weightBits(b.model));
    const opt = new Adam(fresh.model.parameters());
    opt.loadStateDict(fresh.optimizer as never);
    expect(opt.stateDict()).toEqual(b.optimizer.stateDict());
    expect(fresh.scheduler).toEqual(b.scheduler.stateDict());
    // A checkpoint is also a model file.
    expect(weightBits((await loadModel(path)).model)).toEqual(weightBits(b.model));
    // The optimizer buffers are tensors named optim.<parameter>.<buffer>.
    const names = Object.keys(decodeSafetensors(await fsp.readFile(path)).tensors);
    expect(names).toContain('optim.1.weight_hh_l1.expAvgSq');
    expect(names.filter((n) => n.startsWith('optim.'))).toHaveLength(2 * 11);
  });

  it('refuses a checkpoint of another model or optimizer, saying what differs, and changes nothing', async () => {
    const b = setup(1);
    const path = join(dir, 'ck2.safetensors');
    await fit(b.model, data, { ...fitOptions, steps: 2, optimizer: b.optimizer, seed: 1 });
    await saveCheckpoint(path, { model: b.model, optimizer: b.optimizer, step: 2 });

    const other = charModel(1, 16);
    const before = weightBits(other);
    await expect(loadCheckpoint(path, { model: other })).rejects.toThrow(
      new RangeError("Expected a model with the checkpoint's architecture for options.model but received a different model: layers[1].config.hiddenSize is 12 in the checkpoint but 16 in the model; layers[2].inFeatures is 12 in the checkpoint but 16 in the model"),
    );
    expect(weightBits(other)).toEqual(before);

    const c = setup(2);
    const sgd = new SGD(c.model.parameters(), { lr: 0.1 });
    const w = weightBits(c.model);
    await expect(loadCheckpoint(path, { model: c.model, optimizer: sgd })).rejects.toThrow(new RangeError('Expected a Adam optimizer (as saved in the checkpoint) for options.optimizer but received a SGD'));
    expect(weightBits(c.model)).toEqual(w);
    await expect(loadCheckpoint(path, { model: c.model, scheduler: c.scheduler })).rejects.toThrow(/no scheduler \(the checkpoint holds no scheduler state\)/);
    await expect(loadCheckpoint(path, { rng: new Rng(1) })).rejects.toThrow(/the checkpoint holds no RNG state/);
    expect(weightBits(c.model)).toEqual(w);
    // A model file is not a checkpoint.
    await saveModel(b.model, join(dir, 'plain.safetensors'));
    await expect(loadCheckpoint(join(dir, 'plain.safetensors'))).rejects.toThrow(/not a checkpoint \(metadata 'kind' is "model"\): load it with loadModel/);
    // Damaged checkpoint metadata.
    const file = decodeSafetensors(await fsp.readFile(path));
    await fsp.writeFile(join(dir, 'bad.safetensors'), encodeSafetensors(file.tensors, { ...file.metadata, checkpoint: '{"step":-1}' }));
    await expect(loadCheckpoint(join(dir, 'bad.safetensors'))).rejects.toThrow(FormatError);
  });

  it('refuses invalid arguments', async () => {
    const { model, optimizer } = setup(1);
    const p = join(dir, 'inv.safetensors');
    await expect(saveCheckpoint(p, { model, step: -1 })).rejects.toThrow(new RangeError('Expected an integer in 0..9007199254740991 for contents.step but received -1'));
    await expect(saveCheckpoint(p, { model: {} as never, step: 0 })).rejects.toThrow(new TypeError('Expected a module (an RNN, a Sequential, a Linear, an Embedding, ...) for contents.model but received an object (Object)'));
    await expect(saveCheckpoint(p, { model, step: 0, optimizer: {} as never })).rejects.toThrow(new TypeError('Expected an Optimizer for contents.optimizer but received an object (Object)'));
    await expect(saveCheckpoint(p, { model, step: 0, rng: [1, 2] as never })).rejects.toThrow(TypeError);
    await expect(saveCheckpoint(p, { model, step: 0, optimiser: optimizer } as never)).rejects.toThrow(RangeError);
    const foreign = new Adam(charModel(1).parameters());
    await expect(saveCheckpoint(p, { model: new RNN({ inputSize: 1, hiddenSize: 1 }), step: 0, optimizer: foreign })).rejects.toThrow(/an optimizer over the model's parameters/);
    await expect(loadCheckpoint(p, { model: 3 } as never)).rejects.toThrow(new TypeError('Expected a module (an RNN, a Sequential, a Linear, an Embedding, ...) for options.model but received 3'));
    await expect(loadCheckpoint(p, { rng: 3 } as never)).rejects.toThrow(new TypeError('Expected an Rng for options.rng but received 3'));
    await expect(loadCheckpoint('')).rejects.toThrow(TypeError);
  });
});

describe('model.save', () => {
  it('RNN.save and Sequential.save write files loadModel reads back', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { RNN: R, Sequential: S, Linear: L, loadModel: load } = await import('../src/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'rnnblas-save-'));
    const rnn = new R({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 9 });
    await rnn.save(join(dir, 'rnn.safetensors'));
    const a = (await load(join(dir, 'rnn.safetensors'))).model;
    expect(a.stateDict()).toEqual(rnn.stateDict());
    const seq = new S([new R({ inputSize: 3, hiddenSize: 4, seed: 1 }), new L({ inFeatures: 4, outFeatures: 2, seed: 2 })]);
    await seq.save(join(dir, 'seq.safetensors'));
    const b = (await load(join(dir, 'seq.safetensors'))).model;
    expect(b.stateDict()).toEqual(seq.stateDict());
  });
});

describe('lone layers', () => {
  it('a Linear and an Embedding save and load on their own', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir: tmp } = await import('node:os');
    const { join: j } = await import('node:path');
    const { Linear: L, Embedding: E, saveModel: save, loadModel: load } = await import('../src/index.js');
    const dir = mkdtempSync(j(tmp(), 'rnnblas-layer-'));
    const lin = new L({ inFeatures: 3, outFeatures: 2, bias: false, seed: 4 });
    await save(lin, j(dir, 'lin.safetensors'));
    const a = (await load(j(dir, 'lin.safetensors'))).model;
    expect(a).toBeInstanceOf(L);
    expect(a.stateDict()).toEqual(lin.stateDict());
    const emb = new E({ numEmbeddings: 5, embeddingDim: 2, seed: 5 });
    await save(emb, j(dir, 'emb.safetensors'));
    const b = (await load(j(dir, 'emb.safetensors'))).model;
    expect(b).toBeInstanceOf(E);
    expect(b.stateDict()).toEqual(emb.stateDict());
  });
});
