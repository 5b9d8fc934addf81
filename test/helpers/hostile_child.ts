/**
 * Child process for the hostile-file tests (issue 16). Run with a memory limit:
 *
 *   node --max-old-space-size=512 --import tsx test/helpers/hostile_child.ts case <name> <dir>
 *   node --max-old-space-size=512 --import tsx test/helpers/hostile_child.ts fuzz <kind> <seed> <count> <dir>
 *
 * `case` runs one hand-made case and prints one JSON line: how it ended (an Error, a non-Error
 * throw, or a result), the error's name and message (truncated) and full message length, the
 * time the call took and the process's peak RSS. `fuzz` runs `count` seeded mutations of one
 * kind (safetensors, checkpoint, onnx, keras) and prints a summary line. The code under test is
 * imported from `$HOSTILE_ROOT/src/index.ts` (default: this checkout), so the same cases can be
 * run against an older version for comparison.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FILES, concat, intAttr, onnxModel, tensorAttr, tensorProto } from './hostile_files.js';

type Api = typeof import('../../src/index.js');

const ROOT = process.env.HOSTILE_ROOT ?? resolve(fileURLToPath(import.meta.url), '../../..');

/** What one call ended in. */
export interface Outcome {
  name: string;
  outcome: 'error' | 'non-error-throw' | 'ok';
  errorName?: string;
  message?: string;
  messageLength?: number;
  result?: unknown;
  ms: number;
  rssMB: number;
}

function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function settle(name: string, fn: () => unknown): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const result = await fn();
    return { name, outcome: 'ok', result, ms: performance.now() - t0, rssMB: peakRssMB() };
  } catch (e) {
    const ms = performance.now() - t0;
    if (!(e instanceof Error)) return { name, outcome: 'non-error-throw', message: String(e).slice(0, 300), ms, rssMB: peakRssMB() };
    return { name, outcome: 'error', errorName: e.name, message: e.message.slice(0, 400), messageLength: e.message.length, ms, rssMB: peakRssMB() };
  }
}

// ------------------------------------------------------------------------------------------
// Hand-made cases
// ------------------------------------------------------------------------------------------

async function runOnnx(api: Api, path: string): Promise<unknown> {
  const m = await api.loadOnnx(path);
  const out = await m.run({});
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape]));
}

/** Writes a checkpoint whose metadata has `patch` applied to its 'checkpoint' JSON; returns its path. */
async function patchedCheckpoint(api: Api, dir: string, name: string, patch: (meta: Record<string, unknown>) => void): Promise<string> {
  const path = join(dir, name);
  const model = new api.RNN({ inputSize: 2, hiddenSize: 3, seed: 1, dropout: 0 });
  await api.saveCheckpoint(path, { model, step: 5, rng: new api.Rng(7) });
  const { tensors, metadata } = api.decodeSafetensors(readFileSync(path));
  const meta = JSON.parse(metadata.checkpoint) as Record<string, unknown>;
  patch(meta);
  writeFileSync(path, api.encodeSafetensors(tensors, { ...metadata, checkpoint: JSON.stringify(meta) }));
  return path;
}

