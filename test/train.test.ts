/**
 * The training loop: progress, validation, cancellation, non-finite detection,
 * event-loop friendliness, determinism, loss masking, clipping, schedulers,
 * evaluate and predict.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import type { SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, SGD, StepLR } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import { NonFiniteError, evaluate, fit, predict, type FitProgress } from '../src/train/index.js';

beforeAll(() => setNumThreads(1));
afterEach(() => vi.restoreAllMocks());

const V = 4;

/** Random symbols; the target at step t is the symbol at step t-K (ignored for t < K). */
function delayTask(N: number, T: number, K: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Int32Array(N * T).map(() => rng.int(V));
  const y = new Int32Array(N * T).map((_, i) => (i % T >= K ? x[i - K] : -100));
  return { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
}

function charModel(H = 16, seed = 1): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: 8, seed }),
    new RNN({ inputSize: 8, hiddenSize: H, seed: seed + 1 }),
    new Linear({ inFeatures: H, outFeatures: V, seed: seed + 2 }),
  ]);
}

function weights(m: Sequential): Record<string, number[]> {
  return Object.fromEntries(m.parameters().map((p) => [p.name, Array.from(new Uint32Array(Float32Array.from(p.data).buffer))]));
}

describe('fit', () => {
  it('reports progress after every step and validates after every epoch', async () => {
    const m = charModel();
    const data = delayTask(40, 8, 1, 1);
    const progress: FitProgress[] = [];
    const r = await fit(m, data, {
      epochs: 3,
      batchSize: 16,
      loss: 'crossEntropy',
      optimizer: new Adam(m.parameters(), { lr: 0.02 }),
      seed: 1,
      validation: delayTask(10, 8, 1, 2),
      onProgress: (p) => {
        progress.push(p);
      },
    });
    expect(r.aborted).toBe(false);
    expect(r.history).toHaveLength(9); // 3 epochs × ceil(40 / 16) batches
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(progress.map((p) => p.epoch)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(progress.every((p) => p.totalSteps === 9 && p.lr === 0.02 && p.elapsedMs >= 0 && Number.isFinite(p.examplesPerSecond))).toBe(true);
    expect(progress.map((p) => p.loss)).toEqual(r.history.map((h) => h.loss));
    expect(progress[8].examplesPerSecond).toBeGreaterThan(0);
    expect(r.validation.map((v) => v.epoch)).toEqual([1, 2, 3]);
    expect(r.validation.every((v) => Number.isFinite(v.loss) && v.accuracy !== undefined && v.accuracy >= 0 && v.accuracy <= 1)).toBe(true);
    expect(r.history[8].loss).toBeLessThan(r.history[0].loss);
    expect(m.training).toBe(true);
  });

  it('stops at a step boundary when the signal aborts, resolving with the history so far', async () => {
    const m = charModel();
    const ac = new AbortController();
    const r = await fit(m, delayTask(64, 8, 1, 1), {
      epochs: 10,
      batchSize: 8,
      loss: 'crossEntropy',
      optimizer: new Adam(m.parameters()),
      seed: 1,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.step === 3) ac.abort();
      },
    });
    expect(r.aborted).toBe(true);
    expect(r.history.map((h) => h.step)).toEqual([1, 2, 3]);

    // An already-aborted signal: nothing runs, nothing changes.
    const before = weights(m);
    const again = await fit(m, delayTask(8, 8, 1, 1), { epochs: 1, batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(m.parameters()), signal: AbortSignal.abort() });
    expect(again).toEqual({ history: [], validation: [], epochs: [], aborted: true, stopped: 'signal' });
    expect(weights(m)).toEqual(before);
  });

  it('names the step of a non-finite loss and does not apply it', async () => {
    const m = charModel();
    const w = m.parameters().find((p) => p.name === '2.weight');
    if (!w) throw new Error('no 2.weight');
    const run = fit(m, delayTask(64, 8, 1, 1), {
      epochs: 10,
      batchSize: 8,
      loss: 'crossEntropy',
      optimizer: new Adam(m.parameters()),
      seed: 1,
      onProgress: (p) => {
        if (p.step === 16) w.data[0] = NaN;
      },
    });
    await expect(run).rejects.toThrow(/^non-finite loss at step 17 \(epoch 3\): NaN/);
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).step).toBe(17);
    // The update was not applied: only the injected NaN is non-finite.
    expect(m.parameters().flatMap((p) => Array.from(p.data)).filter((v) => !Number.isFinite(v))).toHaveLength(1);
  });

  it('names the step of a non-finite gradient norm', async () => {
    const m = charModel();
    const g = m.parameters()[0].grad;
    const original = m.backwardAsync.bind(m);
    let calls = 0;
    vi.spyOn(m, 'backwardAsync').mockImplementation(async (gy) => {
      await original(gy);
      if (++calls === 5) g[3] = Infinity;
    });
    // fit's one-job step: the backward is part of finish.
    const queued = m.forwardQueued.bind(m);
    vi.spyOn(m, 'forwardQueued').mockImplementation(async (x, o) => {
      const q = await queued(x, o);
      return q && {
        ...q,
        finish: async (gy) => {
          await q.finish(gy);
          if (gy && ++calls === 5) g[3] = Infinity;
        },
      };
    });
    await expect(
      fit(m, delayTask(32, 8, 1, 1), { epochs: 2, batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(m.parameters()), seed: 1 }),
    ).rejects.toThrow(/^non-finite gradient norm at step 5 \(epoch 2\): Infinity/);
    // checkFinite: false lets it through.
    calls = 0;
    const r = await fit(m, delayTask(32, 8, 1, 1), { epochs: 2, batchSize: 8, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 0 }), seed: 1, checkFinite: false });
    expect(r.history).toHaveLength(8);
  });

  it('keeps the event loop serving timers during training', async () => {
    for (const model of [charModel(), new Sequential([new Linear({ inFeatures: 1, outFeatures: V, seed: 1 })])]) {
      const ids = model.layers[0] instanceof Embedding;
      const task = delayTask(64, 16, 1, 1);
      const data: SequenceDataset = ids ? task : { x: { data: Float32Array.from(task.x.data), shape: [64, 16, 1] }, y: task.y };
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      try {
        const r = await fit(model, data, { epochs: 8, batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(model.parameters()), seed: 1 });
        expect(r.history).toHaveLength(64);
      } finally {
        clearInterval(timer);
      }
      expect(ticks).toBeGreaterThan(0);
    }
  });

  it('gives bit-identical weights for the same seeds (1 BLAS thread), different ones for another seed', async () => {
    const run = async (seed: number): Promise<Record<string, number[]>> => {
      const m = new Sequential([
        new Embedding({ numEmbeddings: V, embeddingDim: 8, seed: 1 }),
        new RNN({ inputSize: 8, hiddenSize: 16, numLayers: 2, dropout: 0.3, seed: 2 }),
        new Linear({ inFeatures: 16, outFeatures: V, seed: 3 }),
      ]);
      await fit(m, delayTask(48, 10, 2, 1), { epochs: 3, batchSize: 16, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed, clipNorm: 1 });
      return weights(m);
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('masks padding: values past seqLengths change nothing', async () => {
    const base = delayTask(24, 8, 1, 3);
    const lengths = Int32Array.from({ length: 24 }, (_, i) => 2 + (i % 7));
    const noisy = (seed: number): SequenceDataset => {
      const rng = new Rng(seed);
      const x = Int32Array.from(base.x.data);
      const y = Int32Array.from(base.y.data);
      for (let n = 0; n < 24; n++) {
        for (let t = lengths[n]; t < 8; t++) {
          x[n * 8 + t] = rng.int(V);
          y[n * 8 + t] = 99; // not even a valid class: never looked at
        }
      }
      return { x: { data: x, shape: [24, 8] }, y: { data: y, shape: [24, 8] }, seqLengths: lengths };
    };
    const train = async (d: SequenceDataset): Promise<[Record<string, number[]>, number[]]> => {
      const m = charModel();
      const r = await fit(m, d, { epochs: 2, batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 4 });
      return [weights(m), r.history.map((h) => h.loss)];
    };
    const [w1, l1] = await train(noisy(1));
    const [w2, l2] = await train(noisy(2));
    expect(l2).toEqual(l1);
    expect(w2).toEqual(w1);

    // Seq-to-one through LastStep: the padded steps of x change nothing either.
    const seqToOne = (d: SequenceDataset): SequenceDataset => ({ x: d.x, y: { data: Int32Array.from({ length: 24 }, (_, n) => d.x.data[n * 8 + lengths[n] - 1]), shape: [24] }, seqLengths: lengths });
    const trainLast = async (d: SequenceDataset): Promise<Record<string, number[]>> => {
      const m = new Sequential([...charModel().layers.slice(0, 2), new LastStep(), new Linear({ inFeatures: 16, outFeatures: V, seed: 9 })]);
      await fit(m, d, { epochs: 2, batchSize: 8, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 4 });
      return weights(m);
    };
    expect(await trainLast(seqToOne(noisy(2)))).toEqual(await trainLast(seqToOne(noisy(1))));
  });

  it('clips by norm and by value, and trains only the optimizer parameters', async () => {
    const data = delayTask(16, 8, 1, 1);
    const m = charModel();
    const before = m.parameters().map((p) => Float32Array.from(p.data));
    await fit(m, data, { steps: 1, batchSize: 16, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 1 }), clipNorm: 1e-3, shuffle: false });
    let sq = 0;
    m.parameters().forEach((p, i) => p.data.forEach((v, j) => (sq += (v - before[i][j]) ** 2)));
    expect(Math.sqrt(sq)).toBeLessThanOrEqual(1e-3 * (1 + 1e-3));
    expect(Math.sqrt(sq)).toBeGreaterThan(0.9e-3);

    const m2 = charModel();
    const frozen = m2.parameters().filter((p) => p.name.startsWith('0.'));
    const trained = m2.parameters().filter((p) => !p.name.startsWith('0.'));
    const b2 = m2.parameters().map((p) => Float32Array.from(p.data));
    await fit(m2, data, { steps: 1, batchSize: 16, loss: 'crossEntropy', optimizer: new SGD(trained, { lr: 1 }), clipValue: 1e-4, shuffle: false });
    let maxStep = 0;
    m2.parameters().forEach((p, i) => p.data.forEach((v, j) => (maxStep = Math.max(maxStep, Math.abs(v - b2[i][j])))));
    expect(maxStep).toBeLessThanOrEqual(1e-4 + 1e-6); // float32 rounding of the update
    expect(maxStep).toBeGreaterThan(0);
    frozen.forEach((p) => expect(Array.from(p.data)).toEqual(Array.from(b2[0])));
  });

  it('stops after `steps` steps and steps a scheduler per epoch or per step', async () => {
    const m = charModel();
    const data = delayTask(32, 6, 1, 1);
    const opt = new SGD(m.parameters(), { lr: 0.8 });
    const lrs: number[] = [];
    const r = await fit(m, data, { epochs: 3, batchSize: 16, loss: 'crossEntropy', optimizer: opt, scheduler: new StepLR(opt, { stepSize: 1, gamma: 0.5 }), onProgress: (p) => void lrs.push(p.lr) });
    expect(lrs).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
    expect(r.history).toHaveLength(6);

    const opt2 = new SGD(m.parameters(), { lr: 0.8 });
    const lrs2: number[] = [];
    const epochs: number[] = [];
    const r2 = await fit(m, data, {
      steps: 5,
      batchSize: 16,
      loss: 'crossEntropy',
      optimizer: opt2,
      scheduler: new StepLR(opt2, { stepSize: 2, gamma: 0.5 }),
      schedulerStep: 'step',
      initialStep: 10,
      onProgress: (p) => void lrs2.push(p.lr),
      onEpochEnd: (e) => void epochs.push(e.epoch),
    });
    expect(r2.history.map((h) => h.step)).toEqual([11, 12, 13, 14, 15]);
    expect(lrs2).toEqual([0.8, 0.8, 0.4, 0.4, 0.2]);
    expect(epochs).toEqual([1, 2]); // the third epoch stopped after one step
  });
});

