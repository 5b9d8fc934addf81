/**
 * Model files, as safetensors (the file layer: it knows no layer, no optimizer and no
 * training loop; modules are rebuilt through the registry of `./registry.ts`).
 *
 * Tensors are named as the model's state dict (`weight_ih_l0` for an RNN;
 * `0.weight`, `1.weight_ih_l0`, ... for a Sequential), so PyTorch's
 * `load_state_dict(safetensors.torch.load_file(path))` reads the weights. The
 * `__metadata__` string map holds:
 *
 * - `format`: `"rnnblas"`, `version`: `"1"`, `kind`: `"model"` or `"checkpoint"`;
 * - `model`: the architecture as JSON, e.g.
 *   `{"type":"Sequential","layers":[{"type":"Embedding","numEmbeddings":65,"embeddingDim":16},{"type":"RNN","config":{...}},{"type":"Linear","inFeatures":128,"outFeatures":65,"bias":true}]}`;
 * - `extra`: the caller's JSON (e.g. a vocabulary), when given.
 *
 * A checkpoint (`kind: "checkpoint"`, written and read by `train/checkpoint_file.ts`) is a
 * model file with a `checkpoint` metadata entry and optimizer tensors named
 * `optim.<parameter>.<buffer>`; this module reads its model ({@link loadModel} accepts one)
 * and hands the rest to the checkpoint reader through {@link parseModelFile}.
 *
 * Every file is written atomically (a failed save leaves the previous file).
 */
import { cappedList, describe, typeError } from '../errors.js';
import type { Module, ModuleSpec } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import { moduleFromSpec, registeredModuleTypes, specParameterShapes } from './registry.js';
import { FormatError, decodeSafetensorsHeader, decodeSafetensorsTensors, encodeSafetensors, writeFileAtomic, type SafetensorsHeader } from './safetensors.js';
import fsp from 'node:fs/promises';

/** The file format version this module writes and reads. */
export const MODEL_FILE_VERSION = 1;

/**
 * The architecture of a model, as stored in a file: a {@link ModuleSpec} (`module.toSpec()`),
 * e.g. `{ type: 'RNN', config: { inputSize: 10, hiddenSize: 20, ... } }` or
 * `{ type: 'Sequential', layers: [...] }`.
 */
export type ModelSpec = ModuleSpec;

/** The architecture of one layer of a Sequential, as stored in a file (a {@link ModuleSpec}). */
export type LayerSpec = ModuleSpec;

/** JSON-serialisable values (for `extra`). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A module class, for `loadModel(path, { expect: RNN })`: the loaded model must be an
 * instance of it (checked at run time), and is typed as one.
 */
export type ModuleClass<M extends Module = Module> = abstract new (...args: never[]) => M;

/** What {@link loadModel} returns. */
export interface LoadedModel<M extends Module = Module> {
  /** The rebuilt model with the saved weights (in training mode, as a new module). */
  readonly model: M;
  /** The `extra` saved with it ({} when none). */
  readonly extra: { [key: string]: JsonValue };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const MODULE_EXPECTED = 'a module (an RNN, a Sequential, a Linear, an Embedding, ...)';

function isModule(v: unknown): v is Module {
  const m = v as Partial<Module> | null;
  return m !== null && typeof m === 'object' && typeof m.toSpec === 'function' && typeof m.stateDict === 'function' && typeof m.loadStateDict === 'function' && typeof m.parameters === 'function';
}

/**
 * The architecture of a model, as saved in files (`model.toSpec()`).
 *
 * @param model - A module (an RNN, a Sequential of built-in layers, ...).
 * @returns Its description.
 * @throws TypeError for something that is not a module, or a Sequential holding a custom layer.
 */
export function modelSpec(model: Module): ModelSpec {
  if (!isModule(model)) throw typeError('model', MODULE_EXPECTED, model);
  return model.toSpec();
}

/**
 * Builds a model (with fresh weights) from its description, through the module registry.
 *
 * @param spec - A description from {@link modelSpec} (or a file).
 * @returns A new module of the described kind.
 * @throws TypeError / RangeError naming the bad field (an unregistered type is a RangeError listing the registered ones).
 */
export function buildModel(spec: ModelSpec): Module {
  return moduleFromSpec(spec, 'spec');
}

/** @internal A module argument, checked (a TypeError naming `name` otherwise). */
export function checkModelArg(name: string, model: unknown): Module {
  if (!isModule(model)) throw typeError(name, MODULE_EXPECTED, model);
  return model;
}

/** @internal A path argument: a non-empty string. */
export function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path', 'a non-empty string', path);
  return path;
}

