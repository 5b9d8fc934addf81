/**
 * Helpers for the ONNX tests: building small ONNX models by hand, running
 * files in onnxruntime-node, and comparing outputs.
 */
import * as ort from 'onnxruntime-node';
import {
  AttributeType,
  DataType,
  encodeModelProto,
  floatTensorProto,
  type IAttributeProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from '../../src/onnx/proto.js';
import type { Rng } from './random.js';

/** A float32/int32 tensor as fed to onnxruntime or rnnblas. */
export interface FeedTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** Largest |a_i - b_i|; Infinity when the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > e) e = d;
  }
  return e;
}

/** `n` normal values times `scale`. */
export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** Runs a model (bytes or path) in onnxruntime-node; returns every output as float32 data plus shape. */
export async function ortRun(model: Uint8Array | string, feeds: Record<string, FeedTensor>): Promise<Record<string, { data: Float32Array; shape: number[] }>> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    ortFeeds[name] = t.data instanceof Float32Array ? new ort.Tensor('float32', t.data, t.shape) : new ort.Tensor('int32', t.data, t.shape);
  }
  const out = await session.run(ortFeeds);
  const result: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [name, t] of Object.entries(out)) result[name] = { data: t.data as Float32Array, shape: [...t.dims] };
  await session.release();
  return result;
}

/** An attribute from a plain value (numbers default to INT; pass kind 'float' for FLOAT/FLOATS). */
export function attribute(name: string, value: number | string | number[] | string[], kind: 'int' | 'float' = 'int'): IAttributeProto {
  const enc = new TextEncoder();
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: enc.encode(value) };
  if (typeof value === 'number') return kind === 'int' ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  if (value.length > 0 && typeof value[0] === 'string') return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => enc.encode(s)) };
  return kind === 'int' ? { name, type: AttributeType.INTS, ints: value as number[] } : { name, type: AttributeType.FLOATS, floats: value as number[] };
}

/** A tensor-typed graph input/output; dims are numbers or named axes. */
export function tensorInfo(name: string, elemType: number, dims: Array<number | string>): IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** Encodes a one-graph model. */
export function modelBytes(spec: {
  nodes: INodeProto[];
  inputs: IValueInfoProto[];
  outputs: IValueInfoProto[];
  initializers?: ITensorProto[];
  opset?: number;
  irVersion?: number;
}): Uint8Array {
  return encodeModelProto({
    irVersion: spec.irVersion ?? 7,
    producerName: 'rnnblas-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 14 }],
    graph: { name: 'test', node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] },
  });
}

/** Weights of one ONNX RNN node. */
export interface RnnNodeWeights {
  W: Float32Array;
  R: Float32Array;
  B: Float32Array | null;
}

/** Random W [D,H,I], R [D,H,H] and B [D,2H] (scale 0.5). */
export function randomRnnWeights(rng: Rng, D: number, H: number, I: number, bias = true): RnnNodeWeights {
  return { W: randn(rng, D * H * I, 0.5), R: randn(rng, D * H * H, 0.5), B: bias ? randn(rng, D * 2 * H, 0.5) : null };
}

/**
 * A one-node RNN model: W, R (and B) as initializers; graph inputs X and, if
 * asked, sequence_lens and initial_h; outputs Y and Y_h. `attrs` are written as given.
 */
export function rnnNodeModel(spec: {
  D: number;
  H: number;
  I: number;
  weights: RnnNodeWeights;
  attrs: IAttributeProto[];
  layout?: 0 | 1;
  seqLens?: boolean;
  initialH?: boolean;
  opset?: number;
}): Uint8Array {
  const { D, H, I, weights } = spec;
  const layout = spec.layout ?? 0;
  const inits = [floatTensorProto('W', [D, H, I], weights.W), floatTensorProto('R', [D, H, H], weights.R)];
  if (weights.B) inits.push(floatTensorProto('B', [D, 2 * H], weights.B));
  const inputs = [tensorInfo('X', DataType.FLOAT, layout === 0 ? ['T', 'N', I] : ['N', 'T', I])];
  if (spec.seqLens) inputs.push(tensorInfo('sequence_lens', DataType.INT32, ['N']));
  if (spec.initialH) inputs.push(tensorInfo('initial_h', DataType.FLOAT, layout === 0 ? [D, 'N', H] : ['N', D, H]));
  const node: INodeProto = {
    opType: 'RNN',
    name: 'rnn',
    input: ['X', 'W', 'R', weights.B ? 'B' : '', spec.seqLens ? 'sequence_lens' : '', spec.initialH ? 'initial_h' : ''],
    output: ['Y', 'Y_h'],
    attribute: spec.attrs,
  };
  return modelBytes({
    nodes: [node],
    inputs,
    outputs: [
      tensorInfo('Y', DataType.FLOAT, layout === 0 ? ['T', D, 'N', H] : ['N', 'T', D, H]),
      tensorInfo('Y_h', DataType.FLOAT, layout === 0 ? [D, 'N', H] : ['N', D, H]),
    ],
    initializers: inits,
    opset: spec.opset ?? 14,
  });
}

/** Transposes a row-major tensor by `perm`. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let k = 0; k < perm.length; k++) off += idx[k] * strides[perm[k]];
    out[i] = data[off];
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, shape: outShape };
}
