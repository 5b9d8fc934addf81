/**
 * The safetensors file format (https://github.com/huggingface/safetensors), in pure TypeScript.
 *
 * Layout: an 8-byte little-endian unsigned header length `N`, then `N` bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`,
 * then the data area. Offsets are relative to the start of the data area; the tensors are packed
 * back to back, little-endian, and cover the data area exactly.
 *
 * rnnblas writes float32 (`F32`) only and reads `F32`, `F64`, `F16` and `BF16` (converted to float32).
 * Files are written atomically (temp file in the same directory, fsync, rename, fsync of the directory).
 */
import fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { describe, rangeError, typeError } from '../errors.js';
import { type Tensor, checkShape, numel } from '../tensor.js';
import { checkInt, checkOptions } from '../validate.js';

/** Largest header the reader accepts, in bytes (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Default of {@link DecodeSafetensorsOptions.maxTensors}: the most tensors a header may list.
 * Real models list hundreds to a few thousand; the limit is checked by a scan of the header
 * bytes before the JSON is parsed, so a header of millions of tiny entries is refused at once.
 */
export const DEFAULT_MAX_TENSORS = 100_000;

/**
 * How deeply the header's JSON may nest. A valid header nests 3 levels
 * (`{"name": {"shape": [...]}}`); anything deeper is refused before `JSON.parse` sees it,
 * so a hostile header cannot exhaust the stack.
 */
export const MAX_HEADER_DEPTH = 16;

/** The element types rnnblas can read. Only `F32` is written. */
export type SafetensorsDtype = 'F32' | 'F64' | 'F16' | 'BF16';

/** Bytes per element of each readable dtype. */
const DTYPE_SIZES: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({ F32: 4, F64: 8, F16: 2, BF16: 2 });

/** The dtypes the safetensors specification defines (used only to word error messages). */
const KNOWN_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']);

/** The reserved header key holding free-form string metadata. */
const METADATA_KEY = '__metadata__';

/** Whether this host stores typed-array elements little-endian (practically always). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Thrown when bytes handed to {@link decodeSafetensors} (or a file read by
 * {@link loadSafetensors}) are not a valid safetensors file. The message names the source and
 * what is wrong with it.
 */
export class FormatError extends Error {
  /** Where the bytes came from (a file path, or the `source` option), if known. */
  readonly source: string | undefined;

  /**
   * @param message - the full message.
   * @param source - the file or buffer the bytes came from.
   */
  constructor(message: string, source?: string) {
    super(message);
    this.name = 'FormatError';
    this.source = source;
  }
}

/** What {@link decodeSafetensors} and {@link loadSafetensors} return. */
export interface SafetensorsContents {
  /** The tensors by name, in header order, each converted to float32 and backed by its own buffer. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` string map (empty when the file has none). */
  metadata: Record<string, string>;
}

/** Options of {@link decodeSafetensors} and {@link decodeSafetensorsHeader}. */
export interface DecodeSafetensorsOptions {
  /** Names the bytes' origin (e.g. a file path) in error messages. */
  source?: string;
  /** The most tensors the header may list (default {@link DEFAULT_MAX_TENSORS}). */
  maxTensors?: number;
}

/** One tensor's header entry, validated against the file (its bytes lie inside the data area). */
export interface SafetensorsTensorInfo {
  /** The element type stored in the file. */
  readonly dtype: SafetensorsDtype;
  /** The shape. */
  readonly shape: readonly number[];
  /** `[begin, end)` byte offsets into the data area. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated header: what {@link decodeSafetensorsHeader} returns. No tensor data has been copied. */
export interface SafetensorsHeader {
  /** The tensors' entries by name, in header order. */
  readonly tensors: Readonly<Record<string, SafetensorsTensorInfo>>;
  /** The `__metadata__` string map (empty when the file has none). */
  readonly metadata: Record<string, string>;
  /** Byte offset of the data area within the file (8 + header length). */
  readonly dataStart: number;
  /** The source named in error messages, if any. */
  readonly source: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Compares strings by Unicode code point, which is the byte order of their UTF-8 encodings. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const surrogateA = ca >= 0xd800 && ca <= 0xdfff;
    const surrogateB = cb >= 0xd800 && cb <= 0xdfff;
    // Surrogates (code points >= U+10000) sort after every BMP character.
    if (surrogateA !== surrogateB) return surrogateA ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}

/** Checks a plain (non-array) object argument. */
function checkRecord(name: string, value: unknown, expected: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw typeError(name, expected, value);
  }
  return value as Record<string, unknown>;
}

