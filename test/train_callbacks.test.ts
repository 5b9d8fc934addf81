/**
 * fit's conveniences: callbacks that stop training, onBatchEnd under TBPTT, metrics
 * (accuracy and mae, per step and per sequence, checked against sums computed here from
 * predict's outputs), early stopping (against the Keras rule written out here, and
 * restoreBestWeights), validationSplit (the last fraction, as Keras), ReduceLROnPlateau on
 * the monitored value (against the scheduler driven by hand), the progress bar, and the new
 * options' errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { setNumThreads } from '../src/blas.js';
import { subset, type SequenceDataset } from '../src/data/index.js';
import { Embedding } from '../src/nn/embedding.js';
import { LastStep } from '../src/nn/last_step.js';
import { Linear } from '../src/nn/linear.js';
import { RNN } from '../src/nn/rnn.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, ReduceLROnPlateau, SGD, StepLR } from '../src/optim/index.js';
import { Rng } from '../src/random.js';
import { evaluate, fit, predict, TrainingProgressBar, type EpochSummary, type FitOptions, type FitProgress } from '../src/train/index.js';

beforeAll(() => setNumThreads(1));

const V = 4;

function delayTask(N: number, T: number, seed: number, withLengths = false): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Int32Array(N * T).map(() => rng.int(V));
  const y = new Int32Array(N * T).map((_, i) => (i % T >= 1 ? x[i - 1] : -100));
  const d: SequenceDataset = { x: { data: x, shape: [N, T] }, y: { data: y, shape: [N, T] } };
  return withLengths ? { ...d, seqLengths: Int32Array.from({ length: N }, () => 1 + rng.int(T)) } : d;
}

function charModel(seed = 1, H = 12, last = false): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: 6, seed }),
    new RNN({ inputSize: 6, hiddenSize: H, seed: seed + 1 }),
    ...(last ? [new LastStep()] : []),
    new Linear({ inFeatures: H, outFeatures: V, seed: seed + 2 }),
  ]);
}

/** Float features [N, T, 2]; targets per step [N, T, 2] or per sequence [N, 2]. */
function regression(N: number, T: number, seed: number, perSequence: boolean): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Float32Array(N * T * 2).map(() => rng.normal());
  const y = perSequence ? new Float32Array(N * 2).map(() => rng.normal()) : new Float32Array(N * T * 2).map(() => rng.normal());
  return { x: { data: x, shape: [N, T, 2] }, y: { data: y, shape: perSequence ? [N, 2] : [N, T, 2] }, seqLengths: Int32Array.from({ length: N }, () => 1 + rng.int(T)) };
}

function floatModel(seed: number, last: boolean): Sequential {
  return new Sequential([new RNN({ inputSize: 2, hiddenSize: 8, seed }), ...(last ? [new LastStep()] : []), new Linear({ inFeatures: 8, outFeatures: 2, seed: seed + 1 })]);
}

const bits = (m: Sequential): number[][] => m.parameters().map((p) => Array.from(new Uint32Array(Float32Array.from(p.data).buffer)));

