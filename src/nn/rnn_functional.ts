/**
 * The stateless functional form of the recurrent layers (RNN, LSTM, GRU: the
 * configuration's `mode`): weights in, outputs and a tape out; the tape and output gradients in, input and weight gradients out.
 * The RNN module is a thin owner of weights around these functions.
 *
 * Each pass is planned as a sequence of native calls, one per layer (its
 * one or two directions together: the addon decides how they share the
 * cores); the sync and async drivers run the same plan. Long-lived buffers
 * (workspaces, and the modules' parameters) live in native-owned memory,
 * which async calls use in place and keep alive until they finish. Fresh
 * per-call buffers are native-owned for async calls too, but plain typed
 * arrays for sync ones: native blocks are freed by finalizers that Node runs
 * only when the event loop turns, so a long synchronous loop would pile them up.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { GATED_STORE_BLOCKS, native, nativeFloats, NativeActivation, NativeCell, type BackwardDirection, type ForwardDirection } from '../native/binding.js';
import { freshFloats, freshNativeFloats } from '../native/fresh.js';
import type { NativeJob } from '../native/job.js';
import type { Rng } from '../random.js';
import { checkTensor, type Tensor } from '../tensor.js';
import { checkFinite, MAX_ELEMENTS } from '../validate.js';
import { isRnnConfig, layerInputSize, layerSuffix, numDirections, rnnConfig, rnnParameterShapes, type GatedOptions, type RnnConfig, type RnnMode, type RnnOptions } from './rnn_config.js';

/** Weights by PyTorch state-dict name. */
export type RnnWeights = Readonly<Record<string, Tensor>>;

/** Options of a forward pass. */
export interface RnnForwardOptions {
  /** Initial state [L*D, B, H] (default zeros). */
  h0?: Tensor;
  /** LSTM only: initial cell state [L*D, B, H] (default zeros). */
  c0?: Tensor;
  /** Per-batch sequence lengths in 1..T (packed-sequence semantics). */
  seqLengths?: ArrayLike<number>;
  /** Training mode: applies dropout between layers (default false). */
  training?: boolean;
  /**
   * No backward will follow (PyTorch's `torch.no_grad()`): LSTM and GRU layers keep no per-step
   * gate store, so a forward pass needs O(B·H) memory per layer instead of O(T·B·4H). Backward on
   * the tape of such a pass throws (default false).
   */
  noGrad?: boolean;
  /** Generator for dropout masks (required when training with dropout > 0). */
  rng?: Rng;
  /** Scratch reused across calls (see RnnWorkspace). */
  workspace?: RnnWorkspace;
  /** @internal y in the workspace too (it is only read before the next forward: a Sequential's inner layer). */
  reuseOutput?: boolean;
  /**
   * Check x, h0 and the weights for NaN/Infinity first and throw a RangeError
   * naming the tensor and index (default false: non-finite values propagate,
   * as in PyTorch).
   */
  checkFinite?: boolean;
}

/** What a tape holds (module-private: only backward reads it). */
interface TapeData {
  readonly cfg: RnnConfig;
  readonly T: number;
  readonly B: number;
  readonly h0: Float32Array | null;
  readonly c0: Float32Array | null;
  readonly lengths: Int32Array | null;
  /** The forward pass ran with noGrad: nothing was kept for BPTT. */
  readonly noGrad: boolean;
  readonly weights: Readonly<Record<string, Float32Array>>;
  /** Input of each layer, time-major. */
  readonly inputs: Float32Array[];
  /** Output of each layer, time-major [T,B,D*H] (the BPTT cache). */
  readonly outputs: Float32Array[];
  /** Gated cells: each layer's gate store, [D][T*B, 4H] (the BPTT cache). */
  readonly gates: Float32Array[];
  /** LSTM: each layer's cell states, [D][T*B, H]. */
  readonly cells: Float32Array[];
  /** Dropout mask applied to layer k's output (scaled keep mask), or null. */
  readonly masks: Array<Float32Array | null>;
}

let readTape: (tape: RnnTape) => TapeData;

/**
 * Everything a backward pass needs from its forward pass: an opaque handle
 * (its contents are private; the sequence lengths in it are a copy made when
 * the forward pass began).
 */
export class RnnTape {
  readonly #data: TapeData;

  /** @internal Made by rnnForward. */
  constructor(data: TapeData) {
    this.#data = data;
  }

  /** Time steps of the forward pass. */
  get T(): number {
    return this.#data.T;
  }

