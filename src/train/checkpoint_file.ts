/**
 * The checkpoint file format: a model file (see `io/model_file.ts`, so `loadModel` reads a
 * checkpoint's model too) whose `kind` is `"checkpoint"`, plus
 *
 * - a `checkpoint` metadata entry: JSON with the step, epoch, RNG states (the training
 *   loop's and every RNN layer's dropout generator), the optimizer's type, hyper-parameters
 *   and per-parameter steps and buffer names, and the scheduler state;
 * - the optimizer buffers, as F32 tensors named `optim.<parameter>.<buffer>`
 *   (e.g. `optim.1.weight_hh_l0.expAvg`).
 *
 * Written atomically (a failed save leaves the previous file). fit's position inside an
 * epoch (for `resumeFrom`) is stored on top of this by `./checkpoint.ts`.
 */
import { rangeError, typeError } from '../errors.js';
import {
  baseMetadata, checkExtra, checkMaxParameters, checkModelArg, checkPath, modelSpec, parseJsonField, parseModelFile,
  type DEFAULT_MAX_PARAMETERS, type JsonValue, type ParsedModelFile, type loadModel,
} from '../io/model_file.js';
import { FormatError, encodeSafetensors, writeFileAtomic } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import { LRScheduler, type SchedulerState } from '../optim/lr_scheduler.js';
import { Optimizer, type HyperValue, type OptimizerState, type ParamStateDict } from '../optim/optimizer.js';
import { Rng, isValidRngState, type RngState } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import fsp from 'node:fs/promises';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

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

function parseCheckpointMeta(p: ParsedModelFile, source: string): CheckpointMeta {
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

  const parsed = parseModelFile(await fsp.readFile(src), src, maxParameters);
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
