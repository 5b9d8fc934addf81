/**
 * ONNX export of an `RNN`, `LSTM` or `GRU`, or a `Sequential` built from
 * those and Linear, Embedding, LastStep and MergeDirections layers.
 *
 * Each recurrent layer becomes one ONNX `RNN`, `LSTM` or `GRU` node (layout 0)
 * with `W [D,G*H,I]`, `R [D,G*H,H]` and `B [D,2GH] = [b_ih | b_hh]` as
 * initializers, the gate blocks permuted from PyTorch's order to ONNX's (LSTM
 * i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h, written with `linear_before_reset=1`,
 * which is PyTorch's cell, or `linear_before_reset=0` for `GRU({ resetAfter: false })`); stacked layers
 * are joined by Transpose/Reshape (ONNX's `Y [T,D,B,H]` to the next layer's
 * `[T,B,D*H]`), and a batch-first model gets Transposes so the graph takes and
 * returns the batch-first layout. The graph is the model in evaluation mode
 * (no dropout).
 */
import { typeError, rangeError } from '../errors.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { Embedding } from '../nn/embedding.js';
import { LastStep } from '../nn/last_step.js';
import { Linear } from '../nn/linear.js';
import { MergeDirections } from '../nn/merge.js';
import type { GRU } from '../nn/gru.js';
import type { LSTM } from '../nn/lstm.js';
import { RNNBase } from '../nn/recurrent_base.js';
import type { RNN } from '../nn/rnn.js';
import { gateCount, layerInputSize, layerSuffix, numDirections } from '../nn/rnn_config.js';
import { Sequential } from '../nn/sequential.js';
import type { Tensor } from '../tensor.js';
import { checkBool, checkInt, checkOptions } from '../validate.js';
import {
  AttributeType,
  DataType,
  encodeModelProto,
  floatTensorProto,
  int64TensorProto,
  type IAttributeProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from './proto.js';
import { inverseOrder, ONNX_BLOCK_OF_TORCH, permuteGateBlocks } from './gated_native.js';
import { onnxError } from './errors.js';

/** Oldest ai.onnx opset `encodeOnnx` writes. */
export const MIN_EXPORT_OPSET = 11;
/** Newest ai.onnx opset `encodeOnnx` writes. */
export const MAX_EXPORT_OPSET = 22;
/** Default ai.onnx opset of `encodeOnnx`. */
export const DEFAULT_EXPORT_OPSET = 14;

/** Options of `encodeOnnx` and `exportOnnx`. */
export interface ExportOnnxOptions {
  /** The ai.onnx opset to write, 11..22 (default 14). */
  opsetVersion?: number;
  /** Add a graph input `sequence_lens` (int32 [batch], each in 1..T) used by every recurrent node and LastStep (default false). */
  sequenceLens?: boolean;
  /**
   * Add graph inputs for initial states: `initial_h` [L*D, batch, H] (and `initial_c` for an
   * LSTM) for a recurrent module, or one `initial_h_<j>` (and `initial_c_<j>` for an LSTM) per
   * recurrent layer of a Sequential (`initial_h`/`initial_c` when it has one) (default false).
   */
  initialH?: boolean;
}

/** The IR version that goes with an opset (the ONNX release that introduced it). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

type Dim = number | string;

const utf8 = new TextEncoder();

function attr(name: string, value: number | string | number[] | string[], kind: 'int' | 'float' = 'int'): IAttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: utf8.encode(value) };
  if (typeof value === 'number') {
    return kind === 'int' ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (value.length > 0 && typeof value[0] === 'string') return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => utf8.encode(s)) };
  return kind === 'int' ? { name, type: AttributeType.INTS, ints: value as number[] } : { name, type: AttributeType.FLOATS, floats: value as number[] };
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Accumulates nodes, initializers and value names for one graph. */
class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  readonly inputs: IValueInfoProto[] = [];
  readonly outputs: IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly opset: number) {}

  /** A fresh value name based on `base`. */
  fresh(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  node(op: string, inputs: readonly string[], outputs: number | readonly string[], attributes: IAttributeProto[] = []): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => this.fresh(`${op.toLowerCase()}_${this.nodes.length}${outputs > 1 ? `_${i}` : ''}`)) : [...outputs];
    let ins = [...inputs];
    while (ins.length > 0 && ins[ins.length - 1] === '') ins = ins.slice(0, -1);
    this.nodes.push({ opType: op, name: `${op}_${this.nodes.length}`, input: ins, output: outs, attribute: attributes });
    return outs;
  }

  floatInit(base: string, shape: readonly number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push(floatTensorProto(name, shape, data));
    return name;
  }

  /** An int64 initializer, shared between uses with the same shape and values. */
  int64Const(shape: readonly number[], values: readonly number[]): string {
    const key = `${shape.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh(`const_${values.join('_').replace(/-/g, 'm')}`);
    this.initializers.push(int64TensorProto(name, shape, values));
    this.constants.set(key, name);
    return name;
  }

  floatConst(value: number): string {
    const key = `f:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.floatInit('const_f', [], Float32Array.of(value));
    this.constants.set(key, name);
    return name;
  }

  transpose(x: string, perm: number[]): string {
    return this.node('Transpose', [x], 1, [attr('perm', perm)])[0];
  }

  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.int64Const([shape.length], shape)], 1)[0];
  }

  squeeze(x: string, axes: number[]): string {
    return this.opset >= 13
      ? this.node('Squeeze', [x, this.int64Const([axes.length], axes)], 1)[0]
      : this.node('Squeeze', [x], 1, [attr('axes', axes)])[0];
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13
      ? this.node('Unsqueeze', [x, this.int64Const([axes.length], axes)], 1)[0]
      : this.node('Unsqueeze', [x], 1, [attr('axes', axes)])[0];
  }

  slice(x: string, starts: number[], ends: number[], axes: number[]): string {
    const c = (v: number[]) => this.int64Const([v.length], v);
    return this.node('Slice', [x, c(starts), c(ends), c(axes)], 1)[0];
  }

  /** Gives the value `from` the name `to` (a graph output's name). */
  output(from: string, to: string, elemType: number, dims: readonly Dim[]): void {
    const producer = this.nodes.find((n) => (n.output ?? []).includes(from));
    const isInput = this.inputs.some((i) => i.name === from) || this.initializers.some((t) => t.name === from);
    if (!producer || isInput || this.names.has(to)) {
      this.node('Identity', [from], [to]);
    } else {
      for (const n of this.nodes) {
        n.input = (n.input ?? []).map((v) => (v === from ? to : v));
        n.output = (n.output ?? []).map((v) => (v === from ? to : v));
      }
    }
    this.names.add(to);
    this.outputs.push(valueInfo(to, elemType, dims));
  }
}