  /** Batch size of the forward pass. */
  get B(): number {
    return this.#data.B;
  }

  static {
    readTape = (tape) => {
      if (!(tape instanceof RnnTape)) throw typeError('tape', 'the RnnTape of a forward pass', tape);
      return tape.#data;
    };
  }
}

/** Result of a forward pass. */
export interface RnnForwardResult {
  /** Output sequence [T,B,D*H] ([B,T,D*H] if batchFirst). */
  y: Tensor;
  /** Final states [L*D,B,H]. */
  hN: Tensor;
  /** LSTM only: final cell states [L*D,B,H]. */
  cN?: Tensor;
  /** What backward needs. */
  tape: RnnTape;
}

/** Gradients flowing into a backward pass; omitted ones are zero. */
export interface RnnOutputGrads {
  /** d loss / d y, same shape as y. */
  gy?: Tensor | null;
  /** d loss / d hN, [L*D,B,H]. */
  ghN?: Tensor | null;
  /** LSTM only: d loss / d cN, [L*D,B,H]. */
  gcN?: Tensor | null;
}

/** Options of a backward pass. */
export interface RnnBackwardOptions {
  /** Compute the gradient of the input x (default true; skip it when x is data). */
  inputGrad?: boolean;
  /**
   * Also return {@link RnnBackwardResult.stateGradNorms}: ‖∂L/∂h_t‖ at every step of every layer
   * and direction, from the per-step gradients BPTT computes anyway (default false).
   */
  traceStates?: boolean;
  /** Scratch reused across calls (see RnnWorkspace). */
  workspace?: RnnWorkspace;
  /** @internal gx in the workspace too (consumed at once by the layer before: inside a Sequential). */
  reuseInputGrad?: boolean;
}

/** Result of a backward pass (parameter gradients accumulate into the buffers given). */
export interface RnnBackwardResult {
  /** d loss / d x (null when inputGrad is false). */
  gx: Tensor | null;
  /** d loss / d h0, [L*D,B,H]. */
  gh0: Tensor;
  /** LSTM only: d loss / d c0, [L*D,B,H]. */
  gc0?: Tensor;
  /**
   * With `traceStates`: for row `layer * numDirections + direction`, entry t is the norm over the
   * batch and hidden units of the whole gradient reaching h_t (the loss's own at t plus what flows
   * back from later steps); zero where every sequence has ended.
   */
  stateGradNorms?: Float64Array[];
}

/**
 * Reusable scratch for repeated calls on one model: intermediate layer
 * outputs, BPTT workspaces and inner gradients are taken from here instead of
 * being allocated per call. Buffers handed to the caller (y, hN, gx, gh0) are
 * always fresh. A workspace must not be shared by calls that overlap in time,
 * and a forward's tape is only valid until the next forward with the same
 * workspace.
 */
export class RnnWorkspace {
  private readonly buffers = new Map<string, Float32Array>();

  /** A buffer of at least `size` floats for `key` (contents undefined). */
  take(key: string, size: number): Float32Array {
    let b = this.buffers.get(key);
    if (!b || b.length < size) {
      b = freshNativeFloats(size);
      this.buffers.set(key, b);
      return b.subarray(0, size);
    }
    return b.subarray(0, size);
  }

  /** Drops every buffer (they are garbage-collected). */
  clear(): void {
    this.buffers.clear();
  }
}

/** How a pass allocates its fresh buffers (see the file comment). */
type Alloc = (size: number) => Float32Array;
/**
 * A pass's allocators: `zeros` for the small state blocks, `full` for buffers the pass writes
 * in full before anything reads them (no zero-fill pass: W5's 13 MB output cost 7-9% of its
 * forward). Workspace buffers come back with a previous call's contents, so every buffer taken
 * by key is of the second kind.
 */
interface Memory {
  readonly zeros: Alloc;
  readonly full: Alloc;
}
const JS_MEMORY: Memory = { zeros: (size) => new Float32Array(size), full: freshFloats };
const NATIVE_MEMORY: Memory = { zeros: nativeFloats, full: freshNativeFloats };

type Take = (key: string, size: number) => Float32Array;

function taker(ws: RnnWorkspace | undefined, mem: Memory): Take {
  return ws ? (key, size) => ws.take(key, size) : (_key, size) => mem.full(size);
}

