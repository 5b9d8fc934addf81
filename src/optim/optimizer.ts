/**
 * The optimizer base class: parameter bookkeeping, the learning rate, `zeroGrad` and a
 * JSON-serialisable state dict that mirrors `torch.optim.Optimizer.state_dict()` for a
 * single parameter group.
 */
import { describe, rangeError, typeError } from '../errors.js';
import type { Parameter } from '../tensor.js';
import { checkNumber } from '../validate.js';

/** A hyper-parameter value as stored in a state dict. */
export type HyperValue = number | boolean | readonly number[];

/** The saved state of one parameter: its step count and its named state buffers. */
export interface ParamStateDict {
  /** Number of updates this parameter has received. */
  readonly step: number;
  /**
   * State buffers by name (e.g. `expAvg`), one value per parameter element. `stateDict()`
   * writes plain number arrays; `loadStateDict()` also accepts Float32Arrays.
   */
  readonly buffers: Readonly<Record<string, readonly number[] | Float32Array>>;
}

/**
 * A snapshot of an optimizer, plain data that survives `JSON.stringify`/`JSON.parse`
 * unchanged (buffers hold float32 values, which doubles print and parse exactly).
 */
export interface OptimizerState {
  /** The optimizer class that wrote it, e.g. `'Adam'`. */
  readonly type: string;
  /** Every hyper-parameter, `lr` included, under the constructor's option names. */
  readonly hyper: Readonly<Record<string, HyperValue>>;
  /**
   * Per-parameter state keyed by parameter name. Parameters that have no state yet (the
   * optimizer has not stepped) are absent, as in PyTorch.
   */
  readonly state: Readonly<Record<string, ParamStateDict>>;
}

/** The live state of one parameter (internal to optimizers; exported for subclasses). */
export interface ParamSlot {
  /** Number of updates applied to this parameter. */
  step: number;
  /** State buffers by name, each the parameter's length. */
  readonly buffers: Record<string, Float32Array>;
}

/** Which buffers a parameter's saved state must, and may, hold for given hyper-parameters. */
export interface BufferSpec {
  /** Buffers that must be present in every saved parameter state. */
  readonly required: readonly string[];
  /** Buffers that may be present. */
  readonly optional: readonly string[];
}

/** Validated hyper-parameters ready to be applied (returned by `Optimizer.prepareHyper`). */
export interface PreparedHyper {
  /** The buffers each saved parameter state must hold under these hyper-parameters. */
  readonly buffers: BufferSpec;
  /** Installs the hyper-parameters; called only after the whole state has been validated. */
  readonly commit: () => void;
}

/**
 * Checks a list of parameters: an array of `{ name, shape, data: Float32Array, grad:
 * Float32Array }` with matching sizes and unique names. Returns a frozen copy of the list.
 */
export function checkParameters(name: string, params: unknown, allowEmpty = false): readonly Parameter[] {
  if (!Array.isArray(params)) throw typeError(name, 'an array of Parameters', params);
  if (params.length === 0 && !allowEmpty) throw rangeError(name, 'at least one Parameter', params);
  const seen = new Set<string>();
  params.forEach((p: unknown, i) => {
    const where = `${name}[${i}]`;
    if (p === null || typeof p !== 'object') throw typeError(where, 'a Parameter { name, shape, data, grad }', p);
    const q = p as { name?: unknown; shape?: unknown; data?: unknown; grad?: unknown };
    if (typeof q.name !== 'string') throw typeError(`${where}.name`, 'a string', q.name);
    if (!(q.data instanceof Float32Array)) throw typeError(`${where}.data`, 'a Float32Array', q.data);
    if (!(q.grad instanceof Float32Array)) throw typeError(`${where}.grad`, 'a Float32Array', q.grad);
    if (!Array.isArray(q.shape)) throw typeError(`${where}.shape`, 'an array of integers', q.shape);
    let n = 1;
    for (const d of q.shape as unknown[]) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
        throw rangeError(`${where}.shape`, 'non-negative integer sizes', `[${(q.shape as unknown[]).join(', ')}]`);
      }
      n *= d;
    }
    if (q.data.length !== n) throw rangeError(`${where}.data`, `${n} elements for shape [${(q.shape as number[]).join(', ')}]`, q.data);
    if (q.grad.length !== n) throw rangeError(`${where}.grad`, `${n} elements (the size of ${where}.data)`, q.grad);
    if (seen.has(q.name)) throw rangeError(`${where}.name`, 'a name not used by another parameter', describe(q.name));
    seen.add(q.name);
  });
  return Object.freeze([...(params as Parameter[])]);
}

