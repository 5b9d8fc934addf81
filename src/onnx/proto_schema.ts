/**
 * The subset of `onnx.proto` (ONNX IR version 10) that rnnblas reads and writes, as plain
 * TypeScript types, a hand-rolled decoder and an encoder on protobufjs' `Writer`.
 *
 * Why not generated code: the generated classes decode every int64 as a `Long` object (a 10 MB
 * file of packed int64 zeros became 10 million objects and ~900 MB), and their types leaked into
 * rnnblas' own declarations. Here every int64 is a JavaScript number (exact to 2^53; larger
 * magnitudes come out approximate and are refused by the callers' range checks), packed
 * repeated fields decode straight into typed arrays sized by one pass over their bytes, and
 * fields rnnblas does not use (sub-graphs, sparse tensors, function protos, training info,
 * type protos in attributes) are skipped without being decoded.
 *
 * Field numbers are those of https://github.com/onnx/onnx/blob/main/onnx/onnx.proto:
 *
 * ```
 * ModelProto         ir_version=1 (int64) producer_name=2 producer_version=3 domain=4 model_version=5 (int64)
 *                    doc_string=6 graph=7 opset_import=8 metadata_props=14
 * OperatorSetIdProto domain=1 version=2 (int64)
 * GraphProto         node=1 name=2 initializer=5 doc_string=10 input=11 output=12 value_info=13 sparse_initializer=15
 * NodeProto          input=1 output=2 name=3 op_type=4 attribute=5 doc_string=6 domain=7
 * AttributeProto     name=1 f=2 i=3 (int64) s=4 t=5 g=6 floats=7 ints=8 (int64) strings=9 tensors=10 graphs=11
 *                    doc_string=13 tp=14 type_protos=15 type=20 ref_attr_name=21 sparse_tensor=22 sparse_tensors=23
 * TensorProto        dims=1 (int64) data_type=2 segment=3 float_data=4 int32_data=5 string_data=6 int64_data=7
 *                    name=8 raw_data=9 double_data=10 uint64_data=11 doc_string=12 external_data=13 data_location=14
 * TensorProto.Segment begin=1 end=2 (int64)
 * StringStringEntryProto key=1 value=2
 * ValueInfoProto     name=1 type=2 doc_string=3
 * TypeProto          tensor_type=1 sequence_type=4 map_type=5 denotation=6 sparse_tensor_type=8 optional_type=9
 * TypeProto.Tensor   elem_type=1 shape=2
 * TensorShapeProto   dim=1;  Dimension dim_value=1 (int64) dim_param=2 denotation=3
 * ```
 *
 * The encoder writes fields in field-number order with repeated numbers packed, as protobufjs'
 * generated code does; the decoder accepts packed and unpacked repeated numbers (as protobuf
 * requires).
 */
import protobuf from 'protobufjs/minimal.js';
import { onnxError } from './errors.js';

/** A key/value pair (`StringStringEntryProto`). */
export interface IStringStringEntryProto {
  /** The key. */
  key?: string;
  /** The value. */
  value?: string;
}

/** `OperatorSetIdProto`: an operator set the model imports. */
export interface IOperatorSetIdProto {
  /** The domain ('' or 'ai.onnx' for the default set). */
  domain?: string;
  /** The opset version. */
  version?: number;
}

/** `TensorProto.Segment`. */
export interface ISegment {
  /** First element. */
  begin?: number;
  /** One past the last element. */
  end?: number;
}

