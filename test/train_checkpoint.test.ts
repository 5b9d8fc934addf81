/**
 * fit's library-level checkpoints: a run interrupted (by `steps` or the signal) with
 * `checkpoint` and continued with `resumeFrom` on a new model, optimizer and scheduler ends
 * with weights bit-identical to an uninterrupted run, mid-epoch and mid-batch (TBPTT with a
 * carried state), with dropout, schedulers, validation and early stopping; and the
 * checkpoint's errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import type { SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, type LRScheduler, type Optimizer, OneCycleLR, ReduceLROnPlateau, SGD, StepLR } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import { loadCheckpoint } from '../src/train/checkpoint_file.js';
import { fit, type FitOptions, type FitResult } from '../src/train/index.js';

beforeAll(() => setNumThreads(1));
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-fit-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const V = 5;

function delayTask(N: number, T: number, seed: number, lengths = false): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Int32Array(N * T).map(() => rng.int(V));
  const y = new Int32Array(N * T).map((_, i) => (i % T >= 1 ? x[i - 1] : -100));
  const d: SequenceDataset = { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
  return lengths ? { ...d, seqLengths: Int32Array.from({ length: N }, () => 2 + rng.int(T - 1)) } : d;
}

/** Two RNN layers with dropout between them, so the dropout generators matter. */
function model(seed: number, H = 12): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: 6, seed }),
    new RNN({ inputSize: 6, hiddenSize: H, numLayers: 2, dropout: 0.25, seed: seed + 1 }),
    new Linear({ inFeatures: H, outFeatures: V, seed: seed + 2 }),
  ]);
}

const bits = (m: Sequential): Record<string, number[]> =>
  Object.fromEntries(m.parameters().map((p) => [p.name, Array.from(new Uint32Array(Float32Array.from(p.data).buffer))]));

interface Setup {
  make: (m: Sequential) => { optimizer: Optimizer; scheduler?: LRScheduler };
  options: Omit<FitOptions, 'optimizer' | 'scheduler'>;
  data: SequenceDataset;
}

async function straight(s: Setup): Promise<{ m: Sequential; r: FitResult }> {
  const m = model(1);
  const { optimizer, scheduler } = s.make(m);
  const r = await fit(m, s.data, { ...s.options, optimizer, ...(scheduler ? { scheduler } : {}) });
  return { m, r };
}

/** Runs `firstSteps` steps with a checkpoint every `every`, then resumes on fresh objects (other seeds). */
async function interrupted(s: Setup, firstSteps: number, every: number, path: string): Promise<{ m: Sequential; r: FitResult; first: FitResult }> {
  const m1 = model(1);
  const a = s.make(m1);
  const { epochs: _e, ...rest } = s.options;
  void _e;
  const first = await fit(m1, s.data, { ...rest, steps: firstSteps, optimizer: a.optimizer, ...(a.scheduler ? { scheduler: a.scheduler } : {}), checkpoint: { path, every } });
  // A new model with other weights, a new optimizer and scheduler: everything comes from the file.
  const m2 = model(77);
  const b = s.make(m2);
  const { seed: _s, ...noSeed } = s.options;
  void _s;
  const r = await fit(m2, s.data, { ...noSeed, seed: 999, optimizer: b.optimizer, ...(b.scheduler ? { scheduler: b.scheduler } : {}), resumeFrom: path });
  return { m: m2, r, first };
}

function expectSameRun(a: FitResult, first: FitResult, b: FitResult): void {
  // The two parts of the interrupted run are the uninterrupted run's history.
  expect([...first.history, ...b.history]).toEqual(a.history);
  expect(b.epochs).toEqual(a.epochs.filter((e) => e.epoch > (first.epochs.at(-1)?.epoch ?? 0)));
  expect(b.stopped).toBe(a.stopped);
}

