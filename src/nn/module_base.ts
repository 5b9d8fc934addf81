/**
 * `ModuleBase`: the shared implementation of the module contract ({@link Module}),
 * and the helpers a module kind uses for its repr and summary. A layer extends it
 * (through `ParametrizedLayer` or `StatelessLayer`) and adds `forward`/`backward`,
 * `toSpec`, `outputShape` and `extraRepr`.
 */
import { saveModel } from '../io/model_file.js';
import { typeError } from '../errors.js';
import { numel, type Parameter } from '../tensor.js';
import { checkBool, checkOptions } from '../validate.js';
import type { LoadStateDictOptions, LoadStateDictResult, Module, ModuleSpec, ShapeDim, StateDict, SummaryOptions } from './module.js';
import { loadStateDictInto } from './parameters.js';

/** @internal Node's `util.inspect.custom`, without importing node:util's types into the declarations. */
export const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/**
 * A value in Python's repr style, as PyTorch prints hyper-parameters: `True`, `False`,
 * `'sum'`, `0.5`.
 */
export function pyRepr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** Formats a shape for printing: `[T, B, 256]`; null is `?`. */
export function formatShape(shape: readonly ShapeDim[] | null): string {
  return shape === null ? '?' : `[${shape.join(', ')}]`;
}

/** Whether an axis is known to equal `n` (a symbolic axis may). */
export function axisFits(dim: ShapeDim | undefined, n: number): boolean {
  return dim !== undefined && (typeof dim === 'string' || dim === n);
}

/**
 * PyTorch's container repr: `Name(\n  (0): Child(...)\n  ...\n)`, children's own
 * lines indented (torch's `_addindent`).
 */
export function containerRepr(name: string, children: ReadonlyArray<readonly [string, string]>): string {
  if (children.length === 0) return `${name}()`;
  const lines = children.map(([key, repr]) => `  (${key}): ${repr.split('\n').join('\n  ')}`);
  return `${name}(\n${lines.join('\n')}\n)`;
}

function reprOf(m: unknown): string {
  if (m instanceof ModuleBase) return m.toString();
  const name = m !== null && typeof m === 'object' ? (m.constructor?.name ?? 'Object') : typeof m;
  return `${name}()`;
}

function paramCount(m: unknown): number {
  const params = m !== null && typeof m === 'object' && typeof (m as { parameters?: unknown }).parameters === 'function' ? (m as { parameters(): Parameter[] }).parameters() : [];
  return params.reduce((n, p) => n + p.data.length, 0);
}

/**
 * A Keras-like summary table of a module: each child (or the module itself when it has no
 * children) with its output shape and parameter count, then the totals.
 */
export function summaryTable(module: ModuleBase, options: SummaryOptions = {}): string {
  const o = checkOptions<SummaryOptions>('options', options, ['inputShape']);
  if (o.inputShape !== undefined && (!Array.isArray(o.inputShape) || !o.inputShape.every((d) => typeof d === 'string' || (Number.isInteger(d) && d >= 0)))) {
    throw typeError('options.inputShape', 'an array of sizes and symbols, e.g. [64, 32] or [\'T\', \'B\', 10]', o.inputShape);
  }
  const layers: unknown[] = module.children().length > 0 ? module.children() : [module];
  const input: readonly ShapeDim[] | null = o.inputShape !== undefined ? [...o.inputShape] : module.inputShapeHint();
  const rows: Array<[string, string, string]> = [];
  let shape: ShapeDim[] | null = input === null ? null : [...input];
  layers.forEach((l, i) => {
    shape = shape !== null && l instanceof ModuleBase ? l.outputShape(shape) : null;
    const name = layers.length === 1 && l === module ? reprOf(l).split('\n')[0] : `(${i}) ${reprOf(l).split('\n')[0]}`;
    rows.push([name, formatShape(shape), paramCount(l).toLocaleString('en-US')]);
  });
  const head: [string, string, string] = ['Layer (type)', 'Output shape', 'Param #'];
  const w = [0, 1, 2].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)));
  const line = (r: readonly string[]): string => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
  const rule = (c: string): string => c.repeat(w[0] + w[1] + w[2] + 4);
  const total = paramCount(module).toLocaleString('en-US');
  return [
    `${module.toSpec().type} (input ${formatShape(input)})`,
    rule('_'),
    line(head),
    rule('='),
    ...rows.map(line),
    rule('='),
    `Total params: ${total}`,
    `Trainable params: ${total}`,
    'Non-trainable params: 0',
  ].join('\n');
}

