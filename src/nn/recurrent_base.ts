/**
 * `RNNBase`: what torch.nn.RNN, LSTM and GRU share (PyTorch's `RNNBase`): the
 * configuration, weights and gradients in one store, PyTorch's initialisation,
 * forward and BPTT over whole sequences as one native call per layer, the
 * module contract, and the Sequential entry points. The cell is the
 * configuration's `mode`; the subclasses only name it and type its states.
 */
import type { NativeJob } from '../native/job.js';
import { Rng } from '../random.js';
import { checkBool, checkOptions } from '../validate.js';
import type { IntTensor, Parameter, Tensor } from '../tensor.js';
import type { LayerContext, RecurrentState } from './layer.js';
import type { LoadStateDictOptions, LoadStateDictResult, ModuleSpec, ShapeDim, StateDict } from './module.js';
import { recurrentExtraRepr, recurrentInputShapeHint, recurrentOutputShape, recurrentSpec } from './module_recurrent.js';
import { ParametrizedLayer } from './parametrized_layer.js';
import { eye_, orthogonal_, xavierUniform_ } from './init.js';
import { rnnConfig, rnnInitRecipe, rnnParameterShapes, type RnnConfig, type RnnInitRecipe, type RnnMode, type RnnOptions } from './rnn_config.js';
import {
  rnnBackwardChecked,
  rnnBackwardCheckedAsync,
  rnnBackwardInto,
  rnnDeferrable,
  rnnForwardChecked,
  rnnForwardCheckedAsync,
  rnnForwardInto,
  type RnnBackwardOptions,
  type RnnBackwardResult,
  type RnnForwardOptions,
  type RnnForwardResult,
  type RnnOutputGrads,
  type RnnTape,
  RnnWorkspace,
} from './rnn_functional.js';

/** Options of `RNN.forward` and `GRU.forward`. */
export interface RnnCallOptions {
  /** Initial state [L*D, B, H] (default zeros). */
  h0?: Tensor;
  /** Per-batch sequence lengths in 1..T (packed-sequence semantics, any order). */
  seqLengths?: ArrayLike<number>;
  /** Throw a RangeError naming the tensor and index if x, a state or a weight holds NaN/Infinity (default false: they propagate). */
  checkFinite?: boolean;
  /**
   * No backward will follow (PyTorch's `torch.no_grad()`): LSTM and GRU keep no per-step gate
   * store, so memory is O(B·H) per layer instead of O(T·B·4H), and `backward` after this forward
   * throws (default false). `predict` and `evaluate` use it.
   */
  noGrad?: boolean;
}

/** Outputs of `RNN.forward` and `GRU.forward`. */
export interface RnnOutput {
  /** Output sequence [T,B,D*H] ([B,T,D*H] if batchFirst), forward direction first on the last axis. */
  y: Tensor;
  /** Final state of every layer and direction, [L*D,B,H], row layer*D + direction. */
  hN: Tensor;
}

/** Options of `backward` on a recurrent module. */
export interface RecurrentBackwardOptions {
  /** Compute the gradient of the input x (default true; skip it when x is data). */
  inputGrad?: boolean;
  /**
   * Also return `stateGradNorms`: ‖∂L/∂h_t‖ for every step t of every layer and direction (the
   * gradient-flow probe; default false, and free when off).
   */
  traceStates?: boolean;
}

/** The fields of a recurrent module's spec config, in file order (no nonlinearity for the gated cells). */
const SPEC_KEYS: Record<RnnMode, readonly string[]> = {
  RNN: ['inputSize', 'hiddenSize', 'numLayers', 'nonlinearity', 'bias', 'batchFirst', 'bidirectional', 'dropout'],
  LSTM: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout'],
  GRU: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout'],
};

/**
 * A reset-before GRU's spec also records `resetAfter: false`. PyTorch's cell (true) leaves it
 * out: its files stay as they were (and as older rnnblas versions read them), a file without
 * the key loads as resetAfter true, and an older version refuses a reset-before file (unknown
 * option) rather than computing PyTorch's cell from its weights.
 */
const RESET_BEFORE_SPEC_KEYS: readonly string[] = [...SPEC_KEYS.GRU, 'resetAfter'];

/**
 * The shared implementation of {@link RNN}, {@link LSTM} and {@link GRU}, with
 * PyTorch's semantics, state-dict names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...,
 * gate blocks stacked in PyTorch's order) and initialisation (every parameter from
 * U(-1/√H, 1/√H)).
 *
 * `forward` keeps what `backward` needs; `backward` accumulates into the
 * parameters' `grad`. Do not modify `y` or the inputs between the two.
 *
 * @typeParam Options - What `forward` takes besides x.
 * @typeParam Output - What `forward` returns.
 * @typeParam Grads - What `backward` takes.
 * @typeParam Result - What `backward` returns.
 */
export abstract class RNNBase<
  Options extends RnnCallOptions = RnnCallOptions,
  Output extends RnnOutput = RnnOutput,
  Grads extends RnnOutputGrads = RnnOutputGrads,
  Result extends RnnBackwardResult = RnnBackwardResult,
