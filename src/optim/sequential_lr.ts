/**
 * SequentialLR, as `torch.optim.lr_scheduler.SequentialLR`: hands the optimizer from one
 * scheduler to the next at given epochs (e.g. a warm-up, then a cosine decay).
 */
import { rangeError, typeError } from '../errors.js';
import { checkInt, checkOptions } from '../validate.js';
import { jumpTo, LRScheduler, type SchedulerState, type SchedulerValue } from './lr_scheduler.js';
import type { Optimizer } from './optimizer.js';
import { ReduceLROnPlateau } from './plateau_lr.js';

/** Options of {@link SequentialLR}. */
export interface SequentialLROptions {
  /** The schedulers, in order, all of `optimizer` (at least one; not ReduceLROnPlateau, which needs a metric). */
  schedulers: readonly LRScheduler[];
  /** Epochs at which the next scheduler takes over (strictly increasing integers >= 1, one fewer than schedulers). */
  milestones: readonly number[];
}

/**
 * Runs `schedulers[0]` until `milestones[0]`, then restarts `schedulers[1]` at its epoch 0,
 * and so on, as PyTorch: construction sets the first scheduler's epoch-0 lr, and each
 * `step()` steps the scheduler in charge (restarting it at its milestone). Each scheduler
 * counts its own epochs from its milestone, and all share the base lr (the optimizer's lr
 * when the first of them was created).
 */
export class SequentialLR extends LRScheduler {
  /** `'SequentialLR'`. */
  readonly type: string = 'SequentialLR';
  readonly #schedulers: readonly LRScheduler[];
  #milestones: number[];

  /**
   * @param optimizer - The optimizer all the schedulers drive.
   * @param options - `schedulers` and `milestones`.
   */
  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    super(optimizer);
    const o = checkOptions<SequentialLROptions>('options', options, ['schedulers', 'milestones']);
    if (!Array.isArray(o.schedulers) || o.schedulers.length === 0) throw typeError('options.schedulers', 'a non-empty array of LRSchedulers', o.schedulers);
    o.schedulers.forEach((s: unknown, i) => {
      if (!(s instanceof LRScheduler)) throw typeError(`options.schedulers[${i}]`, 'an LRScheduler', s);
      if (s.optimizer !== optimizer) throw rangeError(`options.schedulers[${i}]`, 'a scheduler of the optimizer given to SequentialLR', 'a scheduler of another optimizer');
      if (s instanceof ReduceLROnPlateau) throw rangeError(`options.schedulers[${i}]`, 'a scheduler stepped without a metric (ReduceLROnPlateau cannot be chained, as in PyTorch)', 'a ReduceLROnPlateau');
    });
    this.#schedulers = [...o.schedulers];
    this.#milestones = this.#checkMilestones('options.milestones', o.milestones);
    // PyTorch resets the lr to initial_lr and re-runs the first scheduler's initial step.
    optimizer.lr = this.baseLr;
    jumpTo(this.#schedulers[0], 0);
    this.record(0, this.#schedulers[0].getLastLr());
  }

  #checkMilestones(name: string, v: unknown): number[] {
    if (!Array.isArray(v)) throw typeError(name, 'an array of integers', v);
    if (v.length !== this.#schedulers.length - 1) {
      throw rangeError(name, `${this.#schedulers.length - 1} milestones (one fewer than the ${this.#schedulers.length} schedulers)`, `${v.length}`);
    }
    const out = v.map((m: unknown, i) => checkInt(`${name}[${i}]`, m, 1, Number.MAX_SAFE_INTEGER));
    for (let i = 1; i < out.length; i++) {
      if (out[i] <= out[i - 1]) throw rangeError(`${name}[${i}]`, `a milestone after ${out[i - 1]} (milestones increase)`, out[i]);
    }
    return out;
  }

  /** The wrapped schedulers. */
  get schedulers(): readonly LRScheduler[] {
    return this.#schedulers;
  }

  /**
   * Advances one epoch: restarts the next scheduler at its milestone, else steps the one in charge.
   * @param metric - Not accepted (SequentialLR.step() takes none).
   */
  override step(metric?: number): void {
    if (metric !== undefined) throw typeError('metric', 'no argument (SequentialLR.step() takes none)', metric);
    const epoch = this.lastEpoch + 1;
    let idx = 0;
    while (idx < this.#milestones.length && this.#milestones[idx] <= epoch) idx++;
    const s = this.#schedulers[idx];
    if (idx > 0 && this.#milestones[idx - 1] === epoch) jumpTo(s, 0);
    else s.step();
    this.record(epoch, s.getLastLr());
  }

  /** `{ milestones }`. */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { milestones: [...this.#milestones] };
  }

  /** Validates saved milestones. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const milestones = this.#checkMilestones(`${name}.milestones`, h.milestones);
    return () => {
      this.#milestones = milestones;
    };
  }

  /** The wrapped schedulers' states. */
  protected override extraState(): Pick<SchedulerState, 'state' | 'schedulers'> {
    return { schedulers: this.#schedulers.map((s) => s.stateDict()) };
  }

  /** Validates every wrapped scheduler's state before any is installed. */
  protected override prepareExtra(s: Readonly<Record<string, unknown>>, name: string): () => void {
    if (s.state !== undefined) throw rangeError(`${name}.state`, 'no running state (SequentialLR keeps none of its own)', 'one');
    const list = s.schedulers;
    if (!Array.isArray(list) || list.length !== this.#schedulers.length) {
      throw typeError(`${name}.schedulers`, `an array of ${this.#schedulers.length} scheduler states`, list);
    }
    const commits = this.#schedulers.map((c, i) => c.prepareLoad(list[i] as SchedulerState, `${name}.schedulers[${i}]`));
    return () => {
      for (const commit of commits) commit();
    };
  }
}
