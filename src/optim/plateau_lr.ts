/**
 * ReduceLROnPlateau, as `torch.optim.lr_scheduler.ReduceLROnPlateau`: lowers the lr when a
 * monitored metric stops improving. Not a closed-form schedule: each `step(metric)`
 * multiplies the optimizer's current lr.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';
import { LRScheduler, type SchedulerState, type SchedulerValue } from './lr_scheduler.js';
import type { Optimizer } from './optimizer.js';

/** Options of {@link ReduceLROnPlateau} (PyTorch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower the lr when the metric stops decreasing; 'max': when it stops increasing. */
  mode?: 'min' | 'max';
  /** Multiply the lr by this on a plateau (in [0, 1), default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before lowering the lr (integer >= 0, default 10). */
  patience?: number;
  /** Least improvement that counts (>= 0, default 1e-4), relative or absolute (thresholdMode). */
  threshold?: number;
  /** 'rel' (default): better means below `best·(1 − threshold)` (mode min) or above `best·(1 + threshold)`; 'abs': below `best − threshold` / above `best + threshold`. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted (integer >= 0, default 0). */
  cooldown?: number;
  /** The lr never goes below this (>= 0, default 0). */
  minLr?: number;
  /** A reduction smaller than this is not applied (>= 0, default 1e-8). */
  eps?: number;
}

const KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

interface PlateauHyper {
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLr: number;
  eps: number;
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string, defaults: boolean): PlateauHyper {
  const v = (k: string, d: unknown): unknown => (defaults && h[k] === undefined ? d : h[k]);
  const factor = checkNumber(`${name}.factor`, v('factor', 0.1), 0, 1);
  if (factor >= 1) throw rangeError(`${name}.factor`, 'a number in [0, 1) (the lr is multiplied by it)', factor);
  return {
    mode: checkOneOf(`${name}.mode`, v('mode', 'min'), ['min', 'max'] as const),
    factor,
    patience: checkInt(`${name}.patience`, v('patience', 10), 0, Number.MAX_SAFE_INTEGER),
    threshold: checkNumber(`${name}.threshold`, v('threshold', 1e-4), 0),
    thresholdMode: checkOneOf(`${name}.thresholdMode`, v('thresholdMode', 'rel'), ['rel', 'abs'] as const),
    cooldown: checkInt(`${name}.cooldown`, v('cooldown', 0), 0, Number.MAX_SAFE_INTEGER),
    minLr: checkNumber(`${name}.minLr`, v('minLr', 0), 0),
    eps: checkNumber(`${name}.eps`, v('eps', 1e-8), 0),
  };
}

/**
 * Lowers the lr by `factor` once the metric passed to `step(metric)` has not improved for
 * more than `patience` epochs, then waits `cooldown` epochs before counting again; the lr
 * stays at least `minLr`, and a change smaller than `eps` is skipped. The same algorithm
 * and defaults as PyTorch's (a NaN metric counts as no improvement). It multiplies the
 * optimizer's current lr, so a manual change of `optimizer.lr` carries forward.
 *
 * `fit` steps it after every epoch with the monitored metric (see FitOptions.schedulerMonitor).
 */
export class ReduceLROnPlateau extends LRScheduler {
  /** `'ReduceLROnPlateau'`. */
  readonly type: string = 'ReduceLROnPlateau';
  #h: PlateauHyper;
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;

  /**
   * @param optimizer - The optimizer to drive (its lr is not changed until a plateau).
   * @param options - See ReduceLROnPlateauOptions; defaults as in PyTorch.
   */
  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    super(optimizer, false);
    this.#h = checkHyper(checkOptions<ReduceLROnPlateauOptions>('options', options, KEYS), 'options', true);
    this.#best = this.#worst();
    this.record(0, optimizer.lr);
  }

  #worst(): number {
    return this.#h.mode === 'min' ? Infinity : -Infinity;
  }

  #isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.#h;
    if (mode === 'min' && thresholdMode === 'rel') return a < best * (1 - threshold);
    if (mode === 'min') return a < best - threshold;
    if (thresholdMode === 'rel') return a > best * (threshold + 1);
    return a > best + threshold;
  }

  /** The best metric seen so far (±Infinity before the first step). */
  get best(): number {
    return this.#best;
  }

  /** Epochs since the last improvement (PyTorch's `num_bad_epochs`). */
  get numBadEpochs(): number {
    return this.#numBadEpochs;
  }

  /**
   * Ends an epoch with its metric value; lowers the lr on a plateau.
   * @param metric - The monitored quantity (e.g. the validation loss); NaN counts as no improvement.
   */
  override step(metric?: number): void {
    if (typeof metric !== 'number') throw typeError('metric', 'a number (the monitored metric of the epoch: ReduceLROnPlateau.step(metric))', metric);
    const epoch = this.lastEpoch + 1;
    if (this.#isBetter(metric, this.#best)) {
      this.#best = metric;
      this.#numBadEpochs = 0;
    } else {
      this.#numBadEpochs++;
    }
    if (this.#cooldownCounter > 0) {
      this.#cooldownCounter--;
      this.#numBadEpochs = 0;
    }
    if (this.#numBadEpochs > this.#h.patience) {
      const old = this.optimizer.lr;
      const lr = Math.max(old * this.#h.factor, this.#h.minLr);
      if (old - lr > this.#h.eps) this.optimizer.lr = lr;
      this.#cooldownCounter = this.#h.cooldown;
      this.#numBadEpochs = 0;
    }
    this.record(epoch, this.optimizer.lr);
  }

  /** The options. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { ...this.#h };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const hyper = checkHyper(h, name, false);
    return () => {
      this.#h = hyper;
    };
  }

  /** `{ best, numBadEpochs, cooldownCounter }` (best is null while infinite: JSON has no Infinity). */
  protected override extraState(): Pick<SchedulerState, 'state' | 'schedulers'> {
    return { state: { best: Number.isFinite(this.#best) ? this.#best : null, numBadEpochs: this.#numBadEpochs, cooldownCounter: this.#cooldownCounter } };
  }

  /** Validates the saved counters. */
  protected override prepareExtra(s: Readonly<Record<string, unknown>>, name: string): () => void {
    const st = s.state;
    if (st === null || typeof st !== 'object' || Array.isArray(st)) throw typeError(`${name}.state`, 'an object { best, numBadEpochs, cooldownCounter }', st);
    const r = st as Record<string, unknown>;
    if (s.schedulers !== undefined) throw rangeError(`${name}.schedulers`, 'no wrapped schedulers (ReduceLROnPlateau wraps none)', describe(s.schedulers));
    const best = r.best === null ? null : checkNumber(`${name}.state.best`, r.best);
    const numBadEpochs = checkInt(`${name}.state.numBadEpochs`, r.numBadEpochs, 0, Number.MAX_SAFE_INTEGER);
    const cooldownCounter = checkInt(`${name}.state.cooldownCounter`, r.cooldownCounter, 0, Number.MAX_SAFE_INTEGER);
    return () => {
      this.#best = best ?? this.#worst();
      this.#numBadEpochs = numBadEpochs;
      this.#cooldownCounter = cooldownCounter;
    };
  }
}
