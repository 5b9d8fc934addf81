/**
 * The interpreter's operators other than RNN: each is compiled once per node
 * (attributes read and checked when the model is loaded) into a kernel run on
 * every call.
 */
import { NodeAttributes } from './attributes.js';
import { Budget, MAX_TENSOR_RANK, dataTypeName, defaultBudget, dtypeOf, type INodeProto, type OnnxDType, type OnnxTensor } from './proto.js';
import { nodeError, onnxError } from './errors.js';

/** Outputs of a kernel, in the node's output order (undefined for outputs it does not produce). */
export type KernelOutputs = Array<OnnxTensor | undefined>;

/** What a kernel gets on each run besides its inputs. */
export interface RunContext {
  /** The run's element budget: every buffer a kernel allocates is checked and charged first. */
  readonly budget: Budget;
}

/** A compiled node: runs on its inputs (undefined for omitted optional ones). */
export interface Kernel {
  /** Computes the node's outputs. */
  run(inputs: ReadonlyArray<OnnxTensor | undefined>, ctx: RunContext): KernelOutputs | Promise<KernelOutputs>;
}

/** What a compiler gets: the node, its label for messages, the model's ai.onnx opset and the load-time budget (for constants). */
export interface NodeInfo {
  readonly node: INodeProto;
  readonly label: string;
  readonly opset: number;
  /** Charged for tensors the node holds from load time (Constant values); defaults apply when absent. */
  readonly budget?: Budget;
}

type TypedData = Float32Array | Int32Array | Float64Array;

/**
 * A new zero-filled tensor of a dtype: the shape is checked against the per-tensor budget and
 * the elements charged to the run's budget before the buffer exists. `what` names the output
 * in errors.
 */
export function makeTensor(ctx: RunContext, what: string, dtype: OnnxDType, shape: readonly number[]): OnnxTensor {
  const n = ctx.budget.alloc(what, shape);
  return { dtype, data: allocate(dtype, n), shape: [...shape] } as OnnxTensor;
}

/** Wraps existing data as a tensor (no allocation: the shape is checked against the per-tensor budget only). */
export function wrapTensor(ctx: RunContext, what: string, dtype: OnnxDType, shape: readonly number[], data: TypedData): OnnxTensor {
  const n = ctx.budget.shape(what, shape);
  if (n !== data.length) throw onnxError('internal', `Internal error: ${what} has ${data.length} elements for shape ${fmt(shape)}`);
  return { dtype, data, shape: [...shape] } as OnnxTensor;
}

function allocate(dtype: OnnxDType, n: number): TypedData {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float64Array(n);
}

/** Element count of a shape (inputs have passed the budget checks, so this stays in range). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A required input, else an Error naming it. */
export function required(info: NodeInfo, inputs: ReadonlyArray<OnnxTensor | undefined>, i: number, what: string): OnnxTensor {
  const t = inputs[i];
  if (!t) throw nodeError('missing', `input ${i} (${what})`, info.label);
  return t;
}

/** A required float32 input. */
export function floatInput(info: NodeInfo, inputs: ReadonlyArray<OnnxTensor | undefined>, i: number, what: string): OnnxTensor & { dtype: 'float32' } {
  const t = required(info, inputs, i, what);
  if (t.dtype !== 'float32') throw nodeError('unsupported', `dtype ${t.dtype} of input ${i} (${what})`, info.label, 'only float32 is supported');
  return t;
}

/**
 * The integer values of a small int32/int64 input (a shape, axes, starts, ends, steps): at most
 * MAX_TENSOR_RANK of them, so a hostile input cannot make a huge JS array.
 */
function intValues(info: NodeInfo, t: OnnxTensor, what: string): number[] {
  if (t.dtype === 'float32') throw nodeError('invalid', `input ${what}`, info.label, 'expected int64 (or int32) values but received float32');
  if (t.data.length > MAX_TENSOR_RANK) {
    throw nodeError('invalid', `input ${what}`, info.label, `expected at most ${MAX_TENSOR_RANK} values (one per axis) but received ${t.data.length}`);
  }
  return Array.from(t.data);
}