describe('evaluate / predict', () => {
  /** pred = 2x through a bias-free Linear; x [2,3,1]; the second sequence has length 1. */
  function linearCase(): { m: Sequential; data: SequenceDataset } {
    const lin = new Linear({ inFeatures: 1, outFeatures: 1, bias: false });
    lin.parameters()[0].data[0] = 2;
    const data: SequenceDataset = {
      x: { data: new Float32Array([1, 2, 3, 4, 50, 60]), shape: [2, 3, 1] },
      y: { data: new Float32Array([1, 4, 9, 10, 0, 0]), shape: [2, 3, 1] },
      seqLengths: new Int32Array([3, 1]),
    };
    return { m: new Sequential([lin]), data };
  }

  it('averages the masked loss over the whole dataset', async () => {
    const { m, data } = linearCase();
    // Valid residuals: 2-1, 4-4, 6-9, 8-10 → (1 + 0 + 9 + 4) / 4
    for (const batchSize of [1, 2]) expect(await evaluate(m, data, { loss: 'mse', batchSize })).toEqual({ loss: 3.5 });
    const cls: SequenceDataset = { x: data.x, y: { data: new Int32Array([0, 0, 0, 0, 5, 5]), shape: [2, 3] }, seqLengths: data.seqLengths };
    const m2 = new Sequential([new Linear({ inFeatures: 1, outFeatures: 2, seed: 1 })]);
    const r = await evaluate(m2, cls, { loss: 'crossEntropy' });
    expect(r.accuracy).toBeDefined();
    expect(Number.isFinite(r.loss)).toBe(true);
  });

  it('predicts example-major outputs equal to a direct forward, in evaluation mode', async () => {
    const { m, data } = linearCase();
    const out = await predict(m, data.x, { batchSize: 1, seqLengths: data.seqLengths });
    expect(out.shape).toEqual([2, 3, 1]);
    expect(Array.from(out.data)).toEqual([2, 4, 6, 8, 0, 0]);
    // With a bias, steps past a sequence's length are still zero.
    const biased = new Linear({ inFeatures: 1, outFeatures: 1 });
    biased.parameters()[0].data[0] = 2;
    biased.parameters()[1].data[0] = 1;
    const out2 = await predict(new Sequential([biased]), data.x, { seqLengths: data.seqLengths });
    expect(Array.from(out2.data)).toEqual([3, 5, 7, 9, 0, 0]);

    const seq = new Sequential([new RNN({ inputSize: 1, hiddenSize: 5, seed: 1, dropout: 0.5, numLayers: 2 }), new LastStep(), new Linear({ inFeatures: 5, outFeatures: 2, seed: 2 })]);
    const p = await predict(seq, data.x);
    expect(p.shape).toEqual([2, 2]);
    expect(seq.training).toBe(true);
    seq.eval();
    const direct = seq.forward({ data: new Float32Array([1, 4, 2, 50, 3, 60]), shape: [3, 2, 1] });
    expect(Array.from(p.data)).toEqual(Array.from(direct.data));
  });
});
