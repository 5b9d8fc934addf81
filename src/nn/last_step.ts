/**
 * `LastStep`: each sequence's last valid output, for sequence-to-one models.
 * For a bidirectional output the reverse half is taken at step 0, where the
 * reverse direction has seen the whole sequence.
 */
import { rangeError } from '../errors.js';
import { nativeFloats } from '../native/binding.js';
import { checkTensor, type IntTensor, type Tensor } from '../tensor.js';
import { checkBool, checkInt, checkOptions } from '../validate.js';
import { registerModule } from '../io/registry.js';
import type { LayerContext } from './layer.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { pyRepr } from './module_base.js';
import { StatelessLayer } from './stateless_layer.js';

/** Options of `new LastStep(...)`. */
export interface LastStepOptions {
  /** 2 when the input is a bidirectional output [.., 2H] (default 1). */
  directions?: 1 | 2;
  /** Input is [B,T,F] instead of [T,B,F] (default false). */
  batchFirst?: boolean;
}

/** Options of `LastStep.forward`. */
export interface LastStepForwardOptions {
  /** Per-batch sequence lengths in 1..T (default: every sequence has T steps). */
  seqLengths?: ArrayLike<number> | null;
}

/** Picks [B,F] out of [T,B,F] at each sequence's last step. */
export class LastStep extends StatelessLayer implements Module<Tensor, Tensor, Tensor, Tensor> {
  /** Directions in the input's last axis. */
  readonly directions: 1 | 2;
  /** Input layout. */
  readonly batchFirst: boolean;
  private last: { shape: readonly number[]; steps: Int32Array } | null = null;

  /** See LastStepOptions. */
  constructor(options: LastStepOptions = {}) {
    super();
    const o = checkOptions<LastStepOptions>('options', options, ['directions', 'batchFirst']);
    this.directions = checkInt('directions', o.directions ?? 1, 1, 2) as 1 | 2;
    this.batchFirst = checkBool('batchFirst', o.batchFirst ?? false);
  }

