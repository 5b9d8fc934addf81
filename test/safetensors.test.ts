/**
 * Tests for src/io/safetensors.ts: encoding, strict decoding, Python-produced fixtures and
 * atomic writes.
 *
 * The fixtures in test/fixtures/safetensors/ come from scripts/fixtures/gen_safetensors.py
 * (PyTorch 1.13.0a0; the format is written there from the spec with struct + json, because the
 * `safetensors` Python package is not installed). That script also saves a file with rnnblas'
 * saveSafetensors (via `node --import tsx`) and reads it back into torch. Run by hand, it printed:
 *
 *   OK: torch read rnnblas file (684 bytes, 7 tensors) bit-exactly; bytes identical to the spec writer
 *
 * The tests below do not need Python.
 */
import fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FormatError,
  MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  writeFileAtomic,
} from '../src/io/safetensors.js';
import { type Tensor, tensor } from '../src/tensor.js';

const FIXTURES = new URL('./fixtures/safetensors/', import.meta.url);

/** The float32 bit patterns of an array, as unsigned integers. */
function bits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(Float32Array.from(data).buffer));
}

/** A Float32Array holding exactly these bit patterns. */
function fromBits(patterns: number[]): Float32Array {
  return new Float32Array(new Uint32Array(patterns).buffer);
}

/** Builds a safetensors file from a header (object or raw text) and a data area. */
function file(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** Asserts that decoding fails with a FormatError whose message matches and names the source. */
function expectFormatError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes, { source: 'bad.safetensors' });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  const err = caught as FormatError;
  expect(err.name).toBe('FormatError');
  expect(err.source).toBe('bad.safetensors');
  expect(err.message).toMatch(/^Invalid safetensors file 'bad\.safetensors': /);
  expect(err.message).toMatch(message);
}

const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('keeps names, shapes (incl. scalar and zero-size), metadata and exact bits', () => {
    const weird = fromBits([0x7fa00001, 0xffc12345, 0x80000000, 0x00000001, 0x7f800000, 0xff800000]);
    const tensors: Record<string, Tensor> = {
      'weight_ih_l0': tensor([1, 2, 3, 4, 5, 6], [2, 3]),
      'scalar': tensor([Math.PI], []),
      'empty': tensor([], [0]),
      'empty3d': tensor([], [3, 0, 2]),
      'ones': tensor([1], [1, 1, 1, 1]),
      'special bits': tensor(weird, [6]),
      'Ω.ünïcode ✓': tensor([-1.5, 0.1], [2, 1]),
      ['__proto__']: tensor([7], [1]), // computed key: an own property, not the prototype
    };
    const metadata = { format: 'pt', note: 'ünïcode ✓', empty: '' };
    const { tensors: back, metadata: meta } = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(meta).toEqual(metadata);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
    for (const name of Object.keys(tensors)) {
      expect(back[name].shape, name).toEqual(tensors[name].shape);
      expect(back[name].data).toBeInstanceOf(Float32Array);
      expect(bits(back[name].data), name).toEqual(bits(tensors[name].data));
    }
  });

  it('writes no __metadata__ when there is none and reads it back as {}', () => {
    const bytes = encodeSafetensors({ a: tensor([1], [1]) });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
    expect(new TextDecoder().decode(encodeSafetensors({ a: tensor([1], [1]) }, {}))).not.toContain('__metadata__');
  });

  it('round-trips an empty tensor set', () => {
    const bytes = encodeSafetensors({});
    expect(decodeSafetensors(bytes)).toEqual({ tensors: {}, metadata: {} });
  });

  it('is deterministic: insertion order does not change the bytes', () => {
    const a = tensor([1, 2], [2]);
    const b = tensor([3], []);
    const one = encodeSafetensors({ b, a, c: a }, { y: '1', x: '2' });
    const two = encodeSafetensors({ c: a, a, b }, { x: '2', y: '1' });
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
  });

  it('pads the header with spaces to a multiple of 8', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = encodeSafetensors({ [name]: tensor([1], [1]) });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(n % 8).toBe(0);
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      expect(header).toMatch(/^\{.*\} *$/);
      expect(header.length - header.trimEnd().length).toBeLessThan(8);
    }
  });

  it('encodes a Float32Array view at a non-zero byte offset correctly', () => {
    const big = new Float32Array([9, 9, 1, 2, 3, 9]);
    const view = big.subarray(2, 5);
    const back = decodeSafetensors(encodeSafetensors({ v: tensor(view, [3]) })).tensors.v;
    expect(Array.from(back.data)).toEqual([1, 2, 3]);
  });

  it('returns aligned copies even when the data area is at an odd address', () => {
    const bytes = encodeSafetensors({ a: tensor([1, 2, 3], [3]), b: tensor([4, 5], [2]) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const input = shifted.subarray(3);
    const { tensors } = decodeSafetensors(input);
    expect(Array.from(tensors.a.data)).toEqual([1, 2, 3]);
    expect(Array.from(tensors.b.data)).toEqual([4, 5]);
    expect(tensors.b.data.byteOffset).toBe(0);
    expect(tensors.b.data.buffer).not.toBe(shifted.buffer);
    tensors.a.data[0] = 100; // does not write through to the input
    expect(Array.from(decodeSafetensors(input).tensors.a.data)).toEqual([1, 2, 3]);
  });

  it('orders tensors in the file by the code points of their names', () => {
    // U+FF5E (BMP, above the surrogates) must sort before U+1F600 (astral), as in UTF-8 byte order.
    const bytes = encodeSafetensors({ '\u{1F600}': tensor([1], [1]), '\uFF5E': tensor([2], [1]), b: tensor([3], [1]) });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(Object.keys(header)).toEqual(['b', '\uFF5E', '\u{1F600}']);
    expect(header['\u{1F600}'].data_offsets).toEqual([8, 12]);
  });
});