/** Checks a metadata map: a plain object whose values are all strings. */
function checkMetadata(name: string, value: unknown): Record<string, string> {
  const record = checkRecord(name, value, 'an object mapping strings to strings');
  for (const key of Object.keys(record)) {
    if (typeof record[key] !== 'string') throw typeError(`${name}[${JSON.stringify(key)}]`, 'a string', record[key]);
  }
  return record as Record<string, string>;
}

/** Checks one tensor argument (a Float32Array whose length matches a valid shape). */
function checkEncodable(name: string, value: unknown): Tensor {
  const t = checkRecord(name, value, 'a Tensor { data, shape }') as { data?: unknown; shape?: unknown };
  if (!(t.data instanceof Float32Array)) throw typeError(`${name}.data`, 'a Float32Array', t.data);
  const shape = checkShape(`${name}.shape`, t.shape);
  const n = numel(shape);
  if (t.data.length !== n) {
    throw rangeError(`${name}.data`, `${n} elements for shape [${shape.join(', ')}]`, `${t.data.length} elements`);
  }
  return { data: t.data, shape };
}

/**
 * Serializes float32 tensors (and optional string metadata) to the bytes of a safetensors file.
 *
 * The output is deterministic: tensors are laid out in the code-point order of their names
 * (which is the reference implementation's order for a single dtype), the header JSON has no
 * whitespace and is padded with spaces to a multiple of 8 bytes, and `__metadata__` comes first
 * (it is omitted when `metadata` is absent or empty).
 *
 * @param tensors - the tensors by name; `__metadata__` is not a valid name.
 * @param metadata - free-form string-to-string metadata.
 * @returns the file's bytes.
 * @throws TypeError if a tensor is not a `{ data: Float32Array, shape }` or a metadata value is not a string.
 * @throws RangeError if a tensor's element count does not match its shape, or a name is reserved.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const record = checkRecord('tensors', tensors, 'an object mapping names to Tensors');
  const meta = metadata === undefined ? {} : checkMetadata('metadata', metadata);

  const names = Object.keys(record).sort(compareCodePoints);
  const checked: Tensor[] = names.map((name) => {
    if (name === METADATA_KEY) {
      throw rangeError('tensors', `tensor names other than '${METADATA_KEY}' (reserved for metadata)`, describe(name));
    }
    return checkEncodable(`tensors[${JSON.stringify(name)}]`, record[name]);
  });

  const header: Record<string, unknown> = {};
  const metaKeys = Object.keys(meta);
  if (metaKeys.length > 0) {
    const m: Record<string, string> = {};
    for (const k of metaKeys.sort(compareCodePoints)) defineEntry(m, k, meta[k]);
    defineEntry(header, METADATA_KEY, m);
  }
  let offset = 0;
  names.forEach((name, i) => {
    const t = checked[i];
    const end = offset + t.data.length * 4;
    defineEntry(header, name, { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] });
    offset = end;
  });

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let pos = 8 + headerLength;
  for (const t of checked) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, pos);
    if (!HOST_LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + bytes.length), 4);
    pos += bytes.length;
  }
  return out;
}

/** Sets an own enumerable property (safe for names such as `__proto__`). */
function defineEntry(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reverses the bytes of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const tmp = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = tmp;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** One validated header entry. */
interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  begin: number;
  end: number;
}

/** float16 bit pattern -> float32 value, built on first use. */
let halfTable: Float32Array | undefined;

function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) v = mant === 0 ? sign * Infinity : NaN;
    else v = sign * (1 + mant / 1024) * 2 ** (exp - 15);
    table[h] = v; // exact: every float16 value is a float32 value
  }
  halfTable = table;
  return table;
}

