/**
 * `Linear`: y = x W^T + b on the last axis of [..., in] (every time step of
 * [T,B,F], or [B,F]), with torch.nn.Linear's names and initialisation. Its
 * GEMMs run natively.
 */
import { rangeError } from '../errors.js';
import { native, nativeFloats, type SgemmArgs } from '../native/binding.js';
import { freshFloats, freshNativeFloats } from '../native/fresh.js';
import type { NativeJob } from '../native/job.js';
import { Rng } from '../random.js';
import { checkTensor, type IntTensor, type Tensor } from '../tensor.js';
import { checkBool, checkInt, checkOptions } from '../validate.js';
import { registerModule } from '../io/registry.js';
import type { LayerContext } from './layer.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { axisFits, pyRepr } from './module_base.js';
import { ParametrizedLayer } from './parametrized_layer.js';

/** Options of `new Linear(...)`. */
export interface LinearOptions {
  /** Input features. */
  inFeatures: number;
  /** Output features. */
  outFeatures: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Seed for initialisation (default random). */
  seed?: number;
}

/** Options of `Linear.backward`. */
export interface LinearBackwardOptions {
  /** Compute the input gradient (default true; false when the input is data). */
  inputGrad?: boolean;
}

/** A fully connected layer applied to the last axis. */
export class Linear extends ParametrizedLayer implements Module<Tensor, Tensor, Tensor, Tensor | null> {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** Whether there is a bias. */
  readonly hasBias: boolean;
  private lastInput: Tensor | null = null;

  /** Initialises weight and bias from U(-1/sqrt(in), 1/sqrt(in)) as PyTorch does. */
  constructor(options: LinearOptions) {
    const o = checkOptions<LinearOptions>('options', options, ['inFeatures', 'outFeatures', 'bias', 'seed']);
    const inFeatures = checkInt('inFeatures', o.inFeatures, 1, 1 << 24);
    const outFeatures = checkInt('outFeatures', o.outFeatures, 1, 1 << 24);
    const hasBias = checkBool('bias', o.bias ?? true);
    super([['weight', [outFeatures, inFeatures]], ...(hasBias ? ([['bias', [outFeatures]]] as const) : [])]);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.hasBias = hasBias;
    const rng = new Rng(o.seed);
    const k = 1 / Math.sqrt(this.inFeatures);
    const v = this.store.values;
    for (let i = 0; i < v.length; i++) v[i] = rng.range(-k, k);
  }

  /** y[..., out] = x[..., in] W^T + b. An input with no rows (e.g. [0, in] or [T, 0, in]) gives an empty output, as in PyTorch. */
  forward(x: Tensor): Tensor {
    return this.forwardInto(x, false);
  }

  // `reuse`: the output lives in a buffer this layer reuses (inside a Sequential, when the
  // next layer consumes it within the step).
  private forwardInto(x: Tensor, reuse: boolean, job?: NativeJob): Tensor {
    const t = this.checkInput(x);
    const rows = t.data.length / this.inFeatures;
    // (Native-owned in a job: the job uses it in place instead of copying it in and out.)
    // Written in full below (the bias rows, or the GEMM with beta 0): no zero-fill.
    const y = reuse ? this.reused('y', rows * this.outFeatures) : job ? freshNativeFloats(rows * this.outFeatures) : freshFloats(rows * this.outFeatures);
    if (rows === 0) {
      this.lastInput = t;
      return { data: y, shape: [...t.shape.slice(0, -1), this.outFeatures] };
    }
    const w = this.store.get('weight').data;
    if (this.hasBias) {
      const b = this.store.get('bias').data;
      // Every row starts as b: one copy, then copies of what is filled (log2(rows) memmoves).
      y.set(b, 0);
      for (let filled = 1; filled < rows; filled *= 2) y.copyWithin(filled * this.outFeatures, 0, Math.min(filled, rows - filled) * this.outFeatures);
    }
    gemm(job, false, true, rows, this.outFeatures, this.inFeatures, 1, t.data, this.inFeatures, w, this.inFeatures, this.hasBias ? 1 : 0, y, this.outFeatures);
    this.lastInput = t;
    return { data: y, shape: [...t.shape.slice(0, -1), this.outFeatures] };
  }

  /**
   * Accumulates dW += gy^T x and db += sum(gy); returns dx = gy W, or null with
   * `{ inputGrad: false }` (a boolean second argument is accepted too).
   */
  backward(gy: Tensor, options?: LinearBackwardOptions | boolean): Tensor | null {
    const inputGrad = typeof options === 'boolean' ? options : checkBool('options.inputGrad', checkOptions<LinearBackwardOptions>('options', options, ['inputGrad']).inputGrad ?? true);
    return this.backwardInto(gy, inputGrad, false);
  }