/**
 * One native call: a whole layer, its one or two directions. `sync`: the plan reads the call's
 * results before its next call (dropout masks, traces, a batch-first copy), so the async driver
 * must run it before resuming the plan; other calls are sent on together.
 */
type LayerCall = { kind: 'forward'; dirs: ForwardDirection[]; sync: boolean } | { kind: 'backward'; dirs: BackwardDirection[]; sync: boolean };
/** A plan: the layers' native calls, run one after the other. */
type Plan<R> = Generator<LayerCall, R, void>;

function runSync<R>(plan: Plan<R>): R {
  for (;;) {
    const step = plan.next();
    if (step.done) return step.value;
    const call = step.value;
    if (call.kind === 'forward') native.forwardLayer(call.dirs);
    else native.backwardLayer(call.dirs);
  }
}

// Consecutive calls the plan does not read in between go to the pool as one job
// (native.layersAsync): every job is two thread wake-ups (the worker's, then the main
// thread's), each up to a scheduler slice on a busy machine, so a stack's pass costs one
// hand-off instead of one per layer. (Between two calls of a run the plan only allocates
// buffers no pending call touches.)
async function runAsync<R>(plan: Plan<R>): Promise<R> {
  let pending: LayerCall[] = [];
  const flush = async (): Promise<void> => {
    const calls = pending;
    pending = [];
    if (calls.length === 1) {
      const call = calls[0];
      if (call.kind === 'forward') await native.forwardLayerAsync(call.dirs);
      else await native.backwardLayerAsync(call.dirs);
    } else if (calls.length > 1) {
      await native.layersAsync(calls.map((c) => (c.kind === 'forward' ? { backward: false, dirs: c.dirs } : { backward: true, dirs: c.dirs })));
    }
  };
  for (;;) {
    const step = plan.next();
    if (step.done) {
      await flush();
      return step.value;
    }
    pending.push(step.value);
    if (step.value.sync) await flush();
  }
}

// Queues every call of a plan in a job that runs later (a training step's one job). Only plans
// without sync points can: their results are not read until the job has run.
function runInto<R>(plan: Plan<R>, job: NativeJob): R {
  for (;;) {
    const step = plan.next();
    if (step.done) return step.value;
    const call = step.value;
    if (call.sync) throw new Error('internal: a recurrent pass with a sync point was queued in a job (check rnnDeferrable first)');
    job.push(call.kind === 'forward' ? { backward: false, dirs: call.dirs } : { backward: true, dirs: call.dirs });
  }
}

/**
 * @internal Whether a forward pass in this mode and its backward (without traces) can be queued
 * in a job: neither reads a call's results before its next call (no dropout between layers, no
 * batch-first copy).
 */
export function rnnDeferrable(cfg: RnnConfig, training: boolean): boolean {
  return !cfg.batchFirst && !(training && cfg.dropout > 0 && cfg.numLayers > 1);
}

/** [A,B,F] -> [B,A,F] copy (batch-first <-> time-major). */
export function swapLeadingAxes(src: Float32Array, A: number, B: number, F: number): Float32Array {
  const out = freshFloats(src.length); // every row is copied below
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      out.set(src.subarray((a * B + b) * F, (a * B + b + 1) * F), (b * A + a) * F);
    }
  }
  return out;
}

/** Checks the weights against the configuration; returns their buffers by name. */
export function checkRnnWeights(cfg: RnnConfig, weights: unknown, name = 'weights'): Record<string, Float32Array> {
  if (weights === null || typeof weights !== 'object') throw typeError(name, 'a record of Tensors keyed by state-dict name', weights);
  const out: Record<string, Float32Array> = {};
  const shapes = rnnParameterShapes(cfg);
  for (const [key, shape] of shapes) {
    const t = (weights as Record<string, unknown>)[key];
    if (t === undefined) throw rangeError(name, `a tensor named '${key}'`, 'none');
    out[key] = checkTensor(`${name}.${key}`, t, shape).data;
  }
  return out;
}

/** Validates seqLengths (count B, each 1..T) into an Int32Array, or null when all are T. */
function checkLengths(value: ArrayLike<number> | undefined, T: number, B: number): Int32Array | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number') {
    throw typeError('seqLengths', `an array of ${B} integers in 1..${T}`, value);
  }
  if (value.length !== B) throw rangeError('seqLengths', `${B} entries (one per batch element)`, `${value.length} entries`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = value[b];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > T) {
      throw rangeError(`seqLengths[${b}]`, `an integer in 1..${T} (T)`, describe(v));
    }
    out[b] = v;
  }
  return out;
}

