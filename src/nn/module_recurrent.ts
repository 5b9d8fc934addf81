/**
 * The module-contract pieces shared by the recurrent modules (RNN, and the
 * LSTM/GRU built on the same configuration): their spec, repr, output shapes and
 * registration, so every recurrent kind saves, loads and prints alike.
 */
import { registerModule, type ParameterShapes } from '../io/registry.js';
import { typeError } from '../errors.js';
import { checkOptions } from '../validate.js';
import type { Module, ModuleSpec, ShapeDim } from './module.js';
import { axisFits, pyRepr } from './module_base.js';

/** The fields of a recurrent configuration the contract reads (RnnConfig has them all). */
export interface RecurrentConfigLike {
  /** Features per input step (I). */
  readonly inputSize: number;
  /** Features of the hidden state (H). */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have biases. */
  readonly bias: boolean;
  /** Inputs and outputs as [B,T,F]. */
  readonly batchFirst: boolean;
  /** Two directions, concatenated. */
  readonly bidirectional: boolean;
  /** Dropout between layers in training mode. */
  readonly dropout: number;
  /** The Elman cell's activation (absent or 'tanh' for the gated cells: not printed). */
  readonly nonlinearity?: string;
  /** GRU: where the reset gate acts (printed only when false: not PyTorch's cell). */
  readonly resetAfter?: boolean;
}

/**
 * A recurrent module's spec: `{ type, config }` with the config's fields copied in a fixed
 * order (`keys`), so equal configurations serialise identically (model files store it).
 */
export function recurrentSpec(type: string, config: object, keys: readonly string[]): ModuleSpec {
  const c = config as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const k of keys) if (c[k] !== undefined) copy[k] = c[k];
  return { type, config: copy };
}

/**
 * PyTorch's `RNNBase.extra_repr`: `32, 256, num_layers=2, batch_first=True`, only what
 * differs from the defaults (plus `nonlinearity='relu'`, which torch leaves out, and a GRU's
 * `reset_after=False`, Keras' name for the cell PyTorch does not have).
 */
export function recurrentExtraRepr(c: RecurrentConfigLike): string {
  let s = `${c.inputSize}, ${c.hiddenSize}`;
  if (c.numLayers !== 1) s += `, num_layers=${c.numLayers}`;
  if (c.nonlinearity !== undefined && c.nonlinearity !== 'tanh') s += `, nonlinearity=${pyRepr(c.nonlinearity)}`;
  if (c.bias !== true) s += `, bias=${pyRepr(c.bias)}`;
  if (c.batchFirst) s += `, batch_first=${pyRepr(true)}`;
  if (c.dropout !== 0) s += `, dropout=${c.dropout}`;
  if (c.bidirectional) s += `, bidirectional=${pyRepr(true)}`;
  if (c.resetAfter === false) s += `, reset_after=${pyRepr(false)}`;
  return s;
}

/** `[T, B, inputSize]` -> `[T, B, D*hiddenSize]` (batch-first alike); null if the input does not fit. */
export function recurrentOutputShape(c: RecurrentConfigLike, inputShape: readonly ShapeDim[]): ShapeDim[] | null {
  if (inputShape.length !== 3 || !axisFits(inputShape[2], c.inputSize)) return null;
  return [inputShape[0], inputShape[1], (c.bidirectional ? 2 : 1) * c.hiddenSize];
}

/** The symbolic input `[T, B, inputSize]` (`[B, T, inputSize]` when batch-first). */
export function recurrentInputShapeHint(c: RecurrentConfigLike): ShapeDim[] {
  return c.batchFirst ? ['B', 'T', c.inputSize] : ['T', 'B', c.inputSize];
}

/**
 * Registers a recurrent kind whose spec is `{ type, config }`.
 *
 * @param type - The kind (`'RNN'`, `'LSTM'`, `'GRU'`).
 * @param shapes - Validates a config (throwing a TypeError / RangeError naming the field) and
 *   returns its parameters' names and shapes, without allocating (e.g.
 *   `(c) => rnnParameterShapes(rnnConfig({ ...c, seed: 0 }))`).
 * @param build - A new module from the config (e.g. `(c) => new RNN({ ...c, seed: 0 })`).
 */
export function registerRecurrent(type: string, shapes: (config: Record<string, unknown>) => ParameterShapes, build: (config: Record<string, unknown>) => Module): void {
  const configOf = (spec: Readonly<Record<string, unknown>>, where: string): Record<string, unknown> => {
    const { type: _type, ...rest } = spec;
    checkOptions(where, rest, ['config']);
    const c = rest.config;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw typeError(`${where}.config`, `${/^[AEFHILMNORSX]/.test(type) ? 'an' : 'a'} ${type} configuration object`, c);
    return c as Record<string, unknown>;
  };
  registerModule({
    type,
    parameterShapes: (spec, where) => shapes(configOf(spec, where)),
    fromSpec: (spec, where) => build(configOf(spec, where)),
  });
}
