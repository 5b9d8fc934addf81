/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum,
 * L2 weight decay and maximisation: `torch.optim.SGD` (1.13, single-tensor path).
 */
import type { Parameter } from '../tensor.js';
import { rangeError } from '../errors.js';
import { native } from '../native/binding.js';
import { checkBool, checkNumber, checkOptions } from '../validate.js';
import { effectiveGrad, type HyperValue, Optimizer, type PreparedHyper, withDefaults } from './optimizer.js';

/** Options of {@link SGD}; names and defaults as `torch.optim.SGD`. */
export interface SGDOptions {
  /** Learning rate (required, >= 0). */
  lr: number;
  /** Momentum factor (>= 0, default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (>= 0, default 0). */
  weightDecay?: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
}

const KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'] as const;
const DEFAULTS = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };

interface SgdHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string): SgdHyper {
  const momentum = checkNumber(`${name}.momentum`, h.momentum, 0);
  const dampening = checkNumber(`${name}.dampening`, h.dampening);
  const nesterov = checkBool(`${name}.nesterov`, h.nesterov);
  const weightDecay = checkNumber(`${name}.weightDecay`, h.weightDecay, 0);
  const maximize = checkBool(`${name}.maximize`, h.maximize);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw rangeError(`${name}.nesterov`, 'momentum > 0 and dampening 0 when nesterov is true (Nesterov momentum requires a momentum and zero dampening)', `momentum ${momentum}, dampening ${dampening}`);
  }
  return { momentum, dampening, nesterov, weightDecay, maximize };
}

// The updates: `d` is the effective gradient (see effectiveGrad); values are computed in float64
// per element and stored as float32, like torch's float32 tensors. The steady-state updates run
// in native/optim.cpp (vectorised, the same formulas: plain θ −= lr·d; momentum b = μ·b +
// (1 − dampening)·d, θ −= lr·b; Nesterov b = μ·b + d, θ −= lr·(d + μ·b)); only a momentum
// buffer's first step is here.

/** First momentum step: b = d, then θ −= lr·b (or lr·(d + μ·b) with Nesterov). */
function sgdMomentumInit(p: Float32Array, d: Float32Array, buf: Float32Array, lr: number, momentum: number, nesterov: boolean): void {
  const n = p.length;
  buf.set(d);
  if (nesterov) for (let j = 0; j < n; j++) p[j] = p[j] - lr * (d[j] + momentum * buf[j]);
  else for (let j = 0; j < n; j++) p[j] = p[j] - lr * buf[j];
}

/**
 * Stochastic gradient descent, as `torch.optim.SGD`:
 * `d = g + weightDecay·θ`; with momentum `b = momentum·b + (1 − dampening)·d` (b = d on the
 * first step), `d = nesterov ? d + momentum·b : b`; then `θ = θ − lr·d`.
 * State per parameter: `momentumBuffer` (only with momentum).
 */
export class SGD extends Optimizer {
  /** `'SGD'`. */
  readonly type: string = 'SGD';
  #h: SgdHyper;

  /**
   * @param params - Parameters to update (non-empty, unique names).
   * @param options - `lr` is required; the others default as in PyTorch.
   * @throws RangeError for unknown option keys and bad values, TypeError for wrong kinds.
   */
  constructor(params: readonly Parameter[], options: SGDOptions) {
    const o = checkOptions<SGDOptions>('options', options, KEYS);
    super(params, o.lr);
    this.#h = checkHyper(withDefaults(DEFAULTS, o), 'options');
  }

  /**
   * The momentum factor. Setting it checks a number >= 0 that keeps Nesterov valid (> 0 with
   * nesterov); OneCycleLR cycles it as PyTorch's does. A momentum set on an optimizer that
   * had none starts each parameter's buffer at its next step, as in PyTorch.
   */
  get momentum(): number {
    return this.#h.momentum;
  }

  set momentum(value: number) {
    const momentum = checkNumber('momentum', value, 0);
    if (this.#h.nesterov && momentum === 0) throw rangeError('momentum', 'a momentum > 0 (this SGD uses Nesterov momentum)', momentum);
    this.#h = { ...this.#h, momentum };
  }

  /** Applies one SGD update to every parameter. */
  step(): void {
    const { momentum, dampening, nesterov, weightDecay, maximize } = this.#h;
    const lr = this.lr;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const n = p.data.length;
      let slot = this.slots[i];
      if (slot === undefined) {
        slot = { step: 0, buffers: {} };
        this.slots[i] = slot;
      }
      const d = effectiveGrad(p.data, p.grad, weightDecay, maximize, this.scratch(n));
      if (momentum === 0) {
        native.sgdStep({ p: p.data, d, buf: null, lr, momentum: 0, keep: 1, nesterov: false });
      } else {
        const buf = slot.buffers.momentumBuffer;
        if (buf === undefined) {
          // torch: a missing buffer starts as a copy of d_p (no dampening on that step).
          const fresh = new Float32Array(n);
          slot.buffers.momentumBuffer = fresh;
          sgdMomentumInit(p.data, d, fresh, lr, momentum, nesterov);
        } else {
          native.sgdStep({ p: p.data, d, buf, lr, momentum, keep: 1 - dampening, nesterov });
        }
      }
      slot.step++;
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
      buffers: { required: [], optional: ['momentumBuffer'] },
      commit: () => {
        this.#h = h;
      },
    };
  }
}
