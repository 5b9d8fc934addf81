/**
 * Decaying schedules of `torch.optim.lr_scheduler`: MultiStepLR and ExponentialLR, in closed
 * form from the base lr (see lr_scheduler.ts).
 */
import { rangeError, typeError } from '../errors.js';
import { checkInt, checkNumber, checkOptions } from '../validate.js';
import { LRScheduler, type SchedulerValue } from './lr_scheduler.js';
import type { Optimizer } from './optimizer.js';

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (integers >= 0, required; a milestone 0 decays at construction, as PyTorch's; a repeated milestone decays that many times, as PyTorch's Counter). */
  milestones: readonly number[];
  /** Multiplicative decay factor (>= 0, default 0.1). */
  gamma?: number;
}

function checkMilestones(name: string, v: unknown, min: number): number[] {
  if (!Array.isArray(v)) throw typeError(name, 'an array of integers', v);
  const out = v.map((m: unknown, i) => checkInt(`${name}[${i}]`, m, min, Number.MAX_SAFE_INTEGER));
  return out;
}

/**
 * `lr = baseLr · gamma^(number of milestones <= epoch)`, as
 * `torch.optim.lr_scheduler.MultiStepLR` (its closed form, `bisect_right` over the sorted
 * milestones). Milestones need not be sorted.
 */
export class MultiStepLR extends LRScheduler {
  /** `'MultiStepLR'`. */
  readonly type: string = 'MultiStepLR';
  #milestones: number[];
  #gamma: number;

  /**
   * @param optimizer - The optimizer to drive.
   * @param options - `milestones` (required) and `gamma`.
   */
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super(optimizer);
    const o = checkOptions<MultiStepLROptions>('options', options, ['milestones', 'gamma']);
    this.#milestones = checkMilestones('options.milestones', o.milestones, 0).sort((a, b) => a - b);
    if (this.#milestones.length === 0) throw rangeError('options.milestones', 'at least one milestone', 'an empty array');
    this.#gamma = checkNumber('options.gamma', o.gamma ?? 0.1, 0);
    this.start();
  }

  /** The milestones, sorted. */
  get milestones(): readonly number[] {
    return [...this.#milestones];
  }

  /** Closed form. */
  protected override lrAt(epoch: number, baseLr: number): number {
    let k = 0;
    while (k < this.#milestones.length && this.#milestones[k] <= epoch) k++;
    return baseLr * this.#gamma ** k;
  }

  /** `{ milestones, gamma }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { milestones: [...this.#milestones], gamma: this.#gamma };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const milestones = checkMilestones(`${name}.milestones`, h.milestones, 0).sort((a, b) => a - b);
    if (milestones.length === 0) throw rangeError(`${name}.milestones`, 'at least one milestone', 'an empty array');
    const gamma = checkNumber(`${name}.gamma`, h.gamma, 0);
    return () => {
      this.#milestones = milestones;
      this.#gamma = gamma;
    };
  }
}

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions {
  /** Multiplicative decay per epoch (>= 0, required). */
  gamma: number;
}

/** `lr = baseLr · gamma^epoch`, as `torch.optim.lr_scheduler.ExponentialLR`. */
export class ExponentialLR extends LRScheduler {
  /** `'ExponentialLR'`. */
  readonly type: string = 'ExponentialLR';
  #gamma: number;

  /**
   * @param optimizer - The optimizer to drive.
   * @param options - `gamma` (required).
   */
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super(optimizer);
    const o = checkOptions<ExponentialLROptions>('options', options, ['gamma']);
    this.#gamma = checkNumber('options.gamma', o.gamma, 0);
    this.start();
  }

  /** Closed form. */
  protected override lrAt(epoch: number, baseLr: number): number {
    return baseLr * this.#gamma ** epoch;
  }

  /** `{ gamma }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { gamma: this.#gamma };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const gamma = checkNumber(`${name}.gamma`, h.gamma, 0);
    return () => {
      this.#gamma = gamma;
    };
  }
}