function* forwardPlan(cfg: RnnConfig, weights: Record<string, Float32Array>, x: Tensor, opts: RnnForwardOptions, mem: Memory): Plan<RnnForwardResult> {
  const { hiddenSize: H, numLayers: L } = cfg;
  const D = numDirections(cfg);
  const [T, B] = cfg.batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const xt = cfg.batchFirst ? swapLeadingAxes(x.data, B, T, cfg.inputSize) : x.data;
  // Initial states are copied (they are small): later layers' calls and backward read them
  // after the caller may already have reused or transferred the arrays.
  const h0 = opts.h0 ? copyInto(mem, opts.h0.data) : null;
  const c0 = opts.c0 ? copyInto(mem, opts.c0.data) : null;
  const lengths = checkLengths(opts.seqLengths, T, B);
  const act = cfg.nonlinearity === 'tanh' ? NativeActivation.Tanh : NativeActivation.Relu;
  const cell = nativeCell(cfg);
  const gated = cfg.mode !== 'RNN', lstm = cfg.mode === 'LSTM';
  const noGrad = opts.noGrad === true;
  const keepStore = gated && !noGrad;
  const dropping = opts.training === true && cfg.dropout > 0 && L > 1;
  if (dropping && !opts.rng) throw new TypeError('Expected an rng for dropout in training mode but received none');

  const take = taker(opts.workspace, mem);
  const hN = mem.zeros(L * D * B * H);
  const cN = lstm ? mem.zeros(L * D * B * H) : null;
  const inputs: Float32Array[] = [];
  const outputs: Float32Array[] = [];
  const gateStores: Float32Array[] = [];
  const cellStores: Float32Array[] = [];
  const store = T * B * GATED_STORE_BLOCKS * H;
  const masks: Array<Float32Array | null> = [];
  let input = xt;
  for (let k = 0; k < L; k++) {
    const I = layerInputSize(cfg, k);
    // The last layer's output goes to the caller: always fresh.
    const out = k === L - 1 && !(opts.reuseOutput && opts.workspace) ? mem.full(T * B * D * H) : take(`out${k}`, T * B * D * H);
    const gates = keepStore ? take(`gates${k}`, D * store) : null;
    const cells = lstm && keepStore ? take(`cells${k}`, D * T * B * H) : null;
    if (gates) gateStores.push(gates);
    if (cells) cellStores.push(cells);
    const dirs: ForwardDirection[] = [];
    for (let d = 0; d < D; d++) {
      const s = layerSuffix(k, d);
      const row = (k * D + d) * B * H;
      dirs.push({
        x: input,
        h0: h0 ? h0.subarray(row, row + B * H) : null,
        c0: c0 ? c0.subarray(row, row + B * H) : null,
        wIh: weights[`weight_ih_${s}`],
        wHh: weights[`weight_hh_${s}`],
        bIh: cfg.bias ? weights[`bias_ih_${s}`] : null,
        bHh: cfg.bias ? weights[`bias_hh_${s}`] : null,
        lengths,
        y: out.subarray(d * H),
        hN: hN.subarray(row, row + B * H),
        gates: gates ? gates.subarray(d * store, (d + 1) * store) : null,
        cells: cells ? cells.subarray(d * T * B * H, (d + 1) * T * B * H) : null,
        cN: cN ? cN.subarray(row, row + B * H) : null,
        T, B, I, H, ld: D * H, cell, act, reverse: d === 1,
      });
    }
    inputs.push(input);
    // Read next: a dropout mask's input, or (last layer) the batch-first copy of y.
    yield { kind: 'forward', dirs, sync: (dropping && k < L - 1) || (k === L - 1 && cfg.batchFirst) };
    outputs.push(out);
    let mask: Float32Array | null = null;
    if (dropping && k < L - 1) {
      mask = dropoutMask(out.length, cfg.dropout, opts.rng as Rng);
      const dropped = take(`dropped${k}`, out.length);
      for (let i = 0; i < out.length; i++) dropped[i] = out[i] * mask[i];
      input = dropped;
    } else {
      input = out;
    }
    masks.push(mask);
  }
  const last = outputs[L - 1];
  const y = cfg.batchFirst ? swapLeadingAxes(last, T, B, D * H) : last;
  const result: RnnForwardResult = {
    y: { data: y, shape: cfg.batchFirst ? [B, T, D * H] : [T, B, D * H] },
    hN: { data: hN, shape: [L * D, B, H] },
    tape: new RnnTape({ cfg, T, B, h0, c0, lengths, noGrad, weights: { ...weights }, inputs, outputs, gates: gateStores, cells: cellStores, masks }),
  };
  if (cN) result.cN = { data: cN, shape: [L * D, B, H] };
  return result;
}

