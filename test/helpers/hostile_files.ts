/**
 * Hand-made hostile files (issue 16): tiny model files, checkpoints and ONNX graphs that state
 * huge sizes, built byte by byte here (a minimal protobuf and safetensors writer that depends on
 * nothing in src/), so the same files can be fed to any version of the code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ------------------------------------------------------------------------------------------
// protobuf
// ------------------------------------------------------------------------------------------

/** A varint (non-negative, or negative as 64-bit two's complement). */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const enc = new TextEncoder();

/** A length-delimited field. */
export function ld(num: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? enc.encode(payload) : payload;
  return concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
}

/** A varint field. */
export function vf(num: number, value: number | bigint): Uint8Array {
  return concat([varint(num << 3), varint(value)]);
}

/** A packed repeated varint field. */
export function packed(num: number, values: ReadonlyArray<number | bigint>): Uint8Array {
  return ld(num, concat(values.map((v) => varint(v))));
}

const FLOAT = 1;
const INT64 = 7;

/** A TensorProto with dims and (optionally) int64 values; float tensors get zero raw_data sized for their dims when small. */
export function tensorProto(name: string, dataType: number, dims: number[], values: number[] = []): Uint8Array {
  const parts = [packed(1, dims), vf(2, dataType)];
  if (dataType === INT64 && values.length > 0) parts.push(packed(7, values));
  if (dataType === FLOAT && values.length > 0) {
    const raw = new Uint8Array(values.length * 4);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    parts.push(ld(9, raw));
  }
  parts.push(ld(8, name));
  return concat(parts);
}

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Uint8Array[];
}

export function intAttr(name: string, value: number): Uint8Array {
  return concat([ld(1, name), vf(3, value), vf(20, 2)]);
}

export function tensorAttr(name: string, tensor: Uint8Array): Uint8Array {
  return concat([ld(1, name), ld(5, tensor), vf(20, 4)]);
}

function valueInfo(name: string, elemType: number): Uint8Array {
  return concat([ld(1, name), ld(2, ld(1, vf(1, elemType)))]);
}

/** A ModelProto (IR 7, ai.onnx opset 13) with these nodes and initializers and one output. */
export function onnxModel(nodes: NodeSpec[], initializers: Uint8Array[], output: string, outputType = FLOAT): Uint8Array {
  const graph = concat([
    ...nodes.map((n, i) =>
      ld(1, concat([...n.inputs.map((s) => ld(1, s)), ...n.outputs.map((s) => ld(2, s)), ld(3, `n${i}`), ld(4, n.op), ...(n.attrs ?? []).map((a) => ld(5, a))])),
    ),
    ld(2, 'hostile'),
    ...initializers.map((t) => ld(5, t)),
    ld(12, valueInfo(output, outputType)),
  ]);
  return concat([vf(1, 7), ld(2, 'hostile'), ld(7, graph), ld(8, concat([ld(1, ''), vf(2, 13)]))]);
}

// ------------------------------------------------------------------------------------------
// safetensors
// ------------------------------------------------------------------------------------------

/** A safetensors file from header JSON text and a data area. */
export function safetensorsBytes(headerJson: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = enc.encode(headerJson);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat([len, json, data]);
}

function rnnblasMetadata(model: unknown, kind = 'model'): Record<string, string> {
  return { format: 'rnnblas', version: '1', kind, model: JSON.stringify(model) };
}

const bigRnn = { type: 'RNN', config: { inputSize: 1, hiddenSize: 16384, numLayers: 1, nonlinearity: 'tanh', bias: true, batchFirst: false, bidirectional: false, dropout: 0 } };
const midRnn = { type: 'RNN', config: { ...bigRnn.config, hiddenSize: 8192 } };
const bigLinear = { type: 'Linear', inFeatures: 64, outFeatures: 2 ** 24, bias: true };
const manyLinears = { type: 'Sequential', layers: Array.from({ length: 20 }, () => ({ type: 'Linear', inFeatures: 64, outFeatures: 2 ** 20, bias: true })) };

/** The file names written by {@link writeHostileFiles}, by case. */
export const FILES = {
  rnnNoTensors: 'rnn_h16384_no_tensors.safetensors',
  rnnNoTensorsInBudget: 'rnn_h8192_no_tensors.safetensors',
  linearNoTensors: 'linear_2p24x64_no_tensors.safetensors',
  manyLinears: 'sequential_20_linear_2p20x64.safetensors',
  checkpointNoTensors: 'checkpoint_rnn_h16384_no_tensors.safetensors',
  deepJson: 'deep_json_header.safetensors',
  manyTensors: 'header_1p5M_zero_size_tensors.safetensors',
  constantOfShape: 'constant_of_shape_2p31.onnx',
  constantOfShapeInt64: 'constant_of_shape_int64_1e9.onnx',
  expand: 'expand_2e9.onnx',
  gemmZeroK: 'gemm_zero_inner_1p6e9.onnx',
  matmulZeroK: 'matmul_zero_inner_2p1e9.onnx',
  concatEmpty: 'concat_empty_2e9x0.onnx',
  gatherEmpty: 'gather_empty_2e9x0.onnx',
  rnnEmptyX: 'rnn_empty_x_1e5x1e4x0.onnx',
  sliceEmpty: 'slice_empty_0x2e8.onnx',
  packedInt64: 'packed_int64_zeros_10MB.onnx',
} as const;

