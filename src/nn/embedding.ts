/**
 * `Embedding`: integer ids [T,B] -> vectors [T,B,E] (torch.nn.Embedding,
 * weight initialised from N(0, 1)). Backward scatters into the weight gradient.
 */
import { rangeError, typeError } from '../errors.js';
import { nativeFloats } from '../native/binding.js';
import type { NativeJob } from '../native/job.js';
import { Rng } from '../random.js';
import { checkTensor, type IntTensor, type Tensor } from '../tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import { registerModule } from '../io/registry.js';
import type { LayerContext } from './layer.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { ParametrizedLayer } from './parametrized_layer.js';

/** Options of `new Embedding(...)`. */
export interface EmbeddingOptions {
  /** Vocabulary size. */
  numEmbeddings: number;
  /** Vector width E. */
  embeddingDim: number;
  /** Seed for initialisation (default random). */
  seed?: number;
}

/** A lookup table of learned vectors. */
export class Embedding extends ParametrizedLayer implements Module<IntTensor, Tensor, Tensor, null> {
  /** Vocabulary size. */
  readonly numEmbeddings: number;
  /** Vector width. */
  readonly embeddingDim: number;
  private lastIds: IntTensor | null = null;

  /** Creates the table with weights from N(0, 1), as PyTorch does. */
  constructor(options: EmbeddingOptions) {
    const o = checkOptions<EmbeddingOptions>('options', options, ['numEmbeddings', 'embeddingDim', 'seed']);
    const numEmbeddings = checkInt('numEmbeddings', o.numEmbeddings, 1, 1 << 24);
    const embeddingDim = checkInt('embeddingDim', o.embeddingDim, 1, 1 << 20);
    super([['weight', [numEmbeddings, embeddingDim]]]);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    const rng = new Rng(o.seed);
    const v = this.store.values;
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  }

  /** ids [...] (Int32Array) -> [..., E]. An id outside 0..numEmbeddings-1 is a RangeError naming it and its position. */
  forward(ids: IntTensor): Tensor {
    return this.forwardInto(ids, false);
  }

  // `reuse`: the output lives in a buffer this layer reuses, native-owned (inside a Sequential,
  // where the next layer consumes it within the step: a native job then uses it in place).
  private forwardInto(ids: IntTensor, reuse: boolean): Tensor {
    const t = this.checkIds(ids);
    const E = this.embeddingDim;
    const w = this.store.get('weight').data;
    const n = t.data.length * E;
    const out = reuse ? this.reusedOutput(n) : new Float32Array(n);
    // An element loop: a subarray per row costs more than the copy at small E.
    for (let i = 0; i < t.data.length; i++) {
      const src = t.data[i] * E, dst = i * E;
      for (let j = 0; j < E; j++) out[dst + j] = w[src + j];
    }
    this.lastIds = t;
    return { data: out, shape: [...t.shape, E] };
  }

  private reused: Float32Array = new Float32Array(0);

  // n floats of the buffer the output reuses, native-owned (grown when it does not fit).
  private reusedOutput(n: number): Float32Array {
    if (this.reused.length < n) this.reused = nativeFloats(n);
    return this.reused.subarray(0, n);
  }

  /** @internal The lookup and its gradient can always join a job. */
  queueable(): boolean {
    return true;
  }

  /** @internal Sequential's entry for a training step's one job: the lookup, queued (ids checked now). */
  forwardLayerInto(x: Tensor | IntTensor, ctx: LayerContext, job: NativeJob): Tensor {
    const t = this.checkIds(x);
    const E = this.embeddingDim;
    const n = t.data.length * E;
    const out = ctx.internal === true ? this.reusedOutput(n) : nativeFloats(n);
    if (n > 0) job.push({ op: 'embeddingForward', ids: t.data, weight: this.store.get('weight').data, out, V: this.numEmbeddings, E });
    this.lastIds = t;
    return { data: out, shape: [...t.shape, E] };
  }

