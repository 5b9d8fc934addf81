/**
 * The ONNX protobuf messages rnnblas uses (see `proto_schema.ts`: our own schema of the subset
 * of onnx.proto we read and write, int64 values as numbers), the element budgets that bound
 * what a model may allocate, and the conversions between TensorProtos and interpreter tensors.
 */
import { cappedList, rangeError } from '../errors.js';
import { checkInt, checkOptions } from '../validate.js';
import {
  decodeModel,
  decodeTensor,
  encodeModel,
  type IAttributeProto,
  type IGraphProto,
  type IModelProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from './proto_schema.js';
import { onnxError } from './errors.js';

export type { IAttributeProto, IGraphProto, IModelProto, INodeProto, ITensorProto, IValueInfoProto };

/** A decoded ModelProto (every field present). */
export type ModelProto = IModelProto;

// ---------------------------------------------------------------------------------------------
// Budgets
// ---------------------------------------------------------------------------------------------

/**
 * Default of {@link OnnxLoadOptions.maxTensorElements}: the most elements one tensor may have,
 * 2^28 = 268,435,456 (1 GiB of float32; the largest weight of an RNN with hidden size 8192 has
 * 2^26). For an empty tensor the product of its non-zero dims is bounded the same way, so no
 * loop over the dims of an empty tensor runs longer than over a full one.
 */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 2 ** 28;

/**
 * Default of {@link OnnxLoadOptions.maxGraphElements}: the most elements a model may hold in its
 * initializers and constants plus what one `run` allocates for op outputs and intermediates,
 * 2^30 (4 GiB of float32).
 */
export const DEFAULT_MAX_GRAPH_ELEMENTS = 2 ** 30;

/** The highest tensor rank the interpreter accepts. */
export const MAX_TENSOR_RANK = 64;

/** Options of `loadOnnx` and `decodeOnnx`: the element budgets, checked before anything is allocated. */
export interface OnnxLoadOptions {
  /** The most elements one tensor may have (default {@link DEFAULT_MAX_TENSOR_ELEMENTS}). */
  maxTensorElements?: number;
  /**
   * The most elements the initializers and constants plus one run's allocations may total
   * (default {@link DEFAULT_MAX_GRAPH_ELEMENTS}).
   */
  maxGraphElements?: number;
}

/** The validated budgets. */
export interface OnnxLimits {
  /** Per tensor. */
  readonly maxTensorElements: number;
  /** Per model (initializers) plus per run. */
  readonly maxGraphElements: number;
}

/** Checks load options and fills in the defaults. */
export function onnxLimits(options: unknown): OnnxLimits {
  const o = checkOptions<OnnxLoadOptions>('options', options, ['maxTensorElements', 'maxGraphElements']);
  // Typed arrays are limited to 2^32-1 elements (and buffers rnnblas hands to the addon to 2^31-1).
  const maxTensorElements = o.maxTensorElements === undefined ? DEFAULT_MAX_TENSOR_ELEMENTS : checkInt('options.maxTensorElements', o.maxTensorElements, 1, 2 ** 31 - 1);
  const maxGraphElements = o.maxGraphElements === undefined ? DEFAULT_MAX_GRAPH_ELEMENTS : checkInt('options.maxGraphElements', o.maxGraphElements, 1, Number.MAX_SAFE_INTEGER);
  return { maxTensorElements, maxGraphElements };
}

/**
 * Counts elements against the budgets: `shape` checks one tensor's shape (before its buffer
 * exists), `charge` adds an allocation to the running total.
 */
export class Budget {
  private used: number;

  /**
   * @param limits - the budgets.
   * @param used - elements already held (e.g. the initializers, when a run starts).
   */
  constructor(
    readonly limits: OnnxLimits,
    used = 0,
  ) {
    this.used = used;
  }

  /** Elements charged so far. */
  get total(): number {
    return this.used;
  }

  /**
   * Checks a shape (rank, non-negative integer dims, element count, and the product of the
   * non-zero dims) and returns its element count. `what` names the tensor in the error.
   */
  shape(what: string, shape: readonly number[]): number {
    const max = this.limits.maxTensorElements;
    if (shape.length > MAX_TENSOR_RANK) throw rangeError(what, `a rank of at most ${MAX_TENSOR_RANK}`, `a shape of rank ${shape.length}`);
    let n = 1;
    let nonZero = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw rangeError(what, 'a shape of non-negative integers', `[${cappedList(shape)}]`);
      n *= d;
      if (d !== 0) nonZero *= d;
      if (nonZero > max) {
        const why = shape.includes(0) ? ' (empty, but its non-zero dims multiply past the limit)' : '';
        throw rangeError(what, `at most ${max} elements per tensor (the maxTensorElements budget)`, `shape [${cappedList(shape)}]${why}`);
      }
    }
    return n;
  }

  /** Adds `n` elements to the total; refuses to pass the per-graph budget. */
  charge(what: string, n: number): void {
    const max = this.limits.maxGraphElements;
    if (this.used + n > max) {
      throw rangeError(what, `at most ${max} elements in total for the model's tensors (the maxGraphElements budget)`, `${n} more elements after ${this.used}`);
    }
    this.used += n;
  }

  /** `shape` then `charge`: for a buffer about to be allocated. Returns its element count. */
  alloc(what: string, shape: readonly number[]): number {
    const n = this.shape(what, shape);
    this.charge(what, n);
    return n;
  }
}