/** The int32/int64 data of an index input, as is (no copy). */
function intData(info: NodeInfo, t: OnnxTensor, what: string): Int32Array | Float64Array {
  if (t.dtype === 'float32') throw nodeError('invalid', `input ${what}`, info.label, 'expected int64 (or int32) values but received float32');
  return t.data;
}

function normAxis(info: NodeInfo, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw onnxError('invalid', `Invalid ${what} ${axis} for ${info.label}: expected an integer in ${-rank}..${rank - 1} for a rank-${rank} input`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Multidirectional (numpy) broadcast of two shapes. */
export function broadcastShapes(info: NodeInfo, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw onnxError('invalid', `Shapes ${fmt(a)} and ${fmt(b)} do not broadcast in ${info.label}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` read as the right-aligned broadcast to `out` (0 on broadcast axes). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const s = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : s[i - off]));
}

/** Calls fn(outIndex, offsets...) over every element of `out`, offsets following the given strides. */
function forEachIndex(out: readonly number[], strides: number[][], fn: (i: number, offs: number[]) => void): void {
  const n = sizeOf(out);
  if (n === 0) return;
  const r = out.length;
  const idx = new Array<number>(r).fill(0);
  const offs = strides.map(() => 0);
  for (let i = 0; i < n; i++) {
    fn(i, offs);
    for (let ax = r - 1; ax >= 0; ax--) {
      idx[ax]++;
      for (let k = 0; k < strides.length; k++) offs[k] += strides[k][ax];
      if (idx[ax] < out[ax]) break;
      for (let k = 0; k < strides.length; k++) offs[k] -= strides[k][ax] * out[ax];
      idx[ax] = 0;
    }
  }
}

function binary(info: NodeInfo, ctx: RunContext, inputs: ReadonlyArray<OnnxTensor | undefined>, op: (x: number, y: number) => number): KernelOutputs {
  const a = required(info, inputs, 0, 'A');
  const b = required(info, inputs, 1, 'B');
  if (a.dtype !== b.dtype) throw onnxError('invalid', `Mismatched input dtypes ${a.dtype} and ${b.dtype} of ${info.label}`);
  const shape = broadcastShapes(info, a.shape, b.shape);
  const out = makeTensor(ctx, `the output of ${info.label}`, a.dtype, shape);
  const o = out.data;
  const ad = a.data;
  const bd = b.data;
  if (ad.length === o.length && bd.length === o.length) {
    for (let i = 0; i < o.length; i++) o[i] = op(ad[i], bd[i]);
  } else {
    forEachIndex(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], (i, offs) => {
      o[i] = op(ad[offs[0]], bd[offs[1]]);
    });
  }
  return [out];
}

function transposeData(info: NodeInfo, ctx: RunContext, t: OnnxTensor, perm: readonly number[]): OnnxTensor {
  const shape = perm.map((p) => t.shape[p]);
  const out = makeTensor(ctx, `the output of ${info.label}`, t.dtype, shape);
  const src = stridesOf(t.shape);
  const permuted = perm.map((p) => src[p]);
  const o = out.data;
  const d = t.data;
  const r = perm.length;
  if (r > 1 && perm[r - 1] === r - 1 && o.length > 0) {
    // The last axis stays last (e.g. [T,D,B,H] -> [T,B,D,H]): copy whole rows of it.
    const inner = shape[r - 1];
    forEachIndex(shape.slice(0, -1), [permuted.slice(0, -1)], (i, offs) => {
      o.set(d.subarray(offs[0], offs[0] + inner) as never, i * inner);
    });
    return out;
  }
  forEachIndex(shape, [permuted], (i, offs) => {
    o[i] = d[offs[0]];
  });
  return out;
}

function reshaped(info: NodeInfo, ctx: RunContext, t: OnnxTensor, shape: readonly number[]): OnnxTensor {
  return wrapTensor(ctx, `the output of ${info.label}`, t.dtype, shape, t.data);
}

/** Axes from the attribute (opset < 13) or the second input (opset >= 13). */
function axesOf(info: NodeInfo, attrs: NodeAttributes, inputs: ReadonlyArray<OnnxTensor | undefined>): number[] | undefined {
  if (info.opset < 13) return attrs.ints('axes');
  const t = inputs[1];
  return t ? intValues(info, t, 'axes') : undefined;
}

