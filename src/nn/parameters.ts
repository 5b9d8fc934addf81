/**
 * Parameter storage: all values of a module in one Float32Array and all
 * gradients in another, with named views into them (as llm.c does), so
 * optimizers and checkpoints can treat a module's parameters as one block.
 * The arenas are native-owned memory, which async native calls use in place.
 */
import { cappedList, rangeError, typeError } from '../errors.js';
import { nativeFloats } from '../native/binding.js';
import { checkTensor, numel, type Parameter, type Tensor } from '../tensor.js';
import { checkBool, checkOptions } from '../validate.js';
import type { LoadStateDictOptions, LoadStateDictResult } from './module.js';

/** Named parameters backed by two contiguous arenas. */
export class ParameterStore {
  /** Every value, in declaration order. */
  readonly values: Float32Array;
  /** Every gradient, same layout as values. */
  readonly grads: Float32Array;
  /** The parameters, in declaration order. */
  readonly list: readonly Parameter[];
  private readonly byName: Map<string, Parameter>;

  /** Lays out the given names and shapes. */
  constructor(shapes: ReadonlyArray<readonly [string, readonly number[]]>) {
    const total = shapes.reduce((n, [, s]) => n + numel(s), 0);
    this.values = nativeFloats(total);
    this.grads = nativeFloats(total);
    const list: Parameter[] = [];
    let offset = 0;
    for (const [name, shape] of shapes) {
      const n = numel(shape);
      list.push(Object.freeze({
        name,
        shape: Object.freeze([...shape]),
        data: this.values.subarray(offset, offset + n),
        grad: this.grads.subarray(offset, offset + n),
      }));
      offset += n;
    }
    this.list = Object.freeze(list);
    this.byName = new Map(list.map((p) => [p.name, p]));
  }

  /** The parameter called name (throws if there is none). */
  get(name: string): Parameter {
    const p = this.byName.get(name);
    if (!p) throw new Error(`rnnblas: no parameter named '${name}'`);
    return p;
  }

  /** Values by name, as tensors sharing this store's memory. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.list) out[p.name] = { data: p.data, shape: p.shape };
    return out;
  }

  /** Gradients by name, as tensors sharing this store's memory. */
  gradStateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.list) out[p.name] = { data: p.grad, shape: p.shape };
    return out;
  }

  /** Gradient buffers by name. */
  gradBuffers(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const p of this.list) out[p.name] = p.grad;
    return out;
  }

  /** Value buffers by name. */
  valueBuffers(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const p of this.list) out[p.name] = p.data;
    return out;
  }

  /** Zeroes every gradient. */
  zeroGrad(): void {
    this.grads.fill(0);
  }

  /**
   * Copies a state dict in. Everything is checked first (missing, extra and
   * mis-shaped keys), so a failed load changes nothing.
   */
  load(sd: unknown, what = 'stateDict', options?: unknown): LoadStateDictResult {
    return loadStateDictInto(this.list, sd, options, what);
  }
}

/**
 * Copies `sd` into named parameters after checking every key and shape, so a
 * failed load changes nothing (strict: exactly the parameters' keys).
 */
export function loadParameters(params: readonly Parameter[], sd: unknown, what = 'stateDict'): void {
  loadStateDictInto(params, sd, undefined, what);
}

/**
 * `module.loadStateDict(sd, options)` for any list of parameters (the shared
 * implementation of every module's, LSTM/GRU included). Every key and shape is checked
 * before anything is copied, so a failed load changes nothing.
 *
 * - strict (default): a missing or unexpected key is a RangeError listing them;
 * - `strict: false`: the parameters `sd` has are loaded, the others keep their values, and
 *   `{ missingKeys, unexpectedKeys }` says which (PyTorch's `load_state_dict(strict=False)`);
 * - a wrong shape is a RangeError naming the key either way.
 *
 * @param params - The module's parameters (names as its state dict's keys).
 * @param sd - The state dict to load.
 * @param options - `{ strict }`.
 * @param what - The state dict's name in error messages.
 */
export function loadStateDictInto(params: readonly Parameter[], sd: unknown, options?: unknown, what = 'stateDict'): LoadStateDictResult {
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) throw typeError(what, 'a record of Tensors keyed by name', sd);
  const o = checkOptions<LoadStateDictOptions>('options', options, ['strict']);
  const strict = checkBool('options.strict', o.strict ?? true);
  const record = sd as Record<string, unknown>;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(record, k);
  const names = new Set(params.map((p) => p.name));
  const missing = params.filter((p) => !has(p.name)).map((p) => p.name);
  const extra = Object.keys(record).filter((k) => !names.has(k));
  if (strict && (missing.length > 0 || extra.length > 0)) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing keys: ${cappedList(missing, 16)}`);
    if (extra.length > 0) parts.push(`unexpected keys: ${cappedList(extra, 16)}`);
    const expected = params.length === 0 ? 'an empty state dict (this module has no parameters)' : `exactly the keys ${cappedList(params.map((p) => p.name), 16)}`;
    throw rangeError(what, expected, parts.join('; '));
  }
  const checked = params.filter((p) => has(p.name)).map((p) => [p, checkTensor(`${what}.${p.name}`, record[p.name], p.shape)] as const);
  for (const [p, t] of checked) p.data.set(t.data);
  return { missingKeys: strict ? [] : missing, unexpectedKeys: strict ? [] : extra };
}