describe('encodeSafetensors byte layout', () => {
  it('matches hand-built bytes for a tiny file', () => {
    const bytes = encodeSafetensors({ b: tensor([1, -1.5], [2]), a: tensor([2], []) }, { k: 'v' });
    const json =
      '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(json.length).toBe(132);
    const expected = [
      // u64 little-endian header length: 132 bytes of JSON + 4 spaces = 136
      136, 0, 0, 0, 0, 0, 0, 0,
      ...Array.from(json, (c) => c.charCodeAt(0)),
      0x20, 0x20, 0x20, 0x20,
      // a = 2.0f (0x40000000), little-endian
      0x00, 0x00, 0x00, 0x40,
      // b = [1.0f (0x3f800000), -1.5f (0xbfc00000)]
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0xbf,
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });
});

describe('encodeSafetensors argument checks', () => {
  it('rejects a non-object tensor map', () => {
    expect(() => encodeSafetensors(null as unknown as Record<string, Tensor>)).toThrow(TypeError);
    expect(() => encodeSafetensors([] as unknown as Record<string, Tensor>)).toThrow(/tensors/);
  });

  it('rejects data that is not a Float32Array', () => {
    const bad = { data: new Float64Array(2), shape: [2] } as unknown as Tensor;
    expect(() => encodeSafetensors({ w: bad })).toThrow(TypeError);
    expect(() => encodeSafetensors({ w: bad })).toThrow(/tensors\["w"\]\.data/);
  });

  it('rejects a length that does not match the shape', () => {
    const bad = { data: new Float32Array(5), shape: [2, 3] } as Tensor;
    expect(() => encodeSafetensors({ w: bad })).toThrow(RangeError);
    expect(() => encodeSafetensors({ w: bad })).toThrow(/6 elements for shape \[2, 3\].*5 elements/);
  });

  it('rejects an invalid shape', () => {
    const bad = { data: new Float32Array(0), shape: [-1] } as Tensor;
    expect(() => encodeSafetensors({ w: bad })).toThrow(RangeError);
  });

  it('rejects the reserved name __metadata__', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1], [1]) })).toThrow(RangeError);
    expect(() => encodeSafetensors({ __metadata__: tensor([1], [1]) })).toThrow(/reserved/);
  });

  it('rejects non-string metadata values', () => {
    const meta = { epoch: 3 } as unknown as Record<string, string>;
    expect(() => encodeSafetensors({}, meta)).toThrow(TypeError);
    expect(() => encodeSafetensors({}, meta)).toThrow(/metadata\["epoch"\]/);
  });
});

