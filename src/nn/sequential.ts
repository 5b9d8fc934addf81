/**
 * `Sequential`: layers applied in order, with PyTorch's state-dict naming
 * (`0.weight_ih_l0`, `1.weight`, ...). Sequence lengths and recurrent states
 * travel alongside the data.
 */
import { rangeError, typeError } from '../errors.js';
import { NativeJob } from '../native/job.js';
import { registerModule } from '../io/registry.js';
import type { IntTensor, Parameter, Tensor } from '../tensor.js';
import { checkBool, checkOptions } from '../validate.js';
import type { Layer, LayerContext, RecurrentState } from './layer.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { containerRepr, ModuleBase } from './module_base.js';
import { RNNBase } from './recurrent_base.js';

/** The most layers a Sequential in a file may have. */
export const MAX_FILE_LAYERS = 10_000;

/** Options of `Sequential.forward`. */
export interface SequentialForwardOptions {
  /** Per-batch sequence lengths, passed to every layer that uses them. */
  seqLengths?: ArrayLike<number>;
  /**
   * Initial state of each recurrent layer, in order (missing or null: zeros): a Tensor
   * [L*D, B, H], or `{ h, c }` for an LSTM (what {@link Sequential.lastStates} returns).
   */
  h0?: ReadonlyArray<RecurrentState | null | undefined>;
  /**
   * No backward will follow (PyTorch's `torch.no_grad()`): recurrent layers keep no per-step
   * store (LSTM/GRU memory O(B·H) per layer instead of O(T·B·4H)); `backward` then throws.
   */
  noGrad?: boolean;
}

/**
 * @internal A training step's forward queued as one native job (Sequential.forwardQueued): the
 * output's buffer is written when `finish` runs the job.
 */
export interface QueuedStep {
  /** The model output (written when the job has run; valid until the model's next step or forward). */
  readonly out: Tensor;
  /** The job: the loss's op goes in after the forward's calls. */
  readonly job: NativeJob;
  /**
   * Queues the backward of `gy` (null: forward only, as after `noGrad: true`), runs the job, then
   * the backward of the layers before the queued ones.
   */
  finish(gy: Tensor | null): Promise<void>;
  /** Drops the job unrun (the layers are free again); the forward has not happened. */
  abandon(): void;
  /** Runs `queue(job)` (the loss's calls); if it throws, abandons the job and rethrows. */
  enqueue<T>(queue: (job: NativeJob) => T): T;
}

/**
 * A stack of layers (torch.nn.Sequential): state-dict names `<index>.<name>`, the module
 * contract for the whole stack, a PyTorch-style tree as its repr.
 */
export class Sequential extends ModuleBase implements Module<Tensor | IntTensor, Tensor, Tensor, void> {
  /** The layers, in order. */
  readonly layers: readonly Module[];
  private readonly steps: readonly Layer[];
  private lastCtx: LayerContext | null = null;
  private states: RecurrentState[] = [];

  /**
   * `new Sequential([new Embedding(...), new RNN(...), new Linear(...)])`. A layer is a built-in
   * module, or a custom {@link Module} whose `forward(x)` / `backward(gy)` take and return
   * Tensors (it can be saved once its kind is registered with `registerModule`).
   */
  constructor(layers: ReadonlyArray<Module | Layer>) {
    super();
    if (!Array.isArray(layers) || layers.length === 0) throw typeError('layers', 'a non-empty array of layers', layers);
    const steps = (layers as unknown[]).map((l, i) => asLayer(l, i));
    this.layers = Object.freeze([...layers] as Module[]);
    this.steps = Object.freeze(steps);
  }

  /** The recurrent layers (RNN, LSTM, GRU), in order (their states are h0/hN entries). */
  recurrentLayers(): RNNBase[] {
    return this.steps.filter((l): l is RNNBase => l instanceof RNNBase);
  }

  /** Runs every layer; keeps what backward needs. */
  forward(x: Tensor | IntTensor, options?: SequentialForwardOptions): Tensor {
    const { ctxFor, finish } = this.begin(options);
    let out: Tensor | IntTensor = x;
    for (let i = 0; i < this.steps.length; i++) out = this.steps[i].forwardLayer(out, ctxFor(i));
    finish();
    return out as Tensor;
  }

