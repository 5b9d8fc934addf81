/**
 * `LastStep`: each sequence's last valid output, for sequence-to-one models.
 * For a bidirectional output the reverse half is taken at step 0, where the
 * reverse direction has seen the whole sequence.
 */
import { rangeError } from '../errors.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { checkBool, checkInt, checkOptions } from '../validate.js';
import { StatelessLayer } from './stateless_layer.js';
import type { IntTensor, Layer, LayerContext } from './layer.js';

/** Options of `new LastStep(...)`. */
export interface LastStepOptions {
  /** 2 when the input is a bidirectional output [.., 2H] (default 1). */
  directions?: 1 | 2;
  /** Input is [B,T,F] instead of [T,B,F] (default false). */
  batchFirst?: boolean;
}

/** Picks [B,F] out of [T,B,F] at each sequence's last step. */
export class LastStep extends StatelessLayer implements Layer {
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

  /** [T,B,F] -> [B,F]; `seqLengths` picks step len-1 per row (default T-1). */
  forward(x: Tensor, seqLengths?: ArrayLike<number> | null): Tensor {
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
    const last = this.last;
    if (!last) throw new Error('LastStep.backward called before forward: call forward first');
    const [T, B] = this.batchFirst ? [last.shape[1], last.shape[0]] : [last.shape[0], last.shape[1]];
    const F = last.shape[2];
    checkTensor('gy', gy, [B, F], 'the shape of the output');
    const half = F / this.directions;
    const dx = new Float32Array(T * B * F);
    for (let b = 0; b < B; b++) {
      const fwd = this.offset(last.steps[b], b, T, B, F);
      dx.set(gy.data.subarray(b * F, b * F + half), fwd);
      if (this.directions === 2) dx.set(gy.data.subarray(b * F + half, (b + 1) * F), this.offset(0, b, T, B, F) + half);
    }
    this.last = null;
    return { data: dx, shape: last.shape };
  }

  /** @internal Sequential's entry. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor {
    return this.forward(x as Tensor, ctx.seqLengths);
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor): Tensor | null {
    return this.backward(gy);
  }


  private offset(t: number, b: number, T: number, B: number, F: number): number {
    return (this.batchFirst ? b * T + t : t * B + b) * F;
  }
}