describe('callbacks', () => {
  const data = delayTask(20, 6, 1);
  const opts = (m: Sequential): FitOptions => ({ epochs: 3, batchSize: 5, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 2 });

  it('onBatchEnd returning false stops after that batch; onEpochEnd then never runs', async () => {
    const m = charModel();
    const ends: number[] = [];
    const r = await fit(m, data, { ...opts(m), onBatchEnd: (p) => p.step !== 6, onEpochEnd: (s) => void ends.push(s.epoch) });
    expect(r.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.stopped).toBe('callback');
    expect(r.aborted).toBe(false);
    expect(ends).toEqual([1]);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1]);
  });

  it('onEpochEnd returning (a promise of) false stops after that epoch; onProgress false stops at its step', async () => {
    const m = charModel();
    const r = await fit(m, data, { ...opts(m), onEpochEnd: async (s) => s.epoch < 2 });
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(r.history).toHaveLength(8);
    expect(r.stopped).toBe('callback');
    const m2 = charModel();
    const r2 = await fit(m2, data, { ...opts(m2), tbptt: 2, onProgress: (p) => (p.step === 5 ? false : undefined) });
    expect(r2.history).toHaveLength(5);
    expect(r2.stopped).toBe('callback');
  });

  it('onBatchEnd under TBPTT: once per batch with the mean of its chunk losses; onProgress once per chunk', async () => {
    const m = charModel();
    const steps: FitProgress[] = [];
    const batches: FitProgress[] = [];
    const r = await fit(m, data, { ...opts(m), epochs: 1, tbptt: 4, onProgress: (p) => void steps.push(p), onBatchEnd: (p) => void batches.push(p) });
    expect(steps).toHaveLength(8); // 4 batches × 2 chunks (T = 6, chunks of 4)
    expect(batches.map((b) => b.batch)).toEqual([1, 2, 3, 4]);
    expect(batches.every((b) => b.batchesPerEpoch === 4)).toBe(true);
    expect(steps.map((s) => s.batch)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    batches.forEach((b, i) => {
      expect(b.step).toBe(2 * i + 2);
      expect(b.loss).toBe((r.history[2 * i].loss + r.history[2 * i + 1].loss) / 2);
    });
    expect(r.stopped).toBeNull();
  });
});

/** Accuracy of arg-max outputs [N, T, C] (or [N, C]) against ids, over unpadded, non-ignored targets. */
function accuracyOf(out: { data: Float32Array; shape: readonly number[] }, d: SequenceDataset): number {
  const y = d.y.data;
  const C = out.shape[out.shape.length - 1];
  const perStep = out.shape.length === 3;
  const N = out.shape[0];
  const T = perStep ? out.shape[1] : 1;
  let correct = 0;
  let count = 0;
  for (let n = 0; n < N; n++) {
    const len = perStep && d.seqLengths ? d.seqLengths[n] : T;
    for (let t = 0; t < len; t++) {
      const row = n * T + t;
      if (y[row] === -100) continue;
      let best = 0;
      for (let c = 1; c < C; c++) if (out.data[row * C + c] > out.data[row * C + best]) best = c;
      count++;
      if (best === y[row]) correct++;
    }
  }
  return correct / count;
}

function maeOf(out: { data: Float32Array; shape: readonly number[] }, d: SequenceDataset): number {
  const y = d.y.data;
  const C = out.shape[out.shape.length - 1];
  const perStep = out.shape.length === 3;
  const N = out.shape[0];
  const T = perStep ? out.shape[1] : 1;
  let sum = 0;
  let count = 0;
  for (let n = 0; n < N; n++) {
    const len = perStep && d.seqLengths ? d.seqLengths[n] : T;
    for (let t = 0; t < len; t++) for (let c = 0; c < C; c++) {
      sum += Math.abs(out.data[(n * T + t) * C + c] - y[(n * T + t) * C + c]);
      count++;
    }
  }
  return sum / count;
}

