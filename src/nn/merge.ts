/**
 * Bidirectional merge modes beyond PyTorch's concatenation, as Keras offers:
 * 'concat' (identity on [..., 2H]), 'sum', 'mul', 'ave' ([..., 2H] -> [..., H]),
 * and `splitDirections` for 'none' (both directions returned separately).
 */
import { rangeError } from '../errors.js';
import { checkTensor, type IntTensor, type Tensor } from '../tensor.js';
import { checkOneOf, checkOptions } from '../validate.js';
import { registerModule } from '../io/registry.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { pyRepr } from './module_base.js';
import { StatelessLayer } from './stateless_layer.js';

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

/** Options of `new MergeDirections(...)`. */
export interface MergeDirectionsOptions {
  /** How the halves are combined. */
  mode: MergeMode;
}

const MODES = ['concat', 'sum', 'mul', 'ave'] as const;

/** A layer merging a bidirectional output's two halves. */
export class MergeDirections extends StatelessLayer implements Module<Tensor, Tensor, Tensor, Tensor> {
  /** The merge mode. */
  readonly mode: MergeMode;
  private last: Tensor | null = null;

  /** `new MergeDirections({ mode: 'sum' })` (or `new MergeDirections('sum')`). */
  constructor(options: MergeDirectionsOptions | MergeMode) {
    super();
    if (typeof options === 'string') {
      this.mode = checkOneOf('mode', options, MODES);
    } else {
      const o = checkOptions<MergeDirectionsOptions>('options', options, ['mode']);
      this.mode = checkOneOf('mode', o.mode, MODES);
    }
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

  /** As forward (on this thread); resolves with the merged output. */
  async forwardAsync(y: Tensor): Promise<Tensor> {
    return this.forward(y);
  }

  /** As backward. */
  async backwardAsync(gy: Tensor): Promise<Tensor> {
    return this.backward(gy);
  }

  /** The architecture: `{ type: 'MergeDirections', mode }`. */
  toSpec(): ModuleSpec {
    return { type: 'MergeDirections', mode: this.mode };
  }

  /** `[..., 2H]` -> `[..., H]` (unchanged for 'concat'). */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    if (inputShape.length < 1) return null;
    const F = inputShape[inputShape.length - 1];
    if (typeof F === 'number' && F % 2 !== 0) return null;
    if (this.mode === 'concat') return [...inputShape];
    return [...inputShape.slice(0, -1), typeof F === 'number' ? F / 2 : `${F}/2`];
  }

  /** `mode='sum'`. */
  extraRepr(): string {
    return `mode=${pyRepr(this.mode)}`;
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(): ShapeDim[] {
    return ['...', '2H'];
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

registerModule({
  type: 'MergeDirections',
  parameterShapes(spec, where) {
    const { type: _type, ...rest } = spec;
    const o = checkOptions<MergeDirectionsOptions>(where, rest, ['mode']);
    checkOneOf('mode', o.mode, MODES);
    return [];
  },
  fromSpec: (spec) => new MergeDirections({ mode: spec.mode as MergeMode }),
});