/** `TensorProto`: a tensor's type, dims and data (int64 values as numbers). */
export interface ITensorProto {
  /** The tensor's name. */
  name?: string;
  /** Size of each axis. */
  dims?: readonly number[];
  /** `TensorProto.DataType` code. */
  dataType?: number;
  /** Segment of a larger tensor (unsupported by the interpreter). */
  segment?: ISegment | null;
  /** FLOAT values (when not in raw_data). */
  floatData?: ArrayLike<number>;
  /** INT32 (and smaller integer) values. */
  int32Data?: ArrayLike<number>;
  /** INT64 values. */
  int64Data?: ArrayLike<number>;
  /** Little-endian packed values. */
  rawData?: Uint8Array | null;
  /** Documentation. */
  docString?: string;
  /** External-data location entries. */
  externalData?: IStringStringEntryProto[];
  /** 0 = DEFAULT, 1 = EXTERNAL. */
  dataLocation?: number;
  /** DOUBLE values (encoding only: decoding skips them, the interpreter does not compute in float64). */
  doubleData?: ArrayLike<number>;
  /** Decoding only: how many occurrences of fields the interpreter does not read (string_data, double_data, uint64_data) the file holds. */
  otherDataCount?: number;
}

/** `TensorShapeProto.Dimension`. */
export interface IDimension {
  /** A fixed size (set only when present in the file). */
  dimValue?: number;
  /** A symbolic size. */
  dimParam?: string;
  /** Denotation. */
  denotation?: string;
}

/** `TypeProto.Tensor`. */
export interface ITensorTypeProto {
  /** Element type code. */
  elemType?: number;
  /** Shape, when declared. */
  shape?: { dim?: IDimension[] } | null;
}

/** `TypeProto` (tensor types only; other kinds decode as a type with no tensorType). */
export interface ITypeProto {
  /** The tensor type, when it is one. */
  tensorType?: ITensorTypeProto | null;
  /** Denotation. */
  denotation?: string;
}

/** `ValueInfoProto`: a graph input, output or intermediate value. */
export interface IValueInfoProto {
  /** The value's name. */
  name?: string;
  /** Its type. */
  type?: ITypeProto | null;
  /** Documentation. */
  docString?: string;
}

/** `AttributeProto` (sub-graphs, sparse tensors and type protos are skipped when decoding). */
export interface IAttributeProto {
  /** The attribute's name. */
  name?: string;
  /** Reference to a function attribute. */
  refAttrName?: string;
  /** Documentation. */
  docString?: string;
  /** `AttributeProto.AttributeType` code. */
  type?: number;
  /** FLOAT value. */
  f?: number;
  /** INT value. */
  i?: number;
  /** STRING value (bytes). */
  s?: Uint8Array;
  /** TENSOR value. */
  t?: ITensorProto | null;
  /** FLOATS value. */
  floats?: readonly number[];
  /** INTS value. */
  ints?: readonly number[];
  /** STRINGS value. */
  strings?: Uint8Array[];
}

/** `NodeProto`: one operator application. */
export interface INodeProto {
  /** Input value names ('' for an omitted optional input). */
  input?: string[];
  /** Output value names. */
  output?: string[];
  /** The node's name. */
  name?: string;
  /** The operator. */
  opType?: string;
  /** The operator's domain. */
  domain?: string;
  /** Attributes. */
  attribute?: IAttributeProto[];
  /** Documentation. */
  docString?: string;
}

/** `GraphProto`. */
export interface IGraphProto {
  /** Nodes. */
  node?: INodeProto[];
  /** The graph's name. */
  name?: string;
  /** Initializers. */
  initializer?: ITensorProto[];
  /** Decoding only: one entry per sparse initializer (their contents are not decoded). */
  sparseInitializer?: unknown[];
  /** Documentation. */
  docString?: string;
  /** Graph inputs. */
  input?: IValueInfoProto[];
  /** Graph outputs. */
  output?: IValueInfoProto[];
  /** Intermediate value infos. */
  valueInfo?: IValueInfoProto[];
}

/** `ModelProto`. */
export interface IModelProto {
  /** IR version. */
  irVersion?: number;
  /** Operator sets imported. */
  opsetImport?: IOperatorSetIdProto[];
  /** Producer name. */
  producerName?: string;
  /** Producer version. */
  producerVersion?: string;
  /** Model domain. */
  domain?: string;
  /** Model version. */
  modelVersion?: number;
  /** Documentation. */
  docString?: string;
  /** The graph. */
  graph?: IGraphProto | null;
  /** Metadata key/value pairs. */
  metadataProps?: IStringStringEntryProto[];
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8');

/** The deepest group nesting the skipper follows (groups are a deprecated wire form). */
const MAX_GROUP_DEPTH = 64;

/** A position in a protobuf buffer, bounded by `end`. */
class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(what: string): Error {
    return onnxError('invalid', `${what} at byte ${this.pos}`);
  }