/** Budgets with the defaults and nothing charged (for a lone TensorProto). */
export function defaultBudget(): Budget {
  return new Budget(onnxLimits(undefined));
}

/** TensorProto.DataType codes rnnblas reads or writes. */
export const DataType = {
  FLOAT: 1,
  INT32: 6,
  INT64: 7,
} as const;

/** AttributeProto.AttributeType codes. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
  8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

/** The ONNX name of a TensorProto.DataType code, e.g. `FLOAT` or `INT64`. */
export function dataTypeName(code: number): string {
  return DATA_TYPE_NAMES[code] ?? `data type ${code}`;
}

/** Element types the interpreter computes with. int64 values are held as doubles (exact to 2^53). */
export type OnnxDType = 'float32' | 'int32' | 'int64';

/** A tensor inside the interpreter: float32, int32, or int64 (held in a Float64Array). */
export type OnnxTensor =
  | { readonly dtype: 'float32'; readonly data: Float32Array; readonly shape: readonly number[] }
  | { readonly dtype: 'int32'; readonly data: Int32Array; readonly shape: readonly number[] }
  | { readonly dtype: 'int64'; readonly data: Float64Array; readonly shape: readonly number[] };

/** The interpreter's dtype for an ONNX data type code, or null when unsupported. */
export function dtypeOf(code: number): OnnxDType | null {
  if (code === DataType.FLOAT) return 'float32';
  if (code === DataType.INT32) return 'int32';
  if (code === DataType.INT64) return 'int64';
  return null;
}

/** The ONNX data type code of an interpreter dtype. */
export function dataTypeCode(dtype: OnnxDType): number {
  return dtype === 'float32' ? DataType.FLOAT : dtype === 'int32' ? DataType.INT32 : DataType.INT64;
}

/** A protobuf int64 (decoded as a number by our schema) or an absent field, as a number. */
export function toNumber(v: number | null | undefined): number {
  return v === null || v === undefined ? 0 : v;
}

/** Decodes a serialized ModelProto; anything protobuf cannot read is an Error saying so. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw onnxError('invalid', `Not a valid ONNX model: the bytes are not a readable ModelProto protobuf (${(e as Error).message})`);
  }
}

/** Encodes a ModelProto. */
export function encodeModelProto(model: IModelProto): Uint8Array {
  return encodeModel(model);
}

