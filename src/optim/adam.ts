/**
 * Adam and AdamW: `torch.optim.Adam` / `torch.optim.AdamW` (1.13, single-tensor path,
 * not capturable, not fused).
 */
import type { Parameter } from '../tensor.js';
import { rangeError, typeError } from '../errors.js';
import { native } from '../native/binding.js';
import { checkBool, checkNumber, checkOptions } from '../validate.js';
import { effectiveGrad, type HyperValue, Optimizer, type ParamSlot, type PreparedHyper, withDefaults } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW}; names and defaults as in PyTorch. */
export interface AdamOptions {
  /** Learning rate (>= 0, default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment averages, each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Term added to the denominator (>= 0, default 1e-8). */
  eps?: number;
  /**
   * Weight decay (>= 0). Adam: L2 penalty added to the gradient (default 0).
   * AdamW: decoupled, `θ *= 1 − lr·weightDecay` before the update (default 1e-2).
   */
  weightDecay?: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad?: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize?: boolean;
}

const KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;

interface AdamHyper {
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

function checkBetas(name: string, v: unknown): readonly [number, number] {
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw typeError(name, 'an array of two numbers in [0, 1)', v);
  const a = v as ArrayLike<unknown>;
  if (a.length !== 2) throw rangeError(name, 'an array of two numbers in [0, 1)', v);
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    const b = checkNumber(`${name}[${i}]`, a[i], 0, 1);
    if (b >= 1) throw rangeError(`${name}[${i}]`, 'a number in [0, 1)', b);
    out.push(b);
  }
  return Object.freeze([out[0], out[1]] as [number, number]);
}

function checkHyper(h: Readonly<Record<string, unknown>>, name: string): AdamHyper {
  return {
    betas: checkBetas(`${name}.betas`, h.betas),
    eps: checkNumber(`${name}.eps`, h.eps, 0),
    weightDecay: checkNumber(`${name}.weightDecay`, h.weightDecay, 0),
    amsgrad: checkBool(`${name}.amsgrad`, h.amsgrad),
    maximize: checkBool(`${name}.maximize`, h.maximize),
  };
}

function buffersFor(amsgrad: boolean): string[] {
  return amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
}

// The update runs natively (native/optim.cpp): in float32, every operation rounded where
// torch.optim's tensor ops round (the scalars too), no fused multiply-add. `d` is the
// effective gradient (see effectiveGrad; Adam's L2 weight decay is folded in there), `shrink`
// is AdamW's `1 − lr·weightDecay`.

/**
 * Adam, as `torch.optim.Adam`: at step t, `d = g + weightDecay·θ`,
 * `m = β1·m + (1−β1)·d`, `v = β2·v + (1−β2)·d²` (amsgrad: `v̂ = max(v̂, v)`),
 * `θ −= lr/(1−β1^t) · m / (√v / √(1−β2^t) + eps)`.
 * State per parameter: `expAvg`, `expAvgSq`, and `maxExpAvgSq` with amsgrad.
 */
export class Adam extends Optimizer {
  /** `'Adam'`. */
  readonly type: string = 'Adam';
  /** Whether weight decay is decoupled (AdamW). */
  protected readonly decoupled: boolean = false;
  #h: AdamHyper;

  /**
   * @param params - Parameters to update (non-empty, unique names).
   * @param options - Hyper-parameters; defaults as in PyTorch.
   * @throws RangeError for unknown option keys and bad values, TypeError for wrong kinds.
   */
  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    const o = withDefaults(
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: new.target === AdamW ? 1e-2 : 0, amsgrad: false, maximize: false },
      checkOptions<AdamOptions>('options', options, KEYS),
    );
    super(params, o.lr);
    this.#h = checkHyper(o, 'options');
  }

  #freshSlot(i: number): ParamSlot {
    const n = this.params[i].data.length;
    const buffers: Record<string, Float32Array> = {};
    for (const b of buffersFor(this.#h.amsgrad)) buffers[b] = new Float32Array(n);
    return { step: 0, buffers };
  }

  /**
   * The coefficients (β1, β2) of the running averages. Setting them checks each in [0, 1);
   * OneCycleLR cycles β1 as PyTorch's does.
   */
  get betas(): readonly [number, number] {
    return this.#h.betas;
  }

  set betas(value: readonly [number, number]) {
    this.#h = { ...this.#h, betas: checkBetas('betas', value) };
  }

  /** Applies one update to every parameter. */
  step(): void {
    const { betas, eps, weightDecay, amsgrad, maximize } = this.#h;
    const [beta1, beta2] = betas;
    const lr = this.lr;
    const l2 = this.decoupled ? 0 : weightDecay;
    const shrink = this.decoupled ? 1 - lr * weightDecay : 1;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const slot = this.slots[i] ?? (this.slots[i] = this.#freshSlot(i));
      slot.step++;
      const t = slot.step;
      const stepSize = lr / (1 - beta1 ** t);
      const bc2sqrt = Math.sqrt(1 - beta2 ** t);
      const b = slot.buffers;
      const d = effectiveGrad(p.data, p.grad, l2, maximize, this.scratch(p.data.length));
      native.adamStep({ p: p.data, d, m: b.expAvg, v: b.expAvgSq, vmax: amsgrad ? b.maxExpAvgSq : null, beta1, beta2, stepSize, bc2Sqrt: bc2sqrt, eps, shrink });
    }
  }

  /** Hyper-parameters other than lr (betas as a two-number array). */
  protected hyperParams(): Record<string, HyperValue> {
    const h = this.#h;
    return { betas: [h.betas[0], h.betas[1]], eps: h.eps, weightDecay: h.weightDecay, amsgrad: h.amsgrad, maximize: h.maximize };
  }

  /** Validates saved hyper-parameters. */
  protected prepareHyper(hyper: Readonly<Record<string, unknown>>, name: string): PreparedHyper {
    const h = checkHyper(hyper, name);
    return {
      buffers: { required: buffersFor(h.amsgrad), optional: [] },
      commit: () => {
        this.#h = h;
      },
    };
  }
}

/**
 * AdamW, as `torch.optim.AdamW`: Adam with decoupled weight decay, `θ *= 1 − lr·weightDecay`
 * before the Adam step (the gradient itself is not decayed). Default weightDecay 1e-2.
 */
export class AdamW extends Adam {
  /** `'AdamW'`. */
  override readonly type: string = 'AdamW';
  /** Weight decay is decoupled. */
  protected override readonly decoupled: boolean = true;

  /**
   * @param params - Parameters to update (non-empty, unique names).
   * @param options - Hyper-parameters; defaults as in PyTorch (weightDecay 1e-2).
   * @throws RangeError for unknown option keys and bad values, TypeError for wrong kinds.
   */
  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    super(params, options);
  }
}