/**
 * The shared implementation of {@link Module}: names, state dicts (strict and
 * non-strict loading), gradients, modes, saving, repr, summary and
 * `console.log` output. Subclasses provide `parameters()`, `toSpec()`,
 * `outputShape()`, `extraRepr()` and `forward`/`backward` (sync and async).
 */
export abstract class ModuleBase {
  /** True in training mode (dropout active), false after `eval()`. */
  training = true;

  /** Every parameter, in state-dict order. */
  abstract parameters(): Parameter[];

  /** The architecture as JSON (what model files store). */
  abstract toSpec(): ModuleSpec;

  /** The output shape for an input shape (symbolic axes allowed), or null when unknown. */
  abstract outputShape(inputShape: readonly ShapeDim[]): ShapeDim[] | null;

  /** The arguments shown in the repr, PyTorch's `extra_repr()`: `32, 256, num_layers=2`. */
  abstract extraRepr(): string;

  /**
   * The symbolic input shape `summary()` starts from when given none (e.g. `['T', 'B', 32]`),
   * or null (the default) when unknown.
   *
   * @param _batchFirst - Whether the surrounding model is batch-first.
   */
  inputShapeHint(_batchFirst?: boolean): ShapeDim[] | null {
    return null;
  }

  /** `[name, parameter]` pairs, as PyTorch's `named_parameters()`. */
  namedParameters(): Array<[string, Parameter]> {
    return this.parameters().map((p) => [p.name, p]);
  }

  /** Total number of parameter values. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + numel(p.shape), 0);
  }

  /** The direct submodules (none for a layer). */
  children(): Module[] {
    return [];
  }

  /** This module and every submodule, depth first. */
  modules(): Module[] {
    return [this as unknown as Module, ...this.children().flatMap((c) => (typeof c.modules === 'function' ? c.modules() : [c]))];
  }

  /** Weights by name, sharing the module's memory. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const p of this.parameters()) out[p.name] = { data: p.data, shape: p.shape };
    return out;
  }

  /** Gradients by name, sharing the module's memory. */
  gradStateDict(): StateDict {
    const out: StateDict = {};
    for (const p of this.parameters()) out[p.name] = { data: p.grad, shape: p.shape };
    return out;
  }

  /**
   * Copies weights in; everything is checked first, so a failed load changes nothing.
   * Strict by default (a missing or unexpected key is a RangeError naming it); with
   * `{ strict: false }` the matching keys load and the others are reported.
   */
  loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    return loadStateDictInto(this.parameters(), stateDict, options);
  }

  /** Zeroes every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }

  /** Training mode (default) or evaluation mode, for this module and its submodules. */
  train(mode = true): this {
    const m = checkBool('mode', mode);
    this.training = m;
    for (const c of this.children()) c.train(m);
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Saves the architecture and weights as safetensors, atomically; read back with `loadModel(path)`. */
  async save(path: string): Promise<void> {
    await saveModel(this as unknown as Module, path);
  }

  /** PyTorch's repr, e.g. `Linear(in_features=256, out_features=65, bias=True)`. */
  toString(): string {
    return `${this.toSpec().type}(${this.extraRepr()})`;
  }

  /** A Keras-like table: layers, output shapes, parameter counts and totals. */
  summary(options?: SummaryOptions): string {
    return summaryTable(this, options);
  }

  /** @internal `console.log(module)` and `util.inspect` print the repr, not the weights. */
  [inspectCustom](): string {
    return this.toString();
  }
}
