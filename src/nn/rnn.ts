/**
 * `RNN`: torch.nn.RNN for Node. Owns its weights and gradients; forward and
 * backward run natively over whole sequences.
 */
import { Rng } from '../random.js';
import { checkOptions } from '../validate.js';
import type { Parameter, Tensor } from '../tensor.js';
import type { IntTensor, Layer, LayerContext } from './layer.js';
import { ParameterStore } from './parameters.js';
import { saveModule } from './save.js';
import { eye_, orthogonal_, xavierUniform_ } from './init.js';
import { rnnConfig, rnnInitRecipe, rnnParameterShapes, type RnnConfig, type RnnInitRecipe, type RnnOptions } from './rnn_config.js';
import {
  rnnBackwardChecked,
  rnnBackwardCheckedAsync,
  rnnForwardChecked,
  rnnForwardCheckedAsync,
  type RnnBackwardOptions,
  type RnnBackwardResult,
  type RnnOutputGrads,
  type RnnTape,
  RnnWorkspace,
} from './rnn_functional.js';

/** Options of `RNN.forward`. */
export interface RnnCallOptions {
  /** Initial state [L*D, B, H] (default zeros). */
  h0?: Tensor;
  /** Per-batch sequence lengths in 1..T. */
  seqLengths?: ArrayLike<number>;
  /** Throw a RangeError naming the tensor and index if x, h0 or a weight holds NaN/Infinity (default false: they propagate). */
  checkFinite?: boolean;
}

/** Outputs of `RNN.forward`. */
export interface RnnOutput {
  /** Output sequence [T,B,D*H] ([B,T,D*H] if batchFirst), forward direction first on the last axis. */
  y: Tensor;
  /** Final state of every layer and direction, [L*D,B,H], row layer*D + direction. */
  hN: Tensor;
}

/**
 * An Elman RNN with torch.nn.RNN's semantics, names and initialisation.
 *
 * `forward` keeps what `backward` needs; `backward` accumulates into the
 * parameters' `grad`. Do not modify `y` or the inputs between the two.
 */
export class RNN implements Layer {
  /** The validated configuration. */
  readonly config: RnnConfig;
  /** True in training mode (dropout active). */
  training = true;
  private readonly store: ParameterStore;
  // The store's buffers by name, valid by construction: passed to the
  // functional form without re-checking them on every call.
  private readonly weights: Record<string, Float32Array>;
  private readonly grads: Record<string, Float32Array>;
  private readonly rng: Rng;
  private tape: RnnTape | null = null;
  // Intermediate buffers reused across calls (one call at a time per module).
  private readonly workspace = new RnnWorkspace();
  private busy = false;

  /**
   * Creates an RNN with weights drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does, then
   * applies `options.init`'s recipe, if any (e.g. identity recurrent weights for an IRNN).
   */
  constructor(options: RnnOptions) {
    this.config = rnnConfig(options);
    this.store = new ParameterStore(rnnParameterShapes(this.config));
    this.weights = this.store.valueBuffers();
    this.grads = this.store.gradBuffers();
    this.rng = new Rng(options.seed);
    const k = 1 / Math.sqrt(this.config.hiddenSize);
    const v = this.store.values;
    for (let i = 0; i < v.length; i++) v[i] = this.rng.range(-k, k);
    if (options.init !== undefined) applyInitRecipe(this.store.list, rnnInitRecipe(options.init, this.config.bias), this.rng);
  }

  /** Runs the whole sequence; see RnnCallOptions. */
  forward(x: Tensor, options?: RnnCallOptions): RnnOutput {
    this.assertIdle();
    const r = rnnForwardChecked(this.config, this.weights, x, this.forwardOptions(options));
    this.tape = r.tape;
    return { y: r.y, hN: r.hN };
  }

  /** As forward, with the native work off the main thread. One async call per module at a time. */
  async forwardAsync(x: Tensor, options?: RnnCallOptions): Promise<RnnOutput> {
    this.assertIdle();
    this.busy = true;
    try {
      const r = await rnnForwardCheckedAsync(this.config, this.weights, x, this.forwardOptions(options));
      this.tape = r.tape;
      return { y: r.y, hN: r.hN };
    } finally {
      this.busy = false;
    }
  }

  /**
   * Backpropagates the last forward's outputs' gradients (each may be omitted:
   * zero). Returns the input and initial-state gradients; parameter gradients
   * accumulate into `parameters()[i].grad`.
   */
  backward(grads?: RnnOutputGrads, options?: RnnBackwardOptions): RnnBackwardResult {
    this.assertIdle();
    const tape = this.requireTape();
    const r = rnnBackwardChecked(tape, grads, this.grads, this.backwardOptions(options));
    this.tape = null;
    return r;
  }

