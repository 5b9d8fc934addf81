/**
 * The training loop: `fit` (mini-batch training with optional truncated BPTT,
 * clipping, validation, progress, cancellation), `evaluate` and `predict`.
 *
 * Every forward and backward goes through Sequential's async path, so the
 * native work runs on libuv's thread pool and the event loop keeps serving
 * (timers, I/O, an AbortSignal) while a model trains.
 */
import { checkDataset, gatherBatch, splitBatches, toRng, type DatasetInfo, type SequenceDataset } from '../data/dataset.js';
import { describe, rangeError, typeError } from '../errors.js';
import type { IntTensor } from '../nn/layer.js';
import { Embedding } from '../nn/embedding.js';
import { LastStep } from '../nn/last_step.js';
import { Sequential } from '../nn/sequential.js';
import { clipGradNorm, clipGradValue } from '../optim/clip.js';
import { LRScheduler } from '../optim/lr_scheduler.js';
import { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkBool, checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';
import { batchLoss, lossAccepts, perStep, type LossName } from './loss.js';
import { timeMajor } from './layout.js';
import { chunkLengths, sliceTime, tbpttChunks } from './tbptt.js';

/** Progress after one optimizer step. */
export interface FitProgress {
  /** Epoch, from 1 (or initialEpoch + 1). */
  readonly epoch: number;
  /** Optimizer step, from 1 (or initialStep + 1). */
  readonly step: number;
  /** The step fit expects to end at (exact unless TBPTT meets variable lengths; see FitOptions.tbptt). */
  readonly totalSteps: number;
  /** This step's loss (mean over its batch or chunk). */
  readonly loss: number;
  /** Learning rate used by this step. */
  readonly lr: number;
  /**
   * The global 2-norm of the optimizer's parameter gradients before clipping (after
   * clipValue, if given), as `clip_grad_norm_` returns it: the first sign of vanishing or
   * exploding gradients.
   */
  readonly gradNorm: number;
  /** Whether clipNorm rescaled this step's gradients. */
  readonly clipped: boolean;
  /** Examples of completed batches per second since fit started. */
  readonly examplesPerSecond: number;
  /** Milliseconds since fit started. */
  readonly elapsedMs: number;
}

/** Summary passed to `onEpochEnd`. */
export interface EpochSummary {
  /** The epoch that ended. */
  readonly epoch: number;
  /** The last optimizer step of the epoch. */
  readonly step: number;
  /** Mean of the epoch's step losses (NaN if it took no step). */
  readonly loss: number;
  /** The validation result of this epoch, when `validation` is given. */
  readonly validation?: EvaluateResult;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /**
   * Train until this epoch (counting from 1, so with initialEpoch 0 it is the
   * number of epochs). May be omitted when `steps` is given.
   */
  epochs?: number;
  /**
   * Stop after this many optimizer steps in this call, even mid-epoch (an epoch cut
   * short is not ended: no validation, epoch scheduler step or onEpochEnd for it).
   */
  steps?: number;
  /** Examples per batch (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** 'crossEntropy' for class-id targets, 'mse' for float targets. */
  loss: LossName;
  /** The optimizer, over (some of) the model's parameters; only those are clipped and updated. */
  optimizer: Optimizer;
  /** Rescale gradients to this global 2-norm at most (clipGradNorm). */
  clipNorm?: number;
  /** Clamp each gradient element to [-clipValue, clipValue] (before clipNorm). */
  clipValue?: number;
  /**
   * Truncated BPTT with chunks of this many steps: each batch's time axis is cut into
   * chunks, each chunk is one optimizer step, and every RNN layer's final state is
   * carried into the next chunk (no gradient across the boundary); the state starts
   * at zero for each batch. Needs per-step targets and unidirectional RNN layers.
   * With variable lengths each batch is cut to its longest sequence, so the number of
   * chunks (and totalSteps for later epochs) depends on the batches drawn.
   */
  tbptt?: number;
  /** With tbptt: carry the state from chunk to chunk (default true); false restarts each chunk from zero. */
  carryState?: boolean;
  /** Evaluated after every epoch (same loss, batchSize and tbptt). */
  validation?: SequenceDataset;
  /** Seed of the shuffling generator (default random). Exclusive with rng. */
  seed?: number;
  /** The shuffling generator itself (advanced as fit draws; save its state to resume). Exclusive with seed. */
  rng?: Rng;
  /** Reshuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /** A learning-rate scheduler of `optimizer`, stepped after every epoch (or step, see schedulerStep). */
  scheduler?: LRScheduler;
  /** When the scheduler steps: 'epoch' (default) or 'step'. */
  schedulerStep?: 'epoch' | 'step';
  /** Called after every optimizer step (awaited if it returns a promise). */
  onProgress?: (progress: FitProgress) => void | Promise<void>;
  /** Called after every epoch, after validation (awaited if it returns a promise). */
  onEpochEnd?: (summary: EpochSummary) => void | Promise<void>;
  /** Stops training at the next step boundary; fit then resolves with what it has and `aborted: true`. */
  signal?: AbortSignal;
  /** Throw a NonFiniteError when a loss or the gradient norm is NaN or infinite (default true). */
  checkFinite?: boolean;
  /** Epochs already done (when resuming; default 0): training runs epochs initialEpoch+1 .. epochs. */
  initialEpoch?: number;
  /** Steps already done (when resuming; default 0): the first step of this call is initialStep+1. */
  initialStep?: number;
}

/** One optimizer step of the history. */
export interface FitRecord {
  /** Epoch of the step. */
  readonly epoch: number;
  /** The step number. */
  readonly step: number;
  /** Its loss. */
  readonly loss: number;
}

/** One validation of the history. */
export interface ValidationRecord {
  /** The epoch after which it ran. */
  readonly epoch: number;
  /** Mean validation loss. */
  readonly loss: number;
  /** Share of correct arg-max predictions (class targets only). */
  readonly accuracy?: number;
}

/** What {@link fit} resolves with. */
export interface FitResult {
  /** Every optimizer step's loss, in order. */
  readonly history: FitRecord[];
  /** Every epoch's validation, in order (empty without `validation`). */
  readonly validation: ValidationRecord[];
  /** Whether the signal stopped training early. */
  readonly aborted: boolean;
}

/** Thrown by fit when a loss or gradient norm is not finite; the message names the step. */
export class NonFiniteError extends Error {
  /** The step at which it happened (its update was not applied). */
  readonly step: number;
  /** The epoch of that step. */
  readonly epoch: number;
  /** Which quantity: 'loss' or 'gradient norm'. */
  readonly quantity: 'loss' | 'gradient norm';
  /** The value (NaN or ±Infinity). */
  readonly value: number;

  /** @internal */
  constructor(quantity: 'loss' | 'gradient norm', step: number, epoch: number, value: number) {
    super(`non-finite ${quantity} at step ${step} (epoch ${epoch}): ${value}; the update was not applied (lower the learning rate, clip gradients, or check the data)`);
    this.name = 'NonFiniteError';
    this.quantity = quantity;
    this.step = step;
    this.epoch = epoch;
    this.value = value;
  }
}

const FIT_KEYS = [
  'epochs', 'steps', 'batchSize', 'loss', 'optimizer', 'clipNorm', 'clipValue', 'tbptt', 'carryState', 'validation', 'seed', 'rng',
  'shuffle', 'scheduler', 'schedulerStep', 'onProgress', 'onEpochEnd', 'signal', 'checkFinite', 'initialEpoch', 'initialStep',
] as const;

function checkModel(model: unknown): Sequential {
  if (!(model instanceof Sequential)) throw typeError('model', 'a Sequential', model);
  return model;
}

function checkFn<F>(name: string, v: unknown): F | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw typeError(name, 'a function', v);
  return v as F;
}

