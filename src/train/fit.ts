/**
 * The training loop `fit`: mini-batch training with optional truncated BPTT, clipping,
 * validation (a set or a split), metrics, schedulers (ReduceLROnPlateau on the monitored
 * value), early stopping, callbacks that can stop training, a progress bar, cancellation
 * and checkpoints that resume mid-epoch bit for bit.
 *
 * Its parts live next to it: options.ts (the options and their validation), step.ts (one
 * update), evaluate.ts, predict.ts, metrics.ts, checkpoint.ts and progress_bar.ts.
 *
 * Every step's native work runs on libuv's thread pool, so the event loop keeps serving
 * (timers, I/O, an AbortSignal) while a model trains: as one job per step (forward, loss
 * and backward, Sequential.forwardQueued) when the model allows, else through Sequential's
 * per-pass async path.
 */
import { gatherBatch, splitBatches, type SequenceDataset } from '../data/dataset.js';
import { rangeError } from '../errors.js';
import type { Sequential } from '../nn/sequential.js';
import { ReduceLROnPlateau } from '../optim/plateau_lr.js';
import type { Tensor } from '../tensor.js';
import { copyStates, loadFitCheckpoint, saveFitCheckpoint, type CarriedState, type EarlyState, type FitPosition } from './checkpoint.js';
import { evaluateChecked, type EvaluateResult } from './evaluate.js';
import { timeMajor } from './layout.js';
import { addSums, meanOf, type MetricSums, type MetricValues } from './metrics.js';
import {
  resolveFitOptions,
  type CallbackResult,
  type EpochSummary,
  type FitOptions,
  type FitProgress,
  type FitRecord,
  type FitResult,
  type MonitorName,
  type StopReason,
  type ValidationRecord,
} from './options.js';
import { TrainingProgressBar } from './progress_bar.js';
import { trainStep, type StepOutcome, type StepSetup } from './step.js';
import { chunkLengths, sliceTime, tbpttChunks } from './tbptt.js';