/** @internal The `extra` argument as JSON text (null when absent); a TypeError if it is not a JSON-serialisable object. */
export function checkExtra(name: string, extra: unknown): string | null {
  if (extra === undefined) return null;
  if (!isRecord(extra)) throw typeError(name, 'a JSON-serialisable object', extra);
  let text: string;
  try {
    text = JSON.stringify(extra);
  } catch (err) {
    throw typeError(name, `a JSON-serialisable object (${(err as Error).message})`, extra);
  }
  return text;
}

/** @internal The metadata every rnnblas file starts with: format, version, kind, the architecture, the extra JSON. */
export function baseMetadata(model: Module, kind: 'model' | 'checkpoint', extra: string | null): Record<string, string> {
  const meta: Record<string, string> = { format: 'rnnblas', version: String(MODEL_FILE_VERSION), kind, model: JSON.stringify(modelSpec(model)) };
  if (extra !== null) meta.extra = extra;
  return meta;
}

/**
 * The bytes of a model file (see the module comment for the layout).
 *
 * @param model - A module (its `toSpec()` and `stateDict()` are written).
 * @param extra - Optional JSON-serialisable data stored alongside (e.g. `{ vocab: vocab.chars }`).
 * @returns The safetensors bytes.
 */
export function encodeModel(model: Module, extra?: { [key: string]: JsonValue }): Uint8Array {
  const m = checkModelArg('model', model);
  return encodeSafetensors(m.stateDict(), baseMetadata(m, 'model', checkExtra('extra', extra)));
}

/**
 * Saves a model's architecture and weights to a safetensors file, atomically.
 *
 * @param model - A module (its `toSpec()` and `stateDict()` are written).
 * @param path - The file to create or replace.
 * @param extra - Optional JSON-serialisable data stored alongside.
 */
export async function saveModel(model: Module, path: string, extra?: { [key: string]: JsonValue }): Promise<void> {
  const p = checkPath(path);
  await writeFileAtomic(p, encodeModel(model, extra));
}

/**
 * Default of the `maxParameters` load option: the most float32 parameters (weights and biases,
 * summed over the model) a file's architecture may declare, 2^28 = 268,435,456 (1 GiB of
 * float32). The models rnnblas trains have thousands to a few million.
 */
export const DEFAULT_MAX_PARAMETERS = 2 ** 28;

/** How deeply the JSON in a metadata entry (`model`, `checkpoint`, `extra`) may nest. */
export const MAX_METADATA_JSON_DEPTH = 64;

/** Options of {@link loadModel} and {@link decodeModel}. */
export interface LoadModelOptions<M extends Module = Module> {
  /**
   * The most parameters the file's architecture may declare (default
   * {@link DEFAULT_MAX_PARAMETERS}); checked before any model is built.
   */
  maxParameters?: number;
  /**
   * The class the model must be (e.g. `RNN`, `Sequential`): a file holding another kind is a
   * FormatError saying what it holds, and the result is typed `LoadedModel<RNN>`.
   */
  expect?: ModuleClass<M>;
}

/** @internal A decoded and checked rnnblas file: the model is built and holds the file's weights. */
export interface ParsedModelFile {
  readonly spec: ModelSpec;
  readonly model: Module;
  readonly weights: Record<string, Tensor>;
  /** The checkpoint's `optim.*` tensors (empty for a model file). */
  readonly rest: Record<string, Tensor>;
  readonly metadata: Record<string, string>;
  readonly extra: { [key: string]: JsonValue };
}