/** Writes every hand-made file into `dir`; returns their sizes in bytes by name. */
export function writeHostileFiles(dir: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  const put = (name: string, bytes: Uint8Array): void => {
    writeFileSync(join(dir, name), bytes);
    sizes[name] = bytes.length;
  };
  const header = (meta: Record<string, string>, rest = ''): string => `{"__metadata__":${JSON.stringify(meta)}${rest}}`;
  put(FILES.rnnNoTensors, safetensorsBytes(header(rnnblasMetadata(bigRnn))));
  put(FILES.rnnNoTensorsInBudget, safetensorsBytes(header(rnnblasMetadata(midRnn))));
  put(FILES.linearNoTensors, safetensorsBytes(header(rnnblasMetadata(bigLinear))));
  put(FILES.manyLinears, safetensorsBytes(header(rnnblasMetadata(manyLinears))));
  put(FILES.checkpointNoTensors, safetensorsBytes(header({ ...rnnblasMetadata(bigRnn, 'checkpoint'), checkpoint: '{"step":0,"epoch":0,"rng":null,"generators":[[1,2,3,4]],"optimizer":null,"scheduler":null}' })));
  const depth = 100_000;
  put(FILES.deepJson, safetensorsBytes(`{"t":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`));
  // 1.5 M zero-size tensors next to a small RNN's architecture: ~89 MB of header.
  const small = { type: 'RNN', config: { ...bigRnn.config, hiddenSize: 2 } };
  const entries: string[] = [];
  for (let i = 0; i < 1_500_000; i++) entries.push(`,"t${String(i).padStart(7, '0')}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
  put(FILES.manyTensors, safetensorsBytes(header(rnnblasMetadata(small), entries.join(''))));
  entries.length = 0;

  put(FILES.constantOfShape, onnxModel([{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['Y'] }], [tensorProto('shape', INT64, [1], [2 ** 31 - 1])], 'Y'));
  put(
    FILES.constantOfShapeInt64,
    onnxModel(
      [
        { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['c'], attrs: [tensorAttr('value', tensorProto('', INT64, [1], [7]))] },
        { op: 'Cast', inputs: ['c'], outputs: ['Y'], attrs: [intAttr('to', FLOAT)] },
      ],
      [tensorProto('shape', INT64, [1], [1e9])],
      'Y',
    ),
  );
  put(FILES.expand, onnxModel([{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['Y'] }], [tensorProto('x', FLOAT, [1], [1]), tensorProto('shape', INT64, [1], [2e9])], 'Y'));
  put(FILES.gemmZeroK, onnxModel([{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'] }], [tensorProto('A', FLOAT, [40000, 0]), tensorProto('B', FLOAT, [0, 40000])], 'Y'));
  put(FILES.matmulZeroK, onnxModel([{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], [tensorProto('A', FLOAT, [46000, 0]), tensorProto('B', FLOAT, [0, 46000])], 'Y'));
  put(FILES.concatEmpty, onnxModel([{ op: 'Concat', inputs: ['a', 'b'], outputs: ['Y'], attrs: [intAttr('axis', 1)] }], [tensorProto('a', FLOAT, [2e9, 0]), tensorProto('b', FLOAT, [2e9, 0])], 'Y'));
  put(FILES.gatherEmpty, onnxModel([{ op: 'Gather', inputs: ['a', 'i'], outputs: ['Y'], attrs: [intAttr('axis', 1)] }], [tensorProto('a', FLOAT, [2e9, 0]), tensorProto('i', INT64, [0])], 'Y'));
  put(
    FILES.rnnEmptyX,
    onnxModel(
      [{ op: 'RNN', inputs: ['X', 'W', 'R'], outputs: ['Y'], attrs: [intAttr('hidden_size', 1)] }],
      [tensorProto('X', FLOAT, [100000, 10000, 0]), tensorProto('W', FLOAT, [1, 1, 0]), tensorProto('R', FLOAT, [1, 1, 1], [0.5])],
      'Y',
    ),
  );
  put(
    FILES.sliceEmpty,
    onnxModel(
      [{ op: 'Slice', inputs: ['data', 'starts', 'ends', 'axes'], outputs: ['Y'] }],
      [tensorProto('data', FLOAT, [0, 2e8]), tensorProto('starts', INT64, [1], [0]), tensorProto('ends', INT64, [1], [1]), tensorProto('axes', INT64, [1], [1])],
      'Y',
    ),
  );
  // 10 M packed int64 zeros (one byte each) in one initializer, and an int64 graph output the
  // interpreter refuses once everything is decoded.
  const n = 10_000_000;
  const big = concat([packed(1, [n]), vf(2, INT64), ld(7, new Uint8Array(n)), ld(8, 'big')]);
  put(FILES.packedInt64, onnxModel([{ op: 'Identity', inputs: ['big'], outputs: ['Y'] }], [big], 'Y', INT64));
  return sizes;
}