/** The hand-made cases: each returns the call to time (setup happens before). */
export const CASES: Record<string, (api: Api, dir: string) => Promise<() => unknown>> = {
  rnnNoTensors: async (api, dir) => () => api.loadModel(join(dir, FILES.rnnNoTensors)),
  rnnNoTensorsDecodeModel: async (api, dir) => {
    const bytes = readFileSync(join(dir, FILES.rnnNoTensors));
    return () => api.decodeModel(bytes);
  },
  rnnNoTensorsInBudget: async (api, dir) => () => api.loadModel(join(dir, FILES.rnnNoTensorsInBudget)),
  linearNoTensors: async (api, dir) => () => api.loadModel(join(dir, FILES.linearNoTensors)),
  manyLinears: async (api, dir) => () => api.loadModel(join(dir, FILES.manyLinears)),
  checkpointNoTensors: async (api, dir) => () => api.loadCheckpoint(join(dir, FILES.checkpointNoTensors)),
  deepJson: async (api, dir) => () => api.loadSafetensors(join(dir, FILES.deepJson)),
  manyTensors: async (api, dir) => () => api.loadModel(join(dir, FILES.manyTensors)),
  constantOfShape: async (api, dir) => () => runOnnx(api, join(dir, FILES.constantOfShape)),
  constantOfShapeInt64: async (api, dir) => () => runOnnx(api, join(dir, FILES.constantOfShapeInt64)),
  expand: async (api, dir) => () => runOnnx(api, join(dir, FILES.expand)),
  gemmZeroK: async (api, dir) => () => runOnnx(api, join(dir, FILES.gemmZeroK)),
  matmulZeroK: async (api, dir) => () => runOnnx(api, join(dir, FILES.matmulZeroK)),
  concatEmpty: async (api, dir) => () => runOnnx(api, join(dir, FILES.concatEmpty)),
  gatherEmpty: async (api, dir) => () => runOnnx(api, join(dir, FILES.gatherEmpty)),
  rnnEmptyX: async (api, dir) => () => runOnnx(api, join(dir, FILES.rnnEmptyX)),
  sliceEmpty: async (api, dir) => () => runOnnx(api, join(dir, FILES.sliceEmpty)),
  packedInt64: async (api, dir) => () => api.loadOnnx(join(dir, FILES.packedInt64)),
  kerasMillionLayers: async (api) => () => api.toKerasWeights({}, { numLayers: 1e6, bidirectional: false, bias: true }),
  kerasMaxLayers: async (api) => () => api.toKerasWeights({}, { numLayers: 2 ** 31 - 1, bidirectional: true, bias: true }),
  zeroRngCheckpoint: async (api, dir) => {
    const path = await patchedCheckpoint(api, dir, 'zero_rng.safetensors', (m) => (m.rng = [0, 0, 0, 0]));
    return () => api.loadCheckpoint(path);
  },
  zeroGeneratorCheckpoint: async (api, dir) => {
    const path = await patchedCheckpoint(api, dir, 'zero_generator.safetensors', (m) => (m.generators = [[0, 0, 0, 0]]));
    return () => api.loadCheckpoint(path);
  },
  linearZeroRows: async (api) => {
    const lin = new api.Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    return () => {
      const y = lin.forward({ data: new Float32Array(0), shape: [0, 3] });
      const gx = lin.backward({ data: new Float32Array(0), shape: [0, 2] });
      return { y: y.shape, yLength: y.data.length, gx: gx?.shape };
    };
  },
};

// ------------------------------------------------------------------------------------------
// Fuzzing
// ------------------------------------------------------------------------------------------

/** mulberry32: a small seeded generator. */
function makeRandom(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}
type Random = ReturnType<typeof makeRandom>;

const HOSTILE_NUMBERS = [0, 1, 2, 3, -1, 1.5, 16384, 65536, 1e6, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e300, -(2 ** 31)];

function byteMutation(rng: Random, bytes: Uint8Array): Uint8Array {
  const b = Uint8Array.from(bytes);
  switch (rng.int(5)) {
    case 0: {
      const k = 1 + rng.int(8);
      for (let i = 0; i < k; i++) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2: {
      const at = rng.int(b.length);
      const ins = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      return concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 3: {
      const at = rng.int(b.length);
      return concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16)))]);
    }
    default: {
      // A byte set to a varint continuation or terminator: stretches or cuts protobuf lengths.
      const at = rng.int(b.length);
      b[at] = rng.pick([0x00, 0x7f, 0x80, 0xff, 0x01]);
      return b;
    }
  }
}