/** Whether JSON text nests deeper than `max` (a scan that ignores brackets inside strings). */
function nestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** @internal A metadata entry parsed as JSON (depth-capped); a FormatError naming `source` otherwise. */
export function parseJsonField(meta: Record<string, string>, key: string, source: string): unknown {
  const text = meta[key];
  if (text === undefined) throw new FormatError(`${source}: the metadata has no '${key}' entry (not an rnnblas file, or a damaged one)`, source);
  if (nestsDeeper(text, MAX_METADATA_JSON_DEPTH)) {
    throw new FormatError(`${source}: the metadata entry '${key}' nests deeper than ${MAX_METADATA_JSON_DEPTH} levels`, source);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${source}: the metadata entry '${key}' is not valid JSON (${String((err as Error).message).slice(0, 200)})`, source);
  }
}

/**
 * The parameters (state-dict names and shapes) a model description declares, checked without
 * allocating anything (each registered kind checks its own fields).
 */
function specParameters(spec: unknown): Array<[string, number[]]> {
  return specParameterShapes(spec, 'spec');
}

function shapeText(shape: readonly number[]): string {
  return `[${cappedList(shape)}]`;
}

/**
 * Checks the header's tensors against the parameters the architecture declares: every
 * parameter present with its shape, nothing else (a checkpoint may add `optim.<parameter>.<buffer>`
 * tensors of the parameter's shape). Lists of names in messages are capped.
 */
function checkHeaderAgainstSpec(header: SafetensorsHeader, expected: ReadonlyArray<[string, number[]]>, checkpoint: boolean, source: string): void {
  const fail = (what: string): FormatError => new FormatError(`${source}: the weights do not fit the architecture in the metadata: ${what}`, source);
  const shapes = new Map<string, readonly number[]>(expected);
  const missing = expected.filter(([name]) => !Object.prototype.hasOwnProperty.call(header.tensors, name)).map(([name]) => name);
  if (missing.length > 0) throw fail(`missing keys: ${cappedList(missing)} (${missing.length} of the ${expected.length} parameters are not in the file)`);
  const unexpected: string[] = [];
  for (const [name, info] of Object.entries(header.tensors)) {
    let want = shapes.get(name);
    if (want === undefined && checkpoint && name.startsWith('optim.')) {
      const param = name.slice(6, name.lastIndexOf('.'));
      want = name.lastIndexOf('.') > 6 ? shapes.get(param) : undefined;
      if (want === undefined) {
        throw new FormatError(`${source}: the checkpoint's optimizer tensor ${describe(name)} belongs to no parameter of the model`, source);
      }
    }
    if (want === undefined) {
      unexpected.push(describe(name));
      continue;
    }
    if (info.shape.length !== want.length || info.shape.some((d, k) => d !== want[k])) {
      throw fail(`tensor ${describe(name)} has shape ${shapeText(info.shape)} but the architecture needs ${shapeText(want)}`);
    }
  }
  if (unexpected.length > 0) throw fail(`unexpected keys: ${cappedList(unexpected)} (${unexpected.length} tensors the architecture does not have)`);
}

/** @internal Decodes and checks an rnnblas file: format, version, architecture, and that the weights fit it. */
export function parseModelFile(bytes: Uint8Array, source: string, maxParameters: number): ParsedModelFile {
  const header = decodeSafetensorsHeader(bytes, { source });
  const { metadata } = header;
  if (metadata.format !== 'rnnblas') {
    throw new FormatError(`${source}: not an rnnblas model file (metadata 'format' is ${metadata.format === undefined ? 'missing' : describe(metadata.format)}, expected "rnnblas")`, source);
  }
  if (metadata.version !== String(MODEL_FILE_VERSION)) {
    throw new FormatError(`${source}: unsupported rnnblas file version ${describe(metadata.version)} (this version reads ${MODEL_FILE_VERSION})`, source);
  }
  const spec = parseJsonField(metadata, 'model', source);
  // Everything about the architecture is checked before any model exists: its fields, its
  // total size against the budget, and the header's tensors against its parameters.
  let expected: Array<[string, number[]]>;
  try {
    expected = specParameters(spec);
  } catch (err) {
    throw new FormatError(`${source}: the architecture in the metadata is invalid: ${(err as Error).message}`, source);
  }
  const total = expected.reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
  if (total > maxParameters) {
    throw new FormatError(
      `${source}: the architecture in the metadata has ${total} parameters, more than the limit of ${maxParameters} (raise it with the maxParameters option)`,
      source,
    );
  }
  checkHeaderAgainstSpec(header, expected, metadata.kind === 'checkpoint', source);
  let extra: { [key: string]: JsonValue } = {};
  if (metadata.extra !== undefined) {
    const e = parseJsonField(metadata, 'extra', source);
    if (!isRecord(e)) throw new FormatError(`${source}: the metadata entry 'extra' is not a JSON object`, source);
    extra = e as { [key: string]: JsonValue };
  }
  let model: Module;
  try {
    model = buildModel(spec as ModelSpec);
  } catch (err) {
    throw new FormatError(`${source}: the architecture in the metadata is invalid: ${(err as Error).message}`, source);
  }
  const tensors = decodeSafetensorsTensors(bytes, header);
  const weights: Record<string, Tensor> = {};
  const rest: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (metadata.kind === 'checkpoint' && name.startsWith('optim.')) rest[name] = t;
    else weights[name] = t;
  }
  try {
    model.loadStateDict(weights);
  } catch (err) {
    throw new FormatError(`${source}: the weights do not fit the architecture in the metadata: ${(err as Error).message}`, source);
  }
  return { spec: spec as ModelSpec, model, weights, rest, metadata, extra };
}