  /** As forward, with recurrent layers' native work off the main thread. */
  async forwardAsync(x: Tensor | IntTensor, options?: SequentialForwardOptions): Promise<Tensor> {
    const { ctxFor, finish } = this.begin(options);
    let out: Tensor | IntTensor = x;
    for (let i = 0; i < this.steps.length; i++) {
      const layer = this.steps[i];
      out = layer.forwardLayerAsync ? await layer.forwardLayerAsync(out, ctxFor(i)) : layer.forwardLayer(out, ctxFor(i));
    }
    finish();
    return out as Tensor;
  }

  /**
   * @internal A training step as one pool job: the layers before the first queueable one (a
   * custom first layer) run now, every later one queues its forward in a job, the caller
   * queues the loss, and `finish` queues the backward, runs the job and backpropagates
   * through the first layers. Null (nothing ran) when a later layer cannot be queued (dropout
   * between recurrent layers, batch-first, LastStep, a custom layer): use
   * forwardAsync/backwardAsync.
   */
  async forwardQueued(x: Tensor | IntTensor, options?: SequentialForwardOptions): Promise<QueuedStep | null> {
    const steps = this.steps;
    const first = steps.findIndex((l) => l.forwardLayerInto !== undefined);
    if (first < 0) return null;
    const { ctxFor, finish } = this.begin(options);
    const queued: QueueableLayer[] = [];
    for (let i = first; i < steps.length; i++) {
      const l = steps[i];
      if (!isQueueable(l) || !l.queueable(ctxFor(i))) return null;
      queued.push(l);
    }
    let out: Tensor | IntTensor = x;
    for (let i = 0; i < first; i++) {
      const layer = steps[i];
      out = layer.forwardLayerAsync ? await layer.forwardLayerAsync(out, ctxFor(i)) : layer.forwardLayer(out, ctxFor(i));
    }
    const job = new NativeJob();
    try {
      // The output too lives in a buffer its layer reuses: the step reads it before the next one
      // (a fresh MB-sized block per step costs its page faults).
      queued.forEach((l, k) => {
        out = l.forwardLayerInto(out, { ...ctxFor(first + k), internal: true }, job);
      });
    } catch (e) {
      job.abandon();
      throw e;
    }
    finish();
    const lengths = this.lastCtx?.seqLengths ?? null;
    const noGrad = this.lastCtx?.noGrad === true;
    return {
      out: out as Tensor,
      job,
      abandon: () => job.abandon(),
      enqueue: (queue) => {
        try {
          return queue(job);
        } catch (e) {
          job.abandon();
          throw e;
        }
      },
      finish: async (gy) => {
        let g: Tensor | null = gy;
        if (gy) {
          if (noGrad) {
            job.abandon();
            throw new Error('Sequential.forwardQueued: the step ran with noGrad: true and kept nothing for backpropagation; finish it with null');
          }
          this.lastCtx = null;
          try {
            for (let k = queued.length - 1; k >= 0 && g; k--) {
              g = queued[k].backwardLayerInto(g, { seqLengths: lengths, inputGrad: first + k > 0, internal: true }, job);
            }
          } catch (e) {
            job.abandon();
            throw e;
          }
        }
        await job.run();
        if (!gy) return;
        for (let i = first - 1; i >= 0 && g; i--) {
          const layer = steps[i];
          const c = { seqLengths: lengths, inputGrad: i > 0, internal: true };
          g = layer.backwardLayerAsync ? await layer.backwardLayerAsync(g, c) : layer.backwardLayer(g, c);
        }
      },
    };
  }

