/**
 * OneCycleLR, as `torch.optim.lr_scheduler.OneCycleLR`: the 1cycle policy (Smith &
 * Topor, 2018), stepped after every batch. The lr rises from `maxLr/divFactor` to `maxLr`
 * and anneals to `maxLr/(divFactor·finalDivFactor)`; the momentum moves the opposite way.
 */
import { rangeError, typeError } from '../errors.js';
import { checkBool, checkInt, checkNumber, checkOneOf, checkOptions } from '../validate.js';
import { Adam } from './adam.js';
import { LRScheduler, setInitialLr, type SchedulerValue } from './lr_scheduler.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';

/** Options of {@link OneCycleLR} (PyTorch's names and defaults). */
export interface OneCycleLROptions {
  /** The peak lr (> 0, required). */
  maxLr: number;
  /** Steps in the cycle (integer >= 1); else `epochs · stepsPerEpoch`. */
  totalSteps?: number;
  /** With stepsPerEpoch, instead of totalSteps. */
  epochs?: number;
  /** With epochs, instead of totalSteps. */
  stepsPerEpoch?: number;
  /** Share of the cycle spent raising the lr (in [0, 1], default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy?: 'cos' | 'linear';
  /**
   * Cycle the momentum inversely to the lr (default true): SGD's `momentum`, Adam's and
   * AdamW's β1. Other optimizers need `cycleMomentum: false`.
   */
  cycleMomentum?: boolean;
  /** Momentum at the lr peak (default 0.85). */
  baseMomentum?: number;
  /** Momentum at the start and end (default 0.95). */
  maxMomentum?: number;
  /** Initial lr = maxLr / divFactor (> 0, default 25). */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor (> 0, default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, then annihilate) instead of two (default false). */
  threePhase?: boolean;
}

interface Hyper {
  maxLr: number;
  totalSteps: number;
  pctStart: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  baseMomentum: number;
  maxMomentum: number;
  divFactor: number;
  finalDivFactor: number;
  threePhase: boolean;
}

const KEYS = ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase'] as const;

function positive(name: string, v: unknown): number {
  const x = checkNumber(name, v, 0);
  if (x === 0) throw rangeError(name, 'a number > 0', x);
  return x;
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string): Hyper {
  return {
    maxLr: positive(`${name}.maxLr`, h.maxLr),
    totalSteps: checkInt(`${name}.totalSteps`, h.totalSteps, 1, Number.MAX_SAFE_INTEGER),
    pctStart: checkNumber(`${name}.pctStart`, h.pctStart, 0, 1),
    annealStrategy: checkOneOf(`${name}.annealStrategy`, h.annealStrategy, ['cos', 'linear'] as const),
    cycleMomentum: checkBool(`${name}.cycleMomentum`, h.cycleMomentum),
    baseMomentum: checkNumber(`${name}.baseMomentum`, h.baseMomentum, 0, 1),
    maxMomentum: checkNumber(`${name}.maxMomentum`, h.maxMomentum, 0, 1),
    divFactor: positive(`${name}.divFactor`, h.divFactor),
    finalDivFactor: positive(`${name}.finalDivFactor`, h.finalDivFactor),
    threePhase: checkBool(`${name}.threePhase`, h.threePhase),
  };
}

/** PyTorch's `_annealing_cos`. */
const annealCos = (start: number, end: number, pct: number): number => end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1);
/** PyTorch's `_annealing_linear`. */
const annealLinear = (start: number, end: number, pct: number): number => (end - start) * pct + start;

/** Where the optimizer keeps its momentum, or null. */
function momentumOf(o: Optimizer): { get: () => number; set: (m: number) => void } | null {
  if (o instanceof Adam) return { get: () => o.betas[0], set: (m) => (o.betas = [m, o.betas[1]]) };
  if (o instanceof SGD) return { get: () => o.momentum, set: (m) => (o.momentum = m) };
  return null;
}

/**
 * The 1cycle schedule, with PyTorch's formulas: phases end at step `pctStart·totalSteps − 1`
 * (and `2·pctStart·totalSteps − 2` with threePhase) and `totalSteps − 1`; within a phase
 * the lr (and momentum) anneal by cosine or linearly from the phase's start value to its
 * end value. Construction sets the optimizer's lr to `maxLr/divFactor` (and its momentum to
 * maxMomentum); call `step()` after every optimizer step (fit: `schedulerStep: 'step'`),
 * at most `totalSteps` times. The one difference from PyTorch: at step `totalSteps`, past
 * the cycle's end, PyTorch extrapolates, which with linear annealing gives a negative lr;
 * here it is clamped at 0.
 */
export class OneCycleLR extends LRScheduler {
  /** `'OneCycleLR'`. */
  readonly type: string = 'OneCycleLR';
  #h: Hyper;