/** Ids feed a model starting with Embedding, float features any other: say so before a layer fails mid-step. */
function checkInputKind(name: string, model: Sequential, info: DatasetInfo): void {
  const embeds = model.layers[0] instanceof Embedding;
  if (embeds && !info.ids) throw rangeError(name, 'ids [N, T] in an IntTensor (the model starts with an Embedding)', 'float features');
  if (!embeds && info.ids) throw rangeError(name, 'float features [N, T, F] in a Tensor (the model does not start with an Embedding)', 'ids');
}

function checkSignal(name: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || typeof (v as AbortSignal).aborted !== 'boolean') throw typeError(name, 'an AbortSignal', v);
  return v as AbortSignal;
}

/** Checks that the options fit the model and data (TBPTT needs per-step targets and unidirectional layers). */
function checkTbptt(name: string, k: unknown, model: Sequential, info: DatasetInfo): number | null {
  if (k === undefined) return null;
  const n = checkInt(name, k, 1);
  if (!perStep(info.target)) throw rangeError(name, 'no tbptt for per-sequence targets (TBPTT needs a target at every step)', n);
  if (model.layers.some((l) => l instanceof LastStep)) throw rangeError(name, 'no tbptt for a model ending in LastStep', n);
  if (model.recurrentLayers().some((r) => r.config.bidirectional)) {
    throw rangeError(name, 'no tbptt with bidirectional RNN layers (their reverse pass needs the whole sequence)', n);
  }
  return n;
}

