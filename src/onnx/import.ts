/**
 * Loading ONNX models and running them with a small interpreter: the graph's
 * nodes in topological order, RNN on the native core where it can, the rest
 * in TypeScript.
 */
import { readFile } from 'node:fs/promises';
import { rangeError, typeError } from '../errors.js';
import { GRU } from '../nn/gru.js';
import { LSTM } from '../nn/lstm.js';
import { RNN } from '../nn/rnn.js';
import type { RnnMode } from '../nn/rnn_config.js';
import type { Tensor } from '../tensor.js';
import { nodeLabel } from './attributes.js';
import { OPERATORS, type Kernel, type NodeInfo } from './ops.js';
import {
  Budget,
  dataTypeName,
  decodeModelProto,
  onnxLimits,
  dtypeOf,
  tensorFromProto,
  toNumber,
  type INodeProto,
  type IValueInfoProto,
  type ModelProto,
  type OnnxDType,
  type OnnxLimits,
  type OnnxLoadOptions,
  type OnnxTensor,
} from './proto.js';
import { ONNX_BLOCK_OF_TORCH, permuteGateBlocks } from './gated_native.js';
import { compileGated, gatedAttributes, nativeCellReason } from './gated_op.js';
import { compileRnn, rnnAttributes } from './rnn_op.js';
import { onnxError } from './errors.js';

/** Oldest and newest ai.onnx opsets the interpreter accepts. */
export const MIN_IMPORT_OPSET = 7;
/** Newest ai.onnx opset the interpreter accepts. */
export const MAX_IMPORT_OPSET = 23;

/** The operators `OnnxModel.run` supports. */
export const SUPPORTED_OPERATORS: readonly string[] = Object.freeze(['RNN', 'LSTM', 'GRU', ...Object.keys(OPERATORS)].sort());

/** A tensor fed to `OnnxModel.run`: float32, int32 or int64 data plus its shape. */
export interface OnnxFeed {
  /** Row-major elements; the array type gives the dtype (BigInt64Array for int64 inputs). */
  readonly data: Float32Array | Int32Array | BigInt64Array;
  /** Size of each axis. */
  readonly shape: readonly number[];
}

/** A graph input or output: name, element type and declared shape. */
export interface OnnxValueInfo {
  /** The name used as the feed or result key. */
  readonly name: string;
  /** Element type. */
  readonly dtype: OnnxDType;
  /** Declared shape: a number for a fixed axis, a string for a named (dim_param) axis, null when unknown; null when no shape is declared. */
  readonly shape: ReadonlyArray<number | string | null> | null;
}

interface Step {
  readonly node: INodeProto;
  readonly kernel: Kernel;
  readonly label: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

function valueInfo(v: IValueInfoProto, role: string): OnnxValueInfo {
  const name = v.name ?? '';
  const tensorType = v.type?.tensorType;
  if (!tensorType) throw onnxError('unsupported', `Unsupported graph ${role} '${name}': only tensor types are supported`);
  const code = tensorType.elemType ?? 0;
  const dtype = dtypeOf(code);
  if (!dtype) throw onnxError('unsupported', `Unsupported data type ${dataTypeName(code)} of graph ${role} '${name}': only FLOAT, INT32 and INT64 are supported`);
  const shape = tensorType.shape
    ? (tensorType.shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Object.prototype.hasOwnProperty.call(d, 'dimValue') ? toNumber(d.dimValue) : null))
    : null;
  return Object.freeze({ name, dtype, shape: shape ? Object.freeze(shape) : null });
}