describe('fit checkpoints resume bit for bit', () => {
  it('mid-epoch: Adam, StepLR per step, dropout, shuffling, validation', async () => {
    const s: Setup = {
      data: delayTask(22, 7, 1, true),
      make: (m) => {
        const optimizer = new Adam(m.parameters(), { lr: 0.01 });
        return { optimizer, scheduler: new StepLR(optimizer, { stepSize: 3, gamma: 0.7 }) };
      },
      options: { epochs: 3, batchSize: 5, loss: 'crossEntropy', seed: 4, schedulerStep: 'step', validation: delayTask(6, 7, 2), metrics: ['accuracy'] },
    };
    const a = await straight(s);
    expect(a.r.history).toHaveLength(15); // 3 epochs × 5 batches
    const path = join(dir, 'mid-epoch.ckpt');
    // Steps 4 and 8 are checkpointed; stopping at 8 leaves epoch 2 at its third batch.
    const b = await interrupted(s, 8, 4, path);
    expect(bits(b.m)).toEqual(bits(a.m));
    expectSameRun(a.r, b.first, b.r);
  });

  it('mid-batch under TBPTT, with the carried state of the chunk boundary', async () => {
    const s: Setup = {
      data: delayTask(9, 12, 3),
      make: (m) => ({ optimizer: new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }) }),
      options: { epochs: 2, batchSize: 4, loss: 'crossEntropy', seed: 5, tbptt: 5, clipNorm: 1 },
    };
    const a = await straight(s);
    expect(a.r.history).toHaveLength(18); // 2 epochs × 3 batches × 3 chunks
    const path = join(dir, 'mid-batch.ckpt');
    const b = await interrupted(s, 7, 7, path); // step 7: the first chunk of the third batch
    expect(bits(b.m)).toEqual(bits(a.m));
    expectSameRun(a.r, b.first, b.r);
  });

  it('with OneCycleLR (lr and momentum), ReduceLROnPlateau-free early stopping state and validationSplit', async () => {
    const s: Setup = {
      data: delayTask(30, 6, 6),
      make: (m) => {
        const optimizer = new Adam(m.parameters(), { lr: 0.01 });
        return { optimizer, scheduler: new OneCycleLR(optimizer, { maxLr: 0.05, totalSteps: 16 }) };
      },
      options: {
        epochs: 4, batchSize: 6, loss: 'crossEntropy', seed: 8, schedulerStep: 'step', validationSplit: 0.2,
        earlyStopping: { monitor: 'valLoss', patience: 5, restoreBestWeights: true },
      },
    };
    const a = await straight(s);
    const path = join(dir, 'onecycle.ckpt');
    const b = await interrupted(s, 10, 5, path);
    expect(bits(b.m)).toEqual(bits(a.m));
    expectSameRun(a.r, b.first, b.r);
    expect(b.r.bestEpoch).toBe(a.r.bestEpoch);
  });

  it('with ReduceLROnPlateau stepped on the validation loss, resumed at an epoch boundary', async () => {
    const s: Setup = {
      data: delayTask(16, 6, 9),
      make: (m) => {
        const optimizer = new Adam(m.parameters(), { lr: 0.02 });
        return { optimizer, scheduler: new ReduceLROnPlateau(optimizer, { patience: 0, threshold: 0.2 }) };
      },
      options: { epochs: 4, batchSize: 4, loss: 'crossEntropy', seed: 2, validation: delayTask(4, 6, 10) },
    };
    const a = await straight(s);
    // The plateau schedule actually lowered the lr in this run.
    expect(new Set(a.r.epochs.map((e) => e.lr)).size).toBeGreaterThan(1);
    const path = join(dir, 'plateau.ckpt');
    const b = await interrupted(s, 8, 4, path); // step 8 ends epoch 2 (the file holds the state after its end)
    expect(bits(b.m)).toEqual(bits(a.m));
    expectSameRun(a.r, b.first, b.r);
  });

  it('when the signal stops training (the checkpoint is written at the stop)', async () => {
    const data = delayTask(20, 6, 11);
    const options = { epochs: 2, batchSize: 4, loss: 'crossEntropy', seed: 3 } as const;
    const ma = model(1);
    const a = await fit(ma, data, { ...options, optimizer: new Adam(ma.parameters(), { lr: 0.01 }) });
    const path = join(dir, 'signal.ckpt');
    const m1 = model(1);
    const ac = new AbortController();
    const first = await fit(m1, data, {
      ...options, optimizer: new Adam(m1.parameters(), { lr: 0.01 }), signal: ac.signal, checkpoint: { path, every: 100 },
      onBatchEnd: (p) => {
        if (p.step === 3) ac.abort();
      },
    });
    expect(first.aborted).toBe(true);
    expect(first.stopped).toBe('signal');
    expect(first.history).toHaveLength(3);
    const m2 = model(5);
    const r = await fit(m2, data, { ...options, optimizer: new Adam(m2.parameters(), { lr: 0.01 }), resumeFrom: path });
    expect(bits(m2)).toEqual(bits(ma));
    expect([...first.history, ...r.history]).toEqual(a.history);
  });
});