describe('decodeSafetensors: files written by Python (PyTorch 1.13)', () => {
  interface Expected {
    headerLength: number;
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; bits: number[] }>;
  }
  let expected: Record<string, Expected>;
  beforeEach(async () => {
    expected = JSON.parse(await fsp.readFile(new URL('expected.json', FIXTURES), 'utf8')) as Record<string, Expected>;
  });

  function checkAgainstExpected(fileName: string, tensors: Record<string, Tensor>, metadata: Record<string, string>): void {
    const want = expected[fileName];
    expect(metadata).toEqual(want.metadata);
    expect(Object.keys(tensors)).toEqual(Object.keys(want.tensors)); // header order
    for (const [name, w] of Object.entries(want.tensors)) {
      const t = tensors[name];
      expect(t.shape, name).toEqual(w.shape);
      expect(t.data.length, name).toBe(w.bits.length);
      const got = bits(t.data);
      w.bits.forEach((b, i) => {
        const isNaN = (b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0;
        if (isNaN) expect(Number.isNaN(t.data[i]), `${name}[${i}]`).toBe(true);
        else expect(got[i], `${name}[${i}] (${w.dtype})`).toBe(b);
      });
    }
  }

  it('reads F32, F64, F16 and BF16 tensors with metadata (mixed.safetensors)', async () => {
    const path = new URL('mixed.safetensors', FIXTURES).pathname;
    const { tensors, metadata } = await loadSafetensors(path);
    checkAgainstExpected('mixed.safetensors', tensors, metadata);
    // Spot checks of the conversions, independent of the JSON.
    expect(Array.from(tensors['f16.values'].data.subarray(0, 4))).toEqual([65504, 2 ** -14, 2 ** -24, -0]);
    expect(Array.from(tensors['f64.rounding'].data.subarray(1, 6))).toEqual([Infinity, -Infinity, 0, 1, 1 + 2 ** -22]);
    expect(tensors.scalar.shape).toEqual([]);
    expect(Array.from(tensors.scalar.data)).toEqual([42]);
    expect(tensors.empty_f32.shape).toEqual([0, 3]);
  });

  it('reads a file whose data area starts at an odd offset (unaligned.safetensors)', async () => {
    const bytes = new Uint8Array(await fsp.readFile(new URL('unaligned.safetensors', FIXTURES)));
    expect(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) % 8).toBe(3);
    const { tensors, metadata } = decodeSafetensors(bytes, { source: 'unaligned.safetensors' });
    checkAgainstExpected('unaligned.safetensors', tensors, metadata);
  });

  it('re-encodes the Python tensors to float32 and reads them back unchanged', async () => {
    const { tensors, metadata } = await loadSafetensors(new URL('mixed.safetensors', FIXTURES).pathname);
    const again = decodeSafetensors(encodeSafetensors(tensors, metadata));
    checkAgainstExpected('mixed.safetensors', Object.fromEntries(Object.keys(tensors).map((k) => [k, again.tensors[k]])), again.metadata);
  });
});

