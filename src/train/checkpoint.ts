/**
 * fit's checkpoints: the model, optimizer, scheduler and generators (through
 * ./checkpoint_file's saveCheckpoint, written atomically) plus fit's position inside the epoch
 * (batch, TBPTT chunk and carried state, the epoch's running sums, early stopping's state),
 * so that `resumeFrom` continues an interrupted run bit for bit.
 */
import { FormatError } from '../io/safetensors.js';
import type { JsonValue } from '../io/model_file.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint_file.js';
import type { Sequential } from '../nn/sequential.js';
import type { LRScheduler } from '../optim/lr_scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Rng, RngState } from '../random.js';
import { rangeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { MetricSums } from './metrics.js';

/** @internal A recurrent layer's carried state: a tensor, or `{ h, c }` for an LSTM (whatever Sequential.lastStates returns). */
export type CarriedState = ReturnType<Sequential['lastStates']>[number];

const isTensor = (v: unknown): v is Tensor => v !== null && typeof v === 'object' && (v as Tensor).data instanceof Float32Array;

/** @internal A deep copy of carried states. */
export function copyStates(states: readonly CarriedState[]): CarriedState[] {
  const copy = (t: Tensor): Tensor => ({ data: Float32Array.from(t.data), shape: [...t.shape] });
  return states.map((s) => {
    if (isTensor(s)) return copy(s) as CarriedState;
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(s as object)) out[k] = copy(v as Tensor);
    return out as unknown as CarriedState;
  });
}

/** @internal Early stopping's running state. */
export interface EarlyState {
  best: number;
  wait: number;
  bestEpoch: number | null;
  /** The best epoch's parameter values, in model.parameters() order (restoreBestWeights). */
  bestWeights: Float32Array[] | null;
}

/** @internal Where fit stands, beyond what the model, optimizer and scheduler hold. */
export interface FitPosition {
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  /** The shuffling generator's state at the start of the current epoch (its order is drawn from it). */
  epochRng: RngState;
  /** Batches of the current epoch fully done. */
  batch: number;
  /** TBPTT chunks of the current batch done (0 between batches). */
  chunk: number;
  /** The state carried into the next chunk (chunk > 0 with carryState). */
  states: CarriedState[] | null;
  /** The current epoch's running loss sum and step count. */
  epochLoss: { sum: number; count: number };
  /** The current epoch's metric sums. */
  epochMetrics: MetricSums;
  /** The current batch's chunk losses so far (sum, count) and metric sums (for onBatchEnd). */
  batchLoss: { sum: number; count: number };
  batchMetrics: MetricSums;
  /** Early stopping's state (null without early stopping). */
  early: EarlyState | null;
  /** What the run was: refused on resume when the data or batching differ. */
  fingerprint: { size: number; batchSize: number; tbptt: number | null; shuffle: boolean };
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function unb64(s: unknown, where: string, source: string): Float32Array {
  if (typeof s !== 'string') throw bad(source, `${where} is not base64 text`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 4 !== 0) throw bad(source, `${where} is not a whole number of float32 values`);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
/** Numbers as JSON (NaN and ±Infinity as strings). */
const num = (x: number): JsonValue => (Number.isFinite(x) ? x : String(x));
function unnum(v: unknown, where: string, source: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  throw bad(source, `${where} is not a number`);
}
function bad(source: string, what: string): FormatError {
  return new FormatError(`${source}: the fit position in the checkpoint is invalid: ${what}`, source);
}

function sumsToJson(s: MetricSums): JsonValue {
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(s)) if (v) out[k] = [num(v.sum), v.count];
  return out;
}
function sumsFromJson(v: unknown, where: string, source: string): MetricSums {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(source, `${where} is not an object`);
  const out: MetricSums = {};
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    if ((k !== 'accuracy' && k !== 'mae') || !Array.isArray(e) || e.length !== 2) throw bad(source, `${where}.${k} is not [sum, count]`);
    out[k] = { sum: unnum(e[0], `${where}.${k}`, source), count: unnum(e[1], `${where}.${k}`, source) };
  }
  return out;
}

const tensorToJson = (t: Tensor): JsonValue => ({ shape: [...t.shape], data: b64(t.data) });
function stateToJson(s: CarriedState): JsonValue {
  if (isTensor(s)) return tensorToJson(s);
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(s as object)) out[k] = tensorToJson(v as Tensor);
  return { parts: out };
}
function tensorFromJson(v: unknown, where: string, src: string, int: (v: unknown, where: string) => number): Tensor {
  const e = v as { shape?: unknown; data?: unknown } | null;
  if (e === null || typeof e !== 'object' || !Array.isArray(e.shape)) throw bad(src, `${where}.shape is not an array`);
  const shape = e.shape.map((d, k) => int(d, `${where}.shape[${k}]`));
  const data = unb64(e.data, `${where}.data`, src);
  if (data.length !== shape.reduce((a, b) => a * b, 1)) throw bad(src, `${where} does not match its shape`);
  return { data, shape };
}
function stateFromJson(v: unknown, where: string, src: string, int: (v: unknown, where: string) => number): CarriedState {
  const e = v as { parts?: unknown } | null;
  if (e !== null && typeof e === 'object' && e.parts !== undefined) {
    if (e.parts === null || typeof e.parts !== 'object') throw bad(src, `${where}.parts is not an object`);
    const out: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(e.parts as Record<string, unknown>)) out[k] = tensorFromJson(t, `${where}.parts.${k}`, src, int);
    return out as unknown as CarriedState;
  }
  return tensorFromJson(v, where, src, int) as CarriedState;
}

