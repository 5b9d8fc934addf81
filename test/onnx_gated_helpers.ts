/**
 * Helpers for the ONNX LSTM/GRU tests: one-node LSTM/GRU models built by hand (weights as
 * initializers), random feeds, and running a model both in rnnblas and onnxruntime-node.
 */
import { DataType, floatTensorProto, type IAttributeProto, type INodeProto } from '../src/onnx/proto.js';
import { modelBytes, randn, tensorInfo, type FeedTensor } from './helpers/onnx.js';
import type { Rng } from './helpers/random.js';

/** Weights of one LSTM/GRU node, in ONNX's layout and gate order. */
export interface GatedNodeWeights {
  W: Float32Array;
  R: Float32Array;
  B: Float32Array | null;
  P: Float32Array | null;
}

/** Random W [D,G*H,I], R [D,G*H,H], B [D,2GH] and (when asked) P [D,3H]. */
export function randomGatedWeights(rng: Rng, op: 'LSTM' | 'GRU', D: number, H: number, I: number, o: { bias?: boolean; peepholes?: boolean; scale?: number } = {}): GatedNodeWeights {
  const G = op === 'LSTM' ? 4 : 3;
  const s = o.scale ?? 0.5;
  return {
    W: randn(rng, D * G * H * I, s),
    R: randn(rng, D * G * H * H, s),
    B: o.bias === false ? null : randn(rng, D * 2 * G * H, s),
    P: o.peepholes ? randn(rng, D * 3 * H, s) : null,
  };
}

/** What a one-node model takes and returns. */
export interface GatedModelSpec {
  op: 'LSTM' | 'GRU';
  D: number;
  H: number;
  I: number;
  weights: GatedNodeWeights;
  attrs: IAttributeProto[];
  layout?: 0 | 1;
  seqLens?: boolean;
  initialH?: boolean;
  initialC?: boolean;
  /** Which outputs the node names (default all: Y, Y_h and for LSTM Y_c). */
  outputs?: Array<'Y' | 'Y_h' | 'Y_c'>;
  opset?: number;
  /** Declared initializer shapes overriding the ones implied by D, H, I (for shape-error tests). */
  dims?: Partial<Record<'W' | 'R' | 'B' | 'P', number[]>>;
}

/**
 * A one-node LSTM/GRU model: W, R (and B, P) as initializers; graph inputs X and, if asked,
 * sequence_lens, initial_h and initial_c; the outputs asked for.
 */
export function gatedNodeModel(spec: GatedModelSpec): Uint8Array {
  const { op, D, H, I, weights } = spec;
  const G = op === 'LSTM' ? 4 : 3;
  const layout = spec.layout ?? 0;
  const dims = spec.dims ?? {};
  const inits = [floatTensorProto('W', dims.W ?? [D, G * H, I], weights.W), floatTensorProto('R', dims.R ?? [D, G * H, H], weights.R)];
  if (weights.B) inits.push(floatTensorProto('B', dims.B ?? [D, 2 * G * H], weights.B));
  if (weights.P) inits.push(floatTensorProto('P', dims.P ?? [D, 3 * H], weights.P));
  const st = layout === 0 ? [D, 'N', H] : ['N', D, H];
  const inputs = [tensorInfo('X', DataType.FLOAT, layout === 0 ? ['T', 'N', I] : ['N', 'T', I])];
  if (spec.seqLens) inputs.push(tensorInfo('sequence_lens', DataType.INT32, ['N']));
  if (spec.initialH) inputs.push(tensorInfo('initial_h', DataType.FLOAT, st));
  if (spec.initialC) inputs.push(tensorInfo('initial_c', DataType.FLOAT, st));
  const nodeInputs = ['X', 'W', 'R', weights.B ? 'B' : '', spec.seqLens ? 'sequence_lens' : '', spec.initialH ? 'initial_h' : ''];
  if (op === 'LSTM') nodeInputs.push(spec.initialC ? 'initial_c' : '', weights.P ? 'P' : '');
  while (nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
  const all = op === 'LSTM' ? (['Y', 'Y_h', 'Y_c'] as const) : (['Y', 'Y_h'] as const);
  const want = spec.outputs ?? [...all];
  const nodeOutputs: string[] = all.map((o) => (want.includes(o) ? o : ''));
  while (nodeOutputs[nodeOutputs.length - 1] === '') nodeOutputs.pop();
  const node: INodeProto = { opType: op, name: op.toLowerCase(), input: nodeInputs, output: nodeOutputs, attribute: spec.attrs };
  const outputs = all
    .filter((o) => want.includes(o))
    .map((o) => tensorInfo(o, DataType.FLOAT, o === 'Y' ? (layout === 0 ? ['T', D, 'N', H] : ['N', 'T', D, H]) : st));
  return modelBytes({ nodes: [node], inputs, outputs, initializers: inits, opset: spec.opset ?? 14 });
}

/** Random feeds for a gated node model. */
export function gatedFeeds(rng: Rng, o: { T: number; B: number; I: number; H: number; D: number; lens?: number[]; h0?: boolean; c0?: boolean; layout?: 0 | 1 }): Record<string, FeedTensor> {
  const feeds: Record<string, FeedTensor> = {};
  feeds.X = { data: randn(rng, o.T * o.B * o.I), shape: o.layout === 1 ? [o.B, o.T, o.I] : [o.T, o.B, o.I] };
  if (o.lens) feeds.sequence_lens = { data: Int32Array.from(o.lens), shape: [o.B] };
  const st = o.layout === 1 ? [o.B, o.D, o.H] : [o.D, o.B, o.H];
  if (o.h0) feeds.initial_h = { data: randn(rng, o.D * o.B * o.H, 0.5), shape: st };
  if (o.c0) feeds.initial_c = { data: randn(rng, o.D * o.B * o.H, 0.5), shape: st };
  return feeds;
}
