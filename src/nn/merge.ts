/**
 * Bidirectional merge modes beyond PyTorch's concatenation, as Keras offers:
 * 'concat' (identity on [..., 2H]), 'sum', 'mul', 'ave' ([..., 2H] -> [..., H]),
 * and `splitDirections` for 'none' (both directions returned separately).
 */
import { rangeError } from '../errors.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { checkOneOf, checkOptions } from '../validate.js';
import { StatelessLayer } from './stateless_layer.js';
import type { IntTensor, Layer } from './layer.js';

/** How the two directions of a bidirectional output are combined. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

function checkBidirectional(name: string, y: unknown): Tensor {
  const rank = y !== null && typeof y === 'object' && Array.isArray((y as Tensor).shape) ? (y as Tensor).shape.length : 0;
  const t = checkTensor(name, y, new Array<number>(Math.max(rank, 1)).fill(-1));
  const F = t.shape[t.shape.length - 1];
  if (F % 2 !== 0) throw rangeError(`${name}.shape`, 'an even last axis (forward H then reverse H)', `[${t.shape.join(', ')}]`);
  return t;
}

/** Splits [..., 2H] into the forward and reverse halves, each [..., H] ('none' merge mode). */
export function splitDirections(y: Tensor): { forward: Tensor; reverse: Tensor } {
  const t = checkBidirectional('y', y);
  const F = t.shape[t.shape.length - 1];
  const H = F / 2;
  const rows = t.data.length / F;
  const fwd = new Float32Array(rows * H);
  const rev = new Float32Array(rows * H);
  for (let r = 0; r < rows; r++) {
    fwd.set(t.data.subarray(r * F, r * F + H), r * H);
    rev.set(t.data.subarray(r * F + H, (r + 1) * F), r * H);
  }
  const shape = [...t.shape.slice(0, -1), H];
  return { forward: { data: fwd, shape }, reverse: { data: rev, shape } };
}

/** A layer merging a bidirectional output's two halves. */
export class MergeDirections extends StatelessLayer implements Layer {
  /** The merge mode. */
  readonly mode: MergeMode;
  private last: Tensor | null = null;

  /** `new MergeDirections({ mode: 'sum' })`. */
  constructor(options: { mode: MergeMode }) {
    super();
    const o = checkOptions<{ mode: MergeMode }>('options', options, ['mode']);
    this.mode = checkOneOf('mode', o.mode, ['concat', 'sum', 'mul', 'ave'] as const);
  }

  /** [..., 2H] -> [..., H] (or unchanged for 'concat'). */
  forward(y: Tensor): Tensor {
    const t = checkBidirectional('y', y);
    this.last = t;
    if (this.mode === 'concat') return t;
    const F = t.shape[t.shape.length - 1];
    const H = F / 2;
    const rows = t.data.length / F;
    const out = new Float32Array(rows * H);
    const d = t.data;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < H; j++) {
        const a = d[r * F + j];
        const b = d[r * F + H + j];
        out[r * H + j] = this.mode === 'sum' ? a + b : this.mode === 'mul' ? a * b : 0.5 * (a + b);
      }
    }
    return { data: out, shape: [...t.shape.slice(0, -1), H] };
  }

  /** Gradient with respect to the [..., 2H] input. */
  backward(gy: Tensor): Tensor {
    const t = this.last;
    if (!t) throw new Error('MergeDirections.backward called before forward: call forward first');
    this.last = null;
    if (this.mode === 'concat') return checkTensor('gy', gy, t.shape);
    const F = t.shape[t.shape.length - 1];
    const H = F / 2;
    checkTensor('gy', gy, [...t.shape.slice(0, -1), H], 'the shape of the output');
    const rows = t.data.length / F;
    const dx = new Float32Array(t.data.length);
    const d = t.data;
    const g = gy.data;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < H; j++) {
        const gj = g[r * H + j];
        if (this.mode === 'sum') {
          dx[r * F + j] = gj;
          dx[r * F + H + j] = gj;
        } else if (this.mode === 'ave') {
          dx[r * F + j] = 0.5 * gj;
          dx[r * F + H + j] = 0.5 * gj;
        } else {
          dx[r * F + j] = gj * d[r * F + H + j];
          dx[r * F + H + j] = gj * d[r * F + j];
        }
      }
    }
    return { data: dx, shape: t.shape };
  }

  /** @internal Sequential's entry. */
  forwardLayer(x: Tensor | IntTensor): Tensor {
    return this.forward(x as Tensor);
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor): Tensor | null {
    return this.backward(gy);
  }

}