  private begin(options: SequentialForwardOptions | undefined): { ctxFor: (i: number) => LayerContext; finish: () => void } {
    const o = checkOptions<SequentialForwardOptions>('options', options, ['seqLengths', 'h0', 'noGrad']);
    const noGrad = o.noGrad === undefined ? false : checkBool('options.noGrad', o.noGrad);
    const rnns = this.recurrentLayers();
    const h0 = new Map<Layer, RecurrentState>();
    if (o.h0 !== undefined) {
      if (!Array.isArray(o.h0)) throw typeError('h0', `an array of ${rnns.length} states (one per RNN layer)`, o.h0);
      rnns.forEach((r, i) => {
        const s = o.h0?.[i];
        if (s) h0.set(r, s);
      });
    }
    const lengths = o.seqLengths === undefined ? null : Int32Array.from(o.seqLengths as ArrayLike<number>);
    const hN = new Map<Layer, RecurrentState>();
    this.lastCtx = null;
    return {
      ctxFor: (i) => ({ seqLengths: lengths, inputGrad: i > 0, h0, hN, internal: i < this.steps.length - 1, noGrad }),
      finish: () => {
        this.states = rnns.map((r) => hN.get(r) as RecurrentState);
        this.lastCtx = { seqLengths: lengths, inputGrad: false, noGrad };
      },
    };
  }

  /** Final state of each recurrent layer after the last forward (for carrying state): `{ h, c }` for an LSTM. */
  lastStates(): RecurrentState[] {
    return [...this.states];
  }

  /** Backpropagates the output gradient through every layer; parameter gradients accumulate. */
  backward(gy: Tensor): void {
    const ctx = this.lastCtx;
    if (!ctx) throw new Error('Sequential.backward called before forward: call forward first');
    if (ctx.noGrad === true) throw new Error('Sequential.backward: the last forward ran with noGrad: true and kept nothing for backpropagation; run forward without noGrad to backpropagate');
    let g: Tensor | null = gy;
    for (let i = this.steps.length - 1; i >= 0 && g; i--) {
      g = this.steps[i].backwardLayer(g, { seqLengths: ctx.seqLengths, inputGrad: i > 0, internal: true });
    }
    this.lastCtx = null;
  }

  /** As backward, with recurrent layers' native work off the main thread. */
  async backwardAsync(gy: Tensor): Promise<void> {
    const ctx = this.lastCtx;
    if (!ctx) throw new Error('Sequential.backward called before forward: call forward first');
    if (ctx.noGrad === true) throw new Error('Sequential.backward: the last forward ran with noGrad: true and kept nothing for backpropagation; run forward without noGrad to backpropagate');
    this.lastCtx = null;
    let g: Tensor | null = gy;
    for (let i = this.steps.length - 1; i >= 0 && g; i--) {
      const layer = this.steps[i];
      const c = { seqLengths: ctx.seqLengths, inputGrad: i > 0, internal: true };
      g = layer.backwardLayerAsync ? await layer.backwardLayerAsync(g, c) : layer.backwardLayer(g, c);
    }
  }

  /** Every parameter, named `<layer index>.<name>` as PyTorch's nn.Sequential. */
  parameters(): Parameter[] {
    return this.steps.flatMap((l, i) => l.parameters().map((p) => ({ name: `${i}.${p.name}`, shape: p.shape, data: p.data, grad: p.grad })));
  }

  /** The layers (those that are modules). */
  override children(): Module[] {
    return this.layers.filter((l) => l instanceof ModuleBase || typeof (l as Partial<Module>).modules === 'function');
  }

  /** Training mode (dropout on) for every layer. */
  override train(mode = true): this {
    super.train(mode);
    for (const l of this.steps) if (!this.children().includes(l as unknown as Module)) l.train(mode);
    return this;
  }

  /** The architecture: `{ type: 'Sequential', layers: [each layer's spec] }`. */
  toSpec(): ModuleSpec {
    return {
      type: 'Sequential',
      layers: this.layers.map((l, i) => {
        if (typeof (l as Partial<Module>).toSpec !== 'function') {
          throw typeError(`model.layers[${i}]`, 'a module that can describe itself (toSpec), e.g. a built-in layer', l);
        }
        return l.toSpec();
      }),
    };
  }