/** Replaces a random number somewhere inside a JSON value with a hostile one (or deletes/duplicates a key). */
function mutateJson(rng: Random, value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rng.next() < 0.15) return rng.pick([[], [rng.pick(HOSTILE_NUMBERS)], [...value, rng.pick(HOSTILE_NUMBERS)], 'x', null]);
    const i = rng.int(value.length);
    const out = [...value];
    out[i] = mutateJson(rng, value[i], depth + 1);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return { x: 1 };
    const k = rng.pick(keys);
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const r = rng.next();
    if (r < 0.1) delete out[k];
    else if (r < 0.15) out[`${k}_copy`] = out[k];
    else out[k] = mutateJson(rng, out[k], depth + 1);
    return out;
  }
  if (typeof value === 'string') {
    // Metadata strings may hold JSON (the architecture, the checkpoint state): mutate inside.
    if (depth < 4 && (value.startsWith('{') || value.startsWith('['))) {
      try {
        return JSON.stringify(mutateJson(rng, JSON.parse(value), depth + 1));
      } catch {
        return value;
      }
    }
    return rng.pick(['', 'RNN', 'Linear', 'GRU', 'F64', 'I64', 'checkpoint', 'model', value + 'x', '__proto__']);
  }
  if (typeof value === 'number') return rng.pick(HOSTILE_NUMBERS);
  if (typeof value === 'boolean') return rng.pick([!value, 'yes', 0]);
  return rng.pick(HOSTILE_NUMBERS);
}

function headerMutation(rng: Random, bytes: Uint8Array): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as unknown;
  const mutated = JSON.stringify(mutateJson(rng, header));
  const json = new TextEncoder().encode(mutated);
  const len = new Uint8Array(8);
  const fudge = rng.next() < 0.1 ? rng.int(64) - 32 : 0;
  new DataView(len.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + fudge)), true);
  return concat([len, json, bytes.subarray(8 + n)]);
}

function safetensorsMutation(rng: Random, base: Uint8Array): Uint8Array {
  const rounds = 1 + rng.int(3);
  let b = base;
  for (let i = 0; i < rounds; i++) {
    try {
      b = rng.next() < 0.6 ? headerMutation(rng, b) : byteMutation(rng, b);
    } catch {
      b = byteMutation(rng, b);
    }
  }
  return b;
}

async function baseModelFiles(api: Api): Promise<Uint8Array[]> {
  return [
    api.encodeModel(new api.RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 })),
    api.encodeModel(
      new api.Sequential([
        new api.Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 1 }),
        new api.RNN({ inputSize: 3, hiddenSize: 4, seed: 2 }),
        new api.LastStep(),
        new api.Linear({ inFeatures: 4, outFeatures: 5, seed: 3 }),
      ]),
      { vocab: 'abcdefg' },
    ),
    api.encodeModel(new api.Linear({ inFeatures: 3, outFeatures: 2, seed: 4 })),
  ];
}

type Case = () => unknown;