describe('fit checkpoint errors', () => {
  const data = delayTask(8, 5, 1);
  const base = (m: Sequential): FitOptions => ({ epochs: 2, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters()), seed: 1 });
  let path = '';
  beforeAll(async () => {
    path = join(dir, 'errors.ckpt');
    const m = model(1);
    await fit(m, data, { ...base(m), steps: 1, checkpoint: { path, every: 1 } });
  });

  it('refuses a run with other batching or data', async () => {
    const m = model(1);
    await expect(fit(m, data, { ...base(m), batchSize: 3, resumeFrom: path })).rejects.toThrow(
      /Expected a checkpoint of a run with the same data and batching for options.resumeFrom but received one written with batchSize 4 \(now 3\)/,
    );
    await expect(fit(m, delayTask(9, 5, 1), { ...base(m), resumeFrom: path })).rejects.toThrow(/8 training examples \(now 9\)/);
  });

  it('refuses resumeFrom with initialStep, a bad checkpoint option, a file without a fit position', async () => {
    const m = model(1);
    await expect(fit(m, data, { ...base(m), resumeFrom: path, initialStep: 3 })).rejects.toThrow(/no initialEpoch or initialStep with it .* for options.resumeFrom but received initialStep too/);
    await expect(fit(m, data, { ...base(m), resumeFrom: '' })).rejects.toThrow(/a non-empty file path for options.resumeFrom/);
    await expect(fit(m, data, { ...base(m), checkpoint: { path, every: 0 } })).rejects.toThrow(/for options.checkpoint.every but received 0/);
    await expect(fit(m, data, { ...base(m), checkpoint: { path } as never })).rejects.toThrow(/for options.checkpoint.every but received undefined/);
    await expect(fit(m, data, { ...base(m), checkpoint: { path, every: 1, each: 2 } as never })).rejects.toThrow(/unknown option 'each'/);
    await expect(fit(m, data, { ...base(m), checkpoint: 'x' as never })).rejects.toThrow(TypeError);
    await expect(fit(m, data, { ...base(m), checkpoint: { path, every: 1, extra: { fit: 1 } } })).rejects.toThrow(/no key 'fit' .* for options.checkpoint.extra but received a key 'fit'/);
    await expect(fit(m, data, { ...base(m), checkpoint: { path, every: 1, extra: [] as never } })).rejects.toThrow(/a JSON-serialisable object for options.checkpoint.extra/);
    const bogus = join(dir, 'not-a-checkpoint.bin');
    writeFileSync(bogus, 'hello');
    await expect(fit(m, data, { ...base(m), resumeFrom: bogus })).rejects.toThrow(/not-a-checkpoint\.bin/);
  });

  it('writes the first checkpoint before any step: an unwritable path fails up front', async () => {
    const m = model(1);
    let steps = 0;
    await expect(fit(m, data, { ...base(m), checkpoint: { path: join(dir, 'no-such-dir', 'x.ckpt'), every: 1 }, onProgress: () => void steps++ })).rejects.toThrow(/ENOENT|no such file/);
    expect(steps).toBe(0);
    // Stopped before its first step, the file holds the start: resuming it is a run from scratch.
    const p4 = join(dir, 'start.ckpt');
    const m1 = model(1);
    await fit(m1, data, { ...base(m1), checkpoint: { path: p4, every: 100 }, signal: AbortSignal.abort() });
    const m2 = model(3);
    const r = await fit(m2, data, { ...base(m2), resumeFrom: p4 });
    const m3 = model(1);
    const a = await fit(m3, data, base(m3));
    expect(r.history).toEqual(a.history);
    expect(bits(m2)).toEqual(bits(m3));
  });

  it('stores the caller\'s extra data next to the position', async () => {
    const p3 = join(dir, 'extra.ckpt');
    const m = model(1);
    await fit(m, data, { ...base(m), steps: 1, checkpoint: { path: p3, every: 1, extra: { vocab: ['a', 'b'], note: 'run 1' } } });
    const ck = await loadCheckpoint(p3);
    expect(ck.extra.vocab).toEqual(['a', 'b']);
    expect(ck.extra.note).toBe('run 1');
    expect(ck.step).toBe(1);
  });

  it('holds the end of the call: resuming a finished run needs more epochs', async () => {
    const p2 = join(dir, 'done.ckpt');
    const m = model(1);
    await fit(m, data, { ...base(m), epochs: 1, checkpoint: { path: p2, every: 100 } });
    const m2 = model(1);
    await expect(fit(m2, data, { ...base(m2), epochs: 1, resumeFrom: p2 })).rejects.toThrow(/an epoch after the checkpoint's 1 completed epochs for options.epochs but received 1/);
    // Continuing it for a second epoch is the same as two epochs straight.
    const r = await fit(m2, data, { ...base(m2), epochs: 2, resumeFrom: p2 });
    const m3 = model(1);
    const a = await fit(m3, data, base(m3));
    expect(bits(m2)).toEqual(bits(m3));
    expect(r.history).toEqual(a.history.slice(2));
  });
});
