/**
 * The module registry: how to rebuild a module from the description it gives
 * of itself (`module.toSpec()`), and which parameters a description declares.
 *
 * Each module kind registers itself when its file is loaded (`registerModule`
 * at the bottom of `nn/rnn.ts`, `nn/linear.ts`, ...), so the file code in
 * `io/` rebuilds models without importing any layer. The package entry
 * (`rnnblas`) loads every built-in kind; a custom module registers its own
 * kind to become loadable.
 */
import { describe, rangeError, typeError } from '../errors.js';
import type { Module, ModuleSpec } from '../nn/module.js';

/** Parameter names and shapes, in the module's `parameters()` order. */
export type ParameterShapes = Array<[string, number[]]>;

/** How a registered module kind checks and rebuilds a description of itself. */
export interface ModuleKind {
  /** The `type` field of its descriptions (e.g. `'RNN'`). */
  readonly type: string;
  /**
   * The parameters a description declares, computed without allocating anything (files are
   * checked against it before any module is built). Throws a TypeError / RangeError naming
   * the bad field (prefixed with `where`).
   *
   * @param spec - The description (a JSON object with this kind's `type`).
   * @param where - Its name in error messages (e.g. `spec.layers[1]`).
   * @param shapesOf - The same check for a nested description (containers use it for their children).
   */
  parameterShapes(spec: Readonly<Record<string, unknown>>, where: string, shapesOf: (child: unknown, where: string) => ParameterShapes): ParameterShapes;
  /**
   * A new module (freshly initialised weights; the loader then copies the file's weights in).
   *
   * @param spec - The description (already checked by `parameterShapes`).
   * @param where - Its name in error messages.
   * @param build - Builds a nested description (containers use it for their children).
   */
  fromSpec(spec: Readonly<Record<string, unknown>>, where: string, build: (child: unknown, where: string) => Module): Module;
}

const kinds = new Map<string, ModuleKind>();

/**
 * Registers a module kind, so that `loadModel` / `buildModel` rebuild its descriptions.
 * Registering the same kind again is a no-op; another kind under a taken `type` is refused.
 *
 * @param kind - The kind: its `type`, `parameterShapes` and `fromSpec`.
 * @throws TypeError for a malformed kind; RangeError when the type is taken by another kind.
 */
export function registerModule(kind: ModuleKind): void {
  if (kind === null || typeof kind !== 'object') throw typeError('kind', 'a module kind { type, parameterShapes, fromSpec }', kind);
  if (typeof kind.type !== 'string' || kind.type.length === 0) throw typeError('kind.type', 'a non-empty string', kind.type);
  if (typeof kind.parameterShapes !== 'function') throw typeError('kind.parameterShapes', 'a function', kind.parameterShapes);
  if (typeof kind.fromSpec !== 'function') throw typeError('kind.fromSpec', 'a function', kind.fromSpec);
  const old = kinds.get(kind.type);
  if (old !== undefined && old !== kind) throw rangeError('kind.type', 'a module type not registered yet', describe(kind.type));
  kinds.set(kind.type, kind);
}

/** The registered module types, in registration order. */
export function registeredModuleTypes(): string[] {
  return [...kinds.keys()];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(spec: unknown, where: string): [ModuleKind, Record<string, unknown>] {
  if (!isRecord(spec)) throw typeError(where, 'a module description { type, ... }', spec);
  const type = spec.type;
  const kind = typeof type === 'string' ? kinds.get(type) : undefined;
  if (kind === undefined) {
    const known = registeredModuleTypes().map((t) => `'${t}'`).join(', ');
    throw rangeError(`${where}.type`, `a registered module type (one of ${known || 'none: import rnnblas to register the built-in modules'})`, describe(type));
  }
  return [kind, spec];
}

/**
 * The parameters (names and shapes) a description declares, checked field by field without
 * allocating anything.
 *
 * @param spec - A description (from `module.toSpec()` or a file).
 * @param where - Its name in error messages (default `spec`).
 * @throws TypeError / RangeError naming the bad field.
 */
export function specParameterShapes(spec: unknown, where = 'spec'): ParameterShapes {
  const [kind, s] = kindOf(spec, where);
  return kind.parameterShapes(s, where, specParameterShapes);
}

/**
 * Builds a module (with fresh weights) from a description.
 *
 * @param spec - A description (from `module.toSpec()` or a file).
 * @param where - Its name in error messages (default `spec`).
 * @throws TypeError / RangeError naming the bad field.
 */
export function moduleFromSpec(spec: ModuleSpec | unknown, where = 'spec'): Module {
  const [kind, s] = kindOf(spec, where);
  kind.parameterShapes(s, where, specParameterShapes);
  return kind.fromSpec(s, where, moduleFromSpec);
}
