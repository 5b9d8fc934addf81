/**
 * Learning-rate schedules in the style of `torch.optim.lr_scheduler`: each scheduler sets
 * its optimizer's `lr` when constructed (epoch 0) and on every `step()`.
 *
 * The lr is computed from the closed form (base lr and epoch), as PyTorch's
 * `_get_closed_form_lr`, rather than PyTorch's recursive update of the current lr. Both
 * agree to a few ulps (the tests check 1e-12 against PyTorch's recursive values); the one
 * behavioural difference is that a manual change of `optimizer.lr` between steps is
 * overwritten by the next `step()` instead of being carried forward.
 *
 * The other schedulers live in their own files: MultiStepLR and ExponentialLR
 * (`decay_lr.ts`), OneCycleLR (`one_cycle_lr.ts`), ReduceLROnPlateau (`plateau_lr.ts`) and
 * SequentialLR (`sequential_lr.ts`).
 */
import { describe, rangeError, typeError } from '../errors.js';
import { checkInt, checkNumber, checkOptions } from '../validate.js';
import { Optimizer } from './optimizer.js';

/** A value of a scheduler's saved options or running state (JSON-serialisable). */
export type SchedulerValue = number | boolean | string | null | readonly number[];

/** A JSON-serialisable snapshot of a scheduler. */
export interface SchedulerState {
  /** The scheduler class that wrote it, e.g. `'StepLR'`. */
  readonly type: string;
  /** The base lr (PyTorch's `initial_lr`: the optimizer's lr when its first scheduler was created). */
  readonly baseLr: number;
  /** Number of `step()` calls so far (epoch 0 is the construction). */
  readonly lastEpoch: number;
  /** The lr set by the last `step()` (or the constructor). */
  readonly lastLr: number;
  /** The scheduler's options, under their option names. */
  readonly hyper: Readonly<Record<string, SchedulerValue>>;
  /** Running state beyond the epoch count (ReduceLROnPlateau's best value and counters), when the scheduler has any. */
  readonly state?: Readonly<Record<string, SchedulerValue>>;
  /** The states of the wrapped schedulers (SequentialLR), in order. */
  readonly schedulers?: readonly SchedulerState[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * The lr each optimizer had when its first scheduler was created: PyTorch's
 * `param_group['initial_lr']`, the base lr of every scheduler of that optimizer (so a
 * second scheduler, e.g. one chained by SequentialLR, starts from the same base lr and not
 * from the lr the first one set).
 */
const INITIAL_LR = new WeakMap<Optimizer, number>();

/** @internal Sets the optimizer's initial lr (OneCycleLR overrides it, as PyTorch's does). */
export function setInitialLr(optimizer: Optimizer, lr: number): void {
  INITIAL_LR.set(optimizer, lr);
}

/** @internal Moves a scheduler to `epoch` and sets its lr there (SequentialLR restarts a scheduler at 0). */
export let jumpTo: (s: LRScheduler, epoch: number) => void;

/** Base class of the schedulers. */
export abstract class LRScheduler {
  /** The optimizer whose `lr` this scheduler sets. */
  readonly optimizer: Optimizer;
  /** The class name written to state dicts. */
  abstract readonly type: string;
  #baseLr: number;
  #lastEpoch = 0;
  #lastLr: number;

  static {
    jumpTo = (s, epoch) => s.#apply(epoch);
  }

  /**
   * Records the base lr: the optimizer's lr when its first scheduler was created (PyTorch's
   * `initial_lr`). Subclasses call `start()` once their options are set.
   * @param optimizer - The optimizer to drive.
   * @param initialLr - Whether this scheduler takes part in PyTorch's `initial_lr` (all but ReduceLROnPlateau).
   */
  protected constructor(optimizer: Optimizer, initialLr = true) {
    if (!(optimizer instanceof Optimizer)) throw typeError('optimizer', 'an Optimizer', optimizer);
    this.optimizer = optimizer;
    if (initialLr && !INITIAL_LR.has(optimizer)) INITIAL_LR.set(optimizer, optimizer.lr);
    this.#baseLr = initialLr ? (INITIAL_LR.get(optimizer) as number) : optimizer.lr;
    this.#lastLr = optimizer.lr;
  }

  /** Sets the epoch-0 lr (the end of every closed-form subclass constructor). */
  protected start(): void {
    this.#apply(0);
  }

  #apply(epoch: number): void {
    const lr = this.lrAt(epoch, this.#baseLr);
    this.record(epoch, lr);
  }

  /** Sets the epoch count, the last lr and the optimizer's lr (schedulers without a closed form call it from `step`). */
  protected record(epoch: number, lr: number): void {
    this.#lastEpoch = epoch;
    this.#lastLr = lr;
    this.optimizer.lr = lr;
  }

  /** The lr at `epoch` for base lr `baseLr` (closed form); schedulers without one override `step` instead. */
  protected lrAt(epoch: number, baseLr: number): number {
    void epoch;
    return baseLr;
  }

  /** The options, under their option names. */
  protected abstract hyperParams(): Record<string, SchedulerValue>;

  /** Validates saved options without changing anything and returns a function installing them. */
  protected abstract prepareHyper(hyper: Readonly<Record<string, unknown>>, name: string): () => void;

  /** Running state beyond the epoch count and wrapped schedulers' states (none by default). */
  protected extraState(): Pick<SchedulerState, 'state' | 'schedulers'> {
    return {};
  }

  /**
   * Validates the `state` and `schedulers` parts of a saved state without changing anything
   * and returns a function installing them. By default a scheduler has neither.
   */
  protected prepareExtra(s: Readonly<Record<string, unknown>>, name: string): () => void {
    if (s.state !== undefined) throw rangeError(`${name}.state`, `no running state (${this.type} keeps none)`, describe(s.state));
    if (s.schedulers !== undefined) throw rangeError(`${name}.schedulers`, `no wrapped schedulers (${this.type} wraps none)`, describe(s.schedulers));
    return () => {};
  }

  /**
   * Advances one epoch and sets the optimizer's lr. Only ReduceLROnPlateau takes a metric;
   * the others refuse one (PyTorch's deprecated `step(epoch)` is not supported).
   * @param metric - Not accepted here (see ReduceLROnPlateau).
   */
  step(metric?: number): void {
    if (metric !== undefined) throw typeError('metric', `no argument (${this.type}.step() takes none; only ReduceLROnPlateau.step(metric) takes a metric)`, metric);
    this.#apply(this.#lastEpoch + 1);
  }

  /** The lr last set on the optimizer (PyTorch's `get_last_lr()[0]`). */
  getLastLr(): number {
    return this.#lastLr;
  }

  /** The base lr (PyTorch's `initial_lr`). */
  get baseLr(): number {
    return this.#baseLr;
  }

  /** Number of `step()` calls so far. */
  get lastEpoch(): number {
    return this.#lastEpoch;
  }

  /** A JSON-serialisable snapshot. */
  stateDict(): SchedulerState {
    return { type: this.type, baseLr: this.#baseLr, lastEpoch: this.#lastEpoch, lastLr: this.#lastLr, hyper: this.hyperParams(), ...this.extraState() };
  }

  /**
   * Restores a snapshot from `stateDict()` of the same scheduler class, validating it all
   * first (nothing changes on error), and sets the optimizer's lr to the saved last lr.
   */
  loadStateDict(s: SchedulerState): void {
    this.prepareLoad(s, 'state')();
  }

  /** @internal Validates a saved state (nothing changes) and returns how to install it. */
  prepareLoad(s: SchedulerState, name: string): () => void {
    if (!isPlainObject(s)) throw typeError(name, 'a scheduler state { type, baseLr, lastEpoch, lastLr, hyper }', s);
    if (s.type !== this.type) throw rangeError(`${name}.type`, `'${this.type}'`, describe(s.type));
    const baseLr = checkNumber(`${name}.baseLr`, s.baseLr, 0);
    const lastEpoch = checkInt(`${name}.lastEpoch`, s.lastEpoch, 0, Number.MAX_SAFE_INTEGER);
    const lastLr = checkNumber(`${name}.lastLr`, s.lastLr, 0);
    const hyper: unknown = s.hyper;
    if (!isPlainObject(hyper)) throw typeError(`${name}.hyper`, 'an object of options', hyper);
    const expected = Object.keys(this.hyperParams());
    for (const k of Object.keys(hyper)) {
      if (!expected.includes(k)) throw rangeError(`${name}.hyper`, `only the keys ${expected.map((e) => `'${e}'`).join(', ')}`, `an unknown key '${k}'`);
    }
    for (const k of expected) {
      if (!(k in hyper)) throw rangeError(`${name}.hyper`, `a value for '${k}'`, 'none');
    }
    const commitHyper = this.prepareHyper(hyper, `${name}.hyper`);
    const commitExtra = this.prepareExtra(s as unknown as Record<string, unknown>, name);
    return () => {
      commitHyper();
      this.#baseLr = baseLr;
      commitExtra();
      this.record(lastEpoch, lastLr);
      this.afterLoad();
    };
  }

  /** Called after a state was installed (OneCycleLR puts the optimizer's momentum back). */
  protected afterLoad(): void {}
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays (integer >= 1, required). */
  stepSize: number;
  /** Multiplicative decay factor (>= 0, default 0.1). */
  gamma?: number;
}

/** `lr = baseLr · gamma^floor(epoch / stepSize)`, as `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  /** `'StepLR'`. */
  readonly type: string = 'StepLR';
  #stepSize: number;
  #gamma: number;

  /**
   * @param optimizer - The optimizer to drive; its current lr becomes the base lr.
   * @param options - `stepSize` (required) and `gamma`.
   */
  constructor(optimizer: Optimizer, options: StepLROptions) {
    super(optimizer);
    const o = checkOptions<StepLROptions>('options', options, ['stepSize', 'gamma']);
    this.#stepSize = checkInt('options.stepSize', o.stepSize, 1);
    this.#gamma = checkNumber('options.gamma', o.gamma ?? 0.1, 0);
    this.start();
  }

  /** Closed form. */
  protected override lrAt(epoch: number, baseLr: number): number {
    return baseLr * this.#gamma ** Math.floor(epoch / this.#stepSize);
  }

  /** `{ stepSize, gamma }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { stepSize: this.#stepSize, gamma: this.#gamma };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const stepSize = checkInt(`${name}.stepSize`, h.stepSize, 1);
    const gamma = checkNumber(`${name}.gamma`, h.gamma, 0);
    return () => {
      this.#stepSize = stepSize;
      this.#gamma = gamma;
    };
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Half-period in epochs (integer >= 1, required). */
  tMax: number;
  /** Minimum lr (>= 0, default 0). */
  etaMin?: number;
}

/**
 * `lr = etaMin + (baseLr − etaMin)·(1 + cos(π·epoch/tMax))/2`, as
 * `torch.optim.lr_scheduler.CosineAnnealingLR` (which, past `tMax`, rises again: the cosine
 * continues, with no restart).
 */
export class CosineAnnealingLR extends LRScheduler {
  /** `'CosineAnnealingLR'`. */
  readonly type: string = 'CosineAnnealingLR';
  #tMax: number;
  #etaMin: number;

  /**
   * @param optimizer - The optimizer to drive; its current lr becomes the base lr.
   * @param options - `tMax` (required) and `etaMin`.
   */
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super(optimizer);
    const o = checkOptions<CosineAnnealingLROptions>('options', options, ['tMax', 'etaMin']);
    this.#tMax = checkInt('options.tMax', o.tMax, 1);
    this.#etaMin = checkNumber('options.etaMin', o.etaMin ?? 0, 0);
    this.start();
  }

  /** Closed form (PyTorch's `_get_closed_form_lr`, same operation order). */
  protected override lrAt(epoch: number, baseLr: number): number {
    const etaMin = this.#etaMin;
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / this.#tMax))) / 2;
  }

  /** `{ tMax, etaMin }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { tMax: this.#tMax, etaMin: this.#etaMin };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const tMax = checkInt(`${name}.tMax`, h.tMax, 1);
    const etaMin = checkNumber(`${name}.etaMin`, h.etaMin, 0);
    return () => {
      this.#tMax = tMax;
      this.#etaMin = etaMin;
    };
  }
}

/** Options of {@link LinearWarmup}. */
export interface LinearWarmupOptions {
  /** Epochs to reach the base lr (integer >= 1, required). */
  warmupSteps: number;
  /** Fraction of the base lr at epoch 0, in [0, 1] (default 0). */
  startFactor?: number;
}

/**
 * `lr = baseLr·(startFactor + (1 − startFactor)·min(1, epoch/warmupSteps))`: PyTorch's
 * `LinearLR` with `end_factor = 1`, `total_iters = warmupSteps`, in closed form. Unlike
 * PyTorch 1.13's recursive LinearLR (whose first `step()` raises ZeroDivisionError when
 * start_factor is 0), `startFactor = 0` works.
 */
export class LinearWarmup extends LRScheduler {
  /** `'LinearWarmup'`. */
  readonly type: string = 'LinearWarmup';
  #warmupSteps: number;
  #startFactor: number;

  /**
   * @param optimizer - The optimizer to drive; its current lr becomes the base lr.
   * @param options - `warmupSteps` (required) and `startFactor`.
   */
  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    super(optimizer);
    const o = checkOptions<LinearWarmupOptions>('options', options, ['warmupSteps', 'startFactor']);
    this.#warmupSteps = checkInt('options.warmupSteps', o.warmupSteps, 1);
    this.#startFactor = checkNumber('options.startFactor', o.startFactor ?? 0, 0, 1);
    this.start();
  }

  /** Closed form. */
  protected override lrAt(epoch: number, baseLr: number): number {
    const s = this.#startFactor;
    return baseLr * (s + (1 - s) * Math.min(1, epoch / this.#warmupSteps));
  }

  /** `{ warmupSteps, startFactor }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { warmupSteps: this.#warmupSteps, startFactor: this.#startFactor };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const warmupSteps = checkInt(`${name}.warmupSteps`, h.warmupSteps, 1);
    const startFactor = checkNumber(`${name}.startFactor`, h.startFactor, 0, 1);
    return () => {
      this.#warmupSteps = warmupSteps;
      this.#startFactor = startFactor;
    };
  }
}
