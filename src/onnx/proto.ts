/**
 * The ONNX protobuf schema and the conversions between its messages and
 * rnnblas' tensors.
 *
 * The schema is the protobufjs-generated static code of the `onnx-proto`
 * package (ONNX v1.10.2, IR version 8). Fields added by later IR versions are
 * unknown to it and skipped when decoding; nothing rnnblas reads or writes
 * uses them.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';
import { rangeError } from '../errors.js';
import { checkedSize } from '../validate.js';

/** The generated message classes (`onnx.ModelProto`, `onnx.TensorProto`, ...). */
export const onnx = onnxProto.onnx;

/** A decoded ModelProto. */
export type ModelProto = OnnxNs.ModelProto;
/** A ModelProto as plain properties, for encoding. */
export type IModelProto = OnnxNs.IModelProto;
/** A GraphProto as plain properties. */
export type IGraphProto = OnnxNs.IGraphProto;
/** A NodeProto as plain properties. */
export type INodeProto = OnnxNs.INodeProto;
/** An AttributeProto as plain properties. */
export type IAttributeProto = OnnxNs.IAttributeProto;
/** A TensorProto as plain properties. */
export type ITensorProto = OnnxNs.ITensorProto;
/** A ValueInfoProto as plain properties. */
export type IValueInfoProto = OnnxNs.IValueInfoProto;

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

/** A protobuf int64 (number or Long) as a number. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decodes a serialized ModelProto; anything protobuf cannot read is an Error saying so. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`Not a valid ONNX model: the bytes are not a readable ModelProto protobuf (${(e as Error).message})`);
  }
}

/** Encodes a ModelProto. */
export function encodeModelProto(model: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Decodes a serialized TensorProto (e.g. an ONNX backend test's `input_0.pb`). */
export function decodeTensorProto(bytes: Uint8Array): OnnxTensor {
  let t: OnnxNs.TensorProto;
  try {
    t = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new Error(`Not a valid ONNX TensorProto: ${(e as Error).message}`);
  }
  return tensorFromProto(t, t.name || 'tensor');
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies raw little-endian bytes into a new typed array of `n` elements of `size` bytes. */
function rawBytes(raw: Uint8Array, n: number, size: number, what: string): ArrayBuffer {
  if (raw.length !== n * size) {
    throw rangeError(`${what}.raw_data`, `${n * size} bytes (${n} elements of ${size} bytes for its dims)`, `${raw.length} bytes`);
  }
  const buf = new ArrayBuffer(n * size);
  new Uint8Array(buf).set(raw);
  return buf;
}

/**
 * Converts a TensorProto (FLOAT, INT32 or INT64; `raw_data` or the typed
 * fields) to an interpreter tensor, checking the element count against dims.
 * `what` names the tensor in error messages.
 */
export function tensorFromProto(t: ITensorProto, what: string): OnnxTensor {
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    throw new Error(`Unsupported tensor storage for ${what}: external data (data_location=EXTERNAL) is not supported; embed the tensor in the model`);
  }
  if (t.segment) throw new Error(`Unsupported tensor storage for ${what}: segmented tensors are not supported`);
  const shape = (t.dims ?? []).map((d) => toNumber(d));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw rangeError(`${what}.dims`, 'non-negative integers', `[${shape.join(', ')}]`);
  const n = checkedSize(`${what}.dims`, shape);
  const code = t.dataType ?? 0;
  const dtype = dtypeOf(code);
  if (dtype === null) {
    throw new Error(`Unsupported data type ${dataTypeName(code)} of tensor ${what}: only FLOAT, INT32 and INT64 tensors are supported`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const count = (len: number, field: string): void => {
    if (len !== n) throw rangeError(`${what}.${field}`, `${n} elements (dims [${shape.join(', ')}])`, `${len} elements`);
  };
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
      count(src.length, 'float_data');
      data = Float32Array.from(src);
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
      count(src.length, 'int32_data');
      data = Int32Array.from(src);
    }
    return { dtype, data, shape };
  }
  const data = new Float64Array(n);
  if (raw) {
    const dv = new DataView(rawBytes(raw, n, 8, what));
    for (let i = 0; i < n; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
  } else {
    const src = t.int64Data ?? [];
    count(src.length, 'int64_data');
    for (let i = 0; i < n; i++) data[i] = toNumber(src[i]);
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
