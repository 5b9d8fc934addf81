/**
 * Model files and training checkpoints, as safetensors.
 *
 * Tensors are named as the model's state dict (`weight_ih_l0` for an RNN;
 * `0.weight`, `1.weight_ih_l0`, ... for a Sequential), so PyTorch's
 * `load_state_dict(safetensors.torch.load_file(path))` reads the weights. The
 * `__metadata__` string map holds:
 *
 * - `format`: `"rnnblas"`, `version`: `"1"`, `kind`: `"model"` or `"checkpoint"`;
 * - `model`: the architecture as JSON, e.g.
 *   `{"type":"Sequential","layers":[{"type":"Embedding","numEmbeddings":65,"embeddingDim":16},{"type":"RNN","config":{...}},{"type":"Linear","inFeatures":128,"outFeatures":65,"bias":true}]}`;
 * - `extra`: the caller's JSON (e.g. a vocabulary), when given;
 * - checkpoints only, `checkpoint`: JSON with the step, epoch, RNG states, the
 *   optimizer's type, hyper-parameters and per-parameter steps and buffer names,
 *   and the scheduler state. The optimizer buffers are F32 tensors named
 *   `optim.<parameter>.<buffer>` (e.g. `optim.1.weight_hh_l0.expAvg`).
 *
 * Every file is written atomically (a failed save leaves the previous file).
 */
import { cappedList, describe, rangeError, typeError } from '../errors.js';
import type { Module, ModuleSpec } from '../nn/module.js';
import { LRScheduler, type SchedulerState } from '../optim/lr_scheduler.js';
import { Optimizer, type HyperValue, type OptimizerState, type ParamStateDict } from '../optim/optimizer.js';
import { Rng, isValidRngState, type RngState } from '../random.js';
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

