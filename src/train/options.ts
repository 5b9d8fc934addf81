/**
 * fit's options, progress and result types, and their validation: everything `fit` is
 * given is checked here, once, before any step runs.
 */
import { checkDataset, subset, toRng, type DatasetInfo, type SequenceDataset } from '../data/dataset.js';
import { describe, rangeError, typeError } from '../errors.js';
import type { JsonValue } from '../io/model_file.js';
import type { Sequential } from '../nn/sequential.js';
import { LRScheduler } from '../optim/lr_scheduler.js';
import { Optimizer } from '../optim/optimizer.js';
import { ReduceLROnPlateau } from '../optim/plateau_lr.js';
import { Rng } from '../random.js';
import { checkBool, checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';
import { checkFn, checkInputKind, checkLossFor, checkModel, checkSignal, checkTbptt } from './checks.js';
import type { EvaluateResult } from './evaluate.js';
import type { LossName } from './loss.js';
import { checkMetrics, type MetricName, type MetricValues } from './metrics.js';
import { checkProgressBar, type ProgressBarOptions } from './progress_bar.js';

/** Progress after one optimizer step (onProgress) or one batch (onBatchEnd). */
export interface FitProgress {
  /** Epoch, from 1 (or initialEpoch + 1). */
  readonly epoch: number;
  /** Optimizer step, from 1 (or initialStep + 1). */
  readonly step: number;
  /** The step fit expects to end at (exact unless TBPTT meets variable lengths; see FitOptions.tbptt). */
  readonly totalSteps: number;
  /** The batch within the epoch, from 1. */
  readonly batch: number;
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /** This step's loss (mean over its batch or chunk); in onBatchEnd with tbptt, the mean of the batch's chunk losses. */
  readonly loss: number;
  /** The step's (or, in onBatchEnd, the batch's) metrics, as asked for in FitOptions.metrics ({} without). */
  readonly metrics: MetricValues;
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

/** Summary of an epoch: passed to `onEpochEnd` and kept in FitResult.epochs. */
export interface EpochSummary {
  /** The epoch that ended. */
  readonly epoch: number;
  /** The last optimizer step of the epoch. */
  readonly step: number;
  /** Mean of the epoch's step losses (NaN if it took no step). */
  readonly loss: number;
  /** The epoch's training metrics over all its counted positions ({} without FitOptions.metrics). */
  readonly metrics: MetricValues;
  /** The lr for the next epoch (after the epoch's scheduler step). */
  readonly lr: number;
  /** The validation result of this epoch, when there is a validation set. */
  readonly validation?: EvaluateResult;
}

/** The quantities early stopping and ReduceLROnPlateau can monitor. */
export type MonitorName = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy' | 'mae' | 'valMae';

/** Options of FitOptions.earlyStopping (Keras' EarlyStopping, camelCased). */
export interface EarlyStoppingOptions {
  /** What to watch at each epoch's end (default 'valLoss'); a metric must be in FitOptions.metrics, a `val` one needs a validation set. */
  monitor?: MonitorName;
  /** Epochs without improvement before stopping (integer >= 0, default 0: stop at the first epoch that does not improve). */
  patience?: number;
  /** Least change that counts as an improvement (>= 0, default 0). */
  minDelta?: number;
  /** 'min', 'max' or 'auto' (default: 'max' for accuracy, 'min' for losses and mae). */
  mode?: 'min' | 'max' | 'auto';
  /**
   * At the end of fit, put back the weights of the best epoch (default false). Done whenever
   * fit ends normally, by early stopping or by a callback; not when the signal aborts it.
   */
  restoreBestWeights?: boolean;
}

/** Options of FitOptions.checkpoint. */
export interface FitCheckpointOptions {
  /** The checkpoint file, replaced atomically each time. */
  path: string;
  /** Write it after every `every` optimizer steps (counted from step 0, so steps every, 2·every, ...). */
  every: number;
  /**
   * Your JSON data stored with it (e.g. a vocabulary), read back with `loadCheckpoint(path).extra`;
   * the key `fit` is fit's own.
   */
  extra?: { [key: string]: JsonValue };
}

/** What a callback may return: `false` (or a promise of it) stops training after it. */
export type CallbackResult = boolean | void | Promise<boolean | void>;

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
  /**
   * Metrics to report besides the loss, in progress, epoch summaries, history and validation:
   * 'accuracy' (class-id targets) and 'mae' (float targets). Like the loss they are over the
   * counted positions: each unpadded step for per-step targets, each sequence for per-sequence ones.
   */
  metrics?: MetricName[];
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
  /** Evaluated after every epoch (same loss, batchSize, tbptt and metrics). Exclusive with validationSplit. */
  validation?: SequenceDataset;
  /**
   * Hold out this fraction of `data` for validation (in (0, 1)): the last
   * `N − floor(N·(1 − validationSplit))` examples, before any shuffling, as Keras does (so
   * with time-ordered windows the validation set is the latest). Exclusive with validation.
   */
  validationSplit?: number;
  /** Seed of the shuffling generator (default random). Exclusive with rng. */
  seed?: number;
  /** The shuffling generator itself (advanced as fit draws; save its state to resume). Exclusive with seed. */
  rng?: Rng;
  /** Reshuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /**
   * A learning-rate scheduler of `optimizer`, stepped after every epoch (or step, see
   * schedulerStep). A ReduceLROnPlateau is stepped after every epoch with the monitored
   * value (see schedulerMonitor).
   */
  scheduler?: LRScheduler;
  /** When the scheduler steps: 'epoch' (default) or 'step' (not for ReduceLROnPlateau). */
  schedulerStep?: 'epoch' | 'step';
  /**
   * What ReduceLROnPlateau watches: default earlyStopping's monitor if given, else 'valLoss'
   * with a validation set, else 'loss'. Only with a ReduceLROnPlateau scheduler.
   */
  schedulerMonitor?: MonitorName;
  /** Stop when the monitored quantity stops improving (see EarlyStoppingOptions). */
  earlyStopping?: EarlyStoppingOptions;
  /** Called after every optimizer step (awaited); returning `false` stops training. */
  onProgress?: (progress: FitProgress) => CallbackResult;
  /** Called after every batch (with tbptt: after its last chunk; awaited); returning `false` stops training. */
  onBatchEnd?: (progress: FitProgress) => CallbackResult;
  /** Called after every epoch, after validation, scheduler and early stopping (awaited); returning `false` stops training. */
  onEpochEnd?: (summary: EpochSummary) => CallbackResult;
  /** Stops training at the next step boundary; fit then resolves with what it has and `aborted: true`. */
  signal?: AbortSignal;
  /** Throw a NonFiniteError when a loss or the gradient norm is NaN or infinite (default true). */
  checkFinite?: boolean;
  /** Epochs already done (when resuming by hand; default 0): training runs epochs initialEpoch+1 .. epochs. Not with resumeFrom. */
  initialEpoch?: number;
  /** Steps already done (when resuming by hand; default 0): the first step of this call is initialStep+1. Not with resumeFrom. */
  initialStep?: number;
  /**
   * Draw a progress bar (steps, loss, examples/s, ETA; epoch summaries above it) on
   * `process.stderr` when it is a terminal (default false). Options choose the stream.
   */
  progressBar?: boolean | ProgressBarOptions;
  /**
   * Write a checkpoint (model, optimizer, scheduler, generators and the position inside the
   * epoch) before the first step (unless resuming), every `every` steps, and once more when fit returns (whatever stopped it: the end,
   * `steps`, the signal, a callback, early stopping; before restoreBestWeights puts the best
   * weights back); `resumeFrom` continues from it bit for bit.
   */
  checkpoint?: FitCheckpointOptions;
  /**
   * Continue from a checkpoint written by `checkpoint`: restores the model's weights and
   * dropout generators, the optimizer, the scheduler, the shuffling generator (it overrides
   * `seed`), early stopping's state and the position, and trains on from the next step, with
   * the same data and options as the run that wrote it. `epochs` still counts from the
   * first epoch; `steps` counts the steps of this call.
   */
  resumeFrom?: string;
}

/** One optimizer step of the history. */
export interface FitRecord {
  /** Epoch of the step. */
  readonly epoch: number;
  /** The step number. */
  readonly step: number;
  /** Its loss. */
  readonly loss: number;
  /** Its metrics ({} without FitOptions.metrics). */
  readonly metrics: MetricValues;
}

/** One validation of the history. */
export interface ValidationRecord {
  /** The epoch after which it ran. */
  readonly epoch: number;
  /** Mean validation loss. */
  readonly loss: number;
  /** Share of correct arg-max predictions (class targets only). */
  readonly accuracy?: number;
  /** Mean absolute error (float targets, with 'mae' in metrics). */
  readonly mae?: number;
}

/** Why fit stopped before its planned end (null: it did not). */
export type StopReason = 'signal' | 'callback' | 'earlyStopping' | null;

/** What {@link fit} resolves with. */
export interface FitResult {
  /** Every optimizer step's loss (and metrics), in order. */
  readonly history: FitRecord[];
  /** Every epoch's validation, in order (empty without a validation set). */
  readonly validation: ValidationRecord[];
  /** Every completed epoch's summary, in order. */
  readonly epochs: EpochSummary[];
  /** Whether the signal stopped training early. */
  readonly aborted: boolean;
  /** Why training stopped early: the signal, a callback returning false, or early stopping. */
  readonly stopped: StopReason;
  /** With earlyStopping: the epoch with the best monitored value (null if none was finite). */
  readonly bestEpoch?: number | null;
}

const FIT_KEYS = [
  'epochs', 'steps', 'batchSize', 'loss', 'optimizer', 'metrics', 'clipNorm', 'clipValue', 'tbptt', 'carryState', 'validation', 'validationSplit',
  'seed', 'rng', 'shuffle', 'scheduler', 'schedulerStep', 'schedulerMonitor', 'earlyStopping', 'onProgress', 'onBatchEnd', 'onEpochEnd', 'signal',
  'checkFinite', 'initialEpoch', 'initialStep', 'progressBar', 'checkpoint', 'resumeFrom',
] as const;

const MONITORS: readonly MonitorName[] = ['loss', 'valLoss', 'accuracy', 'valAccuracy', 'mae', 'valMae'];

/** @internal Early stopping, resolved. */
export interface EarlyStoppingPlan {
  readonly monitor: MonitorName;
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  readonly restoreBestWeights: boolean;
}

/** @internal Everything fit runs with, validated. */
export interface FitPlan {
  readonly model: Sequential;
  /** The training examples (data without the validationSplit part). */
  readonly data: SequenceDataset;
  readonly info: DatasetInfo;
  readonly validation: SequenceDataset | null;
  readonly batchSize: number;
  readonly loss: LossName;
  readonly optimizer: Optimizer;
  readonly metrics: readonly MetricName[];
  readonly clipNorm: number;
  readonly clipValue: number | null;
  readonly tbptt: number | null;
  readonly carry: boolean;
  readonly rng: Rng;
  readonly shuffle: boolean;
  readonly scheduler: LRScheduler | null;
  readonly schedulerStep: 'epoch' | 'step';
  readonly schedulerMonitor: MonitorName | null;
  readonly earlyStopping: EarlyStoppingPlan | null;
  readonly onProgress: FitOptions['onProgress'];
  readonly onBatchEnd: FitOptions['onBatchEnd'];
  readonly onEpochEnd: FitOptions['onEpochEnd'];
  readonly signal: AbortSignal | undefined;
  readonly checkFinite: boolean;
  readonly initialEpoch: number;
  readonly initialStep: number;
  readonly epochs: number;
  readonly maxSteps: number;
  readonly progressBar: ProgressBarOptions | null;
  readonly checkpoint: { path: string; every: number; extra: { [key: string]: JsonValue } } | null;
  readonly resumeFrom: string | null;
}

function checkPathString(name: string, v: unknown): string {
  if (typeof v !== 'string') throw typeError(name, 'a file path (string)', v);
  if (v.length === 0) throw rangeError(name, 'a non-empty file path', describe(v));
  return v;
}

/** Whether a monitored quantity is available; throws naming `name` when it is not. */
function checkMonitor(name: string, v: unknown, metrics: readonly MetricName[], hasValidation: boolean): MonitorName {
  const m = checkOneOf(name, v, MONITORS);
  const val = m.startsWith('val');
  if (val && !hasValidation) throw rangeError(name, `'loss'${metrics.length ? ` or a training metric (${metrics.map((x) => `'${x}'`).join(', ')})` : ''} without a validation set (give options.validation or options.validationSplit)`, describe(m));
  const base = (val ? m.slice(3, 4).toLowerCase() + m.slice(4) : m) as 'loss' | MetricName;
  if (base !== 'loss' && !metrics.includes(base)) throw rangeError(name, `a quantity fit computes ('${base}' is not in options.metrics)`, describe(m));
  return m;
}

function checkEarlyStopping(v: unknown, metrics: readonly MetricName[], hasValidation: boolean): EarlyStoppingPlan | null {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError('options.earlyStopping', 'an options object { monitor, patience, minDelta, mode, restoreBestWeights }', v);
  const o = checkOptions<EarlyStoppingOptions>('options.earlyStopping', v, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights']);
  const monitor = checkMonitor('options.earlyStopping.monitor', o.monitor ?? 'valLoss', metrics, hasValidation);
  const patience = checkInt('options.earlyStopping.patience', o.patience ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const minDelta = checkNumber('options.earlyStopping.minDelta', o.minDelta ?? 0, 0);
  const m = checkOneOf('options.earlyStopping.mode', o.mode ?? 'auto', ['min', 'max', 'auto'] as const);
  const mode = m === 'auto' ? (monitor === 'accuracy' || monitor === 'valAccuracy' ? 'max' : 'min') : m;
  const restoreBestWeights = checkBool('options.earlyStopping.restoreBestWeights', o.restoreBestWeights ?? false);
  return { monitor, patience, minDelta, mode, restoreBestWeights };
}

/** @internal Validates fit's arguments (nothing runs before this passes). */
export function resolveFitOptions(model: Sequential, data: SequenceDataset, options: FitOptions): FitPlan {
  checkModel(model);
  const fullInfo = checkDataset('data', data);
  checkInputKind('data.x', model, fullInfo);
  if (options === undefined) throw typeError('options', 'an options object with batchSize, loss and optimizer', options);
  const o = checkOptions<FitOptions>('options', options, FIT_KEYS);
  const batchSize = checkInt('options.batchSize', o.batchSize, 1);
  const loss = checkLossFor('options.loss', o.loss, fullInfo, 'data');
  const resumeFrom = o.resumeFrom === undefined ? null : checkPathString('options.resumeFrom', o.resumeFrom);
  if (resumeFrom !== null && (o.initialEpoch !== undefined || o.initialStep !== undefined)) {
    throw rangeError('options.resumeFrom', 'no initialEpoch or initialStep with it (the checkpoint holds the position)', o.initialEpoch !== undefined ? 'initialEpoch too' : 'initialStep too');
  }
  const initialEpoch = checkInt('options.initialEpoch', o.initialEpoch ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const initialStep = checkInt('options.initialStep', o.initialStep ?? 0, 0, Number.MAX_SAFE_INTEGER);
  if (o.epochs === undefined && o.steps === undefined) throw rangeError('options', 'epochs or steps (or both)', 'neither');
  // With resumeFrom the checkpoint's epoch is known only later; fit checks epochs against it then.
  const epochs = o.epochs === undefined ? Infinity : checkInt('options.epochs', o.epochs, resumeFrom !== null ? 1 : initialEpoch + 1, Number.MAX_SAFE_INTEGER);
  const maxSteps = o.steps === undefined ? Infinity : checkInt('options.steps', o.steps, 1, Number.MAX_SAFE_INTEGER);
  if (!(o.optimizer instanceof Optimizer)) throw typeError('options.optimizer', 'an Optimizer (SGD, Adam, ...) over the model parameters', o.optimizer);
  const optimizer = o.optimizer;
  const own = new Set(model.parameters().map((p) => p.data));
  const foreign = optimizer.params.find((p) => !own.has(p.data));
  if (foreign) throw rangeError('options.optimizer', "an optimizer over this model's parameters", `one holding a parameter '${foreign.name}' the model does not have`);
  const metrics = checkMetrics('options.metrics', o.metrics, fullInfo.target);
  const clipNorm = o.clipNorm === undefined ? Infinity : checkNumber('options.clipNorm', o.clipNorm, 0);
  const clipValue = o.clipValue === undefined ? null : checkNumber('options.clipValue', o.clipValue, 0);
  const tbptt = checkTbptt('options.tbptt', o.tbptt, model, fullInfo);
  const carry = checkBool('options.carryState', o.carryState ?? true);

  let train = data;
  let validation: SequenceDataset | null = null;
  if (o.validationSplit !== undefined) {
    if (o.validation !== undefined) throw rangeError('options.validationSplit', 'no validationSplit when options.validation is given (choose one)', 'both');
    const f = checkNumber('options.validationSplit', o.validationSplit, 0, 1);
    const cut = Math.floor(fullInfo.size * (1 - f));
    if (f === 0 || f === 1 || cut < 1 || cut >= fullInfo.size) {
      throw rangeError('options.validationSplit', `a fraction leaving both parts of the ${fullInfo.size} examples non-empty`, `${f} (${fullInfo.size - cut} for validation)`);
    }
    const all = Array.from({ length: fullInfo.size }, (_, i) => i);
    train = subset(data, all.slice(0, cut));
    validation = subset(data, all.slice(cut));
  } else if (o.validation !== undefined) {
    const vinfo = checkDataset('options.validation', o.validation);
    checkInputKind('options.validation.x', model, vinfo);
    checkLossFor('options.loss', loss, vinfo, 'options.validation');
    if (vinfo.target !== fullInfo.target) throw rangeError('options.validation.y', `targets of the same kind as data.y (${fullInfo.target})`, vinfo.target);
    validation = o.validation;
  }
  const info = train === data ? fullInfo : checkDataset('data', train);

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
  const plateau = scheduler instanceof ReduceLROnPlateau;
  if (plateau && schedulerStep === 'step') throw rangeError('options.schedulerStep', "'epoch' for a ReduceLROnPlateau (it is stepped with an epoch's monitored value)", "'step'");
  const earlyStopping = checkEarlyStopping(o.earlyStopping, metrics, validation !== null);
  let schedulerMonitor: MonitorName | null = null;
  if (o.schedulerMonitor !== undefined) {
    if (!plateau) throw rangeError('options.schedulerMonitor', 'no schedulerMonitor without a ReduceLROnPlateau scheduler', describe(o.schedulerMonitor));
    schedulerMonitor = checkMonitor('options.schedulerMonitor', o.schedulerMonitor, metrics, validation !== null);
  } else if (plateau) {
    schedulerMonitor = earlyStopping?.monitor ?? (validation !== null ? 'valLoss' : 'loss');
  }
  const onProgress = checkFn<NonNullable<FitOptions['onProgress']>>('options.onProgress', o.onProgress);
  const onBatchEnd = checkFn<NonNullable<FitOptions['onBatchEnd']>>('options.onBatchEnd', o.onBatchEnd);
  const onEpochEnd = checkFn<NonNullable<FitOptions['onEpochEnd']>>('options.onEpochEnd', o.onEpochEnd);
  const signal = checkSignal('options.signal', o.signal);
  const checkFinite = checkBool('options.checkFinite', o.checkFinite ?? true);
  const progressBar = checkProgressBar('options.progressBar', o.progressBar);
  let checkpoint: FitPlan['checkpoint'] = null;
  if (o.checkpoint !== undefined) {
    if (o.checkpoint === null || typeof o.checkpoint !== 'object' || Array.isArray(o.checkpoint)) throw typeError('options.checkpoint', 'an options object { path, every, extra? }', o.checkpoint);
    const c = checkOptions<FitCheckpointOptions>('options.checkpoint', o.checkpoint, ['path', 'every', 'extra']);
    const path = checkPathString('options.checkpoint.path', c.path);
    const every = checkInt('options.checkpoint.every', c.every, 1, Number.MAX_SAFE_INTEGER);
    const extra: unknown = c.extra ?? {};
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw typeError('options.checkpoint.extra', 'a JSON-serialisable object', extra);
    if ('fit' in extra) throw rangeError('options.checkpoint.extra', "no key 'fit' (fit stores its position there)", "a key 'fit'");
    try {
      JSON.stringify(extra);
    } catch (err) {
      throw typeError('options.checkpoint.extra', `a JSON-serialisable object (${(err as Error).message})`, extra);
    }
    checkpoint = { path, every, extra: extra as { [key: string]: JsonValue } };
  }
  return {
    model, data: train, info, validation, batchSize, loss, optimizer, metrics, clipNorm, clipValue, tbptt, carry, rng, shuffle, scheduler, schedulerStep,
    schedulerMonitor, earlyStopping, onProgress, onBatchEnd, onEpochEnd, signal, checkFinite, initialEpoch, initialStep, epochs, maxSteps, progressBar,
    checkpoint, resumeFrom,
  };
}