function feedToTensor(name: string, feed: unknown, declared: OnnxValueInfo, dims: Map<string, number>, budget: Budget): OnnxTensor {
  if (feed === null || typeof feed !== 'object') throw typeError(`feeds.${name}`, 'a tensor { data, shape }', feed);
  const f = feed as { data?: unknown; shape?: unknown };
  let tensor: OnnxTensor;
  const want = declared.dtype === 'float32' ? 'a Float32Array (float32)' : declared.dtype === 'int32' ? 'an Int32Array (int32)' : 'a BigInt64Array (int64)';
  if (!Array.isArray(f.shape) || f.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw typeError(`feeds.${name}.shape`, 'an array of non-negative integers', f.shape);
  }
  const shape = [...(f.shape as number[])];
  // The same shape limits as the model's own tensors (the caller's data is not charged).
  budget.shape(`feeds.${name}.shape`, shape);
  if (declared.dtype === 'float32' && f.data instanceof Float32Array) tensor = { dtype: 'float32', data: f.data, shape };
  else if (declared.dtype === 'int32' && f.data instanceof Int32Array) tensor = { dtype: 'int32', data: f.data, shape };
  else if (declared.dtype === 'int64' && f.data instanceof BigInt64Array) tensor = { dtype: 'int64', data: Float64Array.from(f.data, (v) => Number(v)), shape };
  else throw typeError(`feeds.${name}.data`, want, f.data);
  const n = shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== n) throw rangeError(`feeds.${name}.data`, `${n} elements for shape [${shape.join(', ')}]`, `${tensor.data.length} elements`);
  if (declared.shape) {
    const expected = `[${declared.shape.map((d) => (d === null ? '?' : `${d}`)).join(', ')}]`;
    if (declared.shape.length !== shape.length) throw rangeError(`feeds.${name}.shape`, `shape ${expected}`, `[${shape.join(', ')}]`);
    declared.shape.forEach((d, i) => {
      if (typeof d === 'number' && d !== shape[i]) throw rangeError(`feeds.${name}.shape`, `shape ${expected}`, `[${shape.join(', ')}]`);
      if (typeof d === 'string') {
        const seen = dims.get(d);
        if (seen !== undefined && seen !== shape[i]) {
          throw rangeError(`feeds.${name}.shape`, `axis ${i} ('${d}') to be ${seen} as in the other inputs`, `[${shape.join(', ')}]`);
        }
        dims.set(d, shape[i]);
      }
    });
  }
  return tensor;
}

/** Orders nodes so that each runs after the producers of its inputs. */
function topologicalOrder(nodes: readonly INodeProto[], available: Set<string>): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producer.has(o) || available.has(o)) throw onnxError('invalid', `Invalid graph: value '${o}' is produced more than once (by ${nodeLabel(n, i)})`);
      producer.set(o, i);
    }
  });
  const pending = nodes.map((n) => new Set((n.input ?? []).filter((v) => v && !available.has(v))));
  nodes.forEach((n, i) => {
    for (const v of pending[i]) {
      if (!producer.has(v)) throw onnxError('invalid', `Invalid graph: input '${v}' of ${nodeLabel(n, i)} is not a graph input, an initializer or the output of any node`);
    }
  });
  const consumers = new Map<string, number[]>();
  pending.forEach((set, i) =>
    set.forEach((v) => {
      const list = consumers.get(v);
      if (list) list.push(i);
      else consumers.set(v, [i]);
    }),
  );
  const ready = pending.flatMap((s, i) => (s.size === 0 ? [i] : []));
  const order: number[] = [];
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head];
    order.push(i);
    for (const o of nodes[i].output ?? []) {
      for (const c of consumers.get(o) ?? []) {
        pending[c].delete(o);
        if (pending[c].size === 0) ready.push(c);
      }
    }
  }
  if (order.length !== nodes.length) {
    const done = new Set(order);
    const stuck = nodes.findIndex((_, i) => !done.has(i));
    throw onnxError('invalid', `Invalid graph: it has a cycle through ${nodeLabel(nodes[stuck], stuck)}`);
  }
  return order;
}