async function fuzzCases(api: Api, kind: string, rng: Random, count: number, dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  if (kind === 'safetensors') {
    const bases = await baseModelFiles(api);
    for (let i = 0; i < count; i++) {
      const bytes = safetensorsMutation(rng, rng.pick(bases));
      cases.push(rng.next() < 0.7 ? () => api.decodeModel(bytes) : () => api.decodeSafetensors(bytes));
    }
  } else if (kind === 'checkpoint') {
    const model = new api.Sequential([new api.Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }), new api.RNN({ inputSize: 3, hiddenSize: 4, seed: 2, dropout: 0 }), new api.Linear({ inFeatures: 4, outFeatures: 5, seed: 3 })]);
    const optimizer = new api.Adam(model.parameters(), { lr: 0.01 });
    const scheduler = new api.StepLR(optimizer, { stepSize: 2 });
    const path = join(dir, 'fuzz_base_checkpoint.safetensors');
    await api.saveCheckpoint(path, { model, optimizer, scheduler, step: 3, epoch: 1, rng: new api.Rng(5), extra: { note: 'base' } });
    const base = readFileSync(path);
    const target = join(dir, `fuzz_checkpoint_${process.pid}.safetensors`);
    for (let i = 0; i < count; i++) {
      const bytes = safetensorsMutation(rng, base);
      const into = rng.next() < 0.5;
      cases.push(async () => {
        writeFileSync(target, bytes);
        if (!into) return api.loadCheckpoint(target);
        // Restoring into live objects: a refused file must leave them as they were.
        return api.loadCheckpoint(target, { model, optimizer, scheduler, rng: new api.Rng(1) });
      });
    }
  } else if (kind === 'onnx') {
    const rnn = new api.RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 });
    const seq = new api.Sequential([new api.Embedding({ numEmbeddings: 6, embeddingDim: 3, seed: 1 }), new api.RNN({ inputSize: 3, hiddenSize: 4, seed: 2 }), new api.LastStep(), new api.Linear({ inFeatures: 4, outFeatures: 2, seed: 3 })]);
    const bases = [api.encodeOnnx(rnn), api.encodeOnnx(rnn, { sequenceLens: true, initialH: true }), api.encodeOnnx(seq)];
    // Budgets for the fuzzer: small enough that no accepted graph can take the child past its memory limit.
    const options = { maxTensorElements: 2 ** 20, maxGraphElements: 2 ** 23 };
    for (let i = 0; i < count; i++) {
      const bytes = rng.next() < 0.5 ? randomGraph(rng) : safetensorsFree(rng, rng.pick(bases));
      cases.push(async () => {
        const m = api.decodeOnnx(bytes, options as never);
        const feeds: Record<string, { data: Float32Array | Int32Array | BigInt64Array; shape: number[] }> = {};
        for (const input of m.inputs) {
          const shape = (input.shape ?? [2]).map((d) => (typeof d === 'number' ? Math.min(d, 64) : 1 + rng.int(3)));
          const n = shape.reduce((a, b) => a * b, 1);
          feeds[input.name] =
            input.dtype === 'float32' ? { data: new Float32Array(n).fill(0.5), shape } : input.dtype === 'int32' ? { data: new Int32Array(n).fill(1), shape } : { data: new BigInt64Array(n).fill(1n), shape };
        }
        const out = await m.run(feeds as never);
        if (rng.next() < 0.2) m.toRNN();
        return Object.keys(out).length;
      });
    }
  } else if (kind === 'keras') {
    for (let i = 0; i < count; i++) cases.push(kerasCase(api, rng));
  } else {
    throw new Error(`unknown fuzz kind ${kind}`);
  }
  return cases;
}

/** Byte-level mutations of a valid ONNX file (the name is historical: no safetensors here). */
function safetensorsFree(rng: Random, base: Uint8Array): Uint8Array {
  let b = base;
  const rounds = 1 + rng.int(3);
  for (let i = 0; i < rounds; i++) b = byteMutation(rng, b);
  return b;
}

const DIMS = [0, 0, 1, 1, 2, 3, 4, 5, 1e5, 2e8, 2e9, 2 ** 31 - 1, -1, 2 ** 40];