  /** As backward, off the main thread. */
  async backwardAsync(grads?: RnnOutputGrads, options?: RnnBackwardOptions): Promise<RnnBackwardResult> {
    this.assertIdle();
    const tape = this.requireTape();
    this.busy = true;
    try {
      const r = await rnnBackwardCheckedAsync(tape, grads, this.grads, this.backwardOptions(options));
      this.tape = null;
      return r;
    } finally {
      this.busy = false;
    }
  }

  /** @internal Sequential's entry: forward with the context's lengths and state. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor {
    const { y, hN } = this.forward(x as Tensor, { seqLengths: ctx.seqLengths ?? undefined, h0: ctx.h0?.get(this) });
    ctx.hN?.set(this, hN);
    return y;
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null {
    return this.backward({ gy }, { inputGrad: ctx.inputGrad }).gx;
  }

  /** @internal Sequential's async entry. */
  async forwardLayerAsync(x: Tensor | IntTensor, ctx: LayerContext): Promise<Tensor> {
    const { y, hN } = await this.forwardAsync(x as Tensor, { seqLengths: ctx.seqLengths ?? undefined, h0: ctx.h0?.get(this) });
    ctx.hN?.set(this, hN);
    return y;
  }

  /** @internal Sequential's async entry. */
  async backwardLayerAsync(gy: Tensor, ctx: LayerContext): Promise<Tensor | null> {
    return (await this.backwardAsync({ gy }, { inputGrad: ctx.inputGrad })).gx;
  }

  /** Parameters in PyTorch's order with their names: weight_ih_l0, weight_hh_l0, bias_ih_l0, ... */
  parameters(): Parameter[] {
    return [...this.store.list];
  }

  /** Weights by PyTorch name (sharing this module's memory). */
  stateDict(): Record<string, Tensor> {
    return this.store.stateDict();
  }

  /** Gradients by PyTorch name (sharing this module's memory). */
  gradStateDict(): Record<string, Tensor> {
    return this.store.gradStateDict();
  }

  /** Copies weights in; checks every key and shape first, so a failed load changes nothing. */
  loadStateDict(stateDict: Record<string, Tensor>): void {
    this.assertIdle();
    this.store.load(stateDict);
  }

  /**
   * Saves architecture and weights as safetensors (tensor names as the state
   * dict; loadable in PyTorch). Read back with `loadModel(path)`.
   */
  async save(path: string): Promise<void> {
    await saveModule(this, path);
  }

  /** Zeroes every parameter's gradient. */
  zeroGrad(): void {
    this.store.zeroGrad();
  }

  /** Sets training mode (dropout on) or evaluation mode. */
  train(mode = true): this {
    this.training = mode;
    return this;
  }

  /** Evaluation mode: no dropout. */
  eval(): this {
    return this.train(false);
  }

  /** The generator used for dropout (checkpointed with the model). */
  get generator(): Rng {
    return this.rng;
  }

  private forwardOptions(options: RnnCallOptions | undefined) {
    const o = checkOptions<RnnCallOptions>('options', options, ['h0', 'seqLengths', 'checkFinite']);
    return { h0: o.h0, seqLengths: o.seqLengths, checkFinite: o.checkFinite, training: this.training, rng: this.rng, workspace: this.workspace };
  }

  private backwardOptions(options: RnnBackwardOptions | undefined): RnnBackwardOptions {
    const o = checkOptions<RnnBackwardOptions>('options', options, ['inputGrad']);
    return { inputGrad: o.inputGrad, workspace: this.workspace };
  }

  private requireTape(): RnnTape {
    if (!this.tape) throw new Error('RNN.backward called before forward (or twice for one forward): call forward first');
    return this.tape;
  }

  private assertIdle(): void {
    if (this.busy) throw new Error('RNN is busy with an async call: await it before calling the module again');
  }
}

/** Overwrites the default-initialised parameters a recipe names, in PyTorch's parameter order. */
function applyInitRecipe(params: readonly Parameter[], recipe: RnnInitRecipe, rng: Rng): void {
  for (const p of params) {
    if (p.name.startsWith('weight_hh_')) {
      if (recipe.weightHh === 'identity') {
        eye_(p);
        if (recipe.gain !== 1) for (let i = 0; i < p.data.length; i++) p.data[i] *= recipe.gain;
      } else if (recipe.weightHh === 'orthogonal') {
        orthogonal_(p, recipe.gain, { rng });
      }
    } else if (p.name.startsWith('weight_ih_')) {
      if (recipe.weightIh === 'xavierUniform') xavierUniform_(p, 1, { rng });
      else if (recipe.weightIh === 'orthogonal') orthogonal_(p, 1, { rng });
    } else if (recipe.bias !== null) {
      p.data.fill(recipe.bias);
    }
  }
}