> extends ParametrizedLayer {
  /** The validated configuration (its `mode` names the cell). */
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
  private busyWith: NativeJob | null = null;

  /**
   * Lays out the parameters for `mode`, draws them from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch
   * does, then applies `options.init`'s recipe, if any.
   */
  protected constructor(options: RnnOptions, mode: RnnMode) {
    const config = rnnConfig(options, mode);
    super(rnnParameterShapes(config));
    this.config = config;
    this.weights = this.store.valueBuffers();
    this.grads = this.store.gradBuffers();
    this.rng = new Rng(options.seed);
    const k = 1 / Math.sqrt(config.hiddenSize);
    const v = this.store.values;
    for (let i = 0; i < v.length; i++) v[i] = this.rng.range(-k, k);
    if (options.init !== undefined) applyInitRecipe(this.store.list, rnnInitRecipe(options.init, config.bias), this.rng);
  }

  /** The cell's name, as in PyTorch and in messages ('RNN', 'LSTM', 'GRU'). */
  get mode(): RnnMode {
    return this.config.mode;
  }

  /** Runs the whole sequence; see the options type. */
  forward(x: Tensor, options?: Options): Output {
    return this.runForward(x, options, false);
  }

  /** As forward, with the native work off the main thread. One async call per module at a time. */
  async forwardAsync(x: Tensor, options?: Options): Promise<Output> {
    return this.runForwardAsync(x, options, false);
  }

  /**
   * Backpropagates the last forward's outputs' gradients (each may be omitted:
   * zero). Returns the input and initial-state gradients; parameter gradients
   * accumulate into `parameters()[i].grad`.
   */
  backward(grads?: Grads, options?: RecurrentBackwardOptions): Result {
    return this.runBackward(grads, options, false);
  }

  /** As backward, off the main thread. */
  async backwardAsync(grads?: Grads, options?: RecurrentBackwardOptions): Promise<Result> {
    return this.runBackwardAsync(grads, options, false);
  }

  // `reuse`: the caller-facing y (forward) or gx (backward) may live in the workspace, as
  // inside a Sequential where the next layer consumes it within the step (no per-step
  // allocation of the largest buffers).
  private runForward(x: Tensor, options: Options | undefined, reuse: boolean): Output {
    this.assertIdle();
    const r = rnnForwardChecked(this.config, this.weights, x, this.forwardOptions(options, reuse));
    this.tape = r.tape;
    return this.output(r);
  }

  private async runForwardAsync(x: Tensor, options: Options | undefined, reuse: boolean): Promise<Output> {
    this.assertIdle();
    const o = this.forwardOptions(options, reuse);
    this.busy = true;
    try {
      const r = await rnnForwardCheckedAsync(this.config, this.weights, x, o);
      this.tape = r.tape;
      return this.output(r);
    } finally {
      this.busy = false;
    }
  }

  private runBackward(grads: Grads | undefined, options: RecurrentBackwardOptions | undefined, reuse: boolean): Result {
    this.assertIdle();
    const tape = this.requireTape();
    const r = rnnBackwardChecked(tape, grads, this.grads, this.backwardOptions(options, reuse));
    this.tape = null;
    return r as Result;
  }

  private async runBackwardAsync(grads: Grads | undefined, options: RecurrentBackwardOptions | undefined, reuse: boolean): Promise<Result> {
    this.assertIdle();
    const tape = this.requireTape();
    const o = this.backwardOptions(options, reuse);
    this.busy = true;
    try {
      const r = await rnnBackwardCheckedAsync(tape, grads, this.grads, o);
      this.tape = null;
      return r as Result;
    } finally {
      this.busy = false;
    }
  }

  /** @internal Sequential's entry: forward with the context's lengths and state. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor {
    const r = this.runForward(x as Tensor, this.contextOptions(ctx), ctx.internal === true);
    ctx.hN?.set(this, this.finalState(r));
    return r.y;
  }

  /** @internal Sequential's entry. */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null {
    return this.runBackward({ gy } as Grads, { inputGrad: ctx.inputGrad }, ctx.internal === true).gx;
  }

  /** @internal Whether Sequential can queue this layer's passes in a job (no dropout between layers, time-major). */
  queueable(): boolean {
    return rnnDeferrable(this.config, this.training);
  }

  /** @internal Sequential's entry for a training step's one job: the forward, queued. */
  forwardLayerInto(x: Tensor | IntTensor, ctx: LayerContext, job: NativeJob): Tensor {
    this.assertIdle();
    const r = rnnForwardInto(this.config, this.weights, x as Tensor, this.forwardOptions(this.contextOptions(ctx), ctx.internal === true), job);
    this.tape = r.tape;
    this.holdFor(job);
    ctx.hN?.set(this, this.finalState(this.output(r)));
    return r.y;
  }

  /** @internal Sequential's entry: the backward, queued in the job of its forward (or a later one). */
  backwardLayerInto(gy: Tensor, ctx: LayerContext, job: NativeJob): Tensor | null {
    if (this.busyWith !== job) this.assertIdle();
    const tape = this.requireTape();
    const r = rnnBackwardInto(tape, { gy }, this.grads, this.backwardOptions({ inputGrad: ctx.inputGrad }, ctx.internal === true), job);
    this.tape = null;
    this.holdFor(job);
    return r.gx;
  }

  // Busy until `job` settles (its calls use the workspace and the tape).
  private holdFor(job: NativeJob): void {
    if (this.busyWith === job) return;
    this.busy = true;
    this.busyWith = job;
    job.onSettled(() => {
      this.busy = false;
      this.busyWith = null;
    });
  }

  /** @internal Sequential's async entry. */
  async forwardLayerAsync(x: Tensor | IntTensor, ctx: LayerContext): Promise<Tensor> {
    const r = await this.runForwardAsync(x as Tensor, this.contextOptions(ctx), ctx.internal === true);
    ctx.hN?.set(this, this.finalState(r));
    return r.y;
  }

  /** @internal Sequential's async entry. */
  async backwardLayerAsync(gy: Tensor, ctx: LayerContext): Promise<Tensor | null> {
    return (await this.runBackwardAsync({ gy } as Grads, { inputGrad: ctx.inputGrad }, ctx.internal === true)).gx;
  }

  /** Copies weights in (strict by default; see `Module.loadStateDict`); a failed load changes nothing. */
  override loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    this.assertIdle();
    return super.loadStateDict(stateDict, options);
  }

  /** The architecture: `{ type: mode, config }` (what model files store). */
  toSpec(): ModuleSpec {
    const keys = this.config.resetAfter === false ? RESET_BEFORE_SPEC_KEYS : SPEC_KEYS[this.config.mode];
    return recurrentSpec(this.config.mode, this.config, keys);
  }

  /** `[T, B, inputSize]` -> `[T, B, D*hiddenSize]` (batch-first alike). */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null {
    return recurrentOutputShape(this.config, inputShape);
  }

  /** `32, 256, num_layers=2, batch_first=True`, as PyTorch (plus a non-default nonlinearity). */
  extraRepr(): string {
    return recurrentExtraRepr(this.config);  // the gated cells' nonlinearity is 'tanh': not shown; reset_after=False is
  }

  /** The symbolic input shape `summary()` starts from. */
  override inputShapeHint(): ShapeDim[] {
    return recurrentInputShapeHint(this.config);
  }

  /** The generator used for dropout (checkpointed with the model). */
  get generator(): Rng {
    return this.rng;
  }

  /** The forward result as the subclass returns it (LSTM adds cN). */
  protected output(r: RnnForwardResult): Output {
    const out: RnnOutput & { cN?: Tensor } = { y: r.y, hN: r.hN };
    if (r.cN) out.cN = r.cN;
    return out as Output;
  }

  // The state a Sequential carries for this layer: hN, or { h, c } for an LSTM.
  private finalState(r: Output): RecurrentState {
    const c = (r as RnnOutput & { cN?: Tensor }).cN;
    return c ? { h: r.hN, c } : r.hN;
  }

  private contextOptions(ctx: LayerContext): Options {
    const s = ctx.h0?.get(this);
    const o: RnnCallOptions & { c0?: Tensor } = { seqLengths: ctx.seqLengths ?? undefined };
    if (ctx.noGrad === true) o.noGrad = true;
    if (s !== undefined) {
      if ('h' in s) {
        o.h0 = s.h;
        o.c0 = s.c;
      } else {
        o.h0 = s;
      }
    }
    return o as Options;
  }

  private forwardOptions(options: Options | undefined, reuse: boolean): RnnForwardOptions {
    const keys = this.config.mode === 'LSTM' ? ['h0', 'c0', 'seqLengths', 'checkFinite', 'noGrad'] : ['h0', 'seqLengths', 'checkFinite', 'noGrad'];
    const o = checkOptions<RnnCallOptions & { c0?: Tensor }>('options', options, keys);
    return { h0: o.h0, c0: o.c0, seqLengths: o.seqLengths, checkFinite: o.checkFinite, noGrad: o.noGrad, training: this.training, rng: this.rng, workspace: this.workspace, reuseOutput: reuse };
  }

  private backwardOptions(options: RecurrentBackwardOptions | undefined, reuse: boolean): RnnBackwardOptions {
    const o = checkOptions<RecurrentBackwardOptions>('options', options, ['inputGrad', 'traceStates']);
    const traceStates = o.traceStates === undefined ? false : checkBool('options.traceStates', o.traceStates);
    return { inputGrad: o.inputGrad, traceStates, workspace: this.workspace, reuseInputGrad: reuse };
  }

  private requireTape(): RnnTape {
    if (!this.tape) throw new Error(`${this.config.mode}.backward called before forward (or twice for one forward): call forward first`);
    return this.tape;
  }

  private assertIdle(): void {
    if (this.busy) throw new Error(`${this.config.mode} is busy with an async call: await it before calling the module again`);
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