  /** A varint's low 32 bits, unsigned. */
  uint32(): number {
    const { buf, end } = this;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.fail('truncated varint');
      const b = buf[this.pos++];
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return result >>> 0;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** A varint as a signed 64-bit integer, as a number (exact to 2^53). */
  int64(): number {
    const { buf, end } = this;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.fail('truncated varint');
      const b = buf[this.pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's payload; moves past it. */
  delimited(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) throw this.fail(`length ${len} runs past the end of its message`);
    this.pos = start + len;
    return [start, start + len];
  }

  float(): number {
    if (this.end - this.pos < 4) throw this.fail('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  string(): string {
    const [s, e] = this.delimited();
    return utf8.decode(this.buf.subarray(s, e));
  }

  bytes(): Uint8Array {
    const [s, e] = this.delimited();
    return this.buf.subarray(s, e);
  }

  /** A sub-message's cursor; moves past it. */
  message(): Cursor {
    const [s, e] = this.delimited();
    return new Cursor(this.buf, s, e);
  }

  /** Skips one field of the given wire type (groups iteratively, to a bounded depth). */
  skip(wireType: number): void {
    let depth = 0;
    for (;;) {
      switch (wireType) {
        case 0:
          this.uint32();
          break;
        case 1:
          if (this.end - this.pos < 8) throw this.fail('truncated fixed64');
          this.pos += 8;
          break;
        case 2:
          this.delimited();
          break;
        case 3:
          if (++depth > MAX_GROUP_DEPTH) throw this.fail(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
          break;
        case 4:
          if (depth === 0) throw this.fail('unexpected end-group tag');
          depth--;
          break;
        case 5:
          if (this.end - this.pos < 4) throw this.fail('truncated fixed32');
          this.pos += 4;
          break;
        default:
          throw this.fail(`invalid wire type ${wireType}`);
      }
      if (depth === 0) return;
      if (this.pos >= this.end) throw this.fail('unterminated group');
      const tag = this.uint32();
      wireType = tag & 7;
    }
  }
}

/** Fields of one message: calls `field(number, wireType)` for each tag until the end. */
function readFields(c: Cursor, field: (num: number, wire: number) => boolean): void {
  while (c.pos < c.end) {
    const tag = c.uint32();
    const num = tag >>> 3;
    const wire = tag & 7;
    if (num === 0) throw c.fail('field number 0');
    if (!field(num, wire)) c.skip(wire);
  }
}

function expectWire(c: Cursor, wire: number, want: number, what: string): void {
  if (wire !== want) throw c.fail(`${what} has wire type ${wire}, expected ${want}`);
}

/** Accumulates a repeated number field that may arrive packed, unpacked or both. */
class Numbers<T extends Float64Array | Float32Array | Int32Array> {
  private parts: T[] = [];
  private loose: number[] = [];
  private count = 0;
  constructor(private readonly make: (n: number) => T) {}

  addPacked(part: T): void {
    this.flushLoose();
    this.parts.push(part);
    this.count += part.length;
  }

  add(v: number): void {
    this.loose.push(v);
    this.count++;
  }

  private flushLoose(): void {
    if (this.loose.length === 0) return;
    const t = this.make(this.loose.length);
    t.set(this.loose);
    this.parts.push(t);
    this.loose = [];
  }

  result(): T {
    this.flushLoose();
    if (this.parts.length === 1) return this.parts[0];
    const out = this.make(this.count);
    let off = 0;
    for (const p of this.parts) {
      out.set(p as unknown as ArrayLike<number>, off);
      off += p.length;
    }
    return out;
  }
}

/** Number of varints in a packed run (bytes without the continuation bit). */
function countVarints(c: Cursor, start: number, end: number): number {
  let n = 0;
  const buf = c.buf;
  for (let i = start; i < end; i++) if (buf[i] < 0x80) n++;
  if (end > start && buf[end - 1] >= 0x80) throw onnxError('invalid', `truncated packed varint at byte ${end}`);
  return n;
}

/** Reads a repeated int64 field occurrence (packed or not) into `acc`. */
function readInt64s(c: Cursor, wire: number, acc: Numbers<Float64Array>): void {
  if (wire === 0) {
    acc.add(c.int64());
    return;
  }
  expectWire(c, wire, 2, 'a repeated int64 field');
  const [s, e] = c.delimited();
  const sub = new Cursor(c.buf, s, e);
  const out = new Float64Array(countVarints(c, s, e));
  for (let i = 0; i < out.length; i++) out[i] = sub.int64();
  acc.addPacked(out);
}

/** Reads a repeated int32 field occurrence (packed or not) into `acc` (values truncated to 32 bits, as protobuf does). */
function readInt32s(c: Cursor, wire: number, acc: Numbers<Int32Array>): void {
  if (wire === 0) {
    acc.add(c.uint32() | 0);
    return;
  }
  expectWire(c, wire, 2, 'a repeated int32 field');
  const [s, e] = c.delimited();
  const sub = new Cursor(c.buf, s, e);
  const out = new Int32Array(countVarints(c, s, e));
  for (let i = 0; i < out.length; i++) out[i] = sub.uint32() | 0;
  acc.addPacked(out);
}

/** Reads a repeated float field occurrence (packed or not) into `acc`. */
function readFloats(c: Cursor, wire: number, acc: Numbers<Float32Array>): void {
  if (wire === 5) {
    acc.add(c.float());
    return;
  }
  expectWire(c, wire, 2, 'a repeated float field');
  const [s, e] = c.delimited();
  if ((e - s) % 4 !== 0) throw onnxError('invalid', `packed floats of ${e - s} bytes (not a multiple of 4) at byte ${s}`);
  const out = new Float32Array(new ArrayBuffer(e - s));
  new Uint8Array(out.buffer).set(c.buf.subarray(s, e));
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(c.buf.buffer, c.buf.byteOffset + s, e - s);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  }
  acc.addPacked(out);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f64(n: number): Float64Array {
  return new Float64Array(n);
}
function f32(n: number): Float32Array {
  return new Float32Array(n);
}
function i32(n: number): Int32Array {
  return new Int32Array(n);
}

function readVarintField(c: Cursor, wire: number, what: string): number {
  expectWire(c, wire, 0, what);
  return c.int64();
}

function readStringField(c: Cursor, wire: number, what: string): string {
  expectWire(c, wire, 2, what);
  return c.string();
}

function readEntry(c: Cursor): IStringStringEntryProto {
  const e: IStringStringEntryProto = {};
  readFields(c, (num, wire) => {
    if (num === 1) e.key = readStringField(c, wire, 'StringStringEntryProto.key');
    else if (num === 2) e.value = readStringField(c, wire, 'StringStringEntryProto.value');
    else return false;
    return true;
  });
  return e;
}

function readSubMessage(c: Cursor, wire: number, what: string): Cursor {
  expectWire(c, wire, 2, what);
  return c.message();
}

function readTensor(c: Cursor): ITensorProto {
  const t: ITensorProto = { name: '', dataType: 0, docString: '', externalData: [], dataLocation: 0, rawData: null, segment: null, otherDataCount: 0 };
  const dims = new Numbers(f64);
  const floatData = new Numbers(f32);
  const int32Data = new Numbers(i32);
  const int64Data = new Numbers(f64);
  readFields(c, (num, wire) => {
    switch (num) {
      case 1: readInt64s(c, wire, dims); break;
      case 2: t.dataType = readVarintField(c, wire, 'TensorProto.data_type'); break;
      case 3: {
        const s = readSubMessage(c, wire, 'TensorProto.segment');
        const seg: ISegment = {};
        readFields(s, (n, w) => {
          if (n === 1) seg.begin = readVarintField(s, w, 'Segment.begin');
          else if (n === 2) seg.end = readVarintField(s, w, 'Segment.end');
          else return false;
          return true;
        });
        t.segment = seg;
        break;
      }
      case 4: readFloats(c, wire, floatData); break;
      case 5: readInt32s(c, wire, int32Data); break;
      case 7: readInt64s(c, wire, int64Data); break;
      case 6: case 10: case 11:
        // string_data, double_data, uint64_data: counted (the dtypes are unsupported), not kept.
        t.otherDataCount = (t.otherDataCount ?? 0) + 1;
        return false;
      case 8: t.name = readStringField(c, wire, 'TensorProto.name'); break;
      case 9: expectWire(c, wire, 2, 'TensorProto.raw_data'); t.rawData = c.bytes(); break;
      case 12: t.docString = readStringField(c, wire, 'TensorProto.doc_string'); break;
      case 13: (t.externalData as IStringStringEntryProto[]).push(readEntry(readSubMessage(c, wire, 'TensorProto.external_data'))); break;
      case 14: t.dataLocation = readVarintField(c, wire, 'TensorProto.data_location'); break;
      default: return false;
    }
    return true;
  });
  t.dims = Array.from(dims.result());
  t.floatData = floatData.result();
  t.int32Data = int32Data.result();
  t.int64Data = int64Data.result();
  return t;
}

function readAttribute(c: Cursor): IAttributeProto {
  const a: IAttributeProto = { name: '', refAttrName: '', docString: '', type: 0, strings: [] };
  const floats = new Numbers(f32);
  const ints = new Numbers(f64);
  readFields(c, (num, wire) => {
    switch (num) {
      case 1: a.name = readStringField(c, wire, 'AttributeProto.name'); break;
      case 2: expectWire(c, wire, 5, 'AttributeProto.f'); a.f = c.float(); break;
      case 3: a.i = readVarintField(c, wire, 'AttributeProto.i'); break;
      case 4: expectWire(c, wire, 2, 'AttributeProto.s'); a.s = c.bytes(); break;
      case 5: a.t = readTensor(readSubMessage(c, wire, 'AttributeProto.t')); break;
      case 7: readFloats(c, wire, floats); break;
      case 8: readInt64s(c, wire, ints); break;
      case 9: expectWire(c, wire, 2, 'AttributeProto.strings'); (a.strings as Uint8Array[]).push(c.bytes()); break;
      case 13: a.docString = readStringField(c, wire, 'AttributeProto.doc_string'); break;
      case 20: a.type = readVarintField(c, wire, 'AttributeProto.type'); break;
      case 21: a.refAttrName = readStringField(c, wire, 'AttributeProto.ref_attr_name'); break;
      default: return false; // g, tensors, graphs, tp, type_protos, sparse_tensor(s): not used
    }
    return true;
  });
  a.floats = Array.from(floats.result());
  a.ints = Array.from(ints.result());
  return a;
}

function readNode(c: Cursor): INodeProto {
  const n: INodeProto = { input: [], output: [], name: '', opType: '', domain: '', attribute: [], docString: '' };
  readFields(c, (num, wire) => {
    switch (num) {
      case 1: (n.input as string[]).push(readStringField(c, wire, 'NodeProto.input')); break;
      case 2: (n.output as string[]).push(readStringField(c, wire, 'NodeProto.output')); break;
      case 3: n.name = readStringField(c, wire, 'NodeProto.name'); break;
      case 4: n.opType = readStringField(c, wire, 'NodeProto.op_type'); break;
      case 5: (n.attribute as IAttributeProto[]).push(readAttribute(readSubMessage(c, wire, 'NodeProto.attribute'))); break;
      case 6: n.docString = readStringField(c, wire, 'NodeProto.doc_string'); break;
      case 7: n.domain = readStringField(c, wire, 'NodeProto.domain'); break;
      default: return false;
    }
    return true;
  });
  return n;
}

function readDimension(c: Cursor): IDimension {
  const d: IDimension = {};
  readFields(c, (num, wire) => {
    if (num === 1) d.dimValue = readVarintField(c, wire, 'Dimension.dim_value');
    else if (num === 2) d.dimParam = readStringField(c, wire, 'Dimension.dim_param');
    else if (num === 3) d.denotation = readStringField(c, wire, 'Dimension.denotation');
    else return false;
    return true;
  });
  return d;
}

function readType(c: Cursor): ITypeProto {
  const t: ITypeProto = { tensorType: null, denotation: '' };
  readFields(c, (num, wire) => {
    if (num === 1) {
      const tc = readSubMessage(c, wire, 'TypeProto.tensor_type');
      const tt: ITensorTypeProto = { elemType: 0, shape: null };
      readFields(tc, (n, w) => {
        if (n === 1) tt.elemType = readVarintField(tc, w, 'TypeProto.Tensor.elem_type');
        else if (n === 2) {
          const sc = readSubMessage(tc, w, 'TypeProto.Tensor.shape');
          const dim: IDimension[] = [];
          readFields(sc, (k, ww) => {
            if (k !== 1) return false;
            dim.push(readDimension(readSubMessage(sc, ww, 'TensorShapeProto.dim')));
            return true;
          });
          tt.shape = { dim };
        } else return false;
        return true;
      });
      t.tensorType = tt;
    } else if (num === 6) t.denotation = readStringField(c, wire, 'TypeProto.denotation');
    else return false;
    return true;
  });
  return t;
}

function readValueInfo(c: Cursor): IValueInfoProto {
  const v: IValueInfoProto = { name: '', type: null, docString: '' };
  readFields(c, (num, wire) => {
    if (num === 1) v.name = readStringField(c, wire, 'ValueInfoProto.name');
    else if (num === 2) v.type = readType(readSubMessage(c, wire, 'ValueInfoProto.type'));
    else if (num === 3) v.docString = readStringField(c, wire, 'ValueInfoProto.doc_string');
    else return false;
    return true;
  });
  return v;
}

function readGraph(c: Cursor): IGraphProto {
  const g: IGraphProto = { node: [], name: '', initializer: [], sparseInitializer: [], docString: '', input: [], output: [], valueInfo: [] };
  readFields(c, (num, wire) => {
    switch (num) {
      case 1: (g.node as INodeProto[]).push(readNode(readSubMessage(c, wire, 'GraphProto.node'))); break;
      case 2: g.name = readStringField(c, wire, 'GraphProto.name'); break;
      case 5: (g.initializer as ITensorProto[]).push(readTensor(readSubMessage(c, wire, 'GraphProto.initializer'))); break;
      case 10: g.docString = readStringField(c, wire, 'GraphProto.doc_string'); break;
      case 11: (g.input as IValueInfoProto[]).push(readValueInfo(readSubMessage(c, wire, 'GraphProto.input'))); break;
      case 12: (g.output as IValueInfoProto[]).push(readValueInfo(readSubMessage(c, wire, 'GraphProto.output'))); break;
      case 13: (g.valueInfo as IValueInfoProto[]).push(readValueInfo(readSubMessage(c, wire, 'GraphProto.value_info'))); break;
      case 15: readSubMessage(c, wire, 'GraphProto.sparse_initializer'); (g.sparseInitializer as unknown[]).push({}); break;
      default: return false;
    }
    return true;
  });
  return g;
}

/**
 * Decodes a serialized `ModelProto`.
 *
 * @param bytes - the file's bytes.
 * @returns the model, every field present (empty lists, '' and 0 for absent scalars; `graph` null when absent).
 * @throws Error naming the byte offset where the protobuf is malformed.
 */
export function decodeModel(bytes: Uint8Array): IModelProto {
  const c = new Cursor(bytes, 0, bytes.length);
  const m: IModelProto = { irVersion: 0, opsetImport: [], producerName: '', producerVersion: '', domain: '', modelVersion: 0, docString: '', graph: null, metadataProps: [] };
  readFields(c, (num, wire) => {
    switch (num) {
      case 1: m.irVersion = readVarintField(c, wire, 'ModelProto.ir_version'); break;
      case 2: m.producerName = readStringField(c, wire, 'ModelProto.producer_name'); break;
      case 3: m.producerVersion = readStringField(c, wire, 'ModelProto.producer_version'); break;
      case 4: m.domain = readStringField(c, wire, 'ModelProto.domain'); break;
      case 5: m.modelVersion = readVarintField(c, wire, 'ModelProto.model_version'); break;
      case 6: m.docString = readStringField(c, wire, 'ModelProto.doc_string'); break;
      case 7: m.graph = readGraph(readSubMessage(c, wire, 'ModelProto.graph')); break;
      case 8: {
        const o = readSubMessage(c, wire, 'ModelProto.opset_import');
        const op: IOperatorSetIdProto = { domain: '', version: 0 };
        readFields(o, (n, w) => {
          if (n === 1) op.domain = readStringField(o, w, 'OperatorSetIdProto.domain');
          else if (n === 2) op.version = readVarintField(o, w, 'OperatorSetIdProto.version');
          else return false;
          return true;
        });
        (m.opsetImport as IOperatorSetIdProto[]).push(op);
        break;
      }
      case 14: (m.metadataProps as IStringStringEntryProto[]).push(readEntry(readSubMessage(c, wire, 'ModelProto.metadata_props'))); break;
      default: return false;
    }
    return true;
  });
  return m;
}

/**
 * Decodes a serialized `TensorProto` (e.g. an ONNX backend test's `input_0.pb`).
 *
 * @param bytes - the protobuf bytes.
 * @returns the tensor.
 * @throws Error naming the byte offset where the protobuf is malformed.
 */
export function decodeTensor(bytes: Uint8Array): ITensorProto {
  return readTensor(new Cursor(bytes, 0, bytes.length));
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

type Writer = protobuf.Writer;
const { Writer: WriterClass } = protobuf;

function has<T>(v: T | null | undefined): v is T {
  return v !== null && v !== undefined;
}

function tag(w: Writer, num: number, wire: number): Writer {
  return w.uint32((num << 3) | wire);
}

function str(w: Writer, num: number, v: string | undefined): void {
  if (has(v)) tag(w, num, 2).string(v);
}

function int(w: Writer, num: number, v: number | undefined): void {
  if (has(v)) tag(w, num, 0).int64(v);
}

function packedInt64(w: Writer, num: number, v: ArrayLike<number> | undefined): void {
  if (!has(v) || v.length === 0) return;
  tag(w, num, 2).fork();
  for (let i = 0; i < v.length; i++) w.int64(v[i]);
  w.ldelim();
}

function packedInt32(w: Writer, num: number, v: ArrayLike<number> | undefined): void {
  if (!has(v) || v.length === 0) return;
  tag(w, num, 2).fork();
  for (let i = 0; i < v.length; i++) w.int32(v[i]);
  w.ldelim();
}

function packedFloat(w: Writer, num: number, v: ArrayLike<number> | undefined): void {
  if (!has(v) || v.length === 0) return;
  tag(w, num, 2).fork();
  for (let i = 0; i < v.length; i++) w.float(v[i]);
  w.ldelim();
}

function sub<T>(w: Writer, num: number, v: T | null | undefined, write: (w: Writer, v: T) => void): void {
  if (!has(v)) return;
  tag(w, num, 2).fork();
  write(w, v);
  w.ldelim();
}

function writeEntry(w: Writer, e: IStringStringEntryProto): void {
  str(w, 1, e.key);
  str(w, 2, e.value);
}

function writeTensor(w: Writer, t: ITensorProto): void {
  packedInt64(w, 1, t.dims);
  if (has(t.dataType)) tag(w, 2, 0).int32(t.dataType);
  sub(w, 3, t.segment, (ww, s) => {
    int(ww, 1, s.begin);
    int(ww, 2, s.end);
  });
  packedFloat(w, 4, t.floatData);
  packedInt32(w, 5, t.int32Data);
  packedInt64(w, 7, t.int64Data);
  str(w, 8, t.name);
  if (has(t.rawData)) tag(w, 9, 2).bytes(t.rawData);
  if (has(t.doubleData) && t.doubleData.length > 0) {
    tag(w, 10, 2).fork();
    for (let i = 0; i < t.doubleData.length; i++) w.double(t.doubleData[i]);
    w.ldelim();
  }
  str(w, 12, t.docString);
  for (const e of t.externalData ?? []) sub(w, 13, e, writeEntry);
  if (has(t.dataLocation)) tag(w, 14, 0).int32(t.dataLocation);
}

function writeAttribute(w: Writer, a: IAttributeProto): void {
  str(w, 1, a.name);
  if (has(a.f)) tag(w, 2, 5).float(a.f);
  int(w, 3, a.i);
  if (has(a.s)) tag(w, 4, 2).bytes(a.s);
  sub(w, 5, a.t, writeTensor);
  packedFloat(w, 7, a.floats);
  packedInt64(w, 8, a.ints);
  for (const s of a.strings ?? []) tag(w, 9, 2).bytes(s);
  str(w, 13, a.docString);
  if (has(a.type)) tag(w, 20, 0).int32(a.type);
  str(w, 21, a.refAttrName);
}

function writeNode(w: Writer, n: INodeProto): void {
  for (const s of n.input ?? []) tag(w, 1, 2).string(s);
  for (const s of n.output ?? []) tag(w, 2, 2).string(s);
  str(w, 3, n.name);
  str(w, 4, n.opType);
  for (const a of n.attribute ?? []) sub(w, 5, a, writeAttribute);
  str(w, 6, n.docString);
  str(w, 7, n.domain);
}

function writeDimension(w: Writer, d: IDimension): void {
  int(w, 1, d.dimValue);
  str(w, 2, d.dimParam);
  str(w, 3, d.denotation);
}

function writeType(w: Writer, t: ITypeProto): void {
  sub(w, 1, t.tensorType, (ww, tt) => {
    if (has(tt.elemType)) tag(ww, 1, 0).int32(tt.elemType);
    sub(ww, 2, tt.shape, (www, s) => {
      for (const d of s.dim ?? []) sub(www, 1, d, writeDimension);
    });
  });
  str(w, 6, t.denotation);
}

function writeValueInfo(w: Writer, v: IValueInfoProto): void {
  str(w, 1, v.name);
  sub(w, 2, v.type, writeType);
  str(w, 3, v.docString);
}

function writeGraph(w: Writer, g: IGraphProto): void {
  for (const n of g.node ?? []) sub(w, 1, n, writeNode);
  str(w, 2, g.name);
  for (const t of g.initializer ?? []) sub(w, 5, t, writeTensor);
  str(w, 10, g.docString);
  for (const v of g.input ?? []) sub(w, 11, v, writeValueInfo);
  for (const v of g.output ?? []) sub(w, 12, v, writeValueInfo);
  for (const v of g.valueInfo ?? []) sub(w, 13, v, writeValueInfo);
}

/**
 * Encodes a `ModelProto`.
 *
 * @param m - the model (absent fields are not written).
 * @returns the protobuf bytes.
 */
export function encodeModel(m: IModelProto): Uint8Array {
  const w = WriterClass.create();
  int(w, 1, m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 4, m.domain);
  int(w, 5, m.modelVersion);
  str(w, 6, m.docString);
  sub(w, 7, m.graph, writeGraph);
  for (const o of m.opsetImport ?? []) {
    sub(w, 8, o, (ww, op) => {
      str(ww, 1, op.domain);
      int(ww, 2, op.version);
    });
  }
  for (const e of m.metadataProps ?? []) sub(w, 14, e, writeEntry);
  return w.finish();
}

/**
 * Encodes a `TensorProto`.
 *
 * @param t - the tensor.
 * @returns the protobuf bytes.
 */
export function encodeTensor(t: ITensorProto): Uint8Array {
  const w = WriterClass.create();
  writeTensor(w, t);
  return w.finish();
}