/** @internal The `maxParameters` option, checked (default {@link DEFAULT_MAX_PARAMETERS}). */
export function checkMaxParameters(name: string, value: unknown): number {
  return value === undefined ? DEFAULT_MAX_PARAMETERS : checkInt(name, value, 1, Number.MAX_SAFE_INTEGER);
}

/**
 * Rebuilds a model from the bytes of a model file (or a checkpoint).
 *
 * The whole header is checked before any model is built: the safetensors structure (every
 * tensor's bytes inside the file), the architecture in the metadata, its parameter count
 * against `options.maxParameters`, and every tensor's presence and shape.
 *
 * @param bytes - The file's contents.
 * @param source - Names the bytes in error messages (default 'bytes').
 * @param options - `maxParameters` (default {@link DEFAULT_MAX_PARAMETERS}).
 * @returns The model and its extra data.
 * @throws FormatError (naming the source) for anything that is not a valid rnnblas file.
 */
export function decodeModel<M extends Module = Module>(bytes: Uint8Array, source = 'bytes', options?: LoadModelOptions<M>): LoadedModel<M> {
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array', bytes);
  if (typeof source !== 'string') throw typeError('source', 'a string', source);
  const o = checkOptions<LoadModelOptions<M>>('options', options, ['maxParameters', 'expect']);
  const expect = checkExpect<M>(o.expect);
  const p = parseModelFile(bytes, source, checkMaxParameters('options.maxParameters', o.maxParameters));
  return { model: expected(p, expect, source), extra: p.extra };
}

function checkExpect<M extends Module>(expect: unknown): ModuleClass<M> | undefined {
  if (expect !== undefined && typeof expect !== 'function') throw typeError('options.expect', 'a module class (e.g. RNN or Sequential)', expect);
  return expect as ModuleClass<M> | undefined;
}

function expected<M extends Module>(p: ParsedModelFile, expect: ModuleClass<M> | undefined, source: string): M {
  if (expect !== undefined && !(p.model instanceof expect)) {
    throw new FormatError(`${source}: the file holds a ${describe(p.spec.type)} model, not the ${expect.name || 'expected class'} of options.expect`, source);
  }
  return p.model as M;
}

/**
 * Loads a model saved by {@link saveModel} (or `model.save`, or the model of a checkpoint):
 * rebuilds the architecture from the metadata through the module registry and loads the
 * weights (see {@link decodeModel} for what is checked before anything is allocated).
 *
 * @param path - The file.
 * @param options - `maxParameters` (default {@link DEFAULT_MAX_PARAMETERS}); `expect`, a module
 *   class the model must be: `loadModel(path, { expect: Sequential })` resolves to
 *   `LoadedModel<Sequential>`. Without it the model is a {@link Module}: narrow it with
 *   `instanceof`.
 * @returns `{ model, extra }`.
 * @throws FormatError (naming the path and what is wrong) for a damaged or foreign file, or a
 *   model that is not an `expect`.
 */
export async function loadModel<M extends Module = Module>(path: string, options?: LoadModelOptions<M>): Promise<LoadedModel<M>> {
  const p = checkPath(path);
  const o = checkOptions<LoadModelOptions<M>>('options', options, ['maxParameters', 'expect']);
  const max = checkMaxParameters('options.maxParameters', o.maxParameters);
  const expect = checkExpect<M>(o.expect);
  return decodeModel<M>(await fsp.readFile(p), p, { maxParameters: max, expect });
}