/** Paths where two JSON values differ, e.g. `layers[1].config.hiddenSize is 16 in the checkpoint but 8 in the model`. */
function differences(saved: unknown, given: unknown, path: string, out: string[]): void {
  if (Array.isArray(saved) && Array.isArray(given)) {
    if (saved.length !== given.length) {
      out.push(`${path || 'the model'} has ${saved.length} entries in the checkpoint but ${given.length} in the model`);
      return;
    }
    saved.forEach((s, i) => differences(s, given[i], `${path}[${i}]`, out));
    return;
  }
  if (isRecord(saved) && isRecord(given)) {
    for (const k of new Set([...Object.keys(saved), ...Object.keys(given)])) differences(saved[k], given[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (saved !== given) out.push(`${path || 'the model'} is ${JSON.stringify(saved)} in the checkpoint but ${JSON.stringify(given)} in the model`);
}

function checkModelArg(name: string, model: unknown): Module {
  if (!isModule(model)) throw typeError(name, MODULE_EXPECTED, model);
  return model;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path', 'a non-empty string', path);
  return path;
}

function checkExtra(name: string, extra: unknown): string | null {
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

function baseMetadata(model: Module, kind: 'model' | 'checkpoint', extra: string | null): Record<string, string> {
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

interface Parsed {
  readonly spec: ModelSpec;
  readonly model: Module;
  readonly weights: Record<string, Tensor>;
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

function parseJsonField(meta: Record<string, string>, key: string, source: string): unknown {
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

/** Decodes and checks an rnnblas file: format, version, architecture, and that the weights fit it. */
function parseFile(bytes: Uint8Array, source: string, maxParameters: number): Parsed {
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

function checkMaxParameters(name: string, value: unknown): number {
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
  const p = parseFile(bytes, source, checkMaxParameters('options.maxParameters', o.maxParameters));
  return { model: expected(p, expect, source), extra: p.extra };
}

function checkExpect<M extends Module>(expect: unknown): ModuleClass<M> | undefined {
  if (expect !== undefined && typeof expect !== 'function') throw typeError('options.expect', 'a module class (e.g. RNN or Sequential)', expect);
  return expect as ModuleClass<M> | undefined;
}

function expected<M extends Module>(p: Parsed, expect: ModuleClass<M> | undefined, source: string): M {
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

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/** What goes into a checkpoint. */
export interface CheckpointContents {
  /** The model (weights, architecture and the dropout generators of its RNN layers). */
  model: Module;
  /** The optimizer (hyper-parameters and per-parameter state). */
  optimizer?: Optimizer;
  /** A learning-rate scheduler. */
  scheduler?: LRScheduler;
  /** Optimizer steps done. */
  step: number;
  /** Epochs done (default 0). */
  epoch?: number;
  /** The training loop's generator (e.g. fit's `rng`), or its state. */
  rng?: Rng | RngState;
  /** JSON-serialisable data stored alongside. */
  extra?: { [key: string]: JsonValue };
}

/** Options of {@link loadCheckpoint}: objects to restore into (each optional). */
export interface LoadCheckpointOptions {
  /** Restore the weights into this model (its architecture must match); else a new model is built. */
  model?: Module;
  /** Restore this optimizer's state (it must be of the saved type, over the same parameters). */
  optimizer?: Optimizer;
  /** Restore this scheduler's state. */
  scheduler?: LRScheduler;
  /** Set this generator to the saved RNG state. */
  rng?: Rng;
  /** The most parameters the file's architecture may declare (default {@link DEFAULT_MAX_PARAMETERS}). */
  maxParameters?: number;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The model: `options.model` with the saved weights, or a new one. */
  readonly model: Module;
  /** Optimizer steps done. */
  readonly step: number;
  /** Epochs done. */
  readonly epoch: number;
  /** The saved RNG state (null if none was saved). */
  readonly rng: RngState | null;
  /** The saved optimizer state (null if none was saved). */
  readonly optimizer: OptimizerState | null;
  /** The saved scheduler state (null if none was saved). */
  readonly scheduler: SchedulerState | null;
  /** The extra data ({} when none). */
  readonly extra: { [key: string]: JsonValue };
}

interface OptimizerMeta {
  type: string;
  hyper: Record<string, HyperValue>;
  state: Record<string, { step: number; buffers: string[] }>;
}

interface CheckpointMeta {
  step: number;
  epoch: number;
  rng: RngState | null;
  generators: RngState[];
  optimizer: OptimizerMeta | null;
  scheduler: SchedulerState | null;
}

/** The modules (this one and its submodules, depth first) with a dropout generator: RNN layers, in order. */
function recurrentOf(model: Module): Array<{ readonly generator: Rng }> {
  return model.modules().filter((m): m is Module & { readonly generator: Rng } => (m as { generator?: unknown }).generator instanceof Rng);
}

/**
 * Saves a training checkpoint atomically: the model (as a model file, so
 * {@link loadModel} reads it too), the optimizer state, the scheduler state, the
 * step and epoch, the training RNG state and every RNN layer's dropout generator.
 * Restoring all of them with {@link loadCheckpoint} continues the same trajectory
 * as an uninterrupted run.
 *
 * @param path - The file to create or replace.
 * @param contents - What to save.
 */
export async function saveCheckpoint(path: string, contents: CheckpointContents): Promise<void> {
  const p = checkPath(path);
  if (!isRecord(contents)) throw typeError('contents', 'an object { model, optimizer?, scheduler?, step, epoch?, rng?, extra? }', contents);
  const c = checkOptions<CheckpointContents>('contents', contents, ['model', 'optimizer', 'scheduler', 'step', 'epoch', 'rng', 'extra']);
  const model = checkModelArg('contents.model', c.model);
  const step = checkInt('contents.step', c.step, 0, Number.MAX_SAFE_INTEGER);
  const epoch = checkInt('contents.epoch', c.epoch ?? 0, 0, Number.MAX_SAFE_INTEGER);
  let rng: RngState | null = null;
  if (c.rng instanceof Rng) rng = c.rng.getState();
  else if (c.rng !== undefined) {
    // Validate a raw state the way Rng does.
    const probe = new Rng(0);
    probe.setState(c.rng as RngState);
    rng = probe.getState();
  }
  if (c.optimizer !== undefined && !(c.optimizer instanceof Optimizer)) throw typeError('contents.optimizer', 'an Optimizer', c.optimizer);
  if (c.scheduler !== undefined && !(c.scheduler instanceof LRScheduler)) throw typeError('contents.scheduler', 'an LRScheduler', c.scheduler);
  const extra = checkExtra('contents.extra', c.extra);

  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  let optimizer: OptimizerMeta | null = null;
  if (c.optimizer) {
    const own = new Set(Object.keys(tensors));
    const stranger = c.optimizer.params.find((q) => !own.has(q.name));
    if (stranger) throw rangeError('contents.optimizer', "an optimizer over the model's parameters", `one holding '${stranger.name}'`);
    const s = c.optimizer.stateDict();
    const state: OptimizerMeta['state'] = {};
    for (const [name, ps] of Object.entries(s.state)) {
      const shape = (tensors[name] as Tensor).shape;
      state[name] = { step: ps.step, buffers: Object.keys(ps.buffers) };
      for (const [b, values] of Object.entries(ps.buffers)) tensors[`optim.${name}.${b}`] = { data: Float32Array.from(values), shape };
    }
    optimizer = { type: s.type, hyper: { ...s.hyper }, state };
  }
  const meta: CheckpointMeta = {
    step,
    epoch,
    rng,
    generators: recurrentOf(model).map((r) => r.generator.getState()),
    optimizer,
    scheduler: c.scheduler ? c.scheduler.stateDict() : null,
  };
  const metadata = { ...baseMetadata(model, 'checkpoint', extra), checkpoint: JSON.stringify(meta) };
  await writeFileAtomic(p, encodeSafetensors(tensors, metadata));
}

function bad(source: string, what: string): FormatError {
  return new FormatError(`${source}: the checkpoint metadata is invalid: ${what}`, source);
}

function readState(v: unknown, source: string, what: string): RngState {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
    throw bad(source, `${what} is not four 32-bit integers`);
  }
  if (!isValidRngState(v)) throw bad(source, `${what} is the all-zero state, which a generator never leaves (every draw would be 0)`);
  return [v[0], v[1], v[2], v[3]];
}

function parseCheckpointMeta(p: Parsed, source: string): CheckpointMeta {
  if (p.metadata.kind !== 'checkpoint') throw new FormatError(`${source}: not a checkpoint (metadata 'kind' is ${JSON.stringify(p.metadata.kind)}): load it with loadModel`, source);
  const m = parseJsonField(p.metadata, 'checkpoint', source);
  if (!isRecord(m)) throw bad(source, "'checkpoint' is not a JSON object");
  const int = (k: string): number => {
    const v = m[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(source, `'${k}' is not a non-negative integer`);
    return v;
  };
  const gens = m.generators;
  const rnns = recurrentOf(p.model);
  if (!Array.isArray(gens) || gens.length !== rnns.length) throw bad(source, `'generators' is not a list of ${rnns.length} RNG states`);
  let optimizer: OptimizerMeta | null = null;
  if (m.optimizer !== null && m.optimizer !== undefined) {
    const o = m.optimizer;
    if (!isRecord(o) || typeof o.type !== 'string' || !isRecord(o.hyper) || !isRecord(o.state)) throw bad(source, "'optimizer' is not { type, hyper, state }");
    const state: OptimizerMeta['state'] = {};
    for (const [name, e] of Object.entries(o.state)) {
      if (!isRecord(e) || typeof e.step !== 'number' || !Array.isArray(e.buffers) || !e.buffers.every((b) => typeof b === 'string')) {
        throw bad(source, `optimizer state of '${name}' is not { step, buffers }`);
      }
      for (const b of e.buffers as string[]) {
        if (!(`optim.${name}.${b}` in p.rest)) throw new FormatError(`${source}: the checkpoint has no tensor 'optim.${name}.${b}' (listed in its metadata)`, source);
      }
      state[name] = { step: e.step, buffers: e.buffers as string[] };
    }
    optimizer = { type: o.type, hyper: o.hyper as Record<string, HyperValue>, state };
  }
  const listed = new Set(optimizer ? Object.entries(optimizer.state).flatMap(([n, e]) => e.buffers.map((b) => `optim.${n}.${b}`)) : []);
  const unlisted = Object.keys(p.rest).find((k) => !listed.has(k));
  if (unlisted) throw new FormatError(`${source}: the checkpoint has a tensor '${unlisted}' its metadata does not list`, source);
  const sched = m.scheduler;
  if (sched !== null && sched !== undefined && !isRecord(sched)) throw bad(source, "'scheduler' is not an object");
  return {
    step: int('step'),
    epoch: int('epoch'),
    rng: m.rng === null || m.rng === undefined ? null : readState(m.rng, source, "'rng'"),
    generators: gens.map((g, i) => readState(g, source, `generators[${i}]`)),
    optimizer,
    scheduler: (sched ?? null) as SchedulerState | null,
  };
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} and restores what it is
 * given: the weights and dropout generators into `model` (whose architecture must
 * match: a mismatch is a RangeError listing the differences), the optimizer and
 * scheduler states, and the RNG state. Everything is validated before anything is
 * changed.
 *
 * @param path - The checkpoint file.
 * @param options - `model`, `optimizer`, `scheduler`, `rng` to restore into (each optional).
 * @returns The model, step, epoch, RNG, optimizer and scheduler states and extra data.
 * @throws FormatError for a damaged or foreign file; RangeError when the given
 * model, optimizer or scheduler does not match the checkpoint.
 */
export async function loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const src = checkPath(path);
  const o = checkOptions<LoadCheckpointOptions>('options', options, ['model', 'optimizer', 'scheduler', 'rng', 'maxParameters']);
  const maxParameters = checkMaxParameters('options.maxParameters', o.maxParameters);
  const target = o.model === undefined ? null : checkModelArg('options.model', o.model);
  if (o.optimizer !== undefined && !(o.optimizer instanceof Optimizer)) throw typeError('options.optimizer', 'an Optimizer', o.optimizer);
  if (o.scheduler !== undefined && !(o.scheduler instanceof LRScheduler)) throw typeError('options.scheduler', 'an LRScheduler', o.scheduler);
  if (o.rng !== undefined && !(o.rng instanceof Rng)) throw typeError('options.rng', 'an Rng', o.rng);

  const parsed = parseFile(await fsp.readFile(src), src, maxParameters);
  const meta = parseCheckpointMeta(parsed, src);

  if (target) {
    const diffs: string[] = [];
    differences(parsed.spec, modelSpec(target), '', diffs);
    if (diffs.length > 0) {
      throw rangeError('options.model', "a model with the checkpoint's architecture", `a different model: ${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? `; and ${diffs.length - 5} more` : ''}`);
    }
  }
  let optimizerState: OptimizerState | null = null;
  if (meta.optimizer) {
    const state: Record<string, ParamStateDict> = {};
    for (const [name, e] of Object.entries(meta.optimizer.state)) {
      const buffers: Record<string, Float32Array> = {};
      for (const b of e.buffers) buffers[b] = parsed.rest[`optim.${name}.${b}`].data;
      state[name] = { step: e.step, buffers };
    }
    optimizerState = { type: meta.optimizer.type, hyper: meta.optimizer.hyper, state };
  }
  if (o.optimizer) {
    if (!optimizerState) throw rangeError('options.optimizer', 'no optimizer (the checkpoint holds no optimizer state)', `a ${o.optimizer.type}`);
    if (optimizerState.type !== o.optimizer.type) {
      throw rangeError('options.optimizer', `a ${optimizerState.type} optimizer (as saved in the checkpoint)`, `a ${o.optimizer.type}`);
    }
  }
  if (o.scheduler) {
    if (!meta.scheduler) throw rangeError('options.scheduler', 'no scheduler (the checkpoint holds no scheduler state)', `a ${o.scheduler.type}`);
    if (meta.scheduler.type !== o.scheduler.type) throw rangeError('options.scheduler', `a ${meta.scheduler.type} (as saved in the checkpoint)`, `a ${o.scheduler.type}`);
  }

  if (o.rng && !meta.rng) throw rangeError('options.rng', 'no generator (the checkpoint holds no RNG state)', 'an Rng');

  // Restore. The optimizer and scheduler each validate everything before changing anything;
  // if the scheduler refuses its state, the optimizer is put back, so a failed load changes
  // nothing. The weights were already checked against an identical architecture.
  if (o.optimizer && optimizerState) {
    const before = o.optimizer.stateDict();
    o.optimizer.loadStateDict(optimizerState);
    if (o.scheduler && meta.scheduler) {
      try {
        o.scheduler.loadStateDict(meta.scheduler);
      } catch (err) {
        o.optimizer.loadStateDict(before);
        throw err;
      }
    }
  } else if (o.scheduler && meta.scheduler) {
    o.scheduler.loadStateDict(meta.scheduler);
  }
  const model = target ?? parsed.model;
  if (target) target.loadStateDict(parsed.weights);
  recurrentOf(model).forEach((r, i) => r.generator.setState(meta.generators[i]));
  if (o.rng && meta.rng) o.rng.setState(meta.rng);
  return { model, step: meta.step, epoch: meta.epoch, rng: meta.rng, optimizer: optimizerState, scheduler: meta.scheduler, extra: parsed.extra };
}