function copyInto(mem: Memory, src: Float32Array): Float32Array {
  const out = mem.full(src.length);
  out.set(src);
  return out;
}

/** The kernels' cell code: the GRU with resetAfter false is its own cell (the reset gate before the recurrent product). */
function nativeCell(cfg: RnnConfig): NativeCell {
  if (cfg.mode === 'GRU') return cfg.resetAfter === false ? NativeCell.GruResetBefore : NativeCell.Gru;
  return cfg.mode === 'LSTM' ? NativeCell.Lstm : NativeCell.Elman;
}

/** ‖trace(t)‖ over [B, H] for every t, in float64. */
function stepNorms(trace: Float32Array, T: number, BH: number): Float64Array {
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    for (let i = t * BH; i < (t + 1) * BH; i++) sum += trace[i] * trace[i];
    out[t] = Math.sqrt(sum);
  }
  return out;
}

function dropoutMask(n: number, p: number, rng: Rng): Float32Array {
  const mask = new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) mask[i] = rng.uniform() < p ? 0 : keep;
  return mask;
}

function* backwardPlan(
  tape: TapeData,
  grads: RnnOutputGrads,
  paramGrads: Record<string, Float32Array>,
  opts: RnnBackwardOptions,
  mem: Memory,
): Plan<RnnBackwardResult> {
  const { cfg, T, B } = tape;
  const { hiddenSize: H, numLayers: L } = cfg;
  const D = numDirections(cfg);
  const act = cfg.nonlinearity === 'tanh' ? NativeActivation.Tanh : NativeActivation.Relu;
  const gy = grads.gy ? (cfg.batchFirst ? swapLeadingAxes(grads.gy.data, B, T, D * H) : grads.gy.data) : null;
  // Copied as h0 is in forward: lower layers' calls read them later.
  const ghN = grads.ghN ? copyInto(mem, grads.ghN.data) : null;
  const gcN = grads.gcN ? copyInto(mem, grads.gcN.data) : null;
  const take = taker(opts.workspace, mem);
  const gh0 = mem.zeros(L * D * B * H);
  const lstm = cfg.mode === 'LSTM';
  const gc0 = lstm ? mem.zeros(L * D * B * H) : null;
  const cell = nativeCell(cfg);
  const workSize = native.backwardWorkspaceSize(T, B, 1, H, cell);
  const work = Array.from({ length: D }, (_, d) => take(`work${d}`, workSize));
  const inputGrad = opts.inputGrad !== false;
  const traces = opts.traceStates === true ? Array.from({ length: D }, (_, d) => take(`trace${d}`, T * B * H)) : null;
  const norms: Float64Array[] = new Array<Float64Array>(L * D);
  const store = T * B * GATED_STORE_BLOCKS * H;

  let dOut: Float32Array | null = gy;
  let dx: Float32Array | null = null;
  for (let k = L - 1; k >= 0; k--) {
    const I = layerInputSize(cfg, k);
    // The kernel writes dx (dxAssign: its first direction's GEMM with beta 0) rather than adding
    // into it, so a reused buffer needs no zeroing pass here. One per layer: layer k - 1 reads it.
    // Layer 0's goes to the caller and is fresh.
    dx = k > 0 ? take(`dx${k}`, T * B * I) : !inputGrad ? null : opts.reuseInputGrad && opts.workspace ? take('gx', T * B * I) : mem.full(T * B * I);
    const dirs: BackwardDirection[] = [];
    for (let d = 0; d < D; d++) {
      const s = layerSuffix(k, d);
      const row = (k * D + d) * B * H;
      dirs.push({
        dx,
        dxAssign: true,
        dh0: gh0.subarray(row, row + B * H),
        dc0: gc0 ? gc0.subarray(row, row + B * H) : null,
        trace: traces ? traces[d] : null,
        dwIh: paramGrads[`weight_ih_${s}`],
        dwHh: paramGrads[`weight_hh_${s}`],
        dbIh: cfg.bias ? paramGrads[`bias_ih_${s}`] : null,
        dbHh: cfg.bias ? paramGrads[`bias_hh_${s}`] : null,
        work: work[d],
        y: tape.outputs[k].subarray(d * H),
        gates: cfg.mode !== 'RNN' ? tape.gates[k].subarray(d * store, (d + 1) * store) : null,
        cells: lstm ? tape.cells[k].subarray(d * T * B * H, (d + 1) * T * B * H) : null,
        h0: tape.h0 ? tape.h0.subarray(row, row + B * H) : null,
        c0: tape.c0 ? tape.c0.subarray(row, row + B * H) : null,
        dy: dOut ? dOut.subarray(d * H) : null,
        dhN: ghN ? ghN.subarray(row, row + B * H) : null,
        dcN: gcN ? gcN.subarray(row, row + B * H) : null,
        x: tape.inputs[k],
        wIh: tape.weights[`weight_ih_${s}`],
        wHh: tape.weights[`weight_hh_${s}`],
        lengths: tape.lengths,
        T, B, I, H, ld: D * H, cell, act, reverse: d === 1,
      });
    }
    // Read next: traces, a dropout mask applied to dx, or (layer 0) the batch-first copy of gx.
    yield { kind: 'backward', dirs, sync: traces !== null || (k > 0 && tape.masks[k - 1] !== null) || (k === 0 && cfg.batchFirst && dx !== null) };
    if (traces) for (let d = 0; d < D; d++) norms[k * D + d] = stepNorms(traces[d], T, B * H);
    if (k > 0) {
      const mask = tape.masks[k - 1];
      if (mask && dx) for (let i = 0; i < dx.length; i++) dx[i] *= mask[i];
      dOut = dx;
    }
  }
  let gx: Tensor | null = null;
  if (dx) {
    gx = cfg.batchFirst
      ? { data: swapLeadingAxes(dx, T, B, cfg.inputSize), shape: [B, T, cfg.inputSize] }
      : { data: dx, shape: [T, B, cfg.inputSize] };
  }
  const result: RnnBackwardResult = { gx, gh0: { data: gh0, shape: [L * D, B, H] } };
  if (gc0) result.gc0 = { data: gc0, shape: [L * D, B, H] };
  if (traces) result.stateGradNorms = norms;
  return result;
}