/** One axis of a Slice: the first index, the step and how many indices (computed, not listed). */
interface SliceRange {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

function sliceRange(dim: number, start: number, end: number, step: number): SliceRange {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  let count: number;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    count = e > s ? Math.ceil((e - s) / step) : 0;
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
    count = s > e ? Math.ceil((s - e) / -step) : 0;
  }
  return { start: count > 0 ? s : 0, step, count };
}

function matmul(info: NodeInfo, ctx: RunContext, a: OnnxTensor & { dtype: 'float32' }, b: OnnxTensor & { dtype: 'float32' }): OnnxTensor {
  if (a.shape.length === 0 || b.shape.length === 0) throw nodeError('invalid', 'scalar input', info.label, 'MatMul needs rank >= 1');
  const as = a.shape.length === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : [...b.shape];
  const M = as[as.length - 2];
  const K = as[as.length - 1];
  const N = bs[bs.length - 1];
  if (bs[bs.length - 2] !== K) throw onnxError('invalid', `Shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not match for ${info.label} (inner dimensions ${K} and ${bs[bs.length - 2]})`);
  const batch = broadcastShapes(info, as.slice(0, -2), bs.slice(0, -2));
  let shape = [...batch, M, N];
  if (a.shape.length === 1) shape = [...shape.slice(0, -2), N];
  if (b.shape.length === 1) shape = a.shape.length === 1 ? shape.slice(0, -1) : [...shape.slice(0, -2), M];
  // The output's size is checked (and charged) before its buffer or any loop exists.
  const result = makeTensor(ctx, `the output of ${info.label}`, 'float32', shape);
  const out = result.data;
  if (out.length === 0 || K === 0) return result; // empty, or all sums empty (zeros)
  ctx.budget.charge(`the accumulator of ${info.label}`, N);
  const aStr = broadcastStrides(as.slice(0, -2), batch).map((s) => s * M * K);
  const bStr = broadcastStrides(bs.slice(0, -2), batch).map((s) => s * K * N);
  const acc = new Float64Array(N);
  const ad = a.data;
  const bd = b.data;
  forEachIndex(batch, [aStr, bStr], (bi, offs) => {
    const ao = offs[0];
    const bo = offs[1];
    const oo = bi * M * N;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const av = ad[ao + i * K + k];
        if (av === 0) continue;
        const row = bo + k * N;
        for (let j = 0; j < N; j++) acc[j] += av * bd[row + j];
      }
      for (let j = 0; j < N; j++) out[oo + i * N + j] = acc[j];
    }
  });
  return result;
}

function castTo(info: NodeInfo, ctx: RunContext, t: OnnxTensor, dtype: OnnxDType): OnnxTensor {
  if (t.dtype === dtype) return t;
  const out = makeTensor(ctx, `the output of ${info.label}`, dtype, t.shape);
  const o = out.data;
  const d = t.data;
  if (dtype === 'float32') for (let i = 0; i < d.length; i++) o[i] = d[i];
  else for (let i = 0; i < d.length; i++) o[i] = Number.isFinite(d[i]) ? Math.trunc(d[i]) : 0;
  return out;
}

function expandTo(info: NodeInfo, ctx: RunContext, t: OnnxTensor, target: readonly number[]): OnnxTensor {
  if (target.some((d) => !Number.isSafeInteger(d) || d < 0)) throw onnxError('invalid', `Invalid shape ${fmt(target)} for ${info.label}`);
  const shape = broadcastShapes(info, t.shape, target);
  const out = makeTensor(ctx, `the output of ${info.label}`, t.dtype, shape);
  const o = out.data;
  const d = t.data;
  forEachIndex(shape, [broadcastStrides(t.shape, shape)], (i, offs) => {
    o[i] = d[offs[0]];
  });
  return out;
}

function checkIndex(info: NodeInfo, v: number, dim: number): number {
  if (!Number.isInteger(v) || v < -dim || v >= dim) throw onnxError('invalid', `Index ${v} out of range for an axis of size ${dim} in ${info.label}`);
  return v < 0 ? v + dim : v;
}

type Compiler = (info: NodeInfo) => Kernel;

