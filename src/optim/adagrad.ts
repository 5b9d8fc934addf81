/**
 * Adagrad: `torch.optim.Adagrad` (1.13, single-tensor dense path).
 */
import type { Parameter } from '../tensor.js';
import { checkBool, checkNumber, checkOptions } from '../validate.js';
import { effectiveGrad, type HyperValue, Optimizer, type ParamSlot, type PreparedHyper, withDefaults } from './optimizer.js';

/** Options of {@link Adagrad}; names and defaults as `torch.optim.Adagrad`. */
export interface AdagradOptions {
  /** Learning rate (>= 0, default 0.01). */
  lr?: number;
  /** Learning-rate decay: step t uses `lr / (1 + (t − 1)·lrDecay)` (>= 0, default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (>= 0, default 0). */
  weightDecay?: number;
  /** Starting value of the sum of squared gradients (>= 0, default 0). */
  initialAccumulatorValue?: number;
  /** Term added to the denominator (>= 0, default 1e-10). */
  eps?: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
}

const KEYS = ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'] as const;
const DEFAULTS = { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

interface AdagradHyper {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string): AdagradHyper {
  return {
    lrDecay: checkNumber(`${name}.lrDecay`, h.lrDecay, 0),
    weightDecay: checkNumber(`${name}.weightDecay`, h.weightDecay, 0),
    initialAccumulatorValue: checkNumber(`${name}.initialAccumulatorValue`, h.initialAccumulatorValue, 0),
    eps: checkNumber(`${name}.eps`, h.eps, 0),
    maximize: checkBool(`${name}.maximize`, h.maximize),
  };
}

/** One Adagrad update of one parameter from the effective gradient `d` (float64 per element, float32 storage). */
function adagradKernel(p: Float32Array, d: Float32Array, sum: Float32Array, clr: number, eps: number): void {
  const n = p.length;
  for (let j = 0; j < n; j++) {
    const dj = d[j];
    sum[j] = sum[j] + dj * dj;
    p[j] = p[j] - (clr * dj) / (Math.sqrt(sum[j]) + eps);
  }
}

/**
 * Adagrad, as `torch.optim.Adagrad`: at step t, `d = g + weightDecay·θ`,
 * `sum += d²`, `θ −= lr/(1 + (t−1)·lrDecay) · d / (√sum + eps)`.
 * State per parameter: `sum` (created at construction, filled with
 * `initialAccumulatorValue`, as PyTorch does).
 */
export class Adagrad extends Optimizer {
  /** `'Adagrad'`. */
  readonly type: string = 'Adagrad';
  #h: AdagradHyper;

  /**
   * @param params - Parameters to update (non-empty, unique names).
   * @param options - Hyper-parameters; defaults as in PyTorch.
   * @throws RangeError for unknown option keys and bad values, TypeError for wrong kinds.
   */
  constructor(params: readonly Parameter[], options: AdagradOptions = {}) {
    const o = withDefaults(DEFAULTS, checkOptions<AdagradOptions>('options', options, KEYS));
    super(params, o.lr);
    this.#h = checkHyper(o, 'options');
    for (let i = 0; i < this.params.length; i++) this.slots[i] = this.#freshSlot(i);
  }

  #freshSlot(i: number): ParamSlot {
    const sum = new Float32Array(this.params[i].data.length).fill(this.#h.initialAccumulatorValue);
    return { step: 0, buffers: { sum } };
  }

  /** Applies one Adagrad update to every parameter. */
  step(): void {
    const { lrDecay, weightDecay, eps, maximize } = this.#h;
    const lr = this.lr;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const slot = this.slots[i] ?? (this.slots[i] = this.#freshSlot(i));
      slot.step++;
      const clr = lr / (1 + (slot.step - 1) * lrDecay);
      const d = effectiveGrad(p.data, p.grad, weightDecay, maximize, this.scratch(p.data.length));
      adagradKernel(p.data, d, slot.buffers.sum, clr, eps);
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
      buffers: { required: ['sum'], optional: [] },
      commit: () => {
        this.#h = h;
      },
    };
  }
}