  private backwardInto(gy: Tensor, inputGrad: boolean, reuse: boolean, job?: NativeJob): Tensor | null {
    const x = this.lastInput;
    if (!x) throw new Error('Linear.backward called before forward: call forward first');
    const rows = x.data.length / this.inFeatures;
    checkTensor('gy', gy, [...x.shape.slice(0, -1), this.outFeatures], 'the shape of the output');
    const out = this.outFeatures;
    if (rows === 0) {
      // No rows: nothing to accumulate, and an empty input gradient (PyTorch does the same).
      this.lastInput = null;
      return inputGrad ? { data: new Float32Array(0), shape: x.shape } : null;
    }
    gemm(job, true, false, out, this.inFeatures, rows, 1, gy.data, out, x.data, this.inFeatures, 1, this.store.get('weight').grad, this.inFeatures);
    if (this.hasBias) {
      // db += 1^T gy: the column sums as one more native GEMM.
      gemm(job, false, false, 1, out, rows, 1, this.ones(rows), rows, gy.data, out, 1, this.store.get('bias').grad, out);
    }
    this.lastInput = null;
    if (!inputGrad) return null;
    const dx = reuse ? this.reused('dx', rows * this.inFeatures) : job ? freshNativeFloats(rows * this.inFeatures) : freshFloats(rows * this.inFeatures);
    gemm(job, false, false, rows, this.inFeatures, out, 1, gy.data, out, this.store.get('weight').data, this.inFeatures, 0, dx, this.inFeatures);
    return { data: dx, shape: x.shape };
  }

  /** As forward (the GEMMs are short native calls on this thread); resolves with the output. */
  async forwardAsync(x: Tensor): Promise<Tensor> {
    return this.forward(x);
  }

  /** As backward; resolves with the input gradient. */
  async backwardAsync(gy: Tensor, options?: LinearBackwardOptions | boolean): Promise<Tensor | null> {
    return this.backward(gy, options);
  }

  /** The architecture: `{ type: 'Linear', inFeatures, outFeatures, bias }`. */
  toSpec(): ModuleSpec {
    return { type: 'Linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.hasBias };
  }

  /** `[..., inFeatures]` -> `[..., outFeatures]`. */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    if (inputShape.length < 1 || !axisFits(inputShape[inputShape.length - 1], this.inFeatures)) return null;
    return [...inputShape.slice(0, -1), this.outFeatures];
  }

  /** `in_features=256, out_features=65, bias=True`, as PyTorch. */
  extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyRepr(this.hasBias)}`;
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(): ShapeDim[] {
    return ['...', this.inFeatures];
  }

  /** @internal Sequential's entry. */
  forwardLayer(x: Tensor | IntTensor, ctx?: LayerContext): Tensor {
    return this.forwardInto(x as Tensor, ctx?.internal === true);
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null {
    return this.backwardInto(gy, ctx.inputGrad, ctx.internal === true);
  }

  /** @internal Its GEMMs can always join a job. */
  queueable(): boolean {
    return true;
  }

  /** @internal Sequential's entry for a training step's one job: the GEMMs, queued (the bias rows are set now). */
  forwardLayerInto(x: Tensor | IntTensor, ctx: LayerContext, job: NativeJob): Tensor {
    return this.forwardInto(x as Tensor, ctx.internal === true, job);
  }

  /** @internal Sequential's entry: the backward GEMMs, queued. */
  backwardLayerInto(gy: Tensor, ctx: LayerContext, job: NativeJob): Tensor | null {
    return this.backwardInto(gy, ctx.inputGrad, ctx.internal === true, job);
  }

  private onesCache: Float32Array = new Float32Array(0);
  private readonly reuse = new Map<'y' | 'dx', Float32Array>();

  // A buffer of n floats kept for the next call (contents overwritten by the caller). Native-owned:
  // the async RNN call that consumes it (dx is the gradient of the RNN below) uses it in place
  // instead of copying it into native memory first (E1: 2 MB per step).
  private reused(key: 'y' | 'dx', n: number): Float32Array {
    let b = this.reuse.get(key);
    if (!b || b.length < n) {
      b = freshNativeFloats(n);
      this.reuse.set(key, b);
    }
    return b.subarray(0, n);
  }

  private ones(n: number): Float32Array {
    // Native-owned: a job uses it in place.
    if (this.onesCache.length < n) this.onesCache = nativeFloats(n).fill(1);
    return this.onesCache.subarray(0, n);
  }

  private checkInput(x: unknown): Tensor {
    const rank = x !== null && typeof x === 'object' && Array.isArray((x as Tensor).shape) ? (x as Tensor).shape.length : 0;
    if (rank < 1) throw rangeError('x', `a Tensor of shape [..., ${this.inFeatures}]`, x === null || typeof x !== 'object' ? String(x) : 'a tensor of rank 0');
    return checkTensor('x', x, [...new Array<number>(rank - 1).fill(-1), this.inFeatures], `[..., inFeatures = ${this.inFeatures}]`);
  }
}

// A GEMM now, or queued in `job`.
function gemm(job: NativeJob | undefined, ...args: SgemmArgs): void {
  if (job) job.sgemm(...args);
  else native.sgemm(...args);
}

function linearShapes(spec: Readonly<Record<string, unknown>>, where: string): Array<[string, number[]]> {
  const { type: _type, ...rest } = spec;
  const o = checkOptions<LinearOptions>(where, rest, ['inFeatures', 'outFeatures', 'bias']);
  const inF = checkInt('inFeatures', o.inFeatures, 1, 1 << 24);
  const outF = checkInt('outFeatures', o.outFeatures, 1, 1 << 24);
  const bias = checkBool('bias', o.bias ?? true);
  return bias ? [['weight', [outF, inF]], ['bias', [outF]]] : [['weight', [outF, inF]]];
}

registerModule({
  type: 'Linear',
  parameterShapes: linearShapes,
  fromSpec: (spec) => new Linear({ inFeatures: spec.inFeatures as number, outFeatures: spec.outFeatures as number, bias: (spec.bias as boolean | undefined) ?? true, seed: 0 }),
});