/** Decodes a serialized TensorProto (e.g. an ONNX backend test's `input_0.pb`). */
export function decodeTensorProto(bytes: Uint8Array, options?: OnnxLoadOptions): OnnxTensor {
  const budget = new Budget(onnxLimits(options));
  let t: ITensorProto;
  try {
    t = decodeTensor(bytes);
  } catch (e) {
    throw onnxError('invalid', `Not a valid ONNX TensorProto: ${(e as Error).message}`);
  }
  return tensorFromProto(t, t.name || 'tensor', budget);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function rawBytesCheck(raw: Uint8Array, n: number, size: number, what: string): void {
  if (raw.length !== n * size) {
    throw rangeError(`${what}.raw_data`, `${n * size} bytes (${n} elements of ${size} bytes for its dims)`, `${raw.length} bytes`);
  }
}

/** Copies raw little-endian bytes into a new typed array of `n` elements of `size` bytes. */
function rawBytes(raw: Uint8Array, n: number, size: number, what: string): ArrayBuffer {
  rawBytesCheck(raw, n, size, what);
  const buf = new ArrayBuffer(n * size);
  new Uint8Array(buf).set(raw);
  return buf;
}

/**
 * Converts a TensorProto (FLOAT, INT32 or INT64; `raw_data` or the typed fields) to an
 * interpreter tensor. The dims are checked against the budget (and charged to it) before any
 * buffer is made, and the stored element count must match them. `what` names the tensor in
 * error messages.
 */
export function tensorFromProto(t: ITensorProto, what: string, budget: Budget = defaultBudget()): OnnxTensor {
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    throw onnxError('unsupported', `Unsupported tensor storage for ${what}: external data (data_location=EXTERNAL) is not supported; embed the tensor in the model`);
  }
  if (t.segment) throw onnxError('unsupported', `Unsupported tensor storage for ${what}: segmented tensors are not supported`);
  const dims = t.dims ?? [];
  if (dims.length > MAX_TENSOR_RANK) throw rangeError(`${what}.dims`, `a rank of at most ${MAX_TENSOR_RANK}`, `${dims.length} dims`);
  const shape = Array.from(dims, (d) => toNumber(d));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw rangeError(`${what}.dims`, 'non-negative integers', `[${cappedList(shape)}]`);
  const code = t.dataType ?? 0;
  const dtype = dtypeOf(code);
  if (dtype === null) {
    throw onnxError('unsupported', `Unsupported data type ${dataTypeName(code)} of tensor ${what}: only FLOAT, INT32 and INT64 tensors are supported`);
  }
  const n = budget.shape(`${what}.dims`, shape);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const count = (len: number, field: string): void => {
    if (len !== n) throw rangeError(`${what}.${field}`, `${n} elements (dims [${cappedList(shape)}])`, `${len} elements`);
  };
  if (raw) rawBytesCheck(raw, n, dtype === 'int64' ? 8 : 4, what);
  else if (dtype === 'float32') count(t.floatData?.length ?? 0, 'float_data');
  else if (dtype === 'int32') count(t.int32Data?.length ?? 0, 'int32_data');
  else count(t.int64Data?.length ?? 0, 'int64_data');
  budget.charge(what, n);
  if (dtype === 'float32') {
    let data: Float32Array;
    if (raw) {
      const buf = rawBytes(raw, n, 4, what);
      if (LITTLE_ENDIAN) data = new Float32Array(buf);
      else {
        const dv = new DataView(buf);
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
      }
    } else {
      const src = t.floatData ?? [];
      data = src instanceof Float32Array ? src : Float32Array.from(src);
    }
    return { dtype, data, shape };
  }
  if (dtype === 'int32') {
    let data: Int32Array;
    if (raw) {
      const buf = rawBytes(raw, n, 4, what);
      if (LITTLE_ENDIAN) data = new Int32Array(buf);
      else {
        const dv = new DataView(buf);
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = dv.getInt32(i * 4, true);
      }
    } else {
      const src = t.int32Data ?? [];
      data = src instanceof Int32Array ? src : Int32Array.from(src);
    }
    return { dtype, data, shape };
  }
  let data: Float64Array;
  if (raw) {
    data = new Float64Array(n);
    const dv = new DataView(rawBytes(raw, n, 8, what));
    for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
  } else {
    const src = t.int64Data ?? [];
    data = src instanceof Float64Array ? src : Float64Array.from(src);
  }
  return { dtype, data, shape };
}

/** A FLOAT TensorProto with `raw_data` (little-endian), as initializers are usually stored. */
export function floatTensorProto(name: string, shape: readonly number[], data: Float32Array): ITensorProto {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return { name, dims: [...shape], dataType: DataType.FLOAT, rawData: raw };
}

/** An INT64 TensorProto (values must be integers within ±2^53). */
export function int64TensorProto(name: string, shape: readonly number[], values: readonly number[]): ITensorProto {
  return { name, dims: [...shape], dataType: DataType.INT64, int64Data: [...values] };
}
