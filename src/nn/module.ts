/**
 * The module contract: what every rnnblas module (RNN, Linear, Embedding,
 * LastStep, MergeDirections, Sequential, and LSTM/GRU) offers, with
 * torch.nn.Module's names and semantics.
 */
import type { IntTensor, Parameter, Tensor } from '../tensor.js';

/** Tensors by name: a module's weights (`stateDict()`) or gradients (`gradStateDict()`). */
export type StateDict = Record<string, Tensor>;

/** Options of `module.loadStateDict(sd, options)`. */
export interface LoadStateDictOptions {
  /**
   * Require exactly the module's keys (default true, as PyTorch). With `false`, missing keys
   * keep their values, unexpected keys are ignored, and both are reported. A wrong shape is
   * an error either way, and a failed load changes nothing.
   */
  strict?: boolean;
}

/** What `loadStateDict` returns (PyTorch's `_IncompatibleKeys`): both empty after a strict load. */
export interface LoadStateDictResult {
  /** The module's keys the state dict did not have (their values were kept). */
  readonly missingKeys: string[];
  /** The state dict's keys the module does not have (ignored). */
  readonly unexpectedKeys: string[];
}

/** One axis of a shape in `summary()`: a size, or a symbol such as `'T'` or `'B'`. */
export type ShapeDim = number | string;

/** Options of `module.summary(options)`. */
export interface SummaryOptions {
  /**
   * The input's shape, e.g. `[64, 32]` for ids [T=64, B=32] (default symbolic: `[T, B, inputSize]`,
   * `[B, T, ...]` for batch-first models). Symbols may be mixed with sizes.
   */
  inputShape?: readonly ShapeDim[];
}

/**
 * A module's architecture as JSON (what model files store): `type` names a registered module
 * kind, the other fields are that kind's hyper-parameters, e.g.
 * `{ type: 'Linear', inFeatures: 256, outFeatures: 65, bias: true }`.
 */
export interface ModuleSpec {
  /** The registered kind (`'RNN'`, `'Linear'`, `'Sequential'`, ...). */
  readonly type: string;
  /** The kind's hyper-parameters (JSON values). */
  readonly [field: string]: unknown;
}

/**
 * The contract every rnnblas module fulfils (torch.nn.Module's, where it has one).
 *
 * The type parameters describe `forward` and `backward`: `TInput` what `forward` takes,
 * `TOutput` what it returns, `TGrad` what `backward` takes (the output's gradient) and
 * `TInputGrad` what it returns. `Module` without arguments is any module: narrow it with
 * `instanceof` (or `loadModel(path, { expect: RNN })`) to call `forward` with its options.
 */
export interface Module<TInput = Tensor | IntTensor, TOutput = unknown, TGrad = unknown, TInputGrad = unknown> {
  /** True in training mode (dropout active), false after `eval()`. */
  readonly training: boolean;
  /** Every parameter (`name`, `shape`, `data`, `grad`), in state-dict order; names as `stateDict()`'s keys. */
  parameters(): Parameter[];
  /** `[name, parameter]` pairs, as PyTorch's `named_parameters()` (dotted names in containers: `0.weight_ih_l0`). */
  namedParameters(): Array<[string, Parameter]>;
  /** Total number of parameter values. */
  numParameters(): number;
  /** The direct submodules (a Sequential's layers; none for a layer). */
  children(): Module[];
  /** This module and every submodule, depth first (PyTorch's `modules()`). */
  modules(): Module[];
  /** Weights by name, sharing the module's memory (empty for a module without parameters). */
  stateDict(): StateDict;
  /** Gradients by name, sharing the module's memory. */
  gradStateDict(): StateDict;
  /**
   * Copies weights in. Everything is checked first (keys, shapes), so a failed load changes
   * nothing. Strict by default: a missing or unexpected key is a RangeError naming it.
   */
  loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult;
  /** Zeroes every parameter's gradient. */
  zeroGrad(): void;
  /** Training mode (`true`, default) or evaluation mode, for this module and its submodules. */
  train(mode?: boolean): this;
  /** Evaluation mode: `train(false)`. */
  eval(): this;
  /** Runs the module; keeps what `backward` needs. */
  forward(input: TInput, ...options: never[]): TOutput;
  /** Backpropagates the last forward; parameter gradients accumulate into `grad`. */
  backward(grad: TGrad, ...options: never[]): TInputGrad;
  /** As `forward`, with the heavy native work off the main thread. One async call per module at a time. */
  forwardAsync(input: TInput, ...options: never[]): Promise<TOutput>;
  /** As `backward`, off the main thread. */
  backwardAsync(grad: TGrad, ...options: never[]): Promise<TInputGrad>;
  /** Saves the architecture and weights as safetensors, atomically; read back with `loadModel(path)`. */
  save(path: string): Promise<void>;
  /** The architecture as JSON (what model files store); `buildModel(spec)` rebuilds it. */
  toSpec(): ModuleSpec;
  /**
   * The output shape for an input shape, symbolically (`['T', 'B', 256]`), or null when it
   * cannot be known (e.g. the input does not fit).
   */
  outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null;
  /** PyTorch's repr: `RNN(32, 256, num_layers=2, batch_first=True)`, a Sequential as a tree. */
  toString(): string;
  /** A Keras-like table: each layer, its output shape and parameter count, and the totals. */
  summary(options?: SummaryOptions): string;
}