describe('metrics', () => {
  // lr 0: the weights stay put, so the epoch's training metrics are the metrics of the
  // fixed model, which predict's outputs give independently.
  it('accuracy per step (padding and ignored targets left out) and per sequence', async () => {
    const d = delayTask(18, 7, 3, true);
    const m = charModel(4);
    const r = await fit(m, d, { epochs: 1, batchSize: 6, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 0 }), shuffle: false, metrics: ['accuracy'], validation: d });
    const want = accuracyOf(await predict(m, d.x, { batchSize: 6, seqLengths: d.seqLengths }), d);
    expect(r.epochs[0].metrics.accuracy).toBe(want);
    expect(r.validation[0].accuracy).toBe(want);
    expect(r.history.every((h) => h.metrics.accuracy !== undefined && h.metrics.accuracy >= 0 && h.metrics.accuracy <= 1)).toBe(true);

    const seq: SequenceDataset = { x: d.x, y: { data: Int32Array.from({ length: 18 }, (_, n) => (n * 7) % V), shape: [18] }, seqLengths: d.seqLengths };
    const ml = charModel(5, 12, true);
    const r2 = await fit(ml, seq, { epochs: 1, batchSize: 6, loss: 'crossEntropy', optimizer: new SGD(ml.parameters(), { lr: 0 }), shuffle: false, metrics: ['accuracy'] });
    expect(r2.epochs[0].metrics.accuracy).toBe(accuracyOf(await predict(ml, seq.x, { batchSize: 6, seqLengths: seq.seqLengths }), seq));
  });

  for (const perSequence of [false, true]) {
    it(`mae ${perSequence ? 'per sequence' : 'per step (padding left out)'}, in training, validation and evaluate`, async () => {
      const d = regression(15, 5, 7, perSequence);
      const m = floatModel(3, perSequence);
      const r = await fit(m, d, { epochs: 1, batchSize: 5, loss: 'mse', optimizer: new SGD(m.parameters(), { lr: 0 }), shuffle: false, metrics: ['mae'], validation: d });
      const want = maeOf(await predict(m, d.x, { batchSize: 5, seqLengths: d.seqLengths }), d);
      expect(r.epochs[0].metrics.mae).toBeCloseTo(want, 6);
      expect(r.validation[0].mae).toBeCloseTo(want, 6);
      expect((await evaluate(m, d, { loss: 'mse', batchSize: 5, metrics: ['mae'] })).mae).toBeCloseTo(want, 6);
      expect((await evaluate(m, d, { loss: 'mse' })).mae).toBeUndefined();
    });
  }
});

/** The Keras EarlyStopping rule over a sequence of monitored values: (epochs run, best epoch). */
function kerasRule(values: number[], patience: number, minDelta: number, mode: 'min' | 'max'): { stopAt: number | null; best: number | null } {
  let best = mode === 'min' ? Infinity : -Infinity;
  let bestEpoch: number | null = null;
  let wait = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (mode === 'min' ? v < best - minDelta : v > best + minDelta) {
      best = v;
      bestEpoch = i + 1;
      wait = 0;
    } else if (++wait >= patience) {
      return { stopAt: i + 1, best: bestEpoch };
    }
  }
  return { stopAt: null, best: bestEpoch };
}

describe('early stopping', () => {
  it('patience 0 / 2 on a constant loss (lr 0): stops at the first / third epoch without improvement', async () => {
    const d = delayTask(10, 5, 2);
    for (const [patience, epochs] of [[0, 2], [2, 3]] as const) {
      const m = charModel();
      const r = await fit(m, d, { epochs: 10, batchSize: 5, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 0 }), shuffle: false, earlyStopping: { monitor: 'loss', patience } });
      expect(r.epochs).toHaveLength(epochs);
      expect(r.stopped).toBe('earlyStopping');
      expect(r.bestEpoch).toBe(1);
    }
  });

  it('follows the Keras rule on the validation loss with minDelta, and restores the best weights', async () => {
    const d = delayTask(24, 6, 5);
    const val = delayTask(8, 6, 6);
    const run = async (es: FitOptions['earlyStopping'], epochs: number): Promise<{ r: Awaited<ReturnType<typeof fit>>; snaps: number[][][]; m: Sequential }> => {
      const m = charModel(2);
      const snaps: number[][][] = [];
      const r = await fit(m, d, {
        epochs, batchSize: 6, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.3 }), seed: 3, validation: val, earlyStopping: es,
        onEpochEnd: () => void snaps.push(bits(m)),
      });
      return { r, snaps, m };
    };
    // The full curve (no stopping), then the rule over it.
    const full = await run(undefined, 12);
    const curve = full.r.validation.map((v) => v.loss);
    const rule = kerasRule(curve, 2, 0.01, 'min');
    expect(rule.stopAt, `curve ${curve.join(', ')}`).not.toBeNull();
    const stopped = await run({ patience: 2, minDelta: 0.01, restoreBestWeights: true }, 12);
    expect(stopped.r.epochs).toHaveLength(rule.stopAt as number);
    expect(stopped.r.bestEpoch).toBe(rule.best);
    expect(stopped.r.stopped).toBe('earlyStopping');
    expect(bits(stopped.m)).toEqual(stopped.snaps[(rule.best as number) - 1]);
    expect(bits(stopped.m)).not.toEqual(stopped.snaps.at(-1));
  });

  it("mode 'auto' maximises valAccuracy", async () => {
    const d = delayTask(12, 5, 8);
    const m = charModel(3);
    const r = await fit(m, d, {
      epochs: 6, batchSize: 6, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 0 }), seed: 1, validation: d, metrics: ['accuracy'],
      earlyStopping: { monitor: 'valAccuracy', patience: 1 },
    });
    // A constant accuracy improves once (from -Infinity), then not: stops after epoch 2.
    expect(r.epochs).toHaveLength(2);
    expect(r.bestEpoch).toBe(1);
  });
});