/** The supported operators (RNN is added by the interpreter). */
export const OPERATORS: Record<string, Compiler> = {
  Identity(info) {
    new NodeAttributes(info.node, info.label, []);
    return { run: (inputs) => [required(info, inputs, 0, 'input')] };
  },

  Constant(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'], info.budget);
    let value: OnnxTensor;
    const f = attrs.float('value_float');
    const fs = attrs.floats('value_floats');
    const i = attrs.int('value_int');
    const is = attrs.ints('value_ints');
    const t = attrs.tensor('value');
    const budget = info.budget ?? defaultBudget();
    const held = (dtype: OnnxDType, shape: number[], data: TypedData): OnnxTensor => {
      budget.alloc(`the value of ${info.label}`, shape);
      return { dtype, data, shape } as OnnxTensor;
    };
    if (t) value = t;
    else if (f !== undefined) value = held('float32', [], Float32Array.of(f));
    else if (fs) value = held('float32', [fs.length], Float32Array.from(fs));
    else if (i !== undefined) value = held('int64', [], Float64Array.of(i));
    else if (is) value = held('int64', [is.length], Float64Array.from(is));
    else throw onnxError('invalid', `Invalid ${info.label}: it has no value attribute`);
    return { run: () => [value] };
  },

  Add(info) {
    new NodeAttributes(info.node, info.label, []);
    return { run: (inputs, ctx) => binary(info, ctx, inputs, (x, y) => x + y) };
  },

  Sub(info) {
    new NodeAttributes(info.node, info.label, []);
    return { run: (inputs, ctx) => binary(info, ctx, inputs, (x, y) => x - y) };
  },

  Mul(info) {
    new NodeAttributes(info.node, info.label, []);
    return { run: (inputs, ctx) => binary(info, ctx, inputs, (x, y) => x * y) };
  },

  MatMul(info) {
    new NodeAttributes(info.node, info.label, []);
    return { run: (inputs, ctx) => [matmul(info, ctx, floatInput(info, inputs, 0, 'A'), floatInput(info, inputs, 1, 'B'))] };
  },

  Gemm(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset < 7 ? ['alpha', 'beta', 'transA', 'transB', 'broadcast'] : ['alpha', 'beta', 'transA', 'transB']);
    const alpha = attrs.float('alpha', 1);
    const beta = attrs.float('beta', 1);
    const transA = attrs.int('transA', 0) !== 0;
    const transB = attrs.int('transB', 0) !== 0;
    return {
      run(inputs, ctx) {
        const a = floatInput(info, inputs, 0, 'A');
        const b = floatInput(info, inputs, 1, 'B');
        if (a.shape.length !== 2 || b.shape.length !== 2) throw nodeError('invalid', 'inputs', info.label, `A and B must be 2-D, received ${fmt(a.shape)} and ${fmt(b.shape)}`);
        const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
        const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
        if (K !== K2) throw onnxError('invalid', `Shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not match for ${info.label} (transA=${+transA}, transB=${+transB})`);
        const c = inputs[2];
        if (c) {
          if (c.dtype !== 'float32') throw nodeError('unsupported', `dtype ${c.dtype} of input C`, info.label);
          const shape = broadcastShapes(info, c.shape, [M, N]);
          if (shape.length !== 2 || shape[0] !== M || shape[1] !== N) throw onnxError('invalid', `Input C ${fmt(c.shape)} of ${info.label} does not broadcast to [${M}, ${N}]`);
        }
        // [M, N] is checked against the budgets before the buffer exists.
        const result = makeTensor(ctx, `the output of ${info.label}`, 'float32', [M, N]);
        const out = result.data as Float32Array;
        if (out.length === 0) return [result];
        if (c) {
          const cd = c.data;
          forEachIndex([M, N], [broadcastStrides(c.shape, [M, N])], (i, offs) => {
            out[i] = beta * cd[offs[0]];
          });
        }
        if (K === 0) return [result];
        const ad = a.data;
        const bd = b.data;
        const aAt = transA ? (i: number, k: number) => ad[k * M + i] : (i: number, k: number) => ad[i * K + k];
        const bStride = transB ? [1, K] : [N, 1];
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += aAt(i, k) * bd[k * bStride[0] + j * bStride[1]];
            out[i * N + j] += alpha * acc;
          }
        }
        return [result];
      },
    };
  },

  Transpose(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['perm']);
    const perm = attrs.ints('perm');
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const r = t.shape.length;
        const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
        if (p.length !== r || [...p].sort((x, y) => x - y).some((v, i) => v !== i)) {
          throw onnxError('invalid', `Invalid perm [${p.slice(0, MAX_TENSOR_RANK).join(', ')}] of ${info.label} for a rank-${r} input`);
        }
        return [transposeData(info, ctx, t, p)];
      },
    };
  },

  Reshape(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset < 5 ? ['shape'] : info.opset >= 14 ? ['allowzero'] : []);
    const allowZero = attrs.int('allowzero', 0) !== 0;
    const attrShape = attrs.ints('shape');
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const spec = info.opset < 5 ? attrShape ?? [] : intValues(info, required(info, inputs, 1, 'shape'), 'shape');
        if (spec.length > MAX_TENSOR_RANK) throw onnxError('invalid', `Invalid shape of ${spec.length} dims for ${info.label}: at most ${MAX_TENSOR_RANK}`);
        const n = t.data.length;
        let infer = -1;
        let known = 1;
        const shape = spec.map((d, i) => {
          if (d === -1) {
            if (infer >= 0) throw onnxError('invalid', `Invalid shape [${spec.join(', ')}] for ${info.label}: more than one -1`);
            infer = i;
            return -1;
          }
          if (d === 0 && !allowZero) {
            if (i >= t.shape.length) throw onnxError('invalid', `Invalid shape [${spec.join(', ')}] for ${info.label}: 0 at axis ${i} but the input has rank ${t.shape.length}`);
            d = t.shape[i];
          }
          if (!Number.isSafeInteger(d) || d < 0) throw onnxError('invalid', `Invalid shape [${spec.join(', ')}] for ${info.label}`);
          known *= d;
          return d;
        });
        if (infer >= 0) {
          if (known === 0 || n % known !== 0) throw onnxError('invalid', `Cannot reshape ${fmt(t.shape)} to [${spec.join(', ')}] in ${info.label}`);
          shape[infer] = n / known;
        } else if (known !== n) {
          throw onnxError('invalid', `Cannot reshape ${fmt(t.shape)} (${n} elements) to [${spec.join(', ')}] in ${info.label}`);
        }
        return [reshaped(info, ctx, t, shape)];
      },
    };
  },

  Squeeze(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset < 13 ? ['axes'] : []);
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const given = axesOf(info, attrs, inputs);
        const r = t.shape.length;
        const axes = given ? given.map((a) => normAxis(info, a, r, 'axes entry')) : t.shape.flatMap((d, i) => (d === 1 ? [i] : []));
        for (const a of axes) if (t.shape[a] !== 1) throw onnxError('invalid', `Cannot squeeze axis ${a} of size ${t.shape[a]} in ${info.label}`);
        return [reshaped(info, ctx, t, t.shape.filter((_, i) => !axes.includes(i)))];
      },
    };
  },

  Unsqueeze(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset < 13 ? ['axes'] : []);
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const given = axesOf(info, attrs, inputs);
        if (!given) throw nodeError('missing', 'axes', info.label);
        const r = t.shape.length + given.length;
        if (r > MAX_TENSOR_RANK) throw nodeError('invalid', 'axes', info.label, `the output would have rank ${r}, more than ${MAX_TENSOR_RANK}`);
        const axes = given.map((a) => normAxis(info, a, r, 'axes entry'));
        if (new Set(axes).size !== axes.length) throw onnxError('invalid', `Repeated axes [${given.join(', ')}] in ${info.label}`);
        const shape: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : t.shape[k++]);
        return [reshaped(info, ctx, t, shape)];
      },
    };
  },

  Concat(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['axis']);
    const axisAttr = attrs.int('axis');
    if (axisAttr === undefined && info.opset >= 4) throw nodeError('missing', `attribute 'axis'`, info.label);
    return {
      run(inputs, ctx) {
        const parts = inputs.filter((t): t is OnnxTensor => t !== undefined);
        if (parts.length === 0) throw nodeError('missing', 'inputs', info.label);
        const first = parts[0];
        const r = first.shape.length;
        const axis = normAxis(info, axisAttr ?? 1, r);
        for (const p of parts) {
          if (p.dtype !== first.dtype) throw onnxError('invalid', `Mismatched input dtypes ${first.dtype} and ${p.dtype} of ${info.label}`);
          if (p.shape.length !== r || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
            throw onnxError('invalid', `Shapes ${fmt(first.shape)} and ${fmt(p.shape)} cannot be concatenated on axis ${axis} in ${info.label}`);
          }
        }
        const shape = [...first.shape];
        shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
        const out = makeTensor(ctx, `the output of ${info.label}`, first.dtype, shape);
        // An empty output has nothing to copy: no loop over the other dims.
        if (out.data.length === 0) return [out];
        const outer = sizeOf(first.shape.slice(0, axis));
        const inner = sizeOf(first.shape.slice(axis + 1));
        const rowOut = shape[axis] * inner;
        let off = 0;
        for (const p of parts) {
          const rowIn = p.shape[axis] * inner;
          if (rowIn > 0) for (let o = 0; o < outer; o++) out.data.set(p.data.subarray(o * rowIn, (o + 1) * rowIn), o * rowOut + off);
          off += rowIn;
        }
        return [out];
      },
    };
  },

  Slice(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset < 10 ? ['starts', 'ends', 'axes'] : []);
    const aStarts = attrs.ints('starts');
    const aEnds = attrs.ints('ends');
    const aAxes = attrs.ints('axes');
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        let starts: number[];
        let ends: number[];
        let axes: number[] | undefined;
        let steps: number[] | undefined;
        if (info.opset < 10) {
          if (!aStarts || !aEnds) throw nodeError('missing', `attribute 'starts' or 'ends'`, info.label);
          [starts, ends, axes] = [aStarts, aEnds, aAxes];
        } else {
          starts = intValues(info, required(info, inputs, 1, 'starts'), 'starts');
          ends = intValues(info, required(info, inputs, 2, 'ends'), 'ends');
          axes = inputs[3] ? intValues(info, inputs[3], 'axes') : undefined;
          steps = inputs[4] ? intValues(info, inputs[4], 'steps') : undefined;
        }
        const r = t.shape.length;
        const ax = axes ? axes.map((a) => normAxis(info, a, r, 'axes entry')) : starts.map((_, i) => i);
        if (starts.length !== ends.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
          throw onnxError('invalid', `Invalid ${info.label}: starts, ends, axes and steps must have the same length`);
        }
        if (ax.some((a) => a >= r)) throw onnxError('invalid', `Invalid ${info.label}: more starts than the input's ${r} axes`);
        // Each axis as (first index, step, count): nothing is listed per index.
        const ranges: SliceRange[] = t.shape.map((d) => ({ start: 0, step: 1, count: d }));
        ax.forEach((a, i) => {
          const step = steps ? steps[i] : 1;
          if (step === 0 || !Number.isFinite(step)) throw onnxError('invalid', `Invalid step ${step} in ${info.label}`);
          ranges[a] = sliceRange(t.shape[a], starts[i], ends[i], step);
        });
        const shape = ranges.map((p) => p.count);
        const out = makeTensor(ctx, `the output of ${info.label}`, t.dtype, shape);
        const n = out.data.length;
        if (n === 0) return [out];
        const src = stridesOf(t.shape);
        const idx = new Array<number>(r).fill(0);
        let base = 0;
        for (let k = 0; k < r; k++) base += ranges[k].start * src[k];
        for (let i = 0; i < n; i++) {
          let off = base;
          for (let k = 0; k < r; k++) off += idx[k] * ranges[k].step * src[k];
          out.data[i] = t.data[off];
          for (let k = r - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) break;
            idx[k] = 0;
          }
        }
        return [out];
      },
    };
  },

  Cast(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['to', 'saturate']);
    const to = attrs.int('to');
    if (to === undefined) throw nodeError('missing', `attribute 'to'`, info.label);
    const dtype = dtypeOf(to);
    if (!dtype) throw attrs.badValue('to', dataTypeName(to), 'FLOAT, INT32 or INT64');
    return { run: (inputs, ctx) => [castTo(info, ctx, required(info, inputs, 0, 'input'), dtype)] };
  },

  Shape(info) {
    const attrs = new NodeAttributes(info.node, info.label, info.opset >= 15 ? ['start', 'end'] : []);
    const start = attrs.int('start', 0);
    const end = attrs.int('end');
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const r = t.shape.length;
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
        const dims = t.shape.slice(clamp(start), end === undefined ? r : clamp(end));
        const out = makeTensor(ctx, `the output of ${info.label}`, 'int64', [dims.length]);
        out.data.set(dims);
        return [out];
      },
    };
  },

  ConstantOfShape(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['value'], info.budget);
    const value = attrs.tensor('value') ?? ({ dtype: 'float32', data: Float32Array.of(0), shape: [1] } as OnnxTensor);
    if (value.data.length !== 1) throw nodeError('invalid', `attribute 'value'`, info.label, 'expected one element');
    return {
      run(inputs, ctx) {
        const shape = intValues(info, required(info, inputs, 0, 'input'), 'shape');
        if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw onnxError('invalid', `Invalid shape [${shape.join(', ')}] for ${info.label}`);
        // The requested size is checked against the budgets before the buffer exists.
        const out = makeTensor(ctx, `the output of ${info.label}`, value.dtype, shape);
        if (value.data[0] !== 0) out.data.fill(value.data[0]);
        return [out];
      },
    };
  },

  Expand(info) {
    new NodeAttributes(info.node, info.label, []);
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'input');
        const shape = intValues(info, required(info, inputs, 1, 'shape'), 'shape');
        return [expandTo(info, ctx, t, shape)];
      },
    };
  },

  Gather(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['axis']);
    const axisAttr = attrs.int('axis', 0);
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const ind = required(info, inputs, 1, 'indices');
        const indices = intData(info, ind, 'indices');
        const axis = normAxis(info, axisAttr, t.shape.length);
        const dim = t.shape[axis];
        const shape = [...t.shape.slice(0, axis), ...ind.shape, ...t.shape.slice(axis + 1)];
        const out = makeTensor(ctx, `the output of ${info.label}`, t.dtype, shape);
        // Every index is checked (a loop over the indices, which exist), then the copy runs
        // over the output's elements only.
        for (let j = 0; j < indices.length; j++) checkIndex(info, indices[j], dim);
        if (out.data.length === 0) return [out];
        const outer = sizeOf(t.shape.slice(0, axis));
        const inner = sizeOf(t.shape.slice(axis + 1));
        const k = indices.length;
        for (let o = 0; o < outer; o++) {
          for (let j = 0; j < k; j++) {
            const p = indices[j] < 0 ? indices[j] + dim : indices[j];
            const src = (o * dim + p) * inner;
            out.data.set(t.data.subarray(src, src + inner), (o * k + j) * inner);
          }
        }
        return [out];
      },
    };
  },

  GatherElements(info) {
    const attrs = new NodeAttributes(info.node, info.label, ['axis']);
    const axisAttr = attrs.int('axis', 0);
    return {
      run(inputs, ctx) {
        const t = required(info, inputs, 0, 'data');
        const ind = required(info, inputs, 1, 'indices');
        const indices = intData(info, ind, 'indices');
        const r = t.shape.length;
        const axis = normAxis(info, axisAttr, r);
        if (ind.shape.length !== r) throw onnxError('invalid', `Indices ${fmt(ind.shape)} of ${info.label} must have the rank of the data ${fmt(t.shape)}`);
        const out = makeTensor(ctx, `the output of ${info.label}`, t.dtype, ind.shape);
        const src = stridesOf(t.shape);
        const idx = new Array<number>(r).fill(0);
        for (let i = 0; i < indices.length; i++) {
          let off = 0;
          for (let k = 0; k < r; k++) {
            const v = k === axis ? checkIndex(info, indices[i], t.shape[k]) : idx[k];
            if (k !== axis && v >= t.shape[k]) throw onnxError('invalid', `Indices ${fmt(ind.shape)} exceed the data ${fmt(t.shape)} in ${info.label}`);
            off += v * src[k];
          }
          out.data[i] = t.data[off];
          for (let k = r - 1; k >= 0; k--) {
            if (++idx[k] < ind.shape[k]) break;
            idx[k] = 0;
          }
        }
        return [out];
      },
    };
  },
};
