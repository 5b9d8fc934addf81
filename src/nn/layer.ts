/**
 * What `Sequential` needs of a layer: forward over a batch of sequences,
 * backward of the last forward, and parameters under local names.
 */
import type { Parameter, Tensor } from '../tensor.js';

/** Integer ids (for Embedding), row-major. */
export interface IntTensor {
  /** The ids. */
  readonly data: Int32Array;
  /** The size of each axis. */
  readonly shape: readonly number[];
}

/** Per-call context shared by the layers of a Sequential. */
export interface LayerContext {
  /** Per-batch sequence lengths (packed-sequence semantics), or null. */
  readonly seqLengths: Int32Array | null;
  /** Whether the input of this layer needs a gradient (false for the first layer). */
  readonly inputGrad: boolean;
  /** Initial states of recurrent layers (absent: zeros). */
  readonly h0?: ReadonlyMap<Layer, Tensor>;
  /** Filled with each recurrent layer's final state. */
  readonly hN?: Map<Layer, Tensor>;
}

/** A layer usable inside Sequential. */
export interface Layer {
  /** Forward; keeps what backward needs. */
  forwardLayer(x: Tensor | IntTensor, ctx: LayerContext): Tensor;
  /** Backward of the last forwardLayer; returns the input gradient (null when not asked or not defined). */
  backwardLayer(gy: Tensor, ctx: LayerContext): Tensor | null;
  /** Optional off-main-thread forward (layers with heavy native work). */
  forwardLayerAsync?(x: Tensor | IntTensor, ctx: LayerContext): Promise<Tensor>;
  /** Optional off-main-thread backward. */
  backwardLayerAsync?(gy: Tensor, ctx: LayerContext): Promise<Tensor | null>;
  /** Parameters with local names (e.g. `weight`, `weight_ih_l0`). */
  parameters(): Parameter[];
  /** Training or evaluation mode. */
  train(mode?: boolean): unknown;
}