describe('validationSplit', () => {
  it('holds out the last fraction (floor(N·(1 − f)) examples train), before shuffling, as Keras', async () => {
    const d = delayTask(10, 5, 9);
    const m = charModel(1);
    const r = await fit(m, d, { epochs: 1, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters(), { lr: 0.01 }), seed: 7, validationSplit: 0.25 });
    // floor(10 · 0.75) = 7 for training, the last 3 for validation.
    const trainPart = subset(d, [0, 1, 2, 3, 4, 5, 6]);
    const valPart = subset(d, [7, 8, 9]);
    const m2 = charModel(1);
    const r2 = await fit(m2, trainPart, { epochs: 1, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m2.parameters(), { lr: 0.01 }), seed: 7 });
    expect(bits(m)).toEqual(bits(m2));
    expect(r.history).toEqual(r2.history);
    expect(r.validation[0].loss).toBe((await evaluate(m, valPart, { loss: 'crossEntropy', batchSize: 4 })).loss);
  });
});

describe('ReduceLROnPlateau in fit', () => {
  it('is stepped after every epoch with the monitored value (valLoss by default)', async () => {
    const d = delayTask(12, 5, 4);
    const val = delayTask(6, 5, 5);
    const m = charModel(6);
    const opt = new Adam(m.parameters(), { lr: 0.05 });
    const sched = new ReduceLROnPlateau(opt, { patience: 0, threshold: 0.05, factor: 0.5 });
    const r = await fit(m, d, { epochs: 5, batchSize: 6, loss: 'crossEntropy', optimizer: opt, scheduler: sched, seed: 2, validation: val });
    // The same scheduler driven by hand with the validation losses fit reported.
    const ref = new ReduceLROnPlateau(new Adam(charModel().parameters(), { lr: 0.05 }), { patience: 0, threshold: 0.05, factor: 0.5 });
    const lrs = r.validation.map((v) => {
      ref.step(v.loss);
      return ref.getLastLr();
    });
    expect(r.epochs.map((e) => e.lr)).toEqual(lrs);
    expect(new Set(lrs).size).toBeGreaterThan(1);
    // Every step of an epoch used the lr set at the previous epoch's end.
    r.epochs.slice(0, -1).forEach((e, i) => expect(r.history.filter((h) => h.epoch === i + 2).length).toBeGreaterThan(0));
  });

  it('monitors the training loss without validation, or schedulerMonitor', async () => {
    const d = delayTask(8, 5, 4);
    const m = charModel(6);
    const opt = new SGD(m.parameters(), { lr: 0 }); // constant loss: a plateau from epoch 2
    const sched = new ReduceLROnPlateau(opt, { patience: 0 });
    const seen: EpochSummary[] = [];
    await fit(m, d, { epochs: 3, batchSize: 4, loss: 'crossEntropy', optimizer: opt, scheduler: sched, shuffle: false, onEpochEnd: (s) => void seen.push(s) });
    expect(sched.best).toBe(seen[0].loss);
    expect(sched.numBadEpochs).toBe(0); // reduced at epochs 2 and 3 (patience 0): the counter restarts
    expect(sched.lastEpoch).toBe(3);
  });
});