/** Copies `count` little-endian elements of `size` bytes into a fresh, aligned ArrayBuffer. */
function copyLittleEndian(src: Uint8Array, size: number): ArrayBuffer {
  const buffer = new ArrayBuffer(src.length);
  const dst = new Uint8Array(buffer);
  dst.set(src);
  if (!HOST_LITTLE_ENDIAN) swapBytes(dst, size);
  return buffer;
}

/** Converts one tensor's bytes to a new float32 array. */
function toFloat32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(copyLittleEndian(bytes, 4));
    case 'F64':
      return Float32Array.from(new Float64Array(copyLittleEndian(bytes, 8)));
    case 'F16': {
      const halves = new Uint16Array(copyLittleEndian(bytes, 2));
      const table = halfToFloatTable();
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
      return out;
    }
    case 'BF16': {
      const halves = new Uint16Array(copyLittleEndian(bytes, 2));
      const out = new Float32Array(halves.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
      return out;
    }
  }
}

/** Short JSON rendering of a header value for error messages. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Scans the header's bytes (UTF-8, so the structural characters are single bytes that never
 * occur inside multi-byte sequences) and refuses nesting deeper than {@link MAX_HEADER_DEPTH}
 * and more than `maxTensors` entries, before any JSON is parsed.
 */
function scanHeader(bytes: Uint8Array, maxTensors: number, fail: (detail: string) => FormatError): void {
  let depth = 0;
  let entries = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      // '{' or '['
      if (++depth > MAX_HEADER_DEPTH) throw fail(`the header's JSON nests deeper than ${MAX_HEADER_DEPTH} levels (a valid header nests 3)`);
      // An object directly inside the top-level object is one entry (a tensor or the metadata).
      if (depth === 2 && c === 0x7b && ++entries > maxTensors + 1) {
        throw fail(`the header lists more than ${maxTensors} tensors (the limit; raise it with the maxTensors option)`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/**
 * Parses and validates the header of a safetensors file without copying any tensor data: the
 * header length must fit the file (and be at most {@link MAX_HEADER_BYTES}), the header must be
 * a UTF-8 JSON object nested at most {@link MAX_HEADER_DEPTH} levels with at most `maxTensors`
 * entries, each entry needs a known `dtype`, a `shape` of non-negative integers and
 * `data_offsets` whose span equals the tensor's byte size, and the tensors must cover the data
 * area exactly, without gaps, overlaps or trailing bytes. So every size in a header that passes
 * is backed by bytes actually present in the file.
 *
 * @param bytes - the file's contents (a Uint8Array or Buffer, at any byte offset).
 * @param options - `source` names the bytes' origin in error messages; `maxTensors` bounds the entries.
 * @returns the validated header.
 * @throws TypeError if `bytes` is not a Uint8Array or an option has the wrong type.
 * @throws RangeError if `maxTensors` is not a positive integer.
 * @throws FormatError if the bytes are not a valid safetensors file.
 */
export function decodeSafetensorsHeader(bytes: Uint8Array, options?: DecodeSafetensorsOptions): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array', bytes);
  const opts = checkOptions<DecodeSafetensorsOptions>('options', options, ['source', 'maxTensors']);
  if (opts.source !== undefined && typeof opts.source !== 'string') throw typeError('options.source', 'a string', opts.source);
  const maxTensors = opts.maxTensors === undefined ? DEFAULT_MAX_TENSORS : checkInt('options.maxTensors', opts.maxTensors, 1, Number.MAX_SAFE_INTEGER);
  const source = opts.source;
  const fail = (detail: string): FormatError =>
    new FormatError(source === undefined ? `Invalid safetensors data: ${detail}` : `Invalid safetensors file '${source}': ${detail}`, source);

  if (bytes.length === 0) throw fail('the file is empty (expected at least an 8-byte header length)');
  if (bytes.length < 8) throw fail(`the file is ${bytes.length} bytes long, too short for the 8-byte header length`);

  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`the header length ${headerLength} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    throw fail(`the header length ${n} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  }
  const headerBytes = bytes.subarray(8, 8 + n);
  if (headerBytes.length === 0 || headerBytes[0] !== 0x7b) {
    let start = '';
    try {
      start = new TextDecoder('utf-8').decode(headerBytes.subarray(0, 20));
    } catch {
      start = '';
    }
    throw fail(`the header must be a JSON object starting with '{' but begins with ${show(start)}`);
  }
  scanHeader(headerBytes, maxTensors, fail);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`the header is not valid JSON (${String((err as Error).message).slice(0, 200)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw fail('the header is not a JSON object');
  }
  const fields = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  const dataLength = bytes.length - 8 - n;
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (name === METADATA_KEY) {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw fail(`'${METADATA_KEY}' must be an object mapping strings to strings but is ${show(value)}`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw fail(`metadata value ${show(k)} must be a string but is ${show(v)}`);
        defineEntry(metadata, k, v);
      }
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, fail));
  }
  if (entries.length > maxTensors) {
    throw fail(`the header lists ${entries.length} tensors, more than the limit of ${maxTensors} (raise it with the maxTensors option)`);
  }

  // Sorted by position, each tensor must start where the previous one ended.
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of ordered) {
    if (e.begin < covered && previous) {
      throw fail(
        `tensor ${show(e.name)} (data_offsets [${e.begin}, ${e.end}]) overlaps tensor ` +
          `${show(previous.name)} (data_offsets [${previous.begin}, ${previous.end}])`,
      );
    }
    if (e.begin > covered) {
      throw fail(`gap in the data area: bytes ${covered}..${e.begin} (before tensor ${show(e.name)}) belong to no tensor`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw fail(`the data area holds ${dataLength} bytes but the tensors cover only ${covered}; ${dataLength - covered} trailing bytes`);
  }

  const tensors: Record<string, SafetensorsTensorInfo> = {};
  for (const e of entries) defineEntry(tensors, e.name, Object.freeze({ dtype: e.dtype, shape: e.shape, dataOffsets: Object.freeze([e.begin, e.end] as [number, number]) }));
  return { tensors, metadata, dataStart: 8 + n, source };
}

/**
 * Converts the tensors a validated header describes to float32 (each in its own aligned
 * buffer, sharing no memory with `bytes`).
 *
 * @param bytes - the same bytes the header was decoded from.
 * @param header - from {@link decodeSafetensorsHeader}.
 * @param names - only these tensors (default all), in this order.
 * @returns the tensors by name.
 */
export function decodeSafetensorsTensors(bytes: Uint8Array, header: SafetensorsHeader, names?: readonly string[]): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const name of names ?? Object.keys(header.tensors)) {
    const e = header.tensors[name];
    const [begin, end] = e.dataOffsets;
    const data = toFloat32(bytes.subarray(header.dataStart + begin, header.dataStart + end), e.dtype);
    defineEntry(tensors, name, { data, shape: e.shape } satisfies Tensor);
  }
  return tensors;
}

/**
 * Parses and validates the bytes of a safetensors file.
 *
 * The header is checked first, completely, by {@link decodeSafetensorsHeader} (sizes, offsets,
 * coverage of the data area, nesting depth, entry count); only then is any tensor data copied.
 * `F64`, `F16` and `BF16` tensors are converted to float32 (round to nearest even; conversions
 * from the smaller types are exact). The returned arrays are aligned copies that do not share
 * memory with `bytes`.
 *
 * @param bytes - the file's contents (a Uint8Array or Buffer, at any byte offset).
 * @param options - `source` names the bytes' origin in error messages; `maxTensors` bounds the entries.
 * @returns the tensors (in header order) and the metadata.
 * @throws TypeError if `bytes` is not a Uint8Array or an option has the wrong type.
 * @throws FormatError if the bytes are not a valid safetensors file.
 */
export function decodeSafetensors(bytes: Uint8Array, options?: DecodeSafetensorsOptions): SafetensorsContents {
  const header = decodeSafetensorsHeader(bytes, options);
  return { tensors: decodeSafetensorsTensors(bytes, header), metadata: header.metadata };
}

/** Validates one tensor's header entry. */
function parseEntry(name: string, value: unknown, dataLength: number, fail: (detail: string) => FormatError): Entry {
  const label = `tensor ${show(name)}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw fail(`${label} must be an object with dtype, shape and data_offsets but is ${show(value)}`);
  }
  const info = value as Record<string, unknown>;
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(info, key)) throw fail(`${label} has no '${key}'`);
  }

  const dtype = info.dtype;
  if (typeof dtype !== 'string') throw fail(`${label} has a dtype that is not a string: ${show(dtype)}`);
  if (!Object.prototype.hasOwnProperty.call(DTYPE_SIZES, dtype)) {
    const kind = KNOWN_DTYPES.has(dtype) ? 'unsupported' : 'unknown';
    throw fail(`${label} has ${kind} dtype ${show(dtype)} (rnnblas reads F32, F64, F16 and BF16)`);
  }
  const size = DTYPE_SIZES[dtype as SafetensorsDtype];

  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`${label} has an invalid shape ${show(shape)} (expected an array of non-negative integers)`);
  }

  const offsets = info.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw fail(`${label} has invalid data_offsets ${show(offsets)} (expected [begin, end], non-negative integers)`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fail(`${label} has data_offsets [${begin}, ${end}] that end before they begin`);
  if (end > dataLength) {
    throw fail(`${label} has data_offsets [${begin}, ${end}] past the end of the ${dataLength}-byte data area`);
  }

  let count = 1n;
  for (const d of shape as number[]) count *= BigInt(d);
  const expected = count * BigInt(size);
  if (expected !== BigInt(end - begin)) {
    throw fail(
      `${label} has shape [${(shape as number[]).join(', ')}] and dtype ${dtype}, which need ${expected} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: Object.freeze([...(shape as number[])]), begin, end };
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Errors from fsync on a directory that mean "not supported here", not "data lost". */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EACCES', 'EBADF']);

/** Flushes a directory entry change (a rename) to disk; a no-op where directories cannot be synced. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The path the data should end up at: the file a symlink points to, else `path` itself. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await fsp.realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw err;
  }
}

/**
 * Writes a file atomically: readers see either the old contents or the new ones, never a mix,
 * and a crash or error leaves the previous file in place.
 *
 * The bytes go to a uniquely named temporary file in the target's directory, which is fsynced
 * and renamed over the target; then the directory is fsynced so the rename is durable. On
 * failure the temporary file is removed and the error is rethrown. An existing target keeps
 * its permission bits; a symlinked target is followed (the link stays, the file it points to
 * is replaced).
 *
 * @param path - the file to create or replace.
 * @param bytes - the complete new contents.
 * @throws TypeError for a non-string/empty path or non-Uint8Array bytes; the file system's error otherwise.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path', 'a non-empty string', path);
  if (!(bytes instanceof Uint8Array)) throw typeError('bytes', 'a Uint8Array', bytes);

  const target = await resolveTarget(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target).slice(0, 200)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    handle = await fsp.open(tmp, 'wx', 0o666);
    created = true;
    try {
      const { mode } = await fsp.stat(target);
      await handle.chmod(mode & 0o7777);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await handle.writeFile(bytes);
    await handle.sync();
    const h = handle;
    handle = undefined;
    await h.close();
    await fsp.rename(tmp, target);
    created = false;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (created) await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * Saves float32 tensors (and optional string metadata) as a safetensors file, atomically.
 * See {@link encodeSafetensors} for the layout and {@link writeFileAtomic} for the guarantees.
 *
 * @param path - the file to create or replace.
 * @param tensors - the tensors by name.
 * @param metadata - free-form string-to-string metadata.
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  await writeFileAtomic(path, bytes);
}

/**
 * Reads and validates a safetensors file. Nothing is modified; on any error (I/O or
 * {@link FormatError}) no partial result is returned.
 *
 * @param path - the file to read.
 * @returns the tensors (float32) and the metadata.
 * @throws FormatError if the file is not a valid safetensors file (the message names the path).
 */
export async function loadSafetensors(path: string): Promise<SafetensorsContents> {
  if (typeof path !== 'string' || path.length === 0) throw typeError('path', 'a non-empty string', path);
  const bytes = await fsp.readFile(path);
  return decodeSafetensors(bytes, { source: path });
}