function checkLossFor(name: string, loss: unknown, info: DatasetInfo, what: string): LossName {
  const l = checkOneOf(name, loss, ['crossEntropy', 'mse'] as const);
  if (!lossAccepts(l, info.target)) {
    throw rangeError(
      name,
      l === 'crossEntropy' ? `'mse' for the float targets of ${what}` : `'crossEntropy' for the class-id targets of ${what}`,
      describe(l),
    );
  }
  return l;
}

/** Whether clipGradNorm rescaled gradients of this norm (its own test: maxNorm / (norm + 1e-6) < 1). */
const maxNormScales = (norm: number, maxNorm: number): boolean => maxNorm / (norm + 1e-6) < 1;

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains `model` on `data` with mini-batches. Each step zeroes the gradients, runs
 * forward and backward off the main thread, applies the loss mask for padding
 * (positions past `seqLengths` contribute nothing), clips, checks for non-finite
 * values and steps the optimizer. Per-sequence targets (`[N]` or `[N, C]`) need a
 * model ending in LastStep.
 *
 * A model built with `batchFirst: true` (its RNN and LastStep layers) is fed
 * `[B, T, ...]` batches; the others `[T, B, ...]`.
 *
 * The model is put in training mode for the duration and its previous mode is
 * restored at the end. With the same seeds (model, `seed`) and one BLAS thread
 * (`setNumThreads(1)`), two runs give bit-identical weights.
 *
 * @param model - The model (time-major inside; fit converts the example-major data).
 * @param data - The training set.
 * @param options - See FitOptions.
 * @returns The per-step losses, per-epoch validation and whether it was aborted.
 * @throws NonFiniteError naming the step when checkFinite finds a NaN or infinite loss
 * or gradient norm; TypeError / RangeError for bad arguments (before anything runs).
 */
