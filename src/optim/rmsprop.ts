/**
 * RMSprop: `torch.optim.RMSprop` (1.13, single-tensor path).
 */
import type { Parameter } from '../tensor.js';
import { checkBool, checkNumber, checkOptions } from '../validate.js';
import { effectiveGrad, type HyperValue, Optimizer, type ParamSlot, type PreparedHyper, withDefaults } from './optimizer.js';

/** Options of {@link RMSprop}; names and defaults as `torch.optim.RMSprop`. */
export interface RMSpropOptions {
  /** Learning rate (>= 0, default 0.01). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average (>= 0, default 0.99). */
  alpha?: number;
  /** Term added to the denominator (>= 0, default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (>= 0, default 0). */
  weightDecay?: number;
  /** Momentum factor (>= 0, default 0). */
  momentum?: number;
  /** Normalise by the estimated variance instead of the second moment (default false). */
  centered?: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
}

const KEYS = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'] as const;
const DEFAULTS = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

interface RmspropHyper {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string): RmspropHyper {
  return {
    alpha: checkNumber(`${name}.alpha`, h.alpha, 0),
    eps: checkNumber(`${name}.eps`, h.eps, 0),
    weightDecay: checkNumber(`${name}.weightDecay`, h.weightDecay, 0),
    momentum: checkNumber(`${name}.momentum`, h.momentum, 0),
    centered: checkBool(`${name}.centered`, h.centered),
    maximize: checkBool(`${name}.maximize`, h.maximize),
  };
}

function buffersFor(momentum: number, centered: boolean): string[] {
  const names = ['squareAvg'];
  if (momentum > 0) names.push('momentumBuffer');
  if (centered) names.push('gradAvg');
  return names;
}

// The update loops, one per mode (plain / centered, with / without momentum) so that no
// loop tests a loop-invariant flag. `d` is the effective gradient (see effectiveGrad);
// values are computed in float64 per element and stored as float32.

/** v = α·v + (1−α)·d², θ −= lr·d/(√v + eps). */
function rmsPlain(p: Float32Array, d: Float32Array, sq: Float32Array, lr: number, alpha: number, eps: number): void {
  const n = p.length;
  const beta = 1 - alpha;
  for (let j = 0; j < n; j++) {
    const dj = d[j];
    sq[j] = alpha * sq[j] + beta * dj * dj;
    p[j] = p[j] - (lr * dj) / (Math.sqrt(sq[j]) + eps);
  }
}

/** Centered: also m = α·m + (1−α)·d, and the denominator is √(v − m²) + eps. */
function rmsCentered(p: Float32Array, d: Float32Array, sq: Float32Array, ga: Float32Array, lr: number, alpha: number, eps: number): void {
  const n = p.length;
  const beta = 1 - alpha;
  for (let j = 0; j < n; j++) {
    const dj = d[j];
    sq[j] = alpha * sq[j] + beta * dj * dj;
    ga[j] = alpha * ga[j] + beta * dj;
    p[j] = p[j] - (lr * dj) / (Math.sqrt(sq[j] - ga[j] * ga[j]) + eps);
  }
}

/** With momentum: b = μ·b + d/(√v + eps), θ −= lr·b. */
function rmsMomentum(p: Float32Array, d: Float32Array, sq: Float32Array, buf: Float32Array, lr: number, alpha: number, eps: number, momentum: number): void {
  const n = p.length;
  const beta = 1 - alpha;
  for (let j = 0; j < n; j++) {
    const dj = d[j];
    sq[j] = alpha * sq[j] + beta * dj * dj;
    buf[j] = momentum * buf[j] + dj / (Math.sqrt(sq[j]) + eps);
    p[j] = p[j] - lr * buf[j];
  }
}

/** Centered with momentum. */
function rmsCenteredMomentum(
  p: Float32Array, d: Float32Array, sq: Float32Array, ga: Float32Array, buf: Float32Array,
  lr: number, alpha: number, eps: number, momentum: number,
): void {
  const n = p.length;
  const beta = 1 - alpha;
  for (let j = 0; j < n; j++) {
    const dj = d[j];
    sq[j] = alpha * sq[j] + beta * dj * dj;
    ga[j] = alpha * ga[j] + beta * dj;
    buf[j] = momentum * buf[j] + dj / (Math.sqrt(sq[j] - ga[j] * ga[j]) + eps);
    p[j] = p[j] - lr * buf[j];
  }
}

/**
 * RMSprop, as `torch.optim.RMSprop`: `d = g + weightDecay·θ`, `v = α·v + (1−α)·d²`;
 * centered: `m = α·m + (1−α)·d`, `avg = √(v − m²) + eps`, else `avg = √v + eps`;
 * with momentum `b = momentum·b + d/avg`, `θ −= lr·b`, else `θ −= lr·d/avg`.
 * State per parameter: `squareAvg`, `momentumBuffer` (momentum > 0), `gradAvg` (centered).
 */
export class RMSprop extends Optimizer {
  /** `'RMSprop'`. */
  readonly type: string = 'RMSprop';
  #h: RmspropHyper;

  /**
   * @param params - Parameters to update (non-empty, unique names).
   * @param options - Hyper-parameters; defaults as in PyTorch.
   * @throws RangeError for unknown option keys and bad values, TypeError for wrong kinds.
   */
  constructor(params: readonly Parameter[], options: RMSpropOptions = {}) {
    const o = withDefaults(DEFAULTS, checkOptions<RMSpropOptions>('options', options, KEYS));
    super(params, o.lr);
    this.#h = checkHyper(o, 'options');
  }

  #freshSlot(i: number): ParamSlot {
    const n = this.params[i].data.length;
    const buffers: Record<string, Float32Array> = {};
    for (const b of buffersFor(this.#h.momentum, this.#h.centered)) buffers[b] = new Float32Array(n);
    return { step: 0, buffers };
  }

  /** Applies one RMSprop update to every parameter. */
  step(): void {
    const { alpha, eps, weightDecay, momentum, centered, maximize } = this.#h;
    const lr = this.lr;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const slot = this.slots[i] ?? (this.slots[i] = this.#freshSlot(i));
      slot.step++;
      const b = slot.buffers;
      const d = effectiveGrad(p.data, p.grad, weightDecay, maximize, this.scratch(p.data.length));
      if (momentum > 0) {
        if (centered) rmsCenteredMomentum(p.data, d, b.squareAvg, b.gradAvg, b.momentumBuffer, lr, alpha, eps, momentum);
        else rmsMomentum(p.data, d, b.squareAvg, b.momentumBuffer, lr, alpha, eps, momentum);
      } else if (centered) {
        rmsCentered(p.data, d, b.squareAvg, b.gradAvg, lr, alpha, eps);
      } else {
        rmsPlain(p.data, d, b.squareAvg, lr, alpha, eps);
      }
    }
  }

  /** Hyper-parameters other than lr. */
  protected hyperParams(): Record<string, HyperValue> {
    return { ...this.#h };
  }

  /** Validates saved hyper-parameters. */
  protected prepareHyper(hyper: Readonly<Record<string, unknown>>, name: string): PreparedHyper {
    const h = checkHyper(hyper, name);
    return {
      buffers: { required: buffersFor(h.momentum, h.centered), optional: [] },
      commit: () => {
        this.#h = h;
      },
    };
  }
}