describe('decodeSafetensors: corrupt files', () => {
  it('empty file', () => {
    expectFormatError(new Uint8Array(0), /the file is empty/);
  });

  it('fewer than 8 bytes', () => {
    expectFormatError(new Uint8Array([1, 0, 0, 0, 0]), /5 bytes long, too short for the 8-byte header length/);
  });

  it('header length past the end of the file', () => {
    expectFormatError(file('{}', 0, 100n), /header length 100 runs past the end of the file \(10 bytes/);
  });

  it('header length beyond 2^53', () => {
    expectFormatError(file('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 is larger than the 100000000-byte limit/);
  });

  it('header length above the 100 MB limit', () => {
    expectFormatError(file('{}', 0, BigInt(MAX_HEADER_BYTES + 1)), /header length 100000001 is larger than the 100000000-byte limit/);
  });

  it('header that is not UTF-8', () => {
    const bytes = file('{"a":1}');
    bytes[10] = 0xff;
    expectFormatError(bytes, /not valid UTF-8/);
  });

  it('invalid JSON', () => {
    expectFormatError(file('{"a": {"dtype": "F32",'), /the header is not valid JSON/);
  });

  it('JSON that is not an object', () => {
    expectFormatError(file('[1, 2, 3]'), /the header must be a JSON object starting with '\{'/);
  });

  it.each(['dtype', 'shape', 'data_offsets'])('entry without %s', (key) => {
    const entry: Record<string, unknown> = f32([1], [0, 4]);
    delete entry[key];
    expectFormatError(file({ w: entry }, 4), new RegExp(`tensor "w" has no '${key}'`));
  });

  it('entry that is not an object', () => {
    expectFormatError(file({ w: [1, 2] }), /tensor "w" must be an object with dtype, shape and data_offsets/);
  });

  it('dtype that is not a string', () => {
    expectFormatError(file({ w: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, 4), /tensor "w" has a dtype that is not a string: 4/);
  });

  it('unsupported dtype I64', () => {
    expectFormatError(file({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8), /tensor "w" has unsupported dtype "I64" \(rnnblas reads F32, F64, F16 and BF16\)/);
  });

  it('unknown dtype Q4', () => {
    expectFormatError(file({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, 1), /tensor "w" has unknown dtype "Q4"/);
  });

  it('negative shape', () => {
    expectFormatError(file({ w: f32([2, -1], [0, 0]) }), /tensor "w" has an invalid shape \[2,-1\] \(expected an array of non-negative integers\)/);
  });

  it('fractional shape', () => {
    expectFormatError(file({ w: f32([1.5], [0, 6]) }, 6), /tensor "w" has an invalid shape \[1\.5\]/);
  });

  it('data_offsets of the wrong form', () => {
    expectFormatError(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /tensor "w" has invalid data_offsets \[0\]/);
  });

  it('data_offsets that end before they begin', () => {
    expectFormatError(file({ w: f32([0], [4, 0]) }, 4), /data_offsets \[4, 0\] that end before they begin/);
  });

  it('offsets out of range', () => {
    expectFormatError(file({ w: f32([4], [0, 16]) }, 8), /tensor "w" has data_offsets \[0, 16\] past the end of the 8-byte data area/);
  });

  it('overlapping offsets', () => {
    expectFormatError(
      file({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12),
      /tensor "b" \(data_offsets \[4, 12\]\) overlaps tensor "a" \(data_offsets \[0, 8\]\)/,
    );
  });

  it('gap between tensors', () => {
    expectFormatError(
      file({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, 12),
      /gap in the data area: bytes 4\.\.8 \(before tensor "b"\) belong to no tensor/,
    );
  });

  it('size mismatch with the shape', () => {
    expectFormatError(
      file({ w: f32([3], [0, 8]) }, 8),
      /tensor "w" has shape \[3\] and dtype F32, which need 12 bytes, but data_offsets \[0, 8\] span 8/,
    );
  });

  it('trailing bytes after the data area', () => {
    expectFormatError(file({ w: f32([1], [0, 4]) }, 8), /the data area holds 8 bytes but the tensors cover only 4; 4 trailing bytes/);
  });

  it('non-string metadata value', () => {
    expectFormatError(file({ __metadata__: { epoch: 3 } }), /metadata value "epoch" must be a string but is 3/);
  });

  it('metadata that is not an object', () => {
    expectFormatError(file({ __metadata__: 'pt' }), /'__metadata__' must be an object mapping strings to strings but is "pt"/);
  });

  it('names the data generically without a source', () => {
    expect(() => decodeSafetensors(new Uint8Array(0))).toThrow(/^Invalid safetensors data: the file is empty/);
  });

  it('rejects arguments of the wrong kind with TypeError', () => {
    expect(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeSafetensors(new Uint8Array(8), { source: 3 } as unknown as { source: string })).toThrow(TypeError);
    expect(() => decodeSafetensors(new Uint8Array(8), { sauce: 'x' } as unknown as { source: string })).toThrow(RangeError);
  });

  it('accepts zero-size tensors anywhere, null metadata and trailing header spaces', () => {
    const bytes = file(
      '{"__metadata__":null,"e":{"dtype":"F16","shape":[0,5],"data_offsets":[4,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ',
      new Uint8Array(new Float32Array([2.5]).buffer),
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.e.shape).toEqual([0, 5]);
    expect(Array.from(tensors.w.data)).toEqual([2.5]);
  });
});

describe('writeFileAtomic / saveSafetensors / loadSafetensors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(join(tmpdir(), 'rnnblas-safetensors-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const ls = async (): Promise<string[]> => (await fsp.readdir(dir)).sort();

  it('creates a file, then replaces it, leaving no temp files', async () => {
    const path = join(dir, 'out.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(await fsp.readFile(path))).toEqual([1, 2, 3]);
    await writeFileAtomic(path, new Uint8Array([9, 8]));
    expect(Array.from(await fsp.readFile(path))).toEqual([9, 8]);
    expect(await ls()).toEqual(['out.bin']);
  });

  it('fails when the directory is missing and creates nothing', async () => {
    const path = join(dir, 'missing', 'out.bin');
    await expect(writeFileAtomic(path, new Uint8Array([1]))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await ls()).toEqual([]);
  });

  it('keeps the previous file and removes the temp file when the rename fails', async () => {
    const path = join(dir, 'model.safetensors');
    await fsp.writeFile(path, 'previous');
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('simulated EIO'), { code: 'EIO' }));
    await expect(writeFileAtomic(path, new Uint8Array([1, 2, 3]))).rejects.toThrow('simulated EIO');
    expect(await fsp.readFile(path, 'utf8')).toBe('previous');
    expect(await ls()).toEqual(['model.safetensors']);
  });

  it('keeps the previous file and removes the temp file when fsync fails', async () => {
    const path = join(dir, 'model.safetensors');
    await fsp.writeFile(path, 'previous');
    const realOpen = fsp.open.bind(fsp);
    let tempPath = '';
    vi.spyOn(fsp, 'open').mockImplementationOnce(async (p, flags, mode) => {
      tempPath = String(p);
      const handle = await realOpen(p, flags, mode);
      vi.spyOn(handle, 'sync').mockRejectedValueOnce(new Error('simulated fsync failure'));
      return handle;
    });
    await expect(writeFileAtomic(path, new Uint8Array([1, 2, 3]))).rejects.toThrow('simulated fsync failure');
    expect(tempPath).toMatch(/[\\/]\.model\.safetensors\.\d+\.[0-9a-f]{12}\.tmp$/);
    expect(await fsp.readFile(path, 'utf8')).toBe('previous');
    expect(await ls()).toEqual(['model.safetensors']);
  });

  it('leaves a directory in the way untouched and no temp files', async () => {
    const path = join(dir, 'taken');
    await fsp.mkdir(path);
    await fsp.writeFile(join(path, 'inside'), 'x');
    await expect(writeFileAtomic(path, new Uint8Array([1]))).rejects.toThrow();
    expect(await ls()).toEqual(['taken']);
    expect(await fsp.readFile(join(path, 'inside'), 'utf8')).toBe('x');
  });

  it.skipIf(process.platform === 'win32')('keeps the permission bits of the file it replaces', async () => {
    const path = join(dir, 'private.bin');
    await fsp.writeFile(path, 'old');
    await fsp.chmod(path, 0o600);
    await writeFileAtomic(path, new Uint8Array([1]));
    expect((await fsp.stat(path)).mode & 0o777).toBe(0o600);
  });

  it.skipIf(process.platform === 'win32')('follows a symlink and replaces the file it points to', async () => {
    const real = join(dir, 'real.bin');
    const link = join(dir, 'link.bin');
    await fsp.writeFile(real, 'old');
    await fsp.symlink(real, link);
    await writeFileAtomic(link, new Uint8Array([0x41]));
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await fsp.readFile(real, 'utf8')).toBe('A');
    expect(await ls()).toEqual(['link.bin', 'real.bin']);
  });

  it('rejects bad arguments with TypeError', async () => {
    await expect(writeFileAtomic('', new Uint8Array(0))).rejects.toThrow(TypeError);
    await expect(writeFileAtomic(join(dir, 'x'), 'abc' as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });

  it('saves and loads tensors and metadata', async () => {
    const path = join(dir, 'model.safetensors');
    const tensors = { weight_ih_l0: tensor([1, 2, 3, 4, 5, 6], [2, 3]), bias_ih_l0: tensor([0.5, -0.5], [2]) };
    await saveSafetensors(path, tensors, { format: 'pt' });
    const back = await loadSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.weight_ih_l0).toEqual(tensors.weight_ih_l0);
    expect(back.tensors.bias_ih_l0).toEqual(tensors.bias_ih_l0);
    expect(await ls()).toEqual(['model.safetensors']);
  });

  it('a save that fails while encoding leaves the previous file intact', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { a: tensor([1], [1]) });
    const before = await fsp.readFile(path);
    const bad = { data: new Float32Array(3), shape: [2] } as Tensor;
    await expect(saveSafetensors(path, { a: bad })).rejects.toThrow(RangeError);
    expect((await fsp.readFile(path)).equals(before)).toBe(true);
    expect(await ls()).toEqual(['model.safetensors']);
  });

  it('a failed load names the file and changes nothing', async () => {
    const path = join(dir, 'broken.safetensors');
    const bytes = file({ w: f32([2], [0, 8]) }, 4);
    await fsp.writeFile(path, bytes);
    await expect(loadSafetensors(path)).rejects.toThrow(FormatError);
    await expect(loadSafetensors(path)).rejects.toThrow(`Invalid safetensors file '${path}'`);
    expect(Buffer.from(await fsp.readFile(path)).equals(Buffer.from(bytes))).toBe(true);
    await expect(loadSafetensors(join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