/** The ops that may appear around the recurrent nodes of a graph `toRNN`/`toLSTM`/`toGRU` accept. */
const GLUE_OPS = new Set(['Identity', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Concat', 'Slice', 'Shape', 'Gather', 'Constant', 'ConstantOfShape', 'Cast']);

/**
 * A loaded ONNX model. `run` interprets its graph; `toRNN`, `toLSTM` and `toGRU` turn a graph
 * that is one (possibly stacked, bidirectional) recurrent module back into a trainable one.
 */
export class OnnxModel {
  /** The file's IR version. */
  readonly irVersion: number;
  /** The ai.onnx opset the graph uses. */
  readonly opsetVersion: number;
  /** The producer recorded in the file (e.g. `rnnblas`, `pytorch`). */
  readonly producerName: string;
  /** Inputs `run` needs, in graph order (inputs with an initializer are optional and not listed). */
  readonly inputs: readonly OnnxValueInfo[];
  /** Outputs `run` returns, in graph order. */
  readonly outputs: readonly OnnxValueInfo[];

  private readonly model: ModelProto;
  private readonly initializers: ReadonlyMap<string, OnnxTensor>;
  private readonly overridable: ReadonlyMap<string, OnnxValueInfo>;
  private readonly steps: readonly Step[];
  private readonly limits: OnnxLimits;
  private readonly heldElements: number;

  private constructor(model: ModelProto, limits: OnnxLimits) {
    this.model = model;
    this.limits = limits;
    // Initializers and constants are checked against (and charged to) the budgets as they are read.
    const budget = new Budget(limits);
    const graph = model.graph;
    if (!graph) throw onnxError('invalid', 'Not a valid ONNX model: it has no graph');
    this.irVersion = toNumber(model.irVersion);
    this.producerName = model.producerName ?? '';
    const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    if (!opset) throw onnxError('invalid', 'Not a valid ONNX model: it imports no ai.onnx operator set (opset_import)');
    this.opsetVersion = toNumber(opset.version);
    if (this.opsetVersion < MIN_IMPORT_OPSET || this.opsetVersion > MAX_IMPORT_OPSET) {
      throw onnxError('unsupported', `Unsupported opset ${this.opsetVersion}: rnnblas reads ai.onnx opsets ${MIN_IMPORT_OPSET} to ${MAX_IMPORT_OPSET}`);
    }
    if ((graph.sparseInitializer ?? []).length > 0) throw onnxError('unsupported', 'Unsupported model: sparse initializers are not supported');

    const initializers = new Map<string, OnnxTensor>();
    for (const t of graph.initializer ?? []) {
      const name = t.name ?? '';
      initializers.set(name, tensorFromProto(t, `initializer '${name}'`, budget));
    }
    this.initializers = initializers;
    const inputs: OnnxValueInfo[] = [];
    const overridable = new Map<string, OnnxValueInfo>();
    for (const v of graph.input ?? []) {
      const info = valueInfo(v, 'input');
      if (initializers.has(info.name)) overridable.set(info.name, info);
      else inputs.push(info);
    }
    this.inputs = Object.freeze(inputs);
    this.overridable = overridable;
    const outputs = (graph.output ?? []).map((v) => valueInfo(v, 'output'));
    for (const o of outputs) {
      if (o.dtype !== 'float32') throw onnxError('unsupported', `Unsupported graph output '${o.name}': its type is ${o.dtype}; run returns float32 outputs only`);
    }
    this.outputs = Object.freeze(outputs);

    const nodes = graph.node ?? [];
    const available = new Set<string>(['', ...initializers.keys(), ...inputs.map((i) => i.name)]);
    const order = topologicalOrder(nodes, available);
    this.steps = order.map((i) => {
      const node = nodes[i];
      const label = nodeLabel(node, i);
      if (node.domain && node.domain !== 'ai.onnx') throw onnxError('unsupported', `Unsupported operator ${node.domain}.${node.opType} (${label}): only the ai.onnx domain is supported`);
      const op = node.opType ?? '';
      const info: NodeInfo = { node, label, opset: this.opsetVersion, budget };
      let kernel: Kernel;
      if (op === 'RNN') kernel = compileRnn(info);
      else if (op === 'LSTM' || op === 'GRU') kernel = compileGated(info, op);
      else if (Object.prototype.hasOwnProperty.call(OPERATORS, op)) kernel = OPERATORS[op](info);
      else throw onnxError('unsupported', `Unsupported operator '${op}' (${label}): rnnblas supports ${SUPPORTED_OPERATORS.join(', ')}`);
      return { node, kernel, label, inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])] };
    });
    this.heldElements = budget.total;
    const produced = new Set([...available, ...this.steps.flatMap((s) => s.outputs)]);
    for (const o of outputs) if (!produced.has(o.name)) throw onnxError('invalid', `Invalid graph: output '${o.name}' is produced by no node`);
  }

  /** @internal Builds a model from decoded protobuf (use `decodeOnnx` or `loadOnnx`). */
  static fromProto(model: ModelProto, limits: OnnxLimits = onnxLimits(undefined)): OnnxModel {
    return new OnnxModel(model, limits);
  }

  /**
   * Runs the graph. `feeds` maps every name in `inputs` to a tensor of the
   * declared element type and shape (named axes must agree across inputs);
   * inputs backed by an initializer may be fed to override it. Resolves to
   * every graph output by name.
   */
  async run(feeds: Readonly<Record<string, OnnxFeed>>): Promise<Record<string, Tensor>> {
    if (feeds === null || typeof feeds !== 'object') throw typeError('feeds', 'an object mapping input names to tensors', feeds);
    const values = new Map<string, OnnxTensor>(this.initializers);
    const dims = new Map<string, number>();
    // This run's allocations count on top of what the model holds.
    const budget = new Budget(this.limits, this.heldElements);
    const ctx = { budget };
    for (const key of Object.keys(feeds)) {
      if (!this.inputs.some((i) => i.name === key) && !this.overridable.has(key)) {
        throw rangeError('feeds', `only the inputs ${this.inputs.map((i) => `'${i.name}'`).join(', ')}`, `an unknown input '${key}'`);
      }
    }
    for (const input of this.inputs) {
      if (!Object.prototype.hasOwnProperty.call(feeds, input.name)) {
        throw rangeError('feeds', `a tensor for the input '${input.name}'`, 'none');
      }
      values.set(input.name, feedToTensor(input.name, feeds[input.name], input, dims, budget));
    }
    for (const [name, info] of this.overridable) {
      if (Object.prototype.hasOwnProperty.call(feeds, name)) values.set(name, feedToTensor(name, feeds[name], info, dims, budget));
    }
    for (const step of this.steps) {
      const args = step.inputs.map((name) => (name ? values.get(name) : undefined));
      let outs;
      try {
        outs = await step.kernel.run(args, ctx);
      } catch (e) {
        if (e instanceof Error && !e.message.includes(step.label)) e.message = `${step.label}: ${e.message}`;
        throw e;
      }
      step.outputs.forEach((name, i) => {
        if (!name) return;
        const v = outs[i];
        if (!v) throw onnxError('internal', `${step.label} did not produce its output ${i} ('${name}')`);
        values.set(name, v);
      });
    }
    const result: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const v = values.get(o.name) as OnnxTensor;
      if (v.dtype !== 'float32') throw onnxError('unsupported', `Graph output '${o.name}' has type ${v.dtype}; only float32 outputs are supported`);
      result[o.name] = { data: v.data, shape: [...v.shape] };
    }
    return result;
  }

  /**
   * The graph as a trainable `RNN`, when it is one Elman RNN: RNN nodes chained
   * layer to layer with W, R (and B) as initializers, the same hidden size,
   * direction forward or bidirectional, one activation (Tanh or Relu) and no
   * clip, joined only by shape operators (as rnnblas and PyTorch export them).
   * batchFirst is set when the first layer reads a [1,0,2] Transpose of a
   * graph input (or has layout=1). Dropout is not stored in ONNX and is 0.
   */
  toRNN(): RNN {
    return this.toRecurrent('RNN') as RNN;
  }

  /**
   * The graph as a trainable `LSTM`, when it is one stacked LSTM of PyTorch's cell: LSTM nodes
   * chained as for {@link OnnxModel.toRNN}, direction forward or bidirectional, the default
   * activations (Sigmoid, Tanh, Tanh), no clip, input_forget=0, no peepholes (or an all-zero
   * P). The gate blocks are permuted from ONNX's i, o, f, c to PyTorch's i, f, g, o.
   *
   * @throws Error naming the node and the attribute (or input) that PyTorch's LSTM has no
   *   equivalent for.
   */
  toLSTM(): LSTM {
    return this.toRecurrent('LSTM') as LSTM;
  }

  /**
   * The graph as a trainable `GRU`, when it is one stacked GRU: GRU nodes chained as for
   * {@link OnnxModel.toRNN}, direction forward or bidirectional, the default activations
   * (Sigmoid, Tanh), no clip, and one `linear_before_reset` for every layer: 1 gives PyTorch's
   * cell (`GRU()`), 0 (the ONNX default: the reset gate before the recurrent product, Keras'
   * reset_after=False) gives `GRU({ resetAfter: false })`, which no PyTorch GRU computes. The
   * gate blocks are permuted from ONNX's z, r, h to PyTorch's r, z, n.
   *
   * @throws Error naming the node and the attribute that rnnblas' GRU has no equivalent for.
   */
  toGRU(): GRU {
    return this.toRecurrent('GRU') as GRU;
  }

  private toRecurrent(mode: RnnMode): RNN | LSTM | GRU {
    const graph = this.model.graph;
    const nodes = graph?.node ?? [];
    const fail = (why: string): Error => onnxError('unsupported', `This ONNX graph is not a single ${mode === 'RNN' ? 'Elman RNN' : mode}: ${why}`);
    const producer = new Map<string, INodeProto>();
    for (const n of nodes) for (const o of n.output ?? []) if (o) producer.set(o, n);
    const order = this.steps.map((s) => s.node);
    const rnns = order.filter((n) => n.opType === mode);
    if (rnns.length === 0) {
      const other = (['RNN', 'LSTM', 'GRU'] as const).find((m) => order.some((n) => n.opType === m));
      throw fail(`it has no ${mode} node${other ? ` (it has ${other} nodes: use to${other}())` : ''}`);
    }
    for (const n of order) if (n.opType !== mode && !GLUE_OPS.has(n.opType ?? '')) throw fail(`it computes with a ${n.opType} node`);

    const ancestors = (n: INodeProto): Set<INodeProto> => {
      const seen = new Set<INodeProto>();
      const stack = [...(n.input ?? [])];
      while (stack.length > 0) {
        const p = producer.get(stack.pop() as string);
        if (p && !seen.has(p)) {
          seen.add(p);
          stack.push(...(p.input ?? []));
        }
      }
      return seen;
    };
    const init = (name: string | undefined, what: string): OnnxTensor & { dtype: 'float32' } => {
      const t = name ? this.initializers.get(name) : undefined;
      if (!t || t.dtype !== 'float32') throw fail(`the ${what} is not a float initializer`);
      return t as OnnxTensor & { dtype: 'float32' };
    };
    const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
    let H = 0;
    let D = 0;
    let I = 0;
    let hasBias = false;
    let act = 'tanh' as 'tanh' | 'relu';
    let layout = 0 as 0 | 1;
    let resetAfter = true;
    const stateDict: Record<string, Tensor> = {};
    rnns.forEach((node, k) => {
      const label = nodeLabel(node, nodes.indexOf(node));
      const info = { node, label, opset: this.opsetVersion };
      let direction: string;
      let layerAct: 'tanh' | 'relu' = 'tanh';
      let layerLayout: 0 | 1;
      let declaredH: number | undefined;
      let layerResetAfter = true;
      if (mode === 'RNN') {
        const a = rnnAttributes(info);
        if (a.direction === 'reverse') throw fail(`${label} runs in reverse only`);
        if (a.clip !== null) throw fail(`${label} clips`);
        const names = new Set(a.activations.map((x) => x.name));
        if (names.size !== 1 || !(names.has('Tanh') || names.has('Relu'))) throw fail(`${label} uses activations ${a.activations.map((x) => x.name).join(', ')}`);
        layerAct = names.has('Tanh') ? 'tanh' : 'relu';
        [direction, layerLayout, declaredH] = [a.direction, a.layout, a.hiddenSize];
      } else {
        const a = gatedAttributes(info, mode);
        if (a.direction === 'reverse') throw fail(`${label} runs in reverse only (direction=reverse)`);
        const reason = nativeCellReason(a);
        if (reason !== null) throw fail(`${label} is not ${mode === 'GRU' ? "one of rnnblas' GRU cells" : "PyTorch's LSTM cell"}: ${reason}`);
        [direction, layerLayout, declaredH] = [a.direction, a.layout, a.hiddenSize];
        layerResetAfter = mode !== 'GRU' || a.linearBeforeReset;
      }
      const inputs = node.input ?? [];
      const W = init(inputs[1], `W of ${label}`);
      const R = init(inputs[2], `R of ${label}`);
      const Bt = inputs[3] ? init(inputs[3], `B of ${label}`) : undefined;
      if (mode === 'LSTM' && inputs[7]) {
        const P = init(inputs[7], `P of ${label}`);
        if (P.data.some((v) => v !== 0)) throw fail(`${label} has peepholes (input P is not all zero): PyTorch's LSTM has none`);
      }
      const d = direction === 'bidirectional' ? 2 : 1;
      const h = R.shape.length === 3 ? R.shape[2] : 0;
      const I_k = W.shape.length === 3 ? W.shape[2] : 0;
      const shapeOk =
        h > 0 && (declaredH === undefined || declaredH === h) &&
        W.shape.length === 3 && W.shape[0] === d && W.shape[1] === G * h &&
        R.shape[0] === d && R.shape[1] === G * h &&
        (!Bt || (Bt.shape.length === 2 && Bt.shape[0] === d && Bt.shape[1] === 2 * G * h));
      if (!shapeOk) throw fail(`the shapes of W [${W.shape.join(', ')}], R [${R.shape.join(', ')}]${Bt ? ` and B [${Bt.shape.join(', ')}]` : ''} of ${label} do not fit ${d} direction(s) of ${G} gate block(s)${declaredH !== undefined ? ` of hidden_size ${declaredH}` : ''}`);
      if (k === 0) {
        [H, D, I, hasBias, act, layout, resetAfter] = [h, d, I_k, Bt !== undefined, layerAct, layerLayout, layerResetAfter];
      } else {
        if (h !== H || d !== D || (Bt !== undefined) !== hasBias || layerAct !== act || layerLayout !== layout) {
          throw fail(`${label} differs from the first layer in hidden size, direction, bias, activation or layout`);
        }
        if (layerResetAfter !== resetAfter) throw fail(`${label} has linear_before_reset=${layerResetAfter ? 1 : 0} but the first layer ${resetAfter ? 1 : 0}`);
        if (I_k !== D * H) throw fail(`${label} takes ${I_k} features, not the ${D * H} the layer below makes`);
        if (!ancestors(node).has(rnns[k - 1])) throw fail(`${label} does not read the output of the layer before it`);
      }
      // ONNX's gate blocks in PyTorch's order (the Elman cell has one block).
      const order = mode === 'RNN' ? [0] : ONNX_BLOCK_OF_TORCH[mode];
      const GH = G * h;
      for (let dir = 0; dir < d; dir++) {
        const s = `l${k}${dir === 1 ? '_reverse' : ''}`;
        stateDict[`weight_ih_${s}`] = { data: permuteGateBlocks(W.data.subarray(dir * GH * I_k, (dir + 1) * GH * I_k), order, h, I_k), shape: [GH, I_k] };
        stateDict[`weight_hh_${s}`] = { data: permuteGateBlocks(R.data.subarray(dir * GH * h, (dir + 1) * GH * h), order, h, h), shape: [GH, h] };
        if (Bt) {
          stateDict[`bias_ih_${s}`] = { data: permuteGateBlocks(Bt.data.subarray(dir * 2 * GH, dir * 2 * GH + GH), order, h, 1), shape: [GH] };
          stateDict[`bias_hh_${s}`] = { data: permuteGateBlocks(Bt.data.subarray(dir * 2 * GH + GH, (dir + 1) * 2 * GH), order, h, 1), shape: [GH] };
        }
      }
    });
    const first = producer.get((rnns[0].input ?? [])[0] ?? '');
    const transposedInput =
      first?.opType === 'Transpose' &&
      this.inputs.some((i) => i.name === (first.input ?? [])[0]) &&
      JSON.stringify((first.attribute ?? []).find((x) => x.name === 'perm')?.ints?.map((v) => toNumber(v))) === '[1,0,2]';
    const options = {
      inputSize: I,
      hiddenSize: H,
      numLayers: rnns.length,
      bias: hasBias,
      bidirectional: D === 2,
      batchFirst: layout === 1 || transposedInput,
    };
    const module = mode === 'RNN' ? new RNN({ ...options, nonlinearity: act }) : mode === 'LSTM' ? new LSTM(options) : new GRU({ ...options, resetAfter });
    module.loadStateDict(stateDict);
    return module;
  }
}