describe('progress bar', () => {
  const fakeStream = (isTTY: boolean): { stream: NodeJS.WritableStream; out: string[] } => {
    const out: string[] = [];
    const stream = { write: (s: string) => (out.push(s), true), isTTY, columns: 100, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true } as unknown as NodeJS.WritableStream;
    return { stream, out };
  };

  it('draws steps, loss and epoch lines on the given stream (forced off a terminal)', async () => {
    const d = delayTask(8, 5, 1);
    const m = charModel();
    const { stream, out } = fakeStream(false);
    await fit(m, d, { epochs: 2, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters()), seed: 1, metrics: ['accuracy'], validation: d, progressBar: { stream, force: true } });
    const text = out.join('');
    expect(text).toMatch(/step 4\/4 \| loss \d+\.\d{3} \| \d+ ex\/s \| ETA/);
    expect(text).toMatch(/epoch 1\/2: loss \d\.\d{4}, accuracy \d\.\d{4}, valLoss \d\.\d{4}, valAccuracy \d\.\d{4}, lr 0\.00100/);
    expect(text).toContain('epoch 2/2:');
  });

  it('on a terminal: the bar, the lines logged above it, the chars/s form of the CLI', () => {
    const { stream, out } = fakeStream(true);
    const bar = new TrainingProgressBar(20, { stream, start: 5, rateUnit: 'chars/s' });
    expect(bar.active).toBe(true);
    bar.update(6, 1.23456, 4321.4);
    bar.log('--- sample ---');
    bar.update(7, 1.2, 4400);
    bar.stop();
    const text = out.join('');
    expect(text).toContain('--- sample ---');
    expect(text).toMatch(/step 7\/20 \| loss 1\.200 \| 4400 chars\/s \| ETA/);
  });

  it('draws nothing when the stream is not a terminal', async () => {
    const d = delayTask(8, 5, 1);
    const m = charModel();
    const { stream, out } = fakeStream(false);
    await fit(m, d, { epochs: 1, batchSize: 4, loss: 'crossEntropy', optimizer: new Adam(m.parameters()), seed: 1, progressBar: { stream } });
    expect(out).toEqual([]);
    expect(new TrainingProgressBar(3, { stream }).active).toBe(false);
  });
});