  /**
   * @param optimizer - The optimizer to drive (its lr is replaced).
   * @param options - `maxLr` and `totalSteps` (or `epochs` and `stepsPerEpoch`) are required.
   * @throws RangeError when cycleMomentum is on for an optimizer without a momentum (not SGD, Adam, AdamW).
   */
  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    super(optimizer);
    const o = checkOptions<OneCycleLROptions>('options', options, KEYS);
    let totalSteps: number;
    if (o.totalSteps !== undefined) {
      if (o.epochs !== undefined || o.stepsPerEpoch !== undefined) throw rangeError('options', 'totalSteps or epochs and stepsPerEpoch, not both', 'both');
      totalSteps = checkInt('options.totalSteps', o.totalSteps, 1, Number.MAX_SAFE_INTEGER);
    } else {
      if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
        throw rangeError('options', 'totalSteps, or epochs and stepsPerEpoch', o.epochs === undefined && o.stepsPerEpoch === undefined ? 'neither' : `only ${o.epochs === undefined ? 'stepsPerEpoch' : 'epochs'}`);
      }
      totalSteps = checkInt('options.epochs', o.epochs, 1, Number.MAX_SAFE_INTEGER) * checkInt('options.stepsPerEpoch', o.stepsPerEpoch, 1, Number.MAX_SAFE_INTEGER);
    }
    this.#h = checkHyper(
      {
        maxLr: o.maxLr, totalSteps, pctStart: o.pctStart ?? 0.3, annealStrategy: o.annealStrategy ?? 'cos', cycleMomentum: o.cycleMomentum ?? true,
        baseMomentum: o.baseMomentum ?? 0.85, maxMomentum: o.maxMomentum ?? 0.95, divFactor: o.divFactor ?? 25, finalDivFactor: o.finalDivFactor ?? 1e4,
        threePhase: o.threePhase ?? false,
      },
      'options',
    );
    if (this.#h.cycleMomentum && momentumOf(optimizer) === null) {
      throw rangeError('options.cycleMomentum', `false for a ${optimizer.type} optimizer (only SGD's momentum and Adam's/AdamW's beta1 can be cycled)`, true);
    }
    const initial = this.#h.maxLr / this.#h.divFactor;
    setInitialLr(optimizer, initial);
    this.#phaseCheck();
    this.start();
  }

  #phases(): { end: number; lr: [number, number]; m: [number, number] }[] {
    const { maxLr, divFactor, finalDivFactor, totalSteps: n, pctStart: p, baseMomentum: lo, maxMomentum: hi } = this.#h;
    const initial = maxLr / divFactor;
    const min = initial / finalDivFactor;
    if (this.#h.threePhase) {
      return [
        { end: p * n - 1, lr: [initial, maxLr], m: [hi, lo] },
        { end: 2 * p * n - 2, lr: [maxLr, initial], m: [lo, hi] },
        { end: n - 1, lr: [initial, min], m: [hi, hi] },
      ];
    }
    return [
      { end: p * n - 1, lr: [initial, maxLr], m: [hi, lo] },
      { end: n - 1, lr: [maxLr, min], m: [lo, hi] },
    ];
  }

  /** PyTorch divides by a phase's length: a first phase of zero length (pctStart·totalSteps = 1) fails there at step 0. */
  #phaseCheck(): void {
    const first = this.#phases()[0];
    if (first.end === 0) throw rangeError('options.pctStart', 'a pctStart·totalSteps other than 1 (the warm-up phase would have zero length)', this.#h.pctStart);
  }

  /** The lr and momentum at a step. */
  #at(step: number): { lr: number; momentum: number } {
    if (step > this.#h.totalSteps) {
      throw rangeError('step', `at most totalSteps = ${this.#h.totalSteps} calls of OneCycleLR.step()`, `call number ${step}`);
    }
    const anneal = this.#h.annealStrategy === 'cos' ? annealCos : annealLinear;
    const phases = this.#phases();
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const ph = phases[i];
      if (step <= ph.end || i === phases.length - 1) {
        if (ph.end === start) throw rangeError('step', `a step inside a phase of non-zero length (phase ${i + 1} of the cycle is empty)`, step);
        const pct = (step - start) / (ph.end - start);
        // Past the last phase's end (step totalSteps) PyTorch extrapolates: linear annealing then
        // goes below zero, which an optimizer refuses; the lr is clamped at 0 there.
        return { lr: Math.max(0, anneal(ph.lr[0], ph.lr[1], pct)), momentum: anneal(ph.m[0], ph.m[1], pct) };
      }
      start = ph.end;
    }
    /* c8 ignore next */
    throw new Error('unreachable');
  }

  /** The momentum set at the current step (NaN without cycleMomentum). */
  getLastMomentum(): number {
    return this.#h.cycleMomentum ? this.#at(this.lastEpoch).momentum : NaN;
  }

  /** The lr at `epoch` (a step); also sets the optimizer's momentum there. */
  protected override lrAt(epoch: number): number {
    const { lr, momentum } = this.#at(epoch);
    if (this.#h.cycleMomentum) momentumOf(this.optimizer)?.set(momentum);
    return lr;
  }

  /** Puts the optimizer's momentum at the loaded step. */
  protected override afterLoad(): void {
    if (this.#h.cycleMomentum) momentumOf(this.optimizer)?.set(this.#at(this.lastEpoch).momentum);
  }

  /** The options (totalSteps resolved). */
  protected hyperParams(): Record<string, SchedulerValue> {
    return { ...this.#h };
  }

  /** Validates saved options. */
  protected prepareHyper(h: Readonly<Record<string, unknown>>, name: string): () => void {
    const hyper = checkHyper(h, name);
    if (hyper.cycleMomentum && momentumOf(this.optimizer) === null) throw typeError(`${name}.cycleMomentum`, `false for a ${this.optimizer.type} optimizer`, true);
    return () => {
      this.#h = hyper;
    };
  }
}