/**
 * Reads an ONNX model from bytes (checks the graph, its operators and initializers).
 *
 * Every size the file states is checked before it is allocated: each initializer and constant
 * against `options.maxTensorElements` (for an empty tensor, the product of its non-zero dims)
 * and their total against `options.maxGraphElements`; `run` then checks every op's output size
 * against the same budgets (its allocations counted on top of the initializers) before the
 * buffer exists.
 *
 * @param bytes - the file's bytes.
 * @param options - the element budgets (defaults DEFAULT_MAX_TENSOR_ELEMENTS, DEFAULT_MAX_GRAPH_ELEMENTS).
 * @returns the model.
 * @throws TypeError for bytes that are not a Uint8Array; RangeError for a bad option or a tensor over budget; Error for an invalid or unsupported model.
 */
export function decodeOnnx(bytes: Uint8Array, options?: OnnxLoadOptions): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array', bytes);
  const limits = onnxLimits(options);
  if (bytes.length === 0) throw onnxError('invalid', 'Not a valid ONNX model: the file is empty');
  return OnnxModel.fromProto(decodeModelProto(bytes), limits);
}

/**
 * Reads an ONNX model file (see {@link decodeOnnx}).
 *
 * @param path - the file.
 * @param options - the element budgets.
 * @returns the model.
 */
export async function loadOnnx(path: string, options?: OnnxLoadOptions): Promise<OnnxModel> {
  if (typeof path !== 'string') throw typeError('path', 'a file path string', path);
  onnxLimits(options);
  return decodeOnnx(await readFile(path), options);
}
