/**
 * Issue 16, in process: the budgets and their overrides, the checks made before allocating,
 * capped messages, the RNG-state check, zero-size inputs, and our ONNX protobuf schema
 * (int64 as numbers, packed and unpacked repeated fields).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_GRAPH_ELEMENTS,
  DEFAULT_MAX_TENSOR_ELEMENTS,
  FormatError,
  Linear,
  RNN,
  Rng,
  decodeModel,
  decodeOnnx,
  decodeSafetensors,
  decodeTensorProto,
  encodeModel,
  encodeSafetensors,
  loadCheckpoint,
  loadModel,
  saveCheckpoint,
  toKerasWeights,
} from '../src/index.js';
import { DEFAULT_MAX_PARAMETERS } from '../src/io/model_file.js';
import { DEFAULT_MAX_TENSORS, MAX_HEADER_DEPTH, decodeSafetensorsHeader } from '../src/io/safetensors.js';
import { decodeModelProto } from '../src/onnx/proto.js';
import { isValidRngState } from '../src/random.js';
import { checkedSize } from '../src/validate.js';
import { concat, intAttr, ld, onnxModel, packed, safetensorsBytes, tensorAttr, tensorProto, varint, vf } from './helpers/hostile_files.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLOAT = 1;
const INT64 = 7;

describe('model files: checked against the architecture before a model is built', () => {
  const rnn = new RNN({ inputSize: 2, hiddenSize: 3, seed: 1 }); // 6 + 9 + 3 + 3 = 21 parameters
  const bytes = encodeModel(rnn);

  it('documents a default parameter budget far above real models', () => {
    expect(DEFAULT_MAX_PARAMETERS).toBe(2 ** 28);
  });

  it('maxParameters is enforced and can be raised or lowered', async () => {
    expect(() => decodeModel(bytes, 'm', { maxParameters: 20 })).toThrow(FormatError);
    expect(() => decodeModel(bytes, 'm', { maxParameters: 20 })).toThrow(/^m: the architecture in the metadata has 21 parameters, more than the limit of 20 \(raise it with the maxParameters option\)$/);
    expect(decodeModel(bytes, 'm', { maxParameters: 21 }).model).toBeInstanceOf(RNN);
    const path = join(dir, 'small.safetensors');
    writeFileSync(path, bytes);
    await expect(loadModel(path, { maxParameters: 10 })).rejects.toThrow(/21 parameters, more than the limit of 10/);
    await expect(loadModel(path, { maxParameters: 0 })).rejects.toThrow(new RangeError('Expected an integer in 1..9007199254740991 for options.maxParameters but received 0'));
    await expect(loadModel(path, { maxParams: 5 } as never)).rejects.toThrow(/unknown option 'maxParams'/);
    const ck = join(dir, 'small_ck.safetensors');
    await saveCheckpoint(ck, { model: rnn, step: 1 });
    await expect(loadCheckpoint(ck, { maxParameters: 20 })).rejects.toThrow(/21 parameters, more than the limit of 20/);
    expect((await loadCheckpoint(ck, { maxParameters: 21 })).step).toBe(1);
  });

  it('a tensor of the wrong shape is named, with both shapes, before any model exists', () => {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const bad = encodeSafetensors({ ...tensors, weight_hh_l0: { data: new Float32Array(12), shape: [3, 4] } }, metadata);
    expect(() => decodeModel(bad)).toThrow(/^bytes: the weights do not fit the architecture in the metadata: tensor "weight_hh_l0" has shape \[3, 4\] but the architecture needs \[3, 3\]$/);
  });

  it('lists of missing or unexpected names are capped', () => {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const extra: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (let i = 0; i < 1000; i++) extra[`extra_${i}`] = { data: new Float32Array(0), shape: [0] };
    const err = (() => {
      try {
        decodeModel(encodeSafetensors({ ...tensors, ...extra }, metadata));
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(FormatError);
    expect(err?.message).toMatch(/unexpected keys: "extra_0", "extra_1", .*, … \(992 more\) \(1000 tensors the architecture does not have\)$/);
    expect(err?.message.length).toBeLessThan(300);
    // A 1024-layer RNN's 4096 missing tensors: a short message too.
    const big = safetensorsBytes(JSON.stringify({ __metadata__: { ...metadata, model: JSON.stringify({ type: 'RNN', config: { ...rnn.config, numLayers: 1024 } }) } }));
    expect(() => decodeModel(big)).toThrow(/missing keys: weight_ih_l0, .*, … \(4088 more\) \(4096 of the 4096 parameters are not in the file\)$/);
  });

  it('a Sequential of too many layers and deeply nested metadata JSON are refused', () => {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const many = { type: 'Sequential', layers: Array.from({ length: 10_001 }, () => ({ type: 'LastStep' })) };
    expect(() => decodeModel(safetensorsBytes(JSON.stringify({ __metadata__: { ...metadata, model: JSON.stringify(many) } })))).toThrow(/Expected at most 10000 layers for spec\.layers but received 10001 layers/);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => decodeModel(encodeSafetensors(tensors, { ...metadata, extra: deep }))).toThrow(/the metadata entry 'extra' nests deeper than 64 levels/);
  });
});

describe('safetensors headers', () => {
  it('a deeply nested header is a FormatError, not a stack overflow', () => {
    const deep = safetensorsBytes(`{"t":{"dtype":"F32","shape":${'['.repeat(100_000)}${']'.repeat(100_000)},"data_offsets":[0,0]}}`);
    expect(() => decodeSafetensors(deep)).toThrow(FormatError);
    expect(() => decodeSafetensors(deep)).toThrow(`nests deeper than ${MAX_HEADER_DEPTH} levels`);
    // Brackets inside strings do not count.
    const quoted = safetensorsBytes(JSON.stringify({ __metadata__: { x: '['.repeat(1000) }, t: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }));
    expect(decodeSafetensors(quoted).metadata.x).toHaveLength(1000);
  });

  it('the number of tensors is bounded (maxTensors, default 100,000)', () => {
    expect(DEFAULT_MAX_TENSORS).toBe(100_000);
    const t = { data: new Float32Array(1), shape: [1] };
    const file = encodeSafetensors({ a: t, b: t, c: t }, { k: 'v' });
    expect(Object.keys(decodeSafetensors(file, { maxTensors: 3 }).tensors)).toEqual(['a', 'b', 'c']);
    expect(() => decodeSafetensors(file, { maxTensors: 2 })).toThrow(/lists more than 2 tensors \(the limit; raise it with the maxTensors option\)/);
    expect(() => decodeSafetensors(file, { maxTensors: 0 })).toThrow(RangeError);
  });

  it('decodeSafetensorsHeader validates everything and copies no data', () => {
    const file = encodeSafetensors({ w: { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] } });
    const h = decodeSafetensorsHeader(file);
    expect(h.tensors.w).toEqual({ dtype: 'F32', shape: [2, 2], dataOffsets: [0, 16] });
    expect(h.dataStart + 16).toBe(file.length);
    expect(() => decodeSafetensorsHeader(file.subarray(0, file.length - 1))).toThrow(/past the end of the 15-byte data area/);
  });
});

describe('RNG states', () => {
  it('the all-zero state is refused', () => {
    const r = new Rng(3);
    const before = r.getState();
    expect(() => r.setState([0, 0, 0, 0])).toThrow(RangeError);
    expect(() => r.setState([0, 0, 0, 0])).toThrow(/the all-zero state is a fixed point/);
    expect(r.getState()).toEqual(before);
    r.setState([0, 0, 0, 1]);
    expect(Array.from({ length: 10 }, () => r.nextUint32()).some((v) => v !== 0)).toBe(true);
    expect(isValidRngState([0, 0, 0, 0])).toBe(false);
    expect(isValidRngState([1, 0, 0, 0])).toBe(true);
    expect(isValidRngState([1, 0, 0, 2 ** 32])).toBe(false);
  });
});

describe('zero-size inputs', () => {
  it('Linear on 0 rows gives an empty result and leaves the gradients alone, as torch.nn.Linear', () => {
    const lin = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    for (const shape of [[0, 3], [4, 0, 3], [0, 0, 3]]) {
      const y = lin.forward({ data: new Float32Array(0), shape });
      expect(y.shape).toEqual([...shape.slice(0, -1), 2]);
      expect(y.data.length).toBe(0);
      const gx = lin.backward({ data: new Float32Array(0), shape: y.shape });
      expect(gx?.shape).toEqual(shape);
    }
    expect(lin.parameters().every((p) => p.grad.every((g) => g === 0))).toBe(true);
    expect(() => lin.forward({ data: new Float32Array(0), shape: [0, 4] })).toThrow(RangeError);
  });

  it('checkedSize refuses an empty shape whose other dims are huge', () => {
    expect(checkedSize('s', [0, 5])).toBe(0);
    expect(() => checkedSize('s', [0, 2 ** 31])).toThrow(/empty, but its non-zero dims multiply past the limit/);
    expect(() => checkedSize('s', [2 ** 16, 0, 2 ** 16])).toThrow(RangeError);
  });

  it('ONNX ops on empty tensors give empty (or zero) results, as onnxruntime', async () => {
    const run = async (bytes: Uint8Array): Promise<{ data: number[]; shape: readonly number[] }> => {
      const y = (await decodeOnnx(bytes).run({})).Y;
      return { data: Array.from(y.data), shape: y.shape };
    };
    // MatMul/Gemm with a zero inner dimension: sums of nothing are 0 (Gemm adds beta*C).
    expect(await run(onnxModel([{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], [tensorProto('A', FLOAT, [2, 0]), tensorProto('B', FLOAT, [0, 3])], 'Y'))).toEqual({ data: [0, 0, 0, 0, 0, 0], shape: [2, 3] });
    expect(await run(onnxModel([{ op: 'Gemm', inputs: ['A', 'B', 'C'], outputs: ['Y'] }], [tensorProto('A', FLOAT, [2, 0]), tensorProto('B', FLOAT, [0, 2]), tensorProto('C', FLOAT, [2], [1, 2])], 'Y'))).toEqual({ data: [1, 2, 1, 2], shape: [2, 2] });
    expect(await run(onnxModel([{ op: 'Concat', inputs: ['a', 'b'], outputs: ['Y'], attrs: [intAttr('axis', 0)] }], [tensorProto('a', FLOAT, [0, 2]), tensorProto('b', FLOAT, [1, 2], [5, 6])], 'Y'))).toEqual({ data: [5, 6], shape: [1, 2] });
    expect(await run(onnxModel([{ op: 'Gather', inputs: ['a', 'i'], outputs: ['Y'], attrs: [intAttr('axis', 1)] }], [tensorProto('a', FLOAT, [3, 0]), tensorProto('i', INT64, [0])], 'Y'))).toEqual({ data: [], shape: [3, 0] });
    // Slice with a negative step, computed from ranges.
    const sl = onnxModel(
      [{ op: 'Slice', inputs: ['d', 's', 'e', 'a', 'st'], outputs: ['Y'] }],
      [tensorProto('d', FLOAT, [2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), tensorProto('s', INT64, [1], [-1]), tensorProto('e', INT64, [1], [-(2 ** 40)]), tensorProto('a', INT64, [1], [1]), tensorProto('st', INT64, [1], [-2])],
      'Y',
    );
    expect(await run(sl)).toEqual({ data: [4, 2, 0, 9, 7, 5], shape: [2, 3] });
  });
});

describe('zero-size ONNX graphs match onnxruntime', () => {
  const cases: Record<string, Uint8Array> = {
    'RNN with seq_length 0': onnxModel([{ op: 'RNN', inputs: ['X', 'W', 'R'], outputs: ['Y'], attrs: [intAttr('hidden_size', 2)] }], [tensorProto('X', FLOAT, [0, 2, 3]), tensorProto('W', FLOAT, [1, 2, 3], [1, 2, 3, 4, 5, 6]), tensorProto('R', FLOAT, [1, 2, 2], [1, 0, 0, 1])], 'Y'),
    'RNN with input_size 0': onnxModel([{ op: 'RNN', inputs: ['X', 'W', 'R'], outputs: ['Y'], attrs: [intAttr('hidden_size', 2)] }], [tensorProto('X', FLOAT, [2, 1, 0]), tensorProto('W', FLOAT, [1, 2, 0]), tensorProto('R', FLOAT, [1, 2, 2], [1, 0, 0, 1])], 'Y'),
    'MatMul with K = 0': onnxModel([{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], [tensorProto('A', FLOAT, [2, 0]), tensorProto('B', FLOAT, [0, 3])], 'Y'),
    'Gather of nothing': onnxModel([{ op: 'Gather', inputs: ['a', 'i'], outputs: ['Y'], attrs: [intAttr('axis', 1)] }], [tensorProto('a', FLOAT, [3, 0]), tensorProto('i', INT64, [0])], 'Y'),
    'Concat with an empty part': onnxModel([{ op: 'Concat', inputs: ['a', 'b'], outputs: ['Y'], attrs: [intAttr('axis', 0)] }], [tensorProto('a', FLOAT, [0, 2]), tensorProto('b', FLOAT, [1, 2], [5, 6])], 'Y'),
    'Slice of an empty tensor': onnxModel([{ op: 'Slice', inputs: ['d', 's', 'e', 'a'], outputs: ['Y'] }], [tensorProto('d', FLOAT, [0, 5]), tensorProto('s', INT64, [1], [1]), tensorProto('e', INT64, [1], [3]), tensorProto('a', INT64, [1], [1])], 'Y'),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    it(name, async () => {
      const session = await ort.InferenceSession.create(bytes);
      const want = (await session.run({})).Y;
      const got = (await decodeOnnx(bytes).run({})).Y;
      expect(got.shape).toEqual(want.dims.map(Number));
      expect(Array.from(got.data)).toEqual(Array.from(want.data as Float32Array));
    });
  }
});

describe('ONNX budgets', () => {
  const cos = (n: number): Uint8Array => onnxModel([{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['Y'], attrs: [tensorAttr('value', tensorProto('', FLOAT, [1], [2]))] }], [tensorProto('shape', INT64, [1], [n])], 'Y');

  it('documents defaults well below 2^31 - 1', () => {
    expect(DEFAULT_MAX_TENSOR_ELEMENTS).toBe(2 ** 28);
    expect(DEFAULT_MAX_GRAPH_ELEMENTS).toBe(2 ** 30);
  });

  it('maxTensorElements bounds every op output and can be overridden', async () => {
    await expect(decodeOnnx(cos(1000), { maxTensorElements: 999 }).run({})).rejects.toThrow(/Expected at most 999 elements per tensor \(the maxTensorElements budget\) for the output of ConstantOfShape node 'n0' but received shape \[1000\]/);
    const y = (await decodeOnnx(cos(1000), { maxTensorElements: 1000 }).run({})).Y;
    expect(y.data.length).toBe(1000);
    expect(y.data[999]).toBe(2);
    expect(() => decodeOnnx(cos(1), { maxTensorElements: 2 ** 31 })).toThrow(RangeError);
    expect(() => decodeOnnx(cos(1), { maxTensors: 1 } as never)).toThrow(/unknown option 'maxTensors'/);
  });

  it('maxGraphElements bounds the initializers and each run', async () => {
    // The initializer holds 1 element (plus 1 for the constant's value); the run adds 1000.
    await expect(decodeOnnx(cos(1000), { maxGraphElements: 1001 }).run({})).rejects.toThrow(/at most 1001 elements in total for the model's tensors \(the maxGraphElements budget\)/);
    const m = decodeOnnx(cos(1000), { maxGraphElements: 1002 });
    // Runs are counted separately: a second run is not charged the first one's outputs.
    expect((await m.run({})).Y.data.length).toBe(1000);
    expect((await m.run({})).Y.data.length).toBe(1000);
    const init = onnxModel([{ op: 'Identity', inputs: ['a'], outputs: ['Y'] }], [tensorProto('a', FLOAT, [4], [1, 2, 3, 4]), tensorProto('b', FLOAT, [4], [1, 2, 3, 4])], 'Y');
    expect(() => decodeOnnx(init, { maxGraphElements: 7 })).toThrow(/for initializer 'b' but received 4 more elements after 4/);
  });

  it('int64 values of shape-like inputs are bounded in count', async () => {
    const exp = onnxModel([{ op: 'Expand', inputs: ['x', 's'], outputs: ['Y'] }], [tensorProto('x', FLOAT, [1], [1]), tensorProto('s', INT64, [65], new Array<number>(65).fill(1))], 'Y');
    await expect(decodeOnnx(exp).run({})).rejects.toThrow(/expected at most 64 values \(one per axis\) but received 65/);
    const rank = onnxModel([{ op: 'Identity', inputs: ['x'], outputs: ['Y'] }], [tensorProto('x', FLOAT, new Array<number>(65).fill(1), [1])], 'Y');
    expect(() => decodeOnnx(rank)).toThrow(/a rank of at most 64/);
  });
});

describe('our ONNX protobuf schema', () => {
  it('decodes packed int64 straight into numbers, negative and large values exactly', () => {
    const values = [0, 1, -1, 127, 128, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53) + 1];
    const t = decodeTensorProto(tensorProto('v', INT64, [values.length], values));
    expect(t.dtype).toBe('int64');
    expect(Array.from(t.data)).toEqual(values);
    expect(t.data).toBeInstanceOf(Float64Array);
  });

  it('accepts unpacked repeated fields, alone or mixed with packed ones', () => {
    const unpacked = concat([vf(1, 2), vf(1, 3), vf(2, INT64), packed(7, [1, 2]), vf(7, 3), vf(7, -4), packed(7, [5, 6]), ld(8, 'u')]);
    const t = decodeTensorProto(unpacked);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, -4, 5, 6]);
  });

  it('skips fields it does not use and refuses malformed bytes with an Error', () => {
    // An unknown field (99, fixed64) and a group (field 98) before the tensor's fields.
    const withUnknown = concat([varint((99 << 3) | 1), new Uint8Array(8), varint((98 << 3) | 3), vf(1, 5), varint((98 << 3) | 4), tensorProto('x', FLOAT, [1], [2.5])]);
    expect(Array.from(decodeTensorProto(withUnknown).data)).toEqual([2.5]);
    expect(() => decodeModelProto(Uint8Array.of(0x3a, 0x05, 0x01))).toThrow(/Not a valid ONNX model: .*length 5 runs past the end of its message at byte 2/);
    expect(() => decodeModelProto(Uint8Array.of(0x08, 0xff))).toThrow(/truncated varint/);
    expect(() => decodeModelProto(concat([varint((99 << 3) | 7)]))).toThrow(/invalid wire type 7/);
    expect(() => decodeModelProto(Uint8Array.of(0x0f))).toThrow(/ModelProto\.ir_version has wire type 7, expected 0/);
    expect(() => decodeTensorProto(concat([varint((5 << 3) | 2), varint(1), Uint8Array.of(0x80)]))).toThrow(/truncated packed varint/);
  });

  it('a 10 MB file of packed int64 zeros decodes into one typed array', () => {
    const n = 10_000_000;
    const t = decodeTensorProto(concat([packed(1, [n]), vf(2, INT64), ld(7, new Uint8Array(n))]));
    expect(t.data.length).toBe(n);
    expect(t.data).toBeInstanceOf(Float64Array);
  });
});

describe('Keras converters', () => {
  it('numLayers is bounded like RNN and messages stay short', () => {
    expect(() => toKerasWeights({}, { numLayers: 1025, bidirectional: false, bias: true })).toThrow(/^Expected an integer in 1\.\.1024 for cfg\.numLayers but received 1025$/);
    let message = '';
    try {
      toKerasWeights({}, { numLayers: 1024, bidirectional: true, bias: true });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Expected the 8192 parameters weight_ih_l0, .*… \(8184 more\) for stateDict but received a state dict without weight_ih_l0, .*… \(8184 more\)$/);
    expect(message.length).toBeLessThan(600);
  });
});