  /** @internal Sequential's entry: the scatter into the weight gradient, queued. */
  backwardLayerInto(gy: Tensor, _ctx: LayerContext, job: NativeJob): null {
    const ids = this.lastIds;
    if (!ids) throw new Error('Embedding.backward called before forward: call forward first');
    const E = this.embeddingDim;
    checkTensor('gy', gy, [...ids.shape, E], 'the shape of the output');
    if (ids.data.length > 0) job.push({ op: 'embeddingBackward', ids: ids.data, gy: gy.data, grad: this.store.get('weight').grad, V: this.numEmbeddings, E });
    this.lastIds = null;
    return null;
  }

  /** Scatters gy [..., E] into the weight gradient; ids have no gradient. */
  backward(gy: Tensor): null {
    const ids = this.lastIds;
    if (!ids) throw new Error('Embedding.backward called before forward: call forward first');
    const E = this.embeddingDim;
    checkTensor('gy', gy, [...ids.shape, E], 'the shape of the output');
    const g = this.store.get('weight').grad;
    for (let i = 0; i < ids.data.length; i++) {
      const row = ids.data[i] * E;
      const src = i * E;
      for (let j = 0; j < E; j++) g[row + j] += gy.data[src + j];
    }
    this.lastIds = null;
    return null;
  }

  /** As forward (a table lookup on this thread); resolves with the vectors. */
  async forwardAsync(ids: IntTensor): Promise<Tensor> {
    return this.forward(ids);
  }

  /** As backward. */
  async backwardAsync(gy: Tensor): Promise<null> {
    return this.backward(gy);
  }

  /** The architecture: `{ type: 'Embedding', numEmbeddings, embeddingDim }`. */
  toSpec(): ModuleSpec {
    return { type: 'Embedding', numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim };
  }

  /** `[...]` ids -> `[..., embeddingDim]`. */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] {
    return [...inputShape, this.embeddingDim];
  }

  /** `65, 32`, as PyTorch. */
  extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(batchFirst = false): ShapeDim[] {
    return batchFirst ? ['B', 'T'] : ['T', 'B'];
  }

  /** @internal Sequential's entry. */
  forwardLayer(x: Tensor | IntTensor, ctx?: LayerContext): Tensor {
    return this.forwardInto(x as IntTensor, ctx?.internal === true);
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor): Tensor | null {
    return this.backward(gy);
  }

  private checkIds(ids: unknown): IntTensor {
    if (ids === null || typeof ids !== 'object') throw typeError('ids', 'an IntTensor { data: Int32Array, shape }', ids);
    const t = ids as IntTensor;
    if (!(t.data instanceof Int32Array)) throw typeError('ids.data', 'an Int32Array', t.data);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw typeError('ids.shape', 'an array of non-negative integers', t.shape);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw rangeError('ids.data', `${n} elements for shape [${t.shape.join(', ')}]`, `${t.data.length} elements`);
    for (let i = 0; i < t.data.length; i++) {
      const id = t.data[i];
      if (id < 0 || id >= this.numEmbeddings) {
        throw rangeError(`ids[${i}]`, `an id in 0..${this.numEmbeddings - 1}`, `${id} at position ${i} (${position(t.shape, i)})`);
      }
    }
    return t;
  }
}

/** Multi-index of flat position i in shape, e.g. "t=3, b=1". */
function position(shape: readonly number[], i: number): string {
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(i % shape[a]);
    i = Math.floor(i / shape[a]);
  }
  return `index [${idx.join(', ')}]`;
}

registerModule({
  type: 'Embedding',
  parameterShapes(spec, where) {
    const { type: _type, ...rest } = spec;
    const o = checkOptions<EmbeddingOptions>(where, rest, ['numEmbeddings', 'embeddingDim']);
    const n = checkInt('numEmbeddings', o.numEmbeddings, 1, 1 << 24);
    const e = checkInt('embeddingDim', o.embeddingDim, 1, 1 << 20);
    return [['weight', [n, e]]];
  },
  fromSpec: (spec) => new Embedding({ numEmbeddings: spec.numEmbeddings as number, embeddingDim: spec.embeddingDim as number, seed: 0 }),
});