export async function fit(model: Sequential, data: SequenceDataset, options: FitOptions): Promise<FitResult> {
  checkModel(model);
  const info = checkDataset('data', data);
  checkInputKind('data.x', model, info);
  if (options === undefined) throw typeError('options', 'an options object with batchSize, loss and optimizer', options);
  const o = checkOptions<FitOptions>('options', options, FIT_KEYS);
  const batchSize = checkInt('options.batchSize', o.batchSize, 1);
  const loss = checkLossFor('options.loss', o.loss, info, 'data');
  const initialEpoch = checkInt('options.initialEpoch', o.initialEpoch ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const initialStep = checkInt('options.initialStep', o.initialStep ?? 0, 0, Number.MAX_SAFE_INTEGER);
  if (o.epochs === undefined && o.steps === undefined) throw rangeError('options', 'epochs or steps (or both)', 'neither');
  const epochs = o.epochs === undefined ? Infinity : checkInt('options.epochs', o.epochs, initialEpoch + 1, Number.MAX_SAFE_INTEGER);
  const maxSteps = o.steps === undefined ? Infinity : checkInt('options.steps', o.steps, 1, Number.MAX_SAFE_INTEGER);
  if (!(o.optimizer instanceof Optimizer)) throw typeError('options.optimizer', 'an Optimizer (SGD, Adam, ...) over the model parameters', o.optimizer);
  const optimizer = o.optimizer;
  const own = new Set(model.parameters().map((p) => p.data));
  const foreign = optimizer.params.find((p) => !own.has(p.data));
  if (foreign) throw rangeError('options.optimizer', "an optimizer over this model's parameters", `one holding a parameter '${foreign.name}' the model does not have`);
  const clipNorm = o.clipNorm === undefined ? Infinity : checkNumber('options.clipNorm', o.clipNorm, 0);
  const clipValue = o.clipValue === undefined ? null : checkNumber('options.clipValue', o.clipValue, 0);
  const tbptt = checkTbptt('options.tbptt', o.tbptt, model, info);
  const carry = checkBool('options.carryState', o.carryState ?? true);
  if (o.validation !== undefined) {
    const vinfo = checkDataset('options.validation', o.validation);
    checkInputKind('options.validation.x', model, vinfo);
    checkLossFor('options.loss', loss, vinfo, 'options.validation');
    if (vinfo.target !== info.target) throw rangeError('options.validation.y', `targets of the same kind as data.y (${info.target})`, vinfo.target);
  }
  if (o.seed !== undefined && o.rng !== undefined) throw rangeError('options', 'seed or rng, not both', 'both');
  if (o.rng !== undefined && !(o.rng instanceof Rng)) throw typeError('options.rng', 'an Rng (or use options.seed)', o.rng);
  const rng = toRng(o.rng !== undefined ? 'options.rng' : 'options.seed', o.rng ?? o.seed ?? Math.floor(Math.random() * 2 ** 32));
  const shuffle = checkBool('options.shuffle', o.shuffle ?? true);
  let scheduler: LRScheduler | null = null;
  if (o.scheduler !== undefined) {
    if (!(o.scheduler instanceof LRScheduler)) throw typeError('options.scheduler', 'an LRScheduler (StepLR, ...)', o.scheduler);
    if (o.scheduler.optimizer !== optimizer) throw rangeError('options.scheduler', 'a scheduler of options.optimizer', 'a scheduler of another optimizer');
    scheduler = o.scheduler;
  }
  const schedulerStep = checkOneOf('options.schedulerStep', o.schedulerStep ?? 'epoch', ['epoch', 'step'] as const);
  const onProgress = checkFn<NonNullable<FitOptions['onProgress']>>('options.onProgress', o.onProgress);
  const onEpochEnd = checkFn<NonNullable<FitOptions['onEpochEnd']>>('options.onEpochEnd', o.onEpochEnd);
  const signal = checkSignal('options.signal', o.signal);
  const checkFiniteValues = checkBool('options.checkFinite', o.checkFinite ?? true);

  const params = optimizer.params;
  const net = timeMajor(model);
  const history: FitRecord[] = [];
  const validation: ValidationRecord[] = [];
  const started = performance.now();
  let examples = 0;
  let step = initialStep;
  let lastLr = optimizer.lr;
  let lastNorm = NaN;
  let lastClipped = false;
  const lastStep = initialStep + maxSteps;
  const wasTraining = model.training;
  model.train();
  const result = (aborted: boolean): FitResult => ({ history, validation, aborted });
  const stopped = (): boolean => signal?.aborted === true;

  /** One forward/backward/update; returns the loss, or null if nothing counted (no update). */
  const trainStep = async (epoch: number, x: Tensor | IntTensor, y: Tensor | IntTensor, rnnLengths: Int32Array | null, valid: Int32Array | null, h0: Tensor[] | undefined): Promise<number | null> => {
    model.zeroGrad();
    const out = await net.forward(x, { seqLengths: rnnLengths ?? undefined, h0 });
    const r = batchLoss(loss, out, y, info.target, valid);
    if (r === null) return null;
    const n = step + 1;
    if (checkFiniteValues && !Number.isFinite(r.loss)) throw new NonFiniteError('loss', n, epoch, r.loss);
    await net.backward(r.grad);
    if (clipValue !== null) clipGradValue(params, clipValue);
    // The norm is always measured (one pass over the gradients): progress reports it.
    const norm = clipGradNorm(params, clipNorm);
    if (checkFiniteValues && !Number.isFinite(norm)) throw new NonFiniteError('gradient norm', n, epoch, norm);
    lastNorm = norm;
    lastClipped = maxNormScales(norm, clipNorm);
    lastLr = optimizer.lr;
    optimizer.step();
    step = n;
    if (scheduler && schedulerStep === 'step') scheduler.step();
    return r.loss;
  };

  try {
    for (let epoch = initialEpoch + 1; epoch <= epochs && step < lastStep; epoch++) {
      const order = Array.from({ length: info.size }, (_, i) => i);
      if (shuffle) rng.shuffle(order);
      const batches = splitBatches(order, batchSize);
      // Steps this epoch: one per batch, or one per chunk of each batch's (trimmed) length.
      const lengthOf = (idx: Int32Array): number => {
        if (!data.seqLengths) return info.steps;
        let m = 1;
        for (const i of idx) m = Math.max(m, data.seqLengths[i]);
        return m;
      };
      const epochSteps = tbptt === null ? batches.length : batches.reduce((s, idx) => s + Math.ceil(lengthOf(idx) / tbptt), 0);
      const totalSteps = Math.min(lastStep, step + epochSteps * (epochs === Infinity ? Infinity : epochs - epoch + 1));
      const losses: number[] = [];
      const report = async (l: number): Promise<void> => {
        history.push({ epoch, step, loss: l });
        losses.push(l);
        if (onProgress) {
          const elapsedMs = performance.now() - started;
          await onProgress({
            epoch, step, totalSteps, loss: l, lr: lastLr, gradNorm: lastNorm, clipped: lastClipped,
            examplesPerSecond: elapsedMs > 0 ? (examples * 1000) / elapsedMs : 0, elapsedMs,
          });
        }
        // Let timers and I/O run between steps even when no layer yields (e.g. no RNN).
        await nextTick();
      };
      // An epoch cut short by `steps` does not end: no validation, scheduler step or onEpochEnd.
      let complete = true;
      for (const idx of batches) {
        if (stopped()) return result(true);
        if (step >= lastStep) {
          complete = false;
          break;
        }
        const b = gatherBatch(data, info, idx);
        const B = idx.length;
        if (tbptt === null) {
          const l = await trainStep(epoch, b.x, b.y, b.seqLengths, b.seqLengths, undefined);
          examples += B;
          if (l !== null) await report(l);
          continue;
        }
        const T = b.x.shape[0];
        const chunks = tbpttChunks(T, tbptt);
        let states: Tensor[] | undefined;
        for (let c = 0; c < chunks.length; c++) {
          if (c > 0 && stopped()) break;
          if (c > 0 && step >= lastStep) {
            complete = false;
            break;
          }
          const { start, end } = chunks[c];
          const lens = chunkLengths(b.seqLengths, start, end, B);
          const l = await trainStep(epoch, sliceTime(b.x, start, end), sliceTime(b.y, start, end), lens.rnn, lens.valid, states);
          // The final states are inputs of the next chunk, not part of its graph: no gradient flows back.
          if (carry) states = model.lastStates();
          if (c === chunks.length - 1) examples += B;
          if (l !== null) await report(l);
        }
      }
      if (stopped()) return result(true);
      if (!complete) break;
      // Guards against looping forever (with only `steps`) when no target ever counts.
      if (losses.length === 0) throw rangeError('data.y', 'at least one target that is neither padding nor -100 (ignored)', 'none in a whole epoch');
      let v: EvaluateResult | undefined;
      if (o.validation !== undefined) {
        v = await evaluateChecked(model, o.validation, loss, batchSize, tbptt, carry);
        validation.push({ epoch, ...v });
        model.train();
      }
      if (scheduler && schedulerStep === 'epoch') scheduler.step();
      if (onEpochEnd) {
        const mean = losses.length ? losses.reduce((a, c) => a + c, 0) / losses.length : NaN;
        await onEpochEnd(v ? { epoch, step, loss: mean, validation: v } : { epoch, step, loss: mean });
      }
    }
    return result(stopped());
  } finally {
    model.train(wasTraining);
  }
}

/** What {@link evaluate} returns. */
export interface EvaluateResult {
  /** Mean loss over every counted position (or element, for mse) of the dataset. */
  readonly loss: number;
  /** Share of counted positions whose arg-max is the target (class targets only). */
  readonly accuracy?: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** 'crossEntropy' for class-id targets, 'mse' for float targets. */
  loss: LossName;
  /** Examples per forward pass (default 64). */
  batchSize?: number;
  /** Run each batch in chunks of this many steps, as fit's tbptt. */
  tbptt?: number;
  /** With tbptt: carry the state between chunks (default true). */
  carryState?: boolean;
}

/**
 * The mean loss (and accuracy, for class targets) of `model` over `data`, in
 * evaluation mode (no dropout); the model's mode is restored afterwards. The mean
 * is over all counted positions of the dataset, not an average of batch means.
 *
 * @param model - The model.
 * @param data - The dataset.
 * @param options - `loss`, `batchSize`, `tbptt`, `carryState`.
 * @returns `{ loss, accuracy? }`.
 */
export async function evaluate(model: Sequential, data: SequenceDataset, options: EvaluateOptions): Promise<EvaluateResult> {
  checkModel(model);
  const info = checkDataset('data', data);
  checkInputKind('data.x', model, info);
  if (options === undefined) throw typeError('options', 'an options object with loss', options);
  const o = checkOptions<EvaluateOptions>('options', options, ['loss', 'batchSize', 'tbptt', 'carryState']);
  const loss = checkLossFor('options.loss', o.loss, info, 'data');
  const batchSize = checkInt('options.batchSize', o.batchSize ?? 64, 1);
  const tbptt = checkTbptt('options.tbptt', o.tbptt, model, info);
  const carry = checkBool('options.carryState', o.carryState ?? true);
  return evaluateChecked(model, data, loss, batchSize, tbptt, carry);
}

async function evaluateChecked(model: Sequential, data: SequenceDataset, loss: LossName, batchSize: number, tbptt: number | null, carry: boolean): Promise<EvaluateResult> {
  const info = checkDataset('data', data);
  const net = timeMajor(model);
  const wasTraining = model.training;
  model.eval();
  let sum = 0;
  let count = 0;
  let correct = 0;
  const add = (r: ReturnType<typeof batchLoss>): void => {
    if (r === null) return;
    sum += r.loss * r.count;
    count += r.count;
    correct += r.correct;
  };
  try {
    for (const idx of splitBatches(Array.from({ length: info.size }, (_, i) => i), batchSize)) {
      const b = gatherBatch(data, info, idx);
      if (tbptt === null) {
        add(batchLoss(loss, await net.forward(b.x, { seqLengths: b.seqLengths ?? undefined }), b.y, info.target, b.seqLengths, false));
        continue;
      }
      let states: Tensor[] | undefined;
      for (const { start, end } of tbpttChunks(b.x.shape[0], tbptt)) {
        const lens = chunkLengths(b.seqLengths, start, end, idx.length);
        const out = await net.forward(sliceTime(b.x, start, end), { seqLengths: lens.rnn ?? undefined, h0: states });
        if (carry) states = model.lastStates();
        add(batchLoss(loss, out, sliceTime(b.y, start, end), info.target, lens.valid, false));
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const mean = count > 0 ? sum / count : NaN;
  return loss === 'crossEntropy' ? { loss: mean, accuracy: count > 0 ? correct / count : NaN } : { loss: mean };
}

/** Options of {@link predict}. */
export interface PredictOptions {
  /** Examples per forward pass (default 64). */
  batchSize?: number;
  /** Valid length of each example (1..T); outputs past it are zero. */
  seqLengths?: Int32Array;
}

/**
 * Runs `model` over example-major inputs in evaluation mode (the mode is restored
 * afterwards) and returns example-major outputs: `[N, T, C]` for a per-step model,
 * `[N, C]` for one ending in LastStep.
 *
 * @param model - The model.
 * @param x - Inputs `[N, T, F]` or ids `[N, T]`.
 * @param options - `batchSize`, `seqLengths`.
 * @returns The outputs.
 */
export async function predict(model: Sequential, x: Tensor | IntTensor, options: PredictOptions = {}): Promise<Tensor> {
  checkModel(model);
  const o = checkOptions<PredictOptions>('options', options, ['batchSize', 'seqLengths']);
  const batchSize = checkInt('options.batchSize', o.batchSize ?? 64, 1);
  if (x === null || typeof x !== 'object') throw typeError('x', 'a Tensor [N, T, F] or an IntTensor [N, T]', x);
  // Reuse the dataset checks with a placeholder target of one class per sequence.
  const N = Array.isArray(x.shape) ? x.shape[0] : 0;
  const ds: SequenceDataset = { x, y: { data: new Int32Array(N), shape: [N] }, ...(o.seqLengths !== undefined ? { seqLengths: o.seqLengths } : {}) };
  const info = checkDataset('input', ds);
  checkInputKind('x', model, info);
  const net = timeMajor(model);
  const wasTraining = model.training;
  model.eval();
  let out: Float32Array | null = null;
  let outShape: number[] = [];
  try {
    for (const idx of splitBatches(Array.from({ length: N }, (_, i) => i), batchSize)) {
      const batch = gatherBatch(ds, info, idx);
      const lengths = batch.seqLengths;
      const y = await net.forward(batch.x, { seqLengths: lengths ?? undefined });
      const B = idx.length;
      if (y.shape.length === 2) {
        const C = y.shape[1];
        if (!out) {
          out = new Float32Array(N * C);
          outShape = [N, C];
        }
        out.set(y.data, idx[0] * C);
      } else if (y.shape.length === 3) {
        const [Tb, , C] = y.shape;
        if (!out) {
          out = new Float32Array(N * info.steps * C);
          outShape = [N, info.steps, C];
        }
        // Time-major [Tb, B, C] back to example-major rows; steps past each length stay zero
        // (a layer after the RNN, e.g. Linear's bias, would make them non-zero).
        for (let b = 0; b < B; b++) {
          const len = lengths ? lengths[b] : Tb;
          for (let t = 0; t < len; t++) out.set(y.data.subarray((t * B + b) * C, (t * B + b + 1) * C), ((idx[b] * info.steps) + t) * C);
        }
      } else {
        throw rangeError('model output', 'a tensor [T, B, C] or [B, C]', `shape [${y.shape.join(', ')}]`);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { data: out as Float32Array, shape: outShape };
}

