/**
 * `Sequential`: layers applied in order, with PyTorch's state-dict naming
 * (`0.weight_ih_l0`, `1.weight`, ...). Sequence lengths and recurrent states
 * travel alongside the data.
 */
import { typeError } from '../errors.js';
import type { Parameter, Tensor } from '../tensor.js';
import { checkOptions } from '../validate.js';
import type { IntTensor, Layer, LayerContext } from './layer.js';
import { loadParameters } from './parameters.js';
import { saveModule } from './save.js';
import { RNN } from './rnn.js';

/** Options of `Sequential.forward`. */
export interface SequentialForwardOptions {
  /** Per-batch sequence lengths, passed to every layer that uses them. */
  seqLengths?: ArrayLike<number>;
  /** Initial state of each RNN layer, in order (missing or null: zeros). */
  h0?: ReadonlyArray<Tensor | null | undefined>;
}

/** A stack of layers. */
export class Sequential {
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  /** True in training mode. */
  training = true;
  private lastCtx: LayerContext | null = null;
  private states: Tensor[] = [];

  /** `new Sequential([new Embedding(...), new RNN(...), new Linear(...)])`. */
  constructor(layers: Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw typeError('layers', 'a non-empty array of layers', layers);
    layers.forEach((l, i) => {
      if (l === null || typeof l !== 'object' || typeof (l as Layer).forwardLayer !== 'function') {
        throw typeError(`layers[${i}]`, 'a layer (RNN, Linear, Embedding, LastStep, MergeDirections)', l);
      }
    });
    this.layers = Object.freeze([...layers]);
  }

  /** The RNN layers, in order (their states are h0/hN entries). */
  recurrentLayers(): RNN[] {
    return this.layers.filter((l): l is RNN => l instanceof RNN);
  }

  /** Runs every layer; keeps what backward needs. */
  forward(x: Tensor | IntTensor, options?: SequentialForwardOptions): Tensor {
    const { ctxFor, finish } = this.begin(options);
    let out: Tensor | IntTensor = x;
    for (let i = 0; i < this.layers.length; i++) out = this.layers[i].forwardLayer(out, ctxFor(i));
    finish();
    return out as Tensor;
  }

  /** As forward, with recurrent layers' native work off the main thread. */
  async forwardAsync(x: Tensor | IntTensor, options?: SequentialForwardOptions): Promise<Tensor> {
    const { ctxFor, finish } = this.begin(options);
    let out: Tensor | IntTensor = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      out = layer.forwardLayerAsync ? await layer.forwardLayerAsync(out, ctxFor(i)) : layer.forwardLayer(out, ctxFor(i));
    }
    finish();
    return out as Tensor;
  }

  private begin(options: SequentialForwardOptions | undefined): { ctxFor: (i: number) => LayerContext; finish: () => void } {
    const o = checkOptions<SequentialForwardOptions>('options', options, ['seqLengths', 'h0']);
    const rnns = this.recurrentLayers();
    const h0 = new Map<Layer, Tensor>();
    if (o.h0 !== undefined) {
      if (!Array.isArray(o.h0)) throw typeError('h0', `an array of ${rnns.length} states (one per RNN layer)`, o.h0);
      rnns.forEach((r, i) => {
        const s = o.h0?.[i];
        if (s) h0.set(r, s);
      });
    }
    const lengths = o.seqLengths === undefined ? null : Int32Array.from(o.seqLengths as ArrayLike<number>);
    const hN = new Map<Layer, Tensor>();
    this.lastCtx = null;
    return {
      ctxFor: (i) => ({ seqLengths: lengths, inputGrad: i > 0, h0, hN }),
      finish: () => {
        this.states = rnns.map((r) => hN.get(r) as Tensor);
        this.lastCtx = { seqLengths: lengths, inputGrad: false };
      },
    };
  }

  /** Final state of each RNN layer after the last forward (for carrying state). */
  lastStates(): Tensor[] {
    return [...this.states];
  }

  /** Backpropagates the output gradient through every layer; parameter gradients accumulate. */
  backward(gy: Tensor): void {
    const ctx = this.lastCtx;
    if (!ctx) throw new Error('Sequential.backward called before forward: call forward first');
    let g: Tensor | null = gy;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) {
      g = this.layers[i].backwardLayer(g, { seqLengths: ctx.seqLengths, inputGrad: i > 0 });
    }
    this.lastCtx = null;
  }

  /** As backward, with recurrent layers' native work off the main thread. */
  async backwardAsync(gy: Tensor): Promise<void> {
    const ctx = this.lastCtx;
    if (!ctx) throw new Error('Sequential.backward called before forward: call forward first');
    this.lastCtx = null;
    let g: Tensor | null = gy;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) {
      const layer = this.layers[i];
      const c = { seqLengths: ctx.seqLengths, inputGrad: i > 0 };
      g = layer.backwardLayerAsync ? await layer.backwardLayerAsync(g, c) : layer.backwardLayer(g, c);
    }
  }

  /** Every parameter, named `<layer index>.<name>` as PyTorch's nn.Sequential. */
  parameters(): Parameter[] {
    return this.layers.flatMap((l, i) => l.parameters().map((p) => ({ name: `${i}.${p.name}`, shape: p.shape, data: p.data, grad: p.grad })));
  }

  /** Weights by prefixed name (sharing memory). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.parameters().map((p) => [p.name, { data: p.data, shape: p.shape }]));
  }

  /** Copies weights in; every key and shape is checked first, so a failed load changes nothing. */
  loadStateDict(sd: Record<string, Tensor>): void {
    loadParameters(this.parameters(), sd);
  }

  /**
   * Saves architecture and weights as safetensors (tensor names as the state
   * dict; loadable in PyTorch). Read back with `loadModel(path)`.
   */
  async save(path: string): Promise<void> {
    await saveModule(this, path);
  }

  /** Zeroes every gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }

  /** Training mode (dropout on) for every layer. */
  train(mode = true): this {
    this.training = mode;
    for (const l of this.layers) l.train(mode);
    return this;
  }

  /** Evaluation mode. */
  eval(): this {
    return this.train(false);
  }
}