function checkAllFinite(x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, weights: Record<string, Float32Array>): void {
  checkFinite('x.data', x.data);
  if (h0) checkFinite('h0.data', h0.data);
  if (c0) checkFinite('c0.data', c0.data);
  for (const [name, data] of Object.entries(weights)) checkFinite(name, data);
}

/** Checks x, h0 and the forward options against the configuration. */
function checkForwardInputs(cfg: RnnConfig, x: unknown, opts: RnnForwardOptions | undefined): RnnForwardOptions {
  const o = opts ?? {};
  if (typeof o !== 'object') throw typeError('options', 'an options object', o);
  for (const key of Object.keys(o)) {
    if (!['h0', 'c0', 'seqLengths', 'training', 'noGrad', 'rng', 'checkFinite', 'workspace', 'reuseOutput'].includes(key)) {
      throw rangeError('options', "only 'h0', 'c0', 'seqLengths', 'training', 'noGrad', 'rng', 'checkFinite', 'workspace'", `an unknown option '${key}'`);
    }
  }
  if (o.noGrad !== undefined && typeof o.noGrad !== 'boolean') throw typeError('options.noGrad', 'a boolean', o.noGrad);
  const layout = cfg.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]';
  const t = checkTensor('x', x, [-1, -1, cfg.inputSize], `${layout} with inputSize ${cfg.inputSize}`);
  if (t.shape[0] < 1 || t.shape[1] < 1) throw rangeError('x.shape', `${layout} with T >= 1 and B >= 1`, `[${t.shape.join(', ')}]`);
  const B = cfg.batchFirst ? t.shape[0] : t.shape[1];
  const T = cfg.batchFirst ? t.shape[1] : t.shape[0];
  const outputs = T * B * numDirections(cfg) * cfg.hiddenSize;
  if (outputs > MAX_ELEMENTS) {
    throw rangeError('x.shape', `T*B*numDirections*hiddenSize of at most ${MAX_ELEMENTS} (the output's size)`, `[${t.shape.join(', ')}] giving ${outputs}`);
  }
  const LD = cfg.numLayers * numDirections(cfg);
  const stateShape = `numLayers*numDirections = ${LD}, batch ${B}, hiddenSize ${cfg.hiddenSize}`;
  if (o.h0 !== undefined && o.h0 !== null) checkTensor('h0', o.h0, [LD, B, cfg.hiddenSize], stateShape);
  if (o.c0 !== undefined && o.c0 !== null) {
    if (cfg.mode !== 'LSTM') throw typeError('c0', `no c0: ${modeName(cfg.mode)} has no cell state (only LSTM takes c0)`, o.c0);
    checkTensor('c0', o.c0, [LD, B, cfg.hiddenSize], stateShape);
  }
  return o;
}

