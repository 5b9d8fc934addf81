/**
 * Reading a node's attributes with type checks, and the errors for what the
 * interpreter does not support.
 */
import { AttributeType, defaultBudget, tensorFromProto, toNumber, type Budget, type IAttributeProto, type INodeProto, type OnnxTensor } from './proto.js';
import { onnxError } from './errors.js';

const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS',
  9: 'SPARSE_TENSOR', 10: 'SPARSE_TENSORS', 11: 'TYPE_PROTO', 12: 'TYPE_PROTOS', 13: 'TENSORS', 14: 'GRAPHS',
};

const utf8 = new TextDecoder('utf-8');

/** A printable label for a node: `RNN node 'name'` or `RNN node #3`. */
export function nodeLabel(node: INodeProto, index: number): string {
  return `${node.opType || '(no op_type)'} node ${node.name ? `'${node.name}'` : `#${index}`}`;
}

/** The attributes of one node, checked against the names its operator accepts. */
export class NodeAttributes {
  private readonly byName = new Map<string, IAttributeProto>();

  /**
   * Indexes the attributes; any name outside `allowed` is an Error naming it. TENSOR
   * attributes are checked against (and charged to) `budget`.
   */
  constructor(
    node: INodeProto,
    private readonly label: string,
    allowed: readonly string[],
    private readonly budget?: Budget,
  ) {
    for (const a of node.attribute ?? []) {
      const name = a.name ?? '';
      if (a.refAttrName) throw onnxError('unsupported', `Unsupported attribute '${name}' on ${label}: references to function attributes are not supported`);
      if (!allowed.includes(name)) {
        const list = allowed.length ? `it accepts ${allowed.map((n) => `'${n}'`).join(', ')}` : 'it takes no attributes';
        throw onnxError('unsupported', `Unsupported attribute '${name}' on ${label}: ${list}`);
      }
      this.byName.set(name, a);
    }
  }

  /** Whether the attribute is present. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number): IAttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    // Files written before IR 2 may leave `type` unset; accept them when the field is filled.
    if (a.type && a.type !== type) {
      throw onnxError('invalid', `Invalid attribute '${name}' on ${this.label}: expected type ${TYPE_NAMES[type]} but the file has ${TYPE_NAMES[a.type] ?? a.type}`);
    }
    return a;
  }

  /** An INT attribute. */
  int(name: string): number | undefined;
  int(name: string, fallback: number): number;
  int(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AttributeType.INT);
    return a ? toNumber(a.i) : fallback;
  }

  /** A FLOAT attribute. */
  float(name: string): number | undefined;
  float(name: string, fallback: number): number;
  float(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AttributeType.FLOAT);
    return a ? (a.f ?? 0) : fallback;
  }

  /** A STRING attribute (decoded as UTF-8). */
  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const a = this.get(name, AttributeType.STRING);
    return a ? utf8.decode(a.s ?? new Uint8Array()) : fallback;
  }

  /** An INTS attribute. */
  ints(name: string): number[] | undefined {
    const a = this.get(name, AttributeType.INTS);
    return a ? (a.ints ?? []).map((v) => toNumber(v)) : undefined;
  }

  /** A FLOATS attribute. */
  floats(name: string): number[] | undefined {
    const a = this.get(name, AttributeType.FLOATS);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  /** A STRINGS attribute. */
  strings(name: string): string[] | undefined {
    const a = this.get(name, AttributeType.STRINGS);
    return a ? (a.strings ?? []).map((s) => utf8.decode(s)) : undefined;
  }

  /** A TENSOR attribute. */
  tensor(name: string): OnnxTensor | undefined {
    const a = this.get(name, AttributeType.TENSOR);
    if (!a) return undefined;
    if (!a.t) throw onnxError('invalid', `Invalid attribute '${name}' on ${this.label}: the tensor is missing`);
    return tensorFromProto(a.t, `attribute '${name}' of ${this.label}`, this.budget ?? defaultBudget());
  }

  /** An Error for an attribute value outside what is supported. */
  badValue(name: string, value: unknown, expected: string): Error {
    return onnxError('unsupported', `Unsupported value ${JSON.stringify(value)} of attribute '${name}' on ${this.label}: expected ${expected}`);
  }
}