describe('the new options are validated, naming the option', () => {
  const ids = delayTask(6, 4, 1);
  const floats = regression(6, 4, 1, false);
  const m = charModel();
  const fm = floatModel(1, false);
  const ok = (): FitOptions => ({ epochs: 1, batchSize: 2, loss: 'crossEntropy', optimizer: new Adam(m.parameters()) });
  const okF = (): FitOptions => ({ epochs: 1, batchSize: 2, loss: 'mse', optimizer: new Adam(fm.parameters()) });
  const cases: Array<[string, () => Promise<unknown>, typeof TypeError | typeof RangeError, RegExp]> = [
    ['metrics not an array', () => fit(m, ids, { ...ok(), metrics: 'accuracy' as never }), TypeError, /an array of metric names .* for options.metrics but received "accuracy"/],
    ['an unknown metric', () => fit(m, ids, { ...ok(), metrics: ['f1' as never] }), RangeError, /one of 'accuracy', 'mae' for options.metrics\[0\] but received "f1"/],
    ['mae for class targets', () => fit(m, ids, { ...ok(), metrics: ['mae'] }), RangeError, /'accuracy' for class-id targets \(mae needs float targets\) for options.metrics\[0\]/],
    ['accuracy for float targets', () => fit(fm, floats, { ...okF(), metrics: ['accuracy'] }), RangeError, /'mae' for float targets .* for options.metrics\[0\]/],
    ['a repeated metric', () => fit(m, ids, { ...ok(), metrics: ['accuracy', 'accuracy'] }), RangeError, /each metric once for options.metrics\[1\]/],
    ['validationSplit and validation', () => fit(m, ids, { ...ok(), validation: ids, validationSplit: 0.5 }), RangeError, /no validationSplit when options.validation is given \(choose one\) for options.validationSplit but received both/],
    ['validationSplit 1', () => fit(m, ids, { ...ok(), validationSplit: 1 }), RangeError, /a fraction leaving both parts of the 6 examples non-empty for options.validationSplit/],
    ['validationSplit leaving no validation example', () => fit(m, ids, { ...ok(), validationSplit: 1e-17 }), RangeError, /for options.validationSplit but received 1e-17 \(0 for validation\)/],
    ['validationSplit leaving no training example', () => fit(m, ids, { ...ok(), validationSplit: 0.9 }), RangeError, /for options.validationSplit but received 0.9 \(6 for validation\)/],
    ['validationSplit not a number', () => fit(m, ids, { ...ok(), validationSplit: '0.2' as never }), TypeError, /a number for options.validationSplit/],
    ['earlyStopping not an object', () => fit(m, ids, { ...ok(), earlyStopping: true as never }), TypeError, /for options.earlyStopping but received true/],
    ['earlyStopping unknown key', () => fit(m, ids, { ...ok(), validation: ids, earlyStopping: { patients: 2 } as never }), RangeError, /unknown option 'patients'/],
    ['earlyStopping on valLoss without validation', () => fit(m, ids, { ...ok(), earlyStopping: {} }), RangeError, /without a validation set .* for options.earlyStopping.monitor but received "valLoss"/],
    ['earlyStopping on a metric not computed', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'accuracy' } }), RangeError, /'accuracy' is not in options.metrics\) for options.earlyStopping.monitor/],
    ['earlyStopping unknown monitor', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'val_loss' as never } }), RangeError, /one of 'loss', 'valLoss', .* for options.earlyStopping.monitor but received "val_loss"/],
    ['earlyStopping negative patience', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'loss', patience: -1 } }), RangeError, /for options.earlyStopping.patience but received -1/],
    ['earlyStopping negative minDelta', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'loss', minDelta: -0.1 } }), RangeError, /for options.earlyStopping.minDelta but received -0.1/],
    ['earlyStopping bad mode', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'loss', mode: 'lower' as never } }), RangeError, /for options.earlyStopping.mode/],
    ['earlyStopping restoreBestWeights not a boolean', () => fit(m, ids, { ...ok(), earlyStopping: { monitor: 'loss', restoreBestWeights: 1 as never } }), TypeError, /a boolean for options.earlyStopping.restoreBestWeights/],
    ['onBatchEnd not a function', () => fit(m, ids, { ...ok(), onBatchEnd: 1 as never }), TypeError, /a function for options.onBatchEnd but received 1/],
    ['schedulerMonitor without ReduceLROnPlateau', () => fit(m, ids, { ...ok(), schedulerMonitor: 'loss' }), RangeError, /no schedulerMonitor without a ReduceLROnPlateau scheduler for options.schedulerMonitor/],
    ['schedulerMonitor valLoss without validation', () => { const o = ok(); return fit(m, ids, { ...o, scheduler: new ReduceLROnPlateau(o.optimizer), schedulerMonitor: 'valLoss' }); }, RangeError, /without a validation set .* for options.schedulerMonitor/],
    ['ReduceLROnPlateau per step', () => { const o = ok(); return fit(m, ids, { ...o, scheduler: new ReduceLROnPlateau(o.optimizer), schedulerStep: 'step' }); }, RangeError, /'epoch' for a ReduceLROnPlateau .* for options.schedulerStep but received 'step'/],
    ['progressBar not a boolean or object', () => fit(m, ids, { ...ok(), progressBar: 'yes' as never }), TypeError, /a boolean or an options object \{ stream, force \} for options.progressBar but received "yes"/],
    ['progressBar with a non-stream', () => fit(m, ids, { ...ok(), progressBar: { stream: {} as never } }), TypeError, /a writable stream for options.progressBar.stream/],
    ['progressBar unknown key', () => fit(m, ids, { ...ok(), progressBar: { tty: true } as never }), RangeError, /unknown option 'tty'/],
  ];
  for (const [what, f, cls, msg] of cases) {
    it(`refuses ${what}`, async () => {
      await expect(f()).rejects.toThrow(cls);
      await expect(f()).rejects.toThrow(msg);
    });
  }

  it('runs no step when an option is refused', async () => {
    const before = bits(m);
    await expect(fit(m, ids, { ...ok(), scheduler: new StepLR(ok().optimizer, { stepSize: 1 }) })).rejects.toThrow(/a scheduler of options.optimizer/);
    expect(bits(m)).toEqual(before);
  });
});