/** A random small graph of one or two glue ops over initializers with hostile dims. */
function randomGraph(rng: Random): Uint8Array {
  const FLOAT = 1;
  const INT64 = 7;
  const dims = (): number[] => Array.from({ length: rng.int(4) }, () => (rng.next() < 0.7 ? 1 + rng.int(4) : rng.pick(DIMS)));
  const floatInit = (name: string, d: number[]): Uint8Array => {
    const n = d.reduce((a, b) => a * b, 1);
    return tensorProto(name, FLOAT, d, n >= 0 && n <= 256 ? Array.from({ length: n }, () => rng.next()) : []);
  };
  const ints = (name: string, k: number): Uint8Array => tensorProto(name, INT64, [k], Array.from({ length: k }, () => (rng.next() < 0.6 ? rng.int(5) - 1 : rng.pick(DIMS))));
  const a = dims();
  const b = rng.next() < 0.5 ? a : dims();
  const op = rng.pick(['ConstantOfShape', 'Expand', 'Gemm', 'MatMul', 'Concat', 'Gather', 'Slice', 'RNN', 'Add', 'Mul', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast', 'Shape', 'GatherElements', 'Identity', 'Sub']);
  const inits: Uint8Array[] = [floatInit('a', a), floatInit('b', b), ints('s', 1 + rng.int(3)), ints('s2', 1 + rng.int(3)), ints('s3', 1 + rng.int(2))];
  const attrs: Uint8Array[] = [];
  let inputs: string[];
  switch (op) {
    case 'ConstantOfShape':
      inputs = ['s'];
      if (rng.next() < 0.5) attrs.push(tensorAttr('value', tensorProto('', rng.pick([FLOAT, INT64]), [1], [3])));
      break;
    case 'Expand':
    case 'Reshape':
      inputs = ['a', 's'];
      break;
    case 'Concat':
      inputs = ['a', 'b'];
      attrs.push(intAttr('axis', rng.int(3) - 1));
      break;
    case 'Gather':
    case 'GatherElements':
      inputs = ['a', 's'];
      attrs.push(intAttr('axis', rng.int(3) - 1));
      break;
    case 'Slice':
      inputs = ['a', 's', 's2', ...(rng.next() < 0.5 ? ['s3'] : [])];
      break;
    case 'RNN':
      inputs = ['a', 'b', 'b'];
      attrs.push(intAttr('hidden_size', rng.pick([1, 2, 3, 1e5, 2 ** 31 - 1])));
      break;
    case 'Squeeze':
    case 'Unsqueeze':
      inputs = ['a', 's3'];
      break;
    case 'Cast':
      inputs = ['a'];
      attrs.push(intAttr('to', rng.pick([1, 6, 7, 11])));
      break;
    case 'Shape':
    case 'Identity':
      inputs = ['a'];
      break;
    default:
      inputs = ['a', 'b'];
  }
  const nodes = [{ op, inputs, outputs: ['m'], attrs }];
  // Often a second op consumes the first one's output, then the output is cast to float.
  if (rng.next() < 0.5) nodes.push({ op: rng.pick(['Add', 'Concat', 'Transpose', 'Identity']), inputs: rng.next() < 0.5 ? ['m', 'm'] : ['m'], outputs: ['m2'], attrs: [intAttr('axis', 0)].filter(() => false) });
  const last = nodes[nodes.length - 1].outputs[0];
  nodes.push({ op: 'Cast', inputs: [last], outputs: ['Y'], attrs: [intAttr('to', FLOAT)] });
  return onnxModel(nodes, inits, 'Y');
}

function kerasCase(api: Api, rng: Random): Case {
  const numLayers = rng.next() < 0.7 ? 1 + rng.int(3) : rng.pick([0, -1, 1.5, 1e6, 2 ** 31 - 1, NaN, '2' as unknown as number]);
  const bidirectional = rng.next() < 0.9 ? rng.next() < 0.5 : ('yes' as unknown as boolean);
  const bias = rng.next() < 0.9 ? rng.next() < 0.5 : (1 as unknown as boolean);
  const H = rng.next() < 0.8 ? 1 + rng.int(3) : rng.pick([0, 2 ** 20, 2 ** 31 - 1]);
  const I = rng.next() < 0.8 ? 1 + rng.int(3) : rng.pick([0, 2 ** 20]);
  const cfg = { numLayers, bidirectional, bias, ...(rng.next() < 0.3 ? { hiddenSize: rng.pick([H, H + 1, 0, 2 ** 31 - 1]) } : {}) };
  const t = (shape: number[]): unknown => {
    const r = rng.next();
    if (r < 0.05) return null;
    if (r < 0.1) return { data: new Float64Array(4), shape };
    const n = shape.reduce((a, b) => a * b, 1);
    const wrong = r < 0.2;
    const real = wrong ? [...shape.slice(0, -1), (shape[shape.length - 1] ?? 1) + 1] : shape;
    const len = real.reduce((a, b) => a * b, 1);
    // Claimed shapes may be huge; the data stays small (the converters must look at the shape first).
    return { data: new Float32Array(len <= 4096 ? len : rng.int(16)), shape: n <= 4096 ? real : shape };
  };
  const L = Number.isInteger(numLayers) && numLayers > 0 && numLayers < 5 ? numLayers : 1;
  const D = bidirectional === true ? 2 : 1;
  const sd: Record<string, unknown> = {};
  for (let k = 0; k < L; k++) {
    for (let d = 0; d < D; d++) {
      const s = `_l${k}${d === 1 ? '_reverse' : ''}`;
      const inSize = k === 0 ? I : D * H;
      if (rng.next() < 0.95) sd[`weight_ih${s}`] = t([H, inSize]);
      if (rng.next() < 0.95) sd[`weight_hh${s}`] = t([H, H]);
      if (bias === true || rng.next() < 0.05) {
        sd[`bias_ih${s}`] = t([H]);
        sd[`bias_hh${s}`] = t([H]);
      }
    }
  }
  if (rng.next() < 0.05) sd.extra_key = t([1]);
  const which = rng.int(4);
  return () => {
    if (which === 0) return api.toKerasWeights(sd as never, cfg as never);
    if (which === 1) return api.toKerasWeightList(sd as never, cfg as never);
    // The other direction: convert a valid state dict first when there is one, then mutate it.
    let layers: unknown;
    try {
      layers = api.toKerasWeights(sd as never, cfg as never);
    } catch {
      layers = [{ forward: { kernel: t([I, H]), recurrentKernel: t([H, H]), bias: t([H]) } }];
    }
    if (which === 2) return api.fromKerasWeights(layers as never, cfg as never);
    const list = (layers as Array<{ forward: Record<string, unknown>; backward?: Record<string, unknown> }>).flatMap((l) =>
      [l.forward, l.backward].filter((c) => c !== undefined).flatMap((c) => [c?.kernel, c?.recurrentKernel, c?.bias].filter((x) => x !== undefined)),
    );
    if (rng.next() < 0.3) list.pop();
    return api.fromKerasWeightList(list as never, cfg as never);
  };
}

// ------------------------------------------------------------------------------------------
// main
// ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const api = (await import(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)) as Api;
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'case') {
    const [name, dir] = args;
    const make = CASES[name];
    if (!make) throw new Error(`unknown case ${name}`);
    const call = await make(api, dir);
    process.stdout.write(`${JSON.stringify(await settle(name, call))}\n`);
    return;
  }
  if (mode === 'fuzz') {
    const [kind, seedText, countText, dir] = args;
    const rng = makeRandom(Number(seedText));
    const cases = await fuzzCases(api, kind, rng, Number(countText), dir);
    let ok = 0;
    let errors = 0;
    let maxMs = 0;
    let slowest = '';
    const nonErrors: string[] = [];
    const errorNames: Record<string, number> = {};
    const t0 = performance.now();
    for (let i = 0; i < cases.length; i++) {
      const r = await settle(`${kind}#${i}`, cases[i]);
      if (r.ms > maxMs) {
        maxMs = r.ms;
        slowest = `${r.name}: ${r.message ?? 'ok'}`.slice(0, 300);
      }
      if (r.outcome === 'ok') ok++;
      else if (r.outcome === 'error') {
        errors++;
        errorNames[r.errorName ?? '?'] = (errorNames[r.errorName ?? '?'] ?? 0) + 1;
        // A leaked engine error (a stack overflow, an allocation failure) counts as a failure.
        if (/Maximum call stack|Array buffer allocation failed|Invalid typed array length|Invalid array length/.test(r.message ?? '')) nonErrors.push(`${r.name}: ${r.message}`);
      } else nonErrors.push(`${r.name}: ${r.message}`);
    }
    const summary = { kind, cases: cases.length, ok, errors, errorNames, nonErrors: nonErrors.slice(0, 10), nonErrorCount: nonErrors.length, maxMs, slowest, totalMs: performance.now() - t0, rssMB: peakRssMB() };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  throw new Error(`usage: hostile_child.ts case <name> <dir> | fuzz <kind> <seed> <count> <dir>`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`hostile_child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(3);
  });
}