function positionToJson(p: FitPosition): JsonValue {
  return {
    version: 1,
    batch: p.batch,
    chunk: p.chunk,
    states: p.states ? p.states.map(stateToJson) : null,
    epochLoss: [num(p.epochLoss.sum), p.epochLoss.count],
    epochMetrics: sumsToJson(p.epochMetrics),
    batchLoss: [num(p.batchLoss.sum), p.batchLoss.count],
    batchMetrics: sumsToJson(p.batchMetrics),
    early: p.early
      ? { best: num(p.early.best), wait: p.early.wait, bestEpoch: p.early.bestEpoch, bestWeights: p.early.bestWeights ? p.early.bestWeights.map(b64) : null }
      : null,
    fingerprint: { ...p.fingerprint },
  };
}

/** @internal Writes a fit checkpoint atomically. */
export async function saveFitCheckpoint(
  path: string, model: Sequential, optimizer: Optimizer, scheduler: LRScheduler | null, p: FitPosition, extra: { [key: string]: JsonValue } = {},
): Promise<void> {
  await saveCheckpoint(path, {
    model,
    optimizer,
    ...(scheduler ? { scheduler } : {}),
    step: p.step,
    epoch: p.epoch,
    rng: p.epochRng,
    extra: { ...extra, fit: positionToJson(p) },
  });
}

/**
 * @internal Restores a fit checkpoint into the model, optimizer, scheduler and generator
 * (nothing changes when it does not match) and returns the position.
 */
export async function loadFitCheckpoint(
  path: string, model: Sequential, optimizer: Optimizer, scheduler: LRScheduler | null, rng: Rng, expect: FitPosition['fingerprint'],
): Promise<FitPosition> {
  // Check the position before restoring anything: read it through a throwaway load first.
  const probe = await loadCheckpoint(path);
  const f = probe.extra.fit;
  const src = path;
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw bad(src, 'it holds no fit position (it was not written by fit with options.checkpoint)');
  const j = f as { [k: string]: JsonValue };
  if (j.version !== 1) throw bad(src, `unknown version ${JSON.stringify(j.version)}`);
  const fp = j.fingerprint as Record<string, unknown> | null;
  if (fp === null || typeof fp !== 'object') throw bad(src, 'no fingerprint');
  const diffs: string[] = [];
  if (fp.size !== expect.size) diffs.push(`${fp.size} training examples (now ${expect.size})`);
  if (fp.batchSize !== expect.batchSize) diffs.push(`batchSize ${fp.batchSize} (now ${expect.batchSize})`);
  if (fp.tbptt !== expect.tbptt) diffs.push(`tbptt ${fp.tbptt ?? 'off'} (now ${expect.tbptt ?? 'off'})`);
  if (fp.shuffle !== expect.shuffle) diffs.push(`shuffle ${fp.shuffle} (now ${expect.shuffle})`);
  if (diffs.length > 0) throw rangeError('options.resumeFrom', 'a checkpoint of a run with the same data and batching', `one written with ${diffs.join(', ')}`);
  const int = (v: unknown, where: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(src, `${where} is not a non-negative integer`);
    return v;
  };
  const pair = (v: unknown, where: string): { sum: number; count: number } => {
    if (!Array.isArray(v) || v.length !== 2) throw bad(src, `${where} is not [sum, count]`);
    return { sum: unnum(v[0], where, src), count: int(v[1], where) };
  };
  if (j.states !== null && !Array.isArray(j.states)) throw bad(src, 'states is neither null nor a list');
  const states = j.states === null ? null : j.states.map((e, i) => stateFromJson(e, `states[${i}]`, src, int));
  let early: EarlyState | null = null;
  if (j.early !== null && j.early !== undefined) {
    const e = j.early as Record<string, unknown>;
    const nParams = model.parameters().length;
    const bw = e.bestWeights === null ? null : Array.isArray(e.bestWeights) ? e.bestWeights.map((w, i) => unb64(w, `early.bestWeights[${i}]`, src)) : null;
    if (bw && bw.length !== nParams) throw bad(src, `early.bestWeights holds ${bw.length} tensors for ${nParams} parameters`);
    const params = model.parameters();
    bw?.forEach((w, i) => {
      if (w.length !== params[i].data.length) throw bad(src, `early.bestWeights[${i}] has ${w.length} values for the ${params[i].data.length} of '${params[i].name}'`);
    });
    early = { best: unnum(e.best, 'early.best', src), wait: int(e.wait, 'early.wait'), bestEpoch: e.bestEpoch === null ? null : int(e.bestEpoch, 'early.bestEpoch'), bestWeights: bw };
  }
  const position: FitPosition = {
    epoch: probe.epoch,
    step: probe.step,
    epochRng: probe.rng ?? (() => { throw bad(src, 'no generator state'); })(),
    batch: int(j.batch, 'batch'),
    chunk: int(j.chunk, 'chunk'),
    states,
    epochLoss: pair(j.epochLoss, 'epochLoss'),
    epochMetrics: sumsFromJson(j.epochMetrics, 'epochMetrics', src),
    batchLoss: pair(j.batchLoss, 'batchLoss'),
    batchMetrics: sumsFromJson(j.batchMetrics, 'batchMetrics', src),
    early,
    fingerprint: expect,
  };
  // Now restore (loadCheckpoint validates the model, optimizer and scheduler before changing any).
  await loadCheckpoint(path, { model, optimizer, ...(scheduler ? { scheduler } : {}), rng });
  return position;
}