function modeName(mode: RnnMode): string {
  return mode === 'RNN' ? 'an RNN' : `a ${mode}`;
}

/**
 * The forward pass borrowed x (no copy): detached or resized since, it is an Error naming it,
 * not a failure deep inside the plan.
 */
function checkBorrowed(tape: TapeData): void {
  const { cfg, T, B } = tape;
  const borrowed: Array<[string, Float32Array | null, number]> = [['x', tape.inputs[0], T * B * cfg.inputSize]];
  for (const [name, data, n] of borrowed) {
    if (data !== null && data.length !== n) {
      throw new Error(`${name}, which the forward pass borrows until backward, has ${data.length} elements now instead of ${n} (its buffer was detached or transferred): keep it until backward returns`);
    }
  }
}

function checkBackwardInputs(tape: TapeData, grads: RnnOutputGrads | undefined): RnnOutputGrads {
  if (tape.noGrad) {
    throw new Error('backward: the forward pass ran with noGrad: true and kept nothing for backpropagation; run forward without noGrad to backpropagate');
  }
  checkBorrowed(tape);
  const g = grads ?? {};
  if (typeof g !== 'object') throw typeError('grads', tape.cfg.mode === 'LSTM' ? 'an object { gy?, ghN?, gcN? }' : 'an object { gy?, ghN? }', g);
  const { cfg, T, B } = tape;
  const D = numDirections(cfg);
  if (g.gy !== undefined && g.gy !== null) {
    checkTensor('gy', g.gy, cfg.batchFirst ? [B, T, D * cfg.hiddenSize] : [T, B, D * cfg.hiddenSize], 'the shape of y');
  }
  if (g.ghN !== undefined && g.ghN !== null) {
    checkTensor('ghN', g.ghN, [cfg.numLayers * D, B, cfg.hiddenSize], 'the shape of hN');
  }
  if (g.gcN !== undefined && g.gcN !== null) {
    if (cfg.mode !== 'LSTM') throw typeError('gcN', `no gcN: ${modeName(cfg.mode)} has no cell state (only LSTM takes gcN)`, g.gcN);
    checkTensor('gcN', g.gcN, [cfg.numLayers * D, B, cfg.hiddenSize], 'the shape of cN');
  }
  return g;
}

function checkParamGrads(cfg: RnnConfig, paramGrads: unknown): Record<string, Float32Array> {
  if (paramGrads === null || typeof paramGrads !== 'object') throw typeError('paramGrads', 'a record of Float32Array gradients', paramGrads);
  const out: Record<string, Float32Array> = {};
  for (const [key, shape] of rnnParameterShapes(cfg)) {
    const g = (paramGrads as Record<string, unknown>)[key];
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(g instanceof Float32Array)) throw typeError(`paramGrads.${key}`, 'a Float32Array', g);
    if (g.length !== n) throw rangeError(`paramGrads.${key}`, `${n} elements`, `${g.length} elements`);
    out[key] = g;
  }
  return out;
}

/** A configuration as given to the functional API: made by rnnConfig (any mode), or RNN options. */
function functionalConfig(config: RnnConfig | RnnOptions | GatedOptions): RnnConfig {
  return isRnnConfig(config) ? config : rnnConfig(config);
}

/**
 * Runs a recurrent layer stack forward over whole sequences (synchronously, on the calling
 * thread). `config` is RNN options, or any configuration made by `rnnConfig(options, mode)`
 * (e.g. `rnnConfig({ inputSize, hiddenSize }, 'LSTM')`).
 */
export function rnnForward(config: RnnConfig | RnnOptions, weights: RnnWeights, x: Tensor, opts?: RnnForwardOptions): RnnForwardResult {
  const cfg = functionalConfig(config);
  return rnnForwardChecked(cfg, checkRnnWeights(cfg, weights), x, opts);
}

/**
 * As rnnForward, with the native work on the libuv thread pool. The arrays passed in may be used,
 * changed or even transferred meanwhile without harm to the process (they are held or copied), but
 * changing them before it settles gives an undefined result.
 */
