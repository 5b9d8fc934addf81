/**
 * `RNN`: torch.nn.RNN for Node. Owns its weights and gradients; forward and
 * backward run natively over whole sequences.
 */
import { typeError } from '../errors.js';
import { Rng } from '../random.js';
import { checkOptions } from '../validate.js';
import type { Parameter, Tensor } from '../tensor.js';
import type { IntTensor, LayerContext } from './layer.js';
import type { LoadStateDictOptions, LoadStateDictResult, Module, ModuleSpec, ShapeDim, StateDict } from './module.js';
import { recurrentExtraRepr, recurrentInputShapeHint, recurrentOutputShape, recurrentSpec, registerRecurrent } from './module_recurrent.js';
import { ParametrizedLayer } from './parametrized_layer.js';
import { eye_, orthogonal_, xavierUniform_ } from './init.js';
import { rnnConfig, rnnInitRecipe, rnnParameterShapes as shapesOfConfig, type RnnConfig, type RnnInitRecipe, type RnnOptions } from './rnn_config.js';
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
export class RNN extends ParametrizedLayer implements Module<Tensor, RnnOutput, RnnOutputGrads | undefined, RnnBackwardResult> {
  /** The validated configuration. */
  readonly config: RnnConfig;
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
    const config = rnnConfig(options);
    super(shapesOfConfig(config));
    this.config = config;
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

  /** Copies weights in (strict by default; see `Module.loadStateDict`); a failed load changes nothing. */
  override loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    this.assertIdle();
    return super.loadStateDict(stateDict, options);
  }

  /** The architecture: `{ type: 'RNN', config }` (what model files store). */
  toSpec(): ModuleSpec {
    return recurrentSpec('RNN', this.config, RNN_CONFIG_KEYS);
  }

  /** `[T, B, inputSize]` -> `[T, B, D*hiddenSize]` (batch-first alike). */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    return recurrentOutputShape(this.config, inputShape);
  }

  /** `32, 256, num_layers=2, batch_first=True`, as PyTorch (plus a non-default nonlinearity). */
  extraRepr(): string {
    return recurrentExtraRepr(this.config);
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(): ShapeDim[] {
    return recurrentInputShapeHint(this.config);
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

/** The fields of an RNN's spec config, in file order. */
const RNN_CONFIG_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'nonlinearity', 'bias', 'batchFirst', 'bidirectional', 'dropout'] as const;

/**
 * Parameter names and shapes of an RNN configuration, in PyTorch's order (weight_ih, weight_hh,
 * bias_ih, bias_hh; forward then reverse; layer by layer).
 *
 * @param cfg - A configuration from {@link rnnConfig} (`rnnParameterShapes(rnnConfig(options))`).
 * @throws TypeError when `cfg` is not a configuration `rnnConfig` made (options are not
 *   completed here: a plain `{ inputSize, hiddenSize }` would silently lack `numLayers`).
 */
export function rnnParameterShapes(cfg: RnnConfig): Array<[string, number[]]> {
  if (cfg === null || typeof cfg !== 'object' || rnnConfig(cfg) !== cfg) {
    throw typeError('cfg', 'a configuration made by rnnConfig(options) (call rnnParameterShapes(rnnConfig(options)))', cfg);
  }
  return shapesOfConfig(cfg);
}

registerRecurrent('RNN', (c) => shapesOfConfig(rnnConfig({ ...c, seed: 0 })), (c) => new RNN({ ...(c as unknown as RnnOptions), seed: 0 }));

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