  /**
   * [T,B,F] -> [B,F]; `{ seqLengths }` picks step len-1 per row (default T-1). The lengths may
   * also be passed directly as the second argument.
   */
  forward(x: Tensor, options?: LastStepForwardOptions | ArrayLike<number> | null): Tensor {
    const seqLengths = lengthsOf(options);
    const t = checkTensor('x', x, [-1, -1, -1], this.batchFirst ? '[B, T, F]' : '[T, B, F]');
    const [T, B] = this.batchFirst ? [t.shape[1], t.shape[0]] : [t.shape[0], t.shape[1]];
    const F = t.shape[2];
    if (F % this.directions !== 0) throw rangeError('x.shape[2]', `a multiple of ${this.directions} (directions)`, F);
    const steps = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const len = seqLengths ? seqLengths[b] : T;
      if (!Number.isInteger(len) || len < 1 || len > T) throw rangeError(`seqLengths[${b}]`, `an integer in 1..${T}`, len);
      steps[b] = len - 1;
    }
    const half = F / this.directions;
    const out = new Float32Array(B * F);
    for (let b = 0; b < B; b++) {
      const fwd = this.offset(steps[b], b, T, B, F);
      out.set(t.data.subarray(fwd, fwd + half), b * F);
      if (this.directions === 2) {
        const rev = this.offset(0, b, T, B, F) + half;
        out.set(t.data.subarray(rev, rev + half), b * F + half);
      }
    }
    this.last = { shape: t.shape, steps };
    return { data: out, shape: [B, F] };
  }

  /** Scatters gy [B,F] back to the picked steps. */
  backward(gy: Tensor): Tensor {
    return this.backwardInto(gy, false);
  }

  // Inside a Sequential the gradient is consumed by the layer below within the step, so one
  // native-owned buffer serves every step of a shape: only the rows written last time are
  // cleared (F1: 3.3 MB of zeros per step otherwise, and a copy into native memory for an
  // async RNN backward).
  private reusedDx: { data: Float32Array; written: Int32Array } | null = null;

  private backwardInto(gy: Tensor, reuse: boolean): Tensor {
    const last = this.last;
    if (!last) throw new Error('LastStep.backward called before forward: call forward first');
    const [T, B] = this.batchFirst ? [last.shape[1], last.shape[0]] : [last.shape[0], last.shape[1]];
    const F = last.shape[2];
    checkTensor('gy', gy, [B, F], 'the shape of the output');
    const half = F / this.directions;
    const rows = this.directions * B;
    let dx: Float32Array;
    let written: Int32Array | null = null;
    const kept = this.reusedDx;
    if (reuse && kept && kept.data.length === T * B * F && kept.written.length === rows) {
      dx = kept.data;
      written = kept.written;
      for (let r = 0; r < rows; r++) dx.fill(0, written[r], written[r] + half);
    } else if (reuse) {
      dx = nativeFloats(T * B * F);
      written = new Int32Array(rows);
      this.reusedDx = { data: dx, written };
    } else {
      dx = new Float32Array(T * B * F);
    }
    for (let b = 0; b < B; b++) {
      const fwd = this.offset(last.steps[b], b, T, B, F);
      dx.set(gy.data.subarray(b * F, b * F + half), fwd);
      if (written) written[this.directions * b] = fwd;
      if (this.directions === 2) {
        const rev = this.offset(0, b, T, B, F) + half;
        dx.set(gy.data.subarray(b * F + half, (b + 1) * F), rev);
        if (written) written[2 * b + 1] = rev;
      }
    }
    this.last = null;
    return { data: dx, shape: last.shape };
  }

  /** As forward (a copy on this thread); resolves with the picked steps. */
  async forwardAsync(x: Tensor, options?: LastStepForwardOptions | ArrayLike<number> | null): Promise<Tensor> {
    return this.forward(x, options);
  }

  /** As backward. */
  async backwardAsync(gy: Tensor): Promise<Tensor> {
    return this.backward(gy);
  }

  /** The architecture: `{ type: 'LastStep', directions, batchFirst }`. */
  toSpec(): ModuleSpec {
    return { type: 'LastStep', directions: this.directions, batchFirst: this.batchFirst };
  }

  /** `[T, B, F]` -> `[B, F]` (`[B, T, F]` when batch-first). */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    if (inputShape.length !== 3) return null;
    const F = inputShape[2];
    if (typeof F === 'number' && F % this.directions !== 0) return null;
    return [this.batchFirst ? inputShape[0] : inputShape[1], F];
  }

  /** `directions=2, batch_first=True` (only what differs from the defaults). */
  extraRepr(): string {
    const parts: string[] = [];
    if (this.directions !== 1) parts.push(`directions=${this.directions}`);
    if (this.batchFirst) parts.push(`batch_first=${pyRepr(true)}`);
    return parts.join(', ');
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(): ShapeDim[] {
    return this.batchFirst ? ['B', 'T', 'F'] : ['T', 'B', 'F'];
  }

  /** @internal Sequential's entry. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor {
    return this.forward(x as Tensor, ctx.seqLengths);
  }

  /** @internal Sequential's entry (the gradient lives in a buffer reused from step to step). */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null {
    return this.backwardInto(gy, ctx.internal === true);
  }
  private offset(t: number, b: number, T: number, B: number, F: number): number {
    return (this.batchFirst ? b * T + t : t * B + b) * F;
  }
}

function lengthsOf(options: unknown): ArrayLike<number> | null {
  if (options === undefined || options === null) return null;
  if (typeof options === 'object' && !ArrayBuffer.isView(options) && !Array.isArray(options)) {
    const o = checkOptions<LastStepForwardOptions>('options', options, ['seqLengths']);
    return o.seqLengths ?? null;
  }
  return options as ArrayLike<number>;
}

registerModule({
  type: 'LastStep',
  parameterShapes(spec, where) {
    const { type: _type, ...rest } = spec;
    const o = checkOptions<LastStepOptions>(where, rest, ['directions', 'batchFirst']);
    checkInt('directions', o.directions ?? 1, 1, 2);
    checkBool('batchFirst', o.batchFirst ?? false);
    return [];
  },
  fromSpec: (spec) => new LastStep({ directions: spec.directions as 1 | 2 | undefined, batchFirst: spec.batchFirst as boolean | undefined }),
});