export async function rnnForwardAsync(config: RnnConfig | RnnOptions, weights: RnnWeights, x: Tensor, opts?: RnnForwardOptions): Promise<RnnForwardResult> {
  const cfg = functionalConfig(config);
  return rnnForwardCheckedAsync(cfg, checkRnnWeights(cfg, weights), x, opts);
}

/** @internal rnnForward for a module whose configuration and weights are valid by construction. */
export function rnnForwardChecked(cfg: RnnConfig, weights: Record<string, Float32Array>, x: Tensor, opts?: RnnForwardOptions): RnnForwardResult {
  const o = checkForwardInputs(cfg, x, opts);
  if (o.checkFinite) checkAllFinite(x, o.h0, o.c0, weights);
  return runSync(forwardPlan(cfg, weights, x, o, JS_MEMORY));
}

/** @internal rnnForwardAsync for a module whose configuration and weights are valid by construction. */
export async function rnnForwardCheckedAsync(cfg: RnnConfig, weights: Record<string, Float32Array>, x: Tensor, opts?: RnnForwardOptions): Promise<RnnForwardResult> {
  const o = checkForwardInputs(cfg, x, opts);
  if (o.checkFinite) checkAllFinite(x, o.h0, o.c0, weights);
  return runAsync(forwardPlan(cfg, weights, x, o, NATIVE_MEMORY));
}

/**
 * Backpropagation through time. Parameter gradients are accumulated (+=) into
 * `paramGrads` (keyed by state-dict name), as PyTorch accumulates `.grad`.
 */
export function rnnBackward(tape: RnnTape, grads: RnnOutputGrads | undefined, paramGrads: Record<string, Float32Array>, opts: RnnBackwardOptions = {}): RnnBackwardResult {
  const t = readTape(tape);
  return rnnBackwardChecked(tape, grads, checkParamGrads(t.cfg, paramGrads), opts);
}

/** As rnnBackward, with the native work on the libuv thread pool. */
export async function rnnBackwardAsync(tape: RnnTape, grads: RnnOutputGrads | undefined, paramGrads: Record<string, Float32Array>, opts: RnnBackwardOptions = {}): Promise<RnnBackwardResult> {
  const t = readTape(tape);
  return rnnBackwardCheckedAsync(tape, grads, checkParamGrads(t.cfg, paramGrads), opts);
}

/** @internal rnnBackward with gradient buffers valid by construction (a module's own). */
export function rnnBackwardChecked(tape: RnnTape, grads: RnnOutputGrads | undefined, paramGrads: Record<string, Float32Array>, opts: RnnBackwardOptions = {}): RnnBackwardResult {
  const t = readTape(tape);
  return runSync(backwardPlan(t, checkBackwardInputs(t, grads), paramGrads, opts, JS_MEMORY));
}

/** @internal rnnBackwardAsync with gradient buffers valid by construction (a module's own). */
export async function rnnBackwardCheckedAsync(tape: RnnTape, grads: RnnOutputGrads | undefined, paramGrads: Record<string, Float32Array>, opts: RnnBackwardOptions = {}): Promise<RnnBackwardResult> {
  const t = readTape(tape);
  return runAsync(backwardPlan(t, checkBackwardInputs(t, grads), paramGrads, opts, NATIVE_MEMORY));
}

/**
 * @internal rnnForwardChecked queued in `job`: the result's buffers are written when the job runs
 * (rnnDeferrable must hold).
 */
export function rnnForwardInto(cfg: RnnConfig, weights: Record<string, Float32Array>, x: Tensor, opts: RnnForwardOptions, job: NativeJob): RnnForwardResult {
  const o = checkForwardInputs(cfg, x, opts);
  if (o.checkFinite) checkAllFinite(x, o.h0, o.c0, weights);
  return runInto(forwardPlan(cfg, weights, x, o, NATIVE_MEMORY), job);
}

/** @internal rnnBackwardChecked queued in `job` (after the forward whose tape it is; no traces). */
export function rnnBackwardInto(tape: RnnTape, grads: RnnOutputGrads, paramGrads: Record<string, Float32Array>, opts: RnnBackwardOptions, job: NativeJob): RnnBackwardResult {
  const t = readTape(tape);
  return runInto(backwardPlan(t, checkBackwardInputs(t, grads), paramGrads, opts, NATIVE_MEMORY), job);
}