/** Copies `options`, dropping keys whose value is `undefined`, over `defaults`. */
export function withDefaults(defaults: Readonly<Record<string, unknown>>, options: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}

/** Checks an optimizer's `lr`: a finite number >= 0 (PyTorch: "Invalid learning rate"). */
export function checkLr(name: string, value: unknown): number {
  return checkNumber(name, value, 0);
}

/**
 * The gradient an update rule works on: `g`, negated when maximising, plus `weightDecay·θ`
 * (PyTorch's `grad.add(param, alpha=weight_decay)`, also a float32 tensor there). Returns
 * `g` itself when neither applies, else fills and returns `scratch`.
 */
export function effectiveGrad(p: Float32Array, g: Float32Array, weightDecay: number, maximize: boolean, scratch: Float32Array): Float32Array {
  const n = p.length;
  if (weightDecay !== 0) {
    const sign = maximize ? -1 : 1;
    for (let j = 0; j < n; j++) scratch[j] = sign * g[j] + weightDecay * p[j];
    return scratch;
  }
  if (maximize) {
    for (let j = 0; j < n; j++) scratch[j] = -g[j];
    return scratch;
  }
  return g;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * Base class of the optimizers. Subclasses implement `step()` and describe their
 * hyper-parameters; the base class owns the parameter list, `lr`, the per-parameter state
 * slots and the state dict.
 */
export abstract class Optimizer {
  /** The parameters this optimizer updates, in the order given to the constructor. */
  readonly params: readonly Parameter[];
  /** The class name written to state dicts, e.g. `'Adam'`. */
  abstract readonly type: string;
  /** Per-parameter state, parallel to `params`; `undefined` until first needed. */
  protected slots: (ParamSlot | undefined)[];
  #lr: number;
  #scratch: Float32Array | null = null;

  /**
   * Checks `params` (non-empty, unique names, data and grad of the shape's size) and `lr`.
   * @param params - The parameters to optimize.
   * @param lr - The learning rate (>= 0).
   */
  protected constructor(params: readonly Parameter[], lr: unknown) {
    this.params = checkParameters('params', params);
    this.#lr = checkLr('options.lr', lr);
    this.slots = new Array<ParamSlot | undefined>(this.params.length).fill(undefined);
  }

  /** The learning rate used by the next `step()`. Setting it checks for a finite number >= 0. */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    this.#lr = checkLr('lr', value);
  }

  /** Applies one update to every parameter from its current `grad`. */
  abstract step(): void;

  /** A reusable work buffer of `n` floats (n at most the largest parameter's size). */
  protected scratch(n: number): Float32Array {
    if (this.#scratch === null) this.#scratch = new Float32Array(this.params.reduce((m, p) => Math.max(m, p.data.length), 0));
    return this.#scratch.subarray(0, n);
  }

  /** Sets every parameter's gradient to zero (PyTorch's `zero_grad(set_to_none=False)`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** The hyper-parameters other than `lr`, under their option names. */
  protected abstract hyperParams(): Record<string, HyperValue>;

  /**
   * Validates saved hyper-parameters (every key of `hyperParams()` is present; `lr` is
   * handled by the base class) without changing anything, and returns how to apply them.
   */
  protected abstract prepareHyper(hyper: Readonly<Record<string, unknown>>, name: string): PreparedHyper;

  /**
   * A JSON-serialisable snapshot: the type, all hyper-parameters (with `lr`), and each
   * stepped parameter's step count and buffers (copied into number arrays).
   */
  stateDict(): OptimizerState {
    const state: Record<string, ParamStateDict> = {};
    this.params.forEach((p, i) => {
      const slot = this.slots[i];
      if (slot === undefined) return;
      const buffers: Record<string, number[]> = {};
      for (const [k, v] of Object.entries(slot.buffers)) buffers[k] = Array.from(v);
      state[p.name] = { step: slot.step, buffers };
    });
    return { type: this.type, hyper: { lr: this.#lr, ...this.hyperParams() }, state };
  }

  /**
   * Restores a snapshot made by `stateDict()` of the same optimizer class over parameters
   * with the same names and sizes. Everything is validated first; on any error (TypeError
   * for wrong kinds, RangeError for wrong values, names or sizes) nothing is changed.
   * Buffers are copied, so the snapshot may be reused.
   */
  loadStateDict(s: OptimizerState): void {
    if (!isPlainObject(s)) throw typeError('state', 'an optimizer state { type, hyper, state }', s);
    if (s.type !== this.type) throw rangeError('state.type', `'${this.type}'`, describe(s.type));
    const hyper: unknown = s.hyper;
    if (!isPlainObject(hyper)) throw typeError('state.hyper', 'an object of hyper-parameters', hyper);
    const expected = ['lr', ...Object.keys(this.hyperParams())];
    for (const k of Object.keys(hyper)) {
      if (!expected.includes(k)) throw rangeError('state.hyper', `only the keys ${expected.map((e) => `'${e}'`).join(', ')}`, `an unknown key '${k}'`);
    }
    for (const k of expected) {
      if (!(k in hyper)) throw rangeError('state.hyper', `a value for '${k}'`, 'none');
    }
    const lr = checkLr('state.hyper.lr', hyper.lr);
    const prepared = this.prepareHyper(hyper, 'state.hyper');

    const saved: unknown = s.state;
    if (!isPlainObject(saved)) throw typeError('state.state', 'an object of per-parameter states', saved);
    const index = new Map<string, number>(this.params.map((p, i) => [p.name, i]));
    const { required, optional } = prepared.buffers;
    const slots = new Array<ParamSlot | undefined>(this.params.length).fill(undefined);
    for (const [pname, entry] of Object.entries(saved)) {
      const where = `state.state[${JSON.stringify(pname)}]`;
      const i = index.get(pname);
      if (i === undefined) throw rangeError('state.state', `only states of this optimizer's parameters`, `a state for unknown parameter ${describe(pname)}`);
      if (!isPlainObject(entry)) throw typeError(where, 'a parameter state { step, buffers }', entry);
      const step = entry.step;
      if (typeof step !== 'number') throw typeError(`${where}.step`, 'a non-negative integer', step);
      if (!Number.isInteger(step) || step < 0) throw rangeError(`${where}.step`, 'a non-negative integer', step);
      const bufs: unknown = entry.buffers;
      if (!isPlainObject(bufs)) throw typeError(`${where}.buffers`, 'an object of buffers', bufs);
      const n = this.params[i].data.length;
      const out: Record<string, Float32Array> = {};
      for (const [bname, b] of Object.entries(bufs)) {
        const bwhere = `${where}.buffers.${bname}`;
        if (!required.includes(bname) && !optional.includes(bname)) {
          const allowed = [...required, ...optional];
          throw rangeError(`${where}.buffers`, allowed.length ? `only the buffers ${allowed.map((a) => `'${a}'`).join(', ')}` : 'no buffers', `an unknown buffer '${bname}'`);
        }
        if (!(b instanceof Float32Array) && !Array.isArray(b)) throw typeError(bwhere, 'a Float32Array or an array of numbers', b);
        if (b.length !== n) throw rangeError(bwhere, `${n} elements (the parameter's size)`, b);
        if (Array.isArray(b)) {
          for (let j = 0; j < b.length; j++) {
            if (typeof b[j] !== 'number') throw typeError(`${bwhere}[${j}]`, 'a number', b[j]);
          }
        }
        out[bname] = Float32Array.from(b as ArrayLike<number>);
      }
      for (const r of required) {
        if (!(r in out)) throw rangeError(`${where}.buffers`, `a buffer '${r}'`, 'none');
      }
      slots[i] = { step, buffers: out };
    }
    this.#lr = lr;
    prepared.commit();
    this.slots = slots;
  }
}