  /** Each layer's output shape in turn (null once a layer's cannot be known). */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    let shape: ShapeDim[] | null = [...inputShape];
    for (const l of this.layers) {
      if (shape === null || typeof (l as Partial<Module>).outputShape !== 'function') return null;
      shape = l.outputShape(shape);
    }
    return shape;
  }

  /** No arguments: a Sequential prints as a tree (see toString). */
  extraRepr(): string {
    return '';
  }

  /** PyTorch's tree: `Sequential(\n  (0): Embedding(65, 32)\n  (1): RNN(32, 256)\n  ...\n)`. */
  override toString(): string {
    return containerRepr('Sequential', this.layers.map((l, i) => [String(i), l instanceof ModuleBase ? l.toString() : `${(l as object).constructor?.name ?? 'Object'}()`] as const));
  }

  /** The first layer's symbolic input, batch-first when the model's recurrent layers are. */
  override inputShapeHint(): ShapeDim[] | null {
    const first = this.layers[0];
    return first instanceof ModuleBase ? first.inputShapeHint(isBatchFirst(this.layers)) : null;
  }
}

/** A layer whose passes can join a training step's job. */
type QueueableLayer = Layer & Required<Pick<Layer, 'queueable' | 'forwardLayerInto' | 'backwardLayerInto'>>;

function isQueueable(l: Layer): l is QueueableLayer {
  return l.queueable !== undefined && l.forwardLayerInto !== undefined && l.backwardLayerInto !== undefined;
}

function isBatchFirst(layers: readonly unknown[]): boolean {
  return layers.some((l) => {
    const o = l as { batchFirst?: unknown; config?: { batchFirst?: unknown } };
    return o.batchFirst === true || o.config?.batchFirst === true;
  });
}

/** A Module driven through its public forward(x) / backward(gy), for Sequential. */
function moduleAsLayer(m: Module): Layer {
  const tensorOut = (v: unknown, what: string): Tensor => {
    const t = v as Tensor;
    if (t === null || typeof t !== 'object' || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw typeError(what, 'a Tensor (a custom layer in a Sequential returns Tensors)', v);
    }
    return t;
  };
  return {
    forwardLayer: (x) => tensorOut(m.forward(x), 'layer.forward(x)'),
    backwardLayer: (gy) => {
      const g = m.backward(gy);
      return g === null || g === undefined ? null : tensorOut(g, 'layer.backward(gy)');
    },
    forwardLayerAsync: async (x) => tensorOut(await m.forwardAsync(x), 'layer.forwardAsync(x)'),
    backwardLayerAsync: async (gy) => {
      const g = await m.backwardAsync(gy);
      return g === null || g === undefined ? null : tensorOut(g, 'layer.backwardAsync(gy)');
    },
    parameters: () => m.parameters(),
    train: (mode) => m.train(mode),
  };
}

function asLayer(l: unknown, i: number): Layer {
  if (l instanceof Sequential) throw typeError(`layers[${i}]`, 'a layer (a Sequential inside a Sequential is not supported: list its layers instead)', l);
  if (l !== null && typeof l === 'object') {
    if (typeof (l as Layer).forwardLayer === 'function') return l as Layer;
    const m = l as Partial<Module>;
    if (typeof m.forward === 'function' && typeof m.backward === 'function' && typeof m.parameters === 'function' && typeof m.train === 'function') {
      return moduleAsLayer(l as Module);
    }
  }
  throw typeError(`layers[${i}]`, 'a layer (RNN, Linear, Embedding, LastStep, MergeDirections, or a Module with forward/backward over Tensors)', l);
}

registerModule({
  type: 'Sequential',
  parameterShapes(spec, where, shapesOf) {
    const { type: _type, ...rest } = spec;
    checkOptions(where, rest, ['layers']);
    const layers: unknown = rest.layers;
    if (!Array.isArray(layers) || layers.length === 0) throw typeError(`${where}.layers`, 'a non-empty array of layer descriptions', layers);
    if (layers.length > MAX_FILE_LAYERS) throw rangeError(`${where}.layers`, `at most ${MAX_FILE_LAYERS} layers`, `${layers.length} layers`);
    return layers.flatMap((l, i) => shapesOf(l, `${where}.layers[${i}]`).map(([n, shape]): [string, number[]] => [`${i}.${n}`, shape]));
  },
  fromSpec: (spec, where, build) => new Sequential((spec.layers as unknown[]).map((l, i) => build(l, `${where}.layers[${i}]`))),
});