/** Names of the graph's dynamic axes. */
const SEQ = 'sequence';
const BATCH = 'batch';

interface SequenceValue {
  /** Value name. */
  name: string;
  /** Rank (3 for [T,B,F] / [B,T,F], 2 for [B,F] or ids [T,B]). */
  rank: number;
  /** Size of the last axis (features). */
  features: number;
}

/** Concatenates per-direction tensors of one layer into an ONNX [D, ...] buffer. */
function stack(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** ONNX's block k of a gated weight is PyTorch's block TORCH_BLOCK_OF_ONNX[mode][k]. */
const TORCH_BLOCK_OF_ONNX = { LSTM: inverseOrder(ONNX_BLOCK_OF_TORCH.LSTM), GRU: inverseOrder(ONNX_BLOCK_OF_TORCH.GRU) } as const;

/**
 * Emits the layers of one recurrent module (RNN, LSTM or GRU); `x` is in the module's own
 * layout. Returns its output `y` (in the module's layout), `yh` [L*D,B,H] and, for an LSTM,
 * `yc` [L*D,B,H].
 */
function emitRnn(g: GraphBuilder, rnn: RNNBase, x: string, prefix: string, seqLens: string, h0: string, c0: string): { y: string; yh: string; yc: string } {
  const cfg = rnn.config;
  const sd: Record<string, Tensor> = rnn.stateDict();
  const D = numDirections(cfg);
  const H = cfg.hiddenSize;
  const L = cfg.numLayers;
  const G = gateCount(cfg.mode);
  const lstm = cfg.mode === 'LSTM';
  // PyTorch's gate order -> ONNX's (the Elman cell has one block).
  const onnxBlocks = (t: Float32Array, cols: number): Float32Array => (cfg.mode === 'RNN' ? t : permuteGateBlocks(t, TORCH_BLOCK_OF_ONNX[cfg.mode], H, cols));
  const attrs: IAttributeProto[] = [attr('hidden_size', H), attr('direction', D === 2 ? 'bidirectional' : 'forward')];
  if (cfg.mode === 'RNN') attrs.push(attr('activations', Array.from({ length: D }, () => (cfg.nonlinearity === 'tanh' ? 'Tanh' : 'Relu'))));
  if (cfg.mode === 'GRU') attrs.push(attr('linear_before_reset', cfg.resetAfter === false ? 0 : 1));
  let input = cfg.batchFirst ? g.transpose(x, [1, 0, 2]) : x;
  const finals: string[] = [];
  const cells: string[] = [];
  let y = '';
  for (let k = 0; k < L; k++) {
    const I = layerInputSize(cfg, k);
    const dirs = Array.from({ length: D }, (_, d) => layerSuffix(k, d));
    const W = g.floatInit(`${prefix}W_l${k}`, [D, G * H, I], stack(dirs.map((s) => onnxBlocks(sd[`weight_ih_${s}`].data, I))));
    const R = g.floatInit(`${prefix}R_l${k}`, [D, G * H, H], stack(dirs.map((s) => onnxBlocks(sd[`weight_hh_${s}`].data, H))));
    const B = cfg.bias
      ? g.floatInit(`${prefix}B_l${k}`, [D, 2 * G * H], stack(dirs.flatMap((s) => [onnxBlocks(sd[`bias_ih_${s}`].data, 1), onnxBlocks(sd[`bias_hh_${s}`].data, 1)])))
      : '';
    const h = h0 && L > 1 ? g.slice(h0, [k * D], [(k + 1) * D], [0]) : h0;
    const c = c0 && L > 1 ? g.slice(c0, [k * D], [(k + 1) * D], [0]) : c0;
    const outNames = [g.fresh(`${prefix}Y_l${k}`), g.fresh(`${prefix}Y_h_l${k}`)];
    if (lstm) outNames.push(g.fresh(`${prefix}Y_c_l${k}`));
    const outs = g.node(cfg.mode, lstm ? [input, W, R, B, seqLens, h, c] : [input, W, R, B, seqLens, h], outNames, attrs);
    const Y = outs[0];
    finals.push(outs[1]);
    if (lstm) cells.push(outs[2]);
    const last = k === L - 1;
    if (last && cfg.batchFirst) {
      // [T,D,B,H] -> [B,T,D,H] -> [B,T,D*H]
      y = D === 1 ? g.transpose(g.squeeze(Y, [1]), [1, 0, 2]) : g.reshape(g.transpose(Y, [2, 0, 1, 3]), [0, 0, -1]);
    } else {
      // [T,D,B,H] -> [T,B,D,H] -> [T,B,D*H]
      y = D === 1 ? g.squeeze(Y, [1]) : g.reshape(g.transpose(Y, [0, 2, 1, 3]), [0, 0, -1]);
    }
    input = y;
  }
  const joined = (parts: string[]): string => (parts.length === 0 ? '' : parts.length === 1 ? parts[0] : g.node('Concat', parts, 1, [attr('axis', 0)])[0]);
  return { y, yh: joined(finals), yc: joined(cells) };
}

/** Each sequence's last valid step of `x` ([T,B,F] or [B,T,F]) -> [B,F]. */
function emitLastStep(g: GraphBuilder, layer: LastStep, x: SequenceValue, seqLens: string): SequenceValue {
  if (x.rank !== 3) throw rangeError('LastStep input', 'a rank-3 sequence [T,B,F]', `rank ${x.rank}`);
  const timeAxis = layer.batchFirst ? 1 : 0;
  const F = x.features;
  const D = layer.directions;
  if (F % D !== 0) throw rangeError('LastStep input features', `a multiple of ${D}`, F);
  const half = F / D;
  const pickLast = (v: string, width: number): string => {
    if (!seqLens) return g.node('Gather', [v, g.int64Const([], [-1])], 1, [attr('axis', timeAxis)])[0];
    const lens = g.node('Cast', [seqLens], 1, [attr('to', DataType.INT64)])[0];
    const idx = g.node('Sub', [lens, g.int64Const([], [1])], 1)[0];
    const idx3 = g.unsqueeze(idx, layer.batchFirst ? [1, 2] : [0, 2]);
    const full = g.node('Expand', [idx3, g.int64Const([3], [1, 1, width])], 1)[0];
    const picked = g.node('GatherElements', [v, full], 1, [attr('axis', timeAxis)])[0];
    return g.squeeze(picked, [timeAxis]);
  };
  if (D === 1) return { name: pickLast(x.name, F), rank: 2, features: F };
  const fwd = g.slice(x.name, [0], [half], [2]);
  const rev = g.slice(x.name, [half], [F], [2]);
  const first = g.node('Gather', [rev, g.int64Const([], [0])], 1, [attr('axis', timeAxis)])[0];
  return { name: g.node('Concat', [pickLast(fwd, half), first], 1, [attr('axis', 1)])[0], rank: 2, features: F };
}

function emitLinear(g: GraphBuilder, layer: Linear, x: SequenceValue, prefix: string): SequenceValue {
  if (x.features !== layer.inFeatures) throw rangeError('Linear input features', `${layer.inFeatures} (inFeatures)`, x.features);
  const sd = layer.stateDict();
  const { inFeatures: In, outFeatures: Out } = layer;
  const w = sd.weight.data;
  const wt = new Float32Array(In * Out);
  for (let o = 0; o < Out; o++) for (let i = 0; i < In; i++) wt[i * Out + o] = w[o * In + i];
  let y = g.node('MatMul', [x.name, g.floatInit(`${prefix}weight_T`, [In, Out], wt)], 1)[0];
  if (layer.hasBias) y = g.node('Add', [y, g.floatInit(`${prefix}bias`, [Out], Float32Array.from(sd.bias.data))], 1)[0];
  return { name: y, rank: x.rank, features: Out };
}

function emitMerge(g: GraphBuilder, layer: MergeDirections, x: SequenceValue): SequenceValue {
  if (layer.mode === 'concat') return x;
  if (x.features % 2 !== 0) throw rangeError('MergeDirections input features', 'an even number', x.features);
  const H = x.features / 2;
  const a = g.slice(x.name, [0], [H], [x.rank - 1]);
  const b = g.slice(x.name, [H], [2 * H], [x.rank - 1]);
  let y: string;
  if (layer.mode === 'mul') y = g.node('Mul', [a, b], 1)[0];
  else {
    y = g.node('Add', [a, b], 1)[0];
    if (layer.mode === 'ave') y = g.node('Mul', [y, g.floatConst(0.5)], 1)[0];
  }
  return { name: y, rank: x.rank, features: H };
}

function emitEmbedding(g: GraphBuilder, layer: Embedding, x: SequenceValue, prefix: string): SequenceValue {
  const w = layer.stateDict().weight;
  const table = g.floatInit(`${prefix}weight`, [layer.numEmbeddings, layer.embeddingDim], Float32Array.from(w.data));
  return { name: g.node('Gather', [table, x.name], 1, [attr('axis', 0)])[0], rank: x.rank + 1, features: layer.embeddingDim };
}

function checkExportOptions(opts: unknown): Required<ExportOnnxOptions> {
  const o = checkOptions<ExportOnnxOptions>('options', opts, ['opsetVersion', 'sequenceLens', 'initialH']);
  return {
    opsetVersion: checkInt('opsetVersion', o.opsetVersion ?? DEFAULT_EXPORT_OPSET, MIN_EXPORT_OPSET, MAX_EXPORT_OPSET),
    sequenceLens: checkBool('sequenceLens', o.sequenceLens ?? false),
    initialH: checkBool('initialH', o.initialH ?? false),
  };
}

function buildRnnGraph(g: GraphBuilder, rnn: RNNBase, o: Required<ExportOnnxOptions>): void {
  const cfg = rnn.config;
  const LD = cfg.numLayers * numDirections(cfg);
  const lstm = cfg.mode === 'LSTM';
  const x = g.input('X', DataType.FLOAT, cfg.batchFirst ? [BATCH, SEQ, cfg.inputSize] : [SEQ, BATCH, cfg.inputSize]);
  const seq = o.sequenceLens ? g.input('sequence_lens', DataType.INT32, [BATCH]) : '';
  const h0 = o.initialH ? g.input('initial_h', DataType.FLOAT, [LD, BATCH, cfg.hiddenSize]) : '';
  const c0 = o.initialH && lstm ? g.input('initial_c', DataType.FLOAT, [LD, BATCH, cfg.hiddenSize]) : '';
  const { y, yh, yc } = emitRnn(g, rnn, x, '', seq, h0, c0);
  const F = numDirections(cfg) * cfg.hiddenSize;
  g.output(y, 'Y', DataType.FLOAT, cfg.batchFirst ? [BATCH, SEQ, F] : [SEQ, BATCH, F]);
  g.output(yh, 'Y_h', DataType.FLOAT, [LD, BATCH, cfg.hiddenSize]);
  if (lstm) g.output(yc, 'Y_c', DataType.FLOAT, [LD, BATCH, cfg.hiddenSize]);
}

function buildSequentialGraph(g: GraphBuilder, model: Sequential, o: Required<ExportOnnxOptions>): void {
  const layers = model.layers;
  const rnns = layers.filter((l): l is RNNBase => l instanceof RNNBase);
  const firstRnn = rnns[0];
  const lastStep = layers.find((l): l is LastStep => l instanceof LastStep);
  const batchFirst = firstRnn ? firstRnn.config.batchFirst : lastStep ? lastStep.batchFirst : false;
  const seqDims: Dim[] = batchFirst ? [BATCH, SEQ] : [SEQ, BATCH];
  const first = layers[0];
  let cur: SequenceValue;
  if (first instanceof Embedding) {
    cur = { name: g.input('X', DataType.INT32, seqDims), rank: 2, features: 0 };
  } else if (first instanceof RNNBase || first instanceof Linear) {
    const F = first instanceof RNNBase ? first.config.inputSize : first.inFeatures;
    cur = { name: g.input('X', DataType.FLOAT, [...seqDims, F]), rank: 3, features: F };
  } else {
    throw onnxError('export', `Cannot export this Sequential: its first layer must be an RNN, LSTM, GRU, Linear or Embedding (to fix the input's shape), not ${first.constructor.name}`);
  }
  const seq = o.sequenceLens ? g.input('sequence_lens', DataType.INT32, [BATCH]) : '';
  const stateInput = (r: RNNBase, j: number, base: string): string =>
    g.input(rnns.length === 1 ? base : `${base}_${j}`, DataType.FLOAT, [r.config.numLayers * numDirections(r.config), BATCH, r.config.hiddenSize]);
  const h0s = rnns.map((r, j) => (o.initialH ? stateInput(r, j, 'initial_h') : ''));
  const c0s = rnns.map((r, j) => (o.initialH && r.config.mode === 'LSTM' ? stateInput(r, j, 'initial_c') : ''));
  let dims: Dim[] = [...seqDims];
  layers.forEach((layer, i) => {
    const prefix = `${i}.`;
    if (layer instanceof RNNBase) {
      if (cur.rank !== 3 || cur.features !== layer.config.inputSize) {
        throw rangeError(`layers[${i}] (${layer.config.mode}) input`, `a sequence with ${layer.config.inputSize} features`, `rank ${cur.rank} with ${cur.features} features`);
      }
      const j = rnns.indexOf(layer);
      const { y } = emitRnn(g, layer, cur.name, prefix, seq, h0s[j], c0s[j]);
      const F = numDirections(layer.config) * layer.config.hiddenSize;
      cur = { name: y, rank: 3, features: F };
      dims = layer.config.batchFirst ? [BATCH, SEQ] : [SEQ, BATCH];
    } else if (layer instanceof Linear) {
      cur = emitLinear(g, layer, cur, prefix);
    } else if (layer instanceof Embedding) {
      if (cur.features !== 0) throw onnxError('export', `Cannot export layers[${i}] (Embedding): only the first layer can be an Embedding`);
      cur = emitEmbedding(g, layer, cur, prefix);
    } else if (layer instanceof LastStep) {
      cur = emitLastStep(g, layer, cur, seq);
      dims = [BATCH];
    } else if (layer instanceof MergeDirections) {
      cur = emitMerge(g, layer, cur);
    } else {
      const name = layer !== null && typeof layer === 'object' ? (layer as object).constructor.name : typeof layer;
      throw onnxError('export', `Cannot export layers[${i}] (${name}): ONNX export supports RNN, Linear, Embedding, LastStep, MergeDirections, LSTM and GRU layers`);
    }
  });
  g.output(cur.name, 'Y', DataType.FLOAT, [...dims.slice(0, cur.rank - 1), cur.features]);
}

/** A module `encodeOnnx` writes. */
export type ExportableModel = RNN | LSTM | GRU | Sequential;

/**
 * Serializes a model as an ONNX ModelProto (evaluation mode: no dropout).
 *
 * For an `RNN`, `LSTM` or `GRU`: inputs `X` ([sequence, batch, I], or [batch, sequence, I]
 * when batchFirst) and, as asked, `sequence_lens` (int32 [batch]), `initial_h` ([L*D, batch, H])
 * and for an LSTM `initial_c`; outputs `Y` (the layout of X, D*H features), `Y_h`
 * ([L*D, batch, H]) and for an LSTM `Y_c`, as `forward` returns y, hN and cN.
 * For a `Sequential`: input `X` (int32 ids [sequence, batch] when the first
 * layer is an Embedding), the same optional inputs (one `initial_h_<j>`, and `initial_c_<j>`
 * for an LSTM, per recurrent layer), and output `Y`, as `Sequential.forward` returns.
 *
 * @param model - the module.
 * @param opts - opset and optional inputs.
 * @returns the ModelProto's bytes.
 */
export function encodeOnnx(model: ExportableModel, opts?: ExportOnnxOptions): Uint8Array {
  const o = checkExportOptions(opts);
  const g = new GraphBuilder(o.opsetVersion);
  if (model instanceof RNNBase) buildRnnGraph(g, model, o);
  else if (model instanceof Sequential) buildSequentialGraph(g, model, o);
  else throw typeError('model', 'an RNN or a Sequential (or an LSTM or GRU)', model);
  return encodeModelProto({
    irVersion: irVersionFor(o.opsetVersion),
    producerName: 'rnnblas',
    opsetImport: [{ domain: '', version: o.opsetVersion }],
    graph: {
      name: model instanceof RNNBase ? `rnnblas_${model.config.mode.toLowerCase()}` : 'rnnblas_sequential',
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs,
      output: g.outputs,
    },
  });
}

/** Writes `encodeOnnx(model, opts)` to `path` atomically (temporary file, fsync, rename). */
export async function exportOnnx(model: ExportableModel, path: string, opts?: ExportOnnxOptions): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path', 'a non-empty file path string', path);
  await writeFileAtomic(path, encodeOnnx(model, opts));
}
