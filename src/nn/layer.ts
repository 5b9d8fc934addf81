/**
 * The protocol `Sequential` drives its layers through: forward over a batch of
 * sequences with a shared context (lengths, recurrent states), backward of the
 * last forward, and parameters under local names. Every built-in module speaks
 * it; a custom layer may implement it (or be a {@link Module} whose
 * `forward(x)` / `backward(gy)` take and return Tensors).
 */
import type { NativeJob } from '../native/job.js';
import type { IntTensor, Parameter, Tensor } from '../tensor.js';
import type { Module } from './module.js';

/** Integer ids, row-major: defined with {@link Tensor} in `tensor.ts`, re-exported here for existing imports. */
export type { IntTensor } from '../tensor.js';

/** The state an LSTM layer carries: hidden and cell state, each [L*D, B, H]. */
export interface LstmState {
  /** Hidden state. */
  readonly h: Tensor;
  /** Cell state. */
  readonly c: Tensor;
}

/**
 * The state a recurrent layer of a Sequential carries between calls: its final hidden state
 * [L*D, B, H] (RNN, GRU), or `{ h, c }` for an LSTM (a bare Tensor given to an LSTM is its h,
 * with c zero).
 */
export type RecurrentState = Tensor | LstmState;

/** Per-call context shared by the layers of a Sequential. */
export interface LayerContext {
  /** Per-batch sequence lengths (packed-sequence semantics), or null. */
  readonly seqLengths: Int32Array | null;
  /** Whether the input of this layer needs a gradient (false for the first layer). */
  readonly inputGrad: boolean;
  /** Initial states of recurrent layers (absent: zeros). */
  readonly h0?: ReadonlyMap<Layer, RecurrentState>;
  /** Filled with each recurrent layer's final state. */
  readonly hN?: Map<Layer, RecurrentState>;
  /**
   * The layer's output (forward) or input gradient (backward) feeds only another layer of the
   * same call and is not kept past the next call: the layer may return it in a buffer it reuses.
   */
  readonly internal?: boolean;
  /** No backward follows this forward: a layer need keep nothing for it. */
  readonly noGrad?: boolean;
}

/** A layer usable inside Sequential (the protocol; the public contract of a module is {@link Module}). */
export interface Layer {
  /** Forward; keeps what backward needs. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor;
  /** Backward of the last forwardLayer; returns the input gradient (null when not asked or not defined). */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null;
  /** Optional off-main-thread forward (layers with heavy native work). */
  forwardLayerAsync?(x: Tensor | IntTensor, ctx: LayerContext): Promise<Tensor>;
  /** Optional off-main-thread backward. */
  backwardLayerAsync?(gy: Tensor, ctx: LayerContext): Promise<Tensor | null>;
  /**
   * @internal Whether this layer's forward (with this context) and its backward can be queued in
   * a native job (forwardLayerInto / backwardLayerInto): a training step's single pool call.
   */
  queueable?(ctx: LayerContext): boolean;
  /** @internal As forwardLayer, queued in `job`: the output's buffer is written when the job runs. */
  forwardLayerInto?(x: Tensor | IntTensor, ctx: LayerContext, job: NativeJob): Tensor;
  /** @internal As backwardLayer, queued in `job` after this layer's forward (in the same job or an earlier one). */
  backwardLayerInto?(gy: Tensor, ctx: LayerContext, job: NativeJob): Tensor | null;
  /** Parameters with local names (e.g. `weight`, `weight_ih_l0`). */
  parameters(): Parameter[];
  /** Training or evaluation mode. */
  train(mode?: boolean): unknown;
}