/** The value of a monitored quantity at an epoch's end (NaN when it is missing). */
function monitored(name: MonitorName, loss: number, metrics: MetricValues, v: EvaluateResult | undefined): number {
  switch (name) {
    case 'loss':
      return loss;
    case 'valLoss':
      return v?.loss ?? NaN;
    case 'accuracy':
    case 'mae':
      return metrics[name] ?? NaN;
    case 'valAccuracy':
      return v?.accuracy ?? NaN;
    default:
      return v?.mae ?? NaN;
  }
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** One line for an epoch above the progress bar. */
function epochLine(s: EpochSummary, epochs: number): string {
  const parts = [`loss ${fmt(s.loss)}`];
  for (const [k, v] of Object.entries(s.metrics)) parts.push(`${k} ${fmt(v as number)}`);
  if (s.validation) {
    parts.push(`valLoss ${fmt(s.validation.loss)}`);
    if (s.validation.accuracy !== undefined) parts.push(`valAccuracy ${fmt(s.validation.accuracy)}`);
    if (s.validation.mae !== undefined) parts.push(`valMae ${fmt(s.validation.mae)}`);
  }
  parts.push(`lr ${s.lr.toPrecision(3)}`);
  return `epoch ${s.epoch}${Number.isFinite(epochs) ? `/${epochs}` : ''}: ${parts.join(', ')}`;
}

/**
 * Trains `model` on `data` with mini-batches. Each step zeroes the gradients, runs
 * forward and backward off the main thread, applies the loss mask for padding
 * (positions past `seqLengths` contribute nothing), clips, checks for non-finite
 * values and steps the optimizer. Per-sequence targets (`[N]` or `[N, C]`) need a
 * model ending in LastStep.
 *
 * After every epoch: validation (with `validation` or `validationSplit`), the scheduler
 * (a ReduceLROnPlateau with the monitored value), early stopping, then `onEpochEnd`.
 * Any callback (`onProgress`, `onBatchEnd`, `onEpochEnd`) returning `false` stops training
 * there; fit then resolves normally with `stopped: 'callback'`.
 *
 * A model built with `batchFirst: true` (its RNN and LastStep layers) is fed
 * `[B, T, ...]` batches; the others `[T, B, ...]`.
 *
 * The model is put in training mode for the duration and its previous mode is
 * restored at the end. With the same seeds (model, `seed`) and one BLAS thread
 * (`setNumThreads(1)`), two runs give bit-identical weights, and so does a run resumed
 * from a checkpoint (`checkpoint` / `resumeFrom`) and one that was not interrupted.
 *
 * @param model - The model (time-major inside; fit converts the example-major data).
 * @param data - The training set.
 * @param options - See FitOptions.
 * @returns The per-step history, per-epoch summaries and validation, and why it stopped.
 * @throws NonFiniteError naming the step when checkFinite finds a NaN or infinite loss
 * or gradient norm; TypeError / RangeError for bad arguments (before anything runs).
 */
export async function fit(model: Sequential, data: SequenceDataset, options: FitOptions): Promise<FitResult> {
  const plan = resolveFitOptions(model, data, options);
  const { info, batchSize, tbptt, carry, optimizer, scheduler, rng, earlyStopping: es, checkpoint } = plan;
  const train = plan.data;
  const net = timeMajor(model);
  const plateau = scheduler instanceof ReduceLROnPlateau ? scheduler : null;
  const setup: StepSetup = {
    model, net, loss: plan.loss, target: info.target, optimizer, clipNorm: plan.clipNorm, clipValue: plan.clipValue, checkFinite: plan.checkFinite,
    stepScheduler: scheduler && plan.schedulerStep === 'step' ? scheduler : null, metrics: plan.metrics, scratch: { grad: null },
  };
  const fingerprint = { size: info.size, batchSize, tbptt, shuffle: plan.shuffle };
  let resume: FitPosition | null = null;
  if (plan.resumeFrom !== null) resume = await loadFitCheckpoint(plan.resumeFrom, model, optimizer, scheduler, rng, fingerprint);
  const initialEpoch = resume ? resume.epoch : plan.initialEpoch;
  if (plan.epochs < initialEpoch + 1) {
    throw rangeError('options.epochs', `an epoch after the checkpoint's ${initialEpoch} completed epochs`, plan.epochs);
  }
  const { epochs } = plan;
  let step = resume ? resume.step : plan.initialStep;
  const lastStep = step + plan.maxSteps;
  const history: FitRecord[] = [];
  const validation: ValidationRecord[] = [];
  const summaries: EpochSummary[] = [];
  const early: EarlyState | null = es
    ? resume?.early ?? { best: es.mode === 'min' ? Infinity : -Infinity, wait: 0, bestEpoch: null, bestWeights: null }
    : null;
  const started = performance.now();
  let examples = 0;
  let stopReason: StopReason = null;
  let bar: TrainingProgressBar | null = null;
  let ema = 0;
  let emaSteps = 0;
  const wasTraining = model.training;
  model.train();
  const stopped = (): boolean => {
    if (stopReason === null && plan.signal?.aborted === true) stopReason = 'signal';
    return stopReason !== null;
  };
  const heed = async (r: CallbackResult): Promise<void> => {
    if ((await r) === false && stopReason === null) stopReason = 'callback';
  };

  // Where the run stands (for checkpoints): kept current after every step.
  let epochRng = rng.getState();
  let curEpoch = initialEpoch;
  let batchNo = 0;
  let chunkNo = 0;
  let carried: CarriedState[] | null = null;
  let epochLoss = { sum: 0, count: 0 };
  let epochMetrics: MetricSums = {};
  let batchLoss = { sum: 0, count: 0 };
  let batchMetrics: MetricSums = {};
  const position = (): FitPosition => ({
    epoch: curEpoch, step, epochRng, batch: batchNo, chunk: chunkNo,
    states: carried ? copyStates(carried) : null,
    epochLoss: { ...epochLoss }, epochMetrics: structuredClone(epochMetrics), batchLoss: { ...batchLoss }, batchMetrics: structuredClone(batchMetrics),
    early: early ? { ...early } : null, fingerprint,
  });
  const save = async (): Promise<void> => {
    if (checkpoint) await saveFitCheckpoint(checkpoint.path, model, optimizer, scheduler, position(), checkpoint.extra);
  };

  try {
    // A first checkpoint before any step: a model the file cannot describe or a path that
    // cannot be written fails now, not after the first `every` steps (a resumed run already
    // has its file).
    if (resume === null) await save();
    for (let epoch = initialEpoch + 1; epoch <= epochs && step < lastStep; epoch++) {
      const resuming = resume !== null && epoch === initialEpoch + 1;
      if (resuming) rng.setState((resume as FitPosition).epochRng);
      epochRng = rng.getState();
      epochLoss = { sum: 0, count: 0 };
      epochMetrics = {};
      const order = Array.from({ length: info.size }, (_, i) => i);
      if (plan.shuffle) rng.shuffle(order);
      const batches = splitBatches(order, batchSize);
      // Steps per batch: one, or one per chunk of the batch's (trimmed) length.
      const lengthOf = (idx: Int32Array): number => {
        if (!train.seqLengths) return info.steps;
        let m = 1;
        for (const i of idx) m = Math.max(m, train.seqLengths[i]);
        return m;
      };
      const stepsOf = (idx: Int32Array): number => (tbptt === null ? 1 : Math.ceil(lengthOf(idx) / tbptt));
      const epochSteps = batches.reduce((s, idx) => s + stepsOf(idx), 0);
      const startBatch = resuming ? (resume as FitPosition).batch : 0;
      const startChunk = resuming ? (resume as FitPosition).chunk : 0;
      let thisEpoch = -startChunk;
      for (let i = startBatch; i < batches.length; i++) thisEpoch += stepsOf(batches[i]);
      const totalSteps = Math.min(lastStep, step + thisEpoch + epochSteps * (epochs === Infinity ? Infinity : epochs - epoch));
      if (plan.progressBar) {
        if (bar === null) bar = new TrainingProgressBar(totalSteps, { ...plan.progressBar, start: step });
        else bar.setTotal(totalSteps);
      }
      curEpoch = epoch - 1;
      if (resuming) {
        const r = resume as FitPosition;
        epochLoss = { ...r.epochLoss };
        epochMetrics = r.epochMetrics;
        batchLoss = { ...r.batchLoss };
        batchMetrics = r.batchMetrics;
      } else {
        epochLoss = { sum: 0, count: 0 };
        epochMetrics = {};
        batchLoss = { sum: 0, count: 0 };
        batchMetrics = {};
      }

      const progressOf = (o: StepOutcome, loss: number, metrics: MetricValues): FitProgress => {
        const elapsedMs = performance.now() - started;
        return {
          epoch, step, totalSteps, batch: batchNo + 1, batchesPerEpoch: batches.length, loss, metrics, lr: o.lr, gradNorm: o.gradNorm, clipped: o.clipped,
          examplesPerSecond: elapsedMs > 0 ? (examples * 1000) / elapsedMs : 0, elapsedMs,
        };
      };
      /** After a step that counted: history, running sums, onProgress, the bar. */
      const report = async (o: StepOutcome): Promise<void> => {
        const metrics = meanOf(o.metrics, plan.metrics);
        history.push({ epoch, step, loss: o.loss, metrics });
        epochLoss.sum += o.loss;
        epochLoss.count++;
        batchLoss.sum += o.loss;
        batchLoss.count++;
        addSums(epochMetrics, o.metrics);
        addSums(batchMetrics, o.metrics);
        if (plan.onProgress) await heed(plan.onProgress(progressOf(o, o.loss, metrics)));
        if (bar) {
          ema = 0.95 * ema + 0.05 * o.loss;
          emaSteps++;
          const elapsedMs = performance.now() - started;
          bar.update(step, ema / (1 - 0.95 ** emaSteps), elapsedMs > 0 ? (examples * 1000) / elapsedMs : NaN);
        }
      };
      /** After a batch's last step: onBatchEnd with the batch's means. */
      const endBatch = async (last: StepOutcome | null): Promise<void> => {
        if (last && plan.onBatchEnd && batchLoss.count > 0) {
          await heed(plan.onBatchEnd(progressOf(last, batchLoss.sum / batchLoss.count, meanOf(batchMetrics, plan.metrics))));
        }
        batchNo++;
        chunkNo = 0;
        carried = null;
        batchLoss = { sum: 0, count: 0 };
        batchMetrics = {};
      };
      const maybeSave = async (): Promise<void> => {
        if (checkpoint && step % checkpoint.every === 0) await save();
      };

      // An epoch cut short by `steps` does not end: no validation, scheduler step or onEpochEnd.
      let complete = true;
      batchNo = startBatch;
      for (let bi = startBatch; bi < batches.length; bi++) {
        if (stopped()) break;
        if (step >= lastStep) {
          complete = false;
          break;
        }
        const idx = batches[bi];
        const b = gatherBatch(train, info, idx);
        const B = idx.length;
        if (tbptt === null) {
          const o = await trainStep(setup, step + 1, epoch, b.x, b.y, b.seqLengths, b.seqLengths, undefined);
          examples += B;
          if (o !== null) {
            step++;
            await report(o);
          }
          await endBatch(o);
          if (o !== null) await maybeSave();
          continue;
        }
        const T = b.x.shape[0];
        const chunks = tbpttChunks(T, tbptt);
        const first = resuming && bi === startBatch ? startChunk : 0;
        let states: CarriedState[] | undefined = resuming && bi === startBatch && (resume as FitPosition).states ? ((resume as FitPosition).states as CarriedState[]) : undefined;
        let last: StepOutcome | null = null;
        let cut = false;
        for (let c = first; c < chunks.length; c++) {
          if (c > first && stopped()) {
            cut = true;
            break;
          }
          if (c > first && step >= lastStep) {
            complete = false;
            cut = true;
            break;
          }
          const { start, end } = chunks[c];
          const lens = chunkLengths(b.seqLengths, start, end, B);
          const o = await trainStep(setup, step + 1, epoch, sliceTime(b.x, start, end), sliceTime(b.y, start, end), lens.rnn, lens.valid, states);
          // The final states are inputs of the next chunk, not part of its graph: no gradient flows back.
          if (carry) states = model.lastStates();
          chunkNo = c + 1;
          carried = carry && states ? states : null;
          if (c === chunks.length - 1) examples += B;
          if (o !== null) {
            step++;
            last = o;
            await report(o);
          }
          if (c === chunks.length - 1) await endBatch(last);
          if (o !== null) await maybeSave();
        }
        if (cut) break;
      }
      if (stopped()) break;
      if (!complete) break;
      // Guards against looping forever (with only `steps`) when no target ever counts.
      if (epochLoss.count === 0) throw rangeError('data.y', 'at least one target that is neither padding nor -100 (ignored)', 'none in a whole epoch');
      let v: EvaluateResult | undefined;
      if (plan.validation !== null) {
        v = await evaluateChecked(model, plan.validation, plan.loss, batchSize, tbptt, carry, plan.metrics);
        validation.push({ epoch, ...v });
        model.train();
      }
      const loss = epochLoss.sum / epochLoss.count;
      const metrics = meanOf(epochMetrics, plan.metrics);
      if (plateau && plan.schedulerMonitor) plateau.step(monitored(plan.schedulerMonitor, loss, metrics, v));
      else if (scheduler && plan.schedulerStep === 'epoch') scheduler.step();
      if (es && early) {
        const current = monitored(es.monitor, loss, metrics, v);
        const better = es.mode === 'min' ? current < early.best - es.minDelta : current > early.best + es.minDelta;
        if (better) {
          early.best = current;
          early.wait = 0;
          early.bestEpoch = epoch;
          if (es.restoreBestWeights) early.bestWeights = model.parameters().map((p) => Float32Array.from(p.data));
        } else {
          early.wait++;
          if (early.wait >= es.patience) stopReason = 'earlyStopping';
        }
      }
      // The epoch is over: a checkpoint from here on starts the next one (from the generator's current state).
      curEpoch = epoch;
      batchNo = 0;
      epochRng = rng.getState();
      epochLoss = { sum: 0, count: 0 };
      epochMetrics = {};
      const summary: EpochSummary = v ? { epoch, step, loss, metrics, lr: optimizer.lr, validation: v } : { epoch, step, loss, metrics, lr: optimizer.lr };
      summaries.push(summary);
      if (bar?.active) bar.log(epochLine(summary, epochs));
      if (plan.onEpochEnd) await heed(plan.onEpochEnd(summary));
      if (stopReason !== null) break;
    }
    // (Set in closures too: TypeScript's narrowing of the loop's assignments does not see them.)
    const reason = stopReason as StopReason;
    // The file ends up holding where this call stopped, whatever stopped it (before the best weights come back).
    await save();
    if (reason !== 'signal' && early?.bestWeights) {
      const params = model.parameters();
      early.bestWeights.forEach((w, i) => params[i].data.set(w));
    }
    const result: FitResult = { history, validation, epochs: summaries, aborted: reason === 'signal', stopped: reason };
    return es ? { ...result, bestEpoch: early?.bestEpoch ?? null } : result;
  } finally {
    bar?.stop();
    model.train(wasTraining);
  }
}

// Kept importable from here (the CLI and older code import them from fit.js).
export { evaluate, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export { predict, type PredictOptions } from './predict.js';
export { NonFiniteError } from './step.js';
export type { EpochSummary, FitOptions, FitProgress, FitRecord, FitResult, ValidationRecord } from './options.js';
