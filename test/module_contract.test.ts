/**
 * One module contract for every module kind: names, state dicts (strict and non-strict
 * loading), gradients, modes, forward/backward and their async twins, save/load through the
 * registry, repr, summary and console output.
 */
import * as fsModule from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Embedding, GRU, LastStep, Linear, loadModel, LSTM, MergeDirections, ModuleBase, registeredModuleTypes, registerModule, RNN, rnnConfig, rnnParameterShapes, Rng, Sequential,
  type IntTensor, type Module, type ModuleClass, type StateDict, type Tensor,
} from '../src/index.js';

const __dirname = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randn(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => rng.normal()), shape };
}
const ids = (T: number, B: number, V: number): IntTensor => ({ data: Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % V), shape: [T, B] });

/** A module kind with what it takes to exercise it. */
interface Case {
  readonly name: string;
  make(): Module;
  /** One forward and backward (sync or async): the output and the input gradient. */
  run(m: Module, async: boolean): Promise<{ out: Float32Array; gx: Float32Array | null }>;
  /** The expected state-dict keys, in order. */
  readonly keys: string[];
  /** The expected repr. */
  readonly repr: string;
  /** The expected output shape in `summary()`. */
  readonly outShape: string;
}

const cases: Case[] = [
  {
    name: 'RNN',
    make: () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 }),
    async run(m, async) {
      const r = m as RNN;
      const x = randn([5, 2, 3], 2);
      const { y } = async ? await r.forwardAsync(x) : r.forward(x);
      const gy = randn(y.shape as number[], 3);
      const { gx } = async ? await r.backwardAsync({ gy }) : r.backward({ gy });
      return { out: y.data, gx: gx?.data ?? null };
    },
    keys: ['l0', 'l0_reverse', 'l1', 'l1_reverse'].flatMap((s) => [`weight_ih_${s}`, `weight_hh_${s}`, `bias_ih_${s}`, `bias_hh_${s}`]),
    repr: 'RNN(3, 4, num_layers=2, bidirectional=True)',
    outShape: '[T, B, 8]',
  },
  ...(['LSTM', 'GRU'] as const).map((kind): Case => ({
    name: kind,
    make: () => (kind === 'LSTM' ? new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 }) : new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 })),
    async run(m, async) {
      const r = m as LSTM | GRU;
      const x = randn([5, 2, 3], 2);
      const { y } = async ? await r.forwardAsync(x) : r.forward(x);
      const gy = randn(y.shape as number[], 3);
      const { gx } = async ? await r.backwardAsync({ gy }) : r.backward({ gy });
      return { out: y.data, gx: gx?.data ?? null };
    },
    keys: ['l0', 'l0_reverse', 'l1', 'l1_reverse'].flatMap((s) => [`weight_ih_${s}`, `weight_hh_${s}`, `bias_ih_${s}`, `bias_hh_${s}`]),
    repr: `${kind}(3, 4, num_layers=2, bidirectional=True)`,
    outShape: '[T, B, 8]',
  })),
  {
    name: 'Linear',
    make: () => new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 }),
    async run(m, async) {
      const l = m as Linear;
      const x = randn([5, 2, 3], 2);
      const y = async ? await l.forwardAsync(x) : l.forward(x);
      const gy = randn([5, 2, 2], 3);
      const gx = async ? await l.backwardAsync(gy) : l.backward(gy);
      return { out: y.data, gx: gx?.data ?? null };
    },
    keys: ['weight', 'bias'],
    repr: 'Linear(in_features=3, out_features=2, bias=True)',
    outShape: '[..., 2]',
  },
  {
    name: 'Embedding',
    make: () => new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }),
    async run(m, async) {
      const e = m as Embedding;
      const y = async ? await e.forwardAsync(ids(4, 2, 5)) : e.forward(ids(4, 2, 5));
      const gy = randn([4, 2, 3], 3);
      const gx = async ? await e.backwardAsync(gy) : e.backward(gy);
      return { out: y.data, gx };
    },
    keys: ['weight'],
    repr: 'Embedding(5, 3)',
    outShape: '[T, B, 3]',
  },
  {
    name: 'LastStep',
    make: () => new LastStep({ directions: 2 }),
    async run(m, async) {
      const l = m as LastStep;
      const x = randn([5, 2, 4], 2);
      const y = async ? await l.forwardAsync(x, { seqLengths: [5, 3] }) : l.forward(x, { seqLengths: [5, 3] });
      const gy = randn([2, 4], 3);
      const gx = async ? await l.backwardAsync(gy) : l.backward(gy);
      return { out: y.data, gx: gx.data };
    },
    keys: [],
    repr: 'LastStep(directions=2)',
    outShape: '[B, F]',
  },
  {
    name: 'MergeDirections',
    make: () => new MergeDirections({ mode: 'mul' }),
    async run(m, async) {
      const l = m as MergeDirections;
      const x = randn([5, 2, 4], 2);
      const y = async ? await l.forwardAsync(x) : l.forward(x);
      const gy = randn([5, 2, 2], 3);
      const gx = async ? await l.backwardAsync(gy) : l.backward(gy);
      return { out: y.data, gx: gx.data };
    },
    keys: [],
    repr: "MergeDirections(mode='mul')",
    outShape: '[..., 2H/2]',
  },
  {
    name: 'Sequential',
    make: () => new Sequential([
      new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }),
      new RNN({ inputSize: 3, hiddenSize: 4, dropout: 0, seed: 2 }),
      new Linear({ inFeatures: 4, outFeatures: 5, seed: 3 }),
    ]),
    async run(m, async) {
      const s = m as Sequential;
      const y = async ? await s.forwardAsync(ids(4, 2, 5), { seqLengths: [4, 2] }) : s.forward(ids(4, 2, 5), { seqLengths: [4, 2] });
      const gy = randn([4, 2, 5], 3);
      if (async) await s.backwardAsync(gy);
      else s.backward(gy);
      return { out: y.data, gx: null };
    },
    keys: ['0.weight', '1.weight_ih_l0', '1.weight_hh_l0', '1.bias_ih_l0', '1.bias_hh_l0', '2.weight', '2.bias'],
    repr: 'Sequential(\n  (0): Embedding(5, 3)\n  (1): RNN(3, 4)\n  (2): Linear(in_features=4, out_features=5, bias=True)\n)',
    outShape: '[T, B, 5]',
  },
];

const copy = (sd: StateDict): StateDict => Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { data: t.data.slice(), shape: [...t.shape] }]));
const values = (m: Module): number[][] => m.parameters().map((p) => Array.from(p.data));

describe.each(cases)('the module contract: $name', (c) => {
  it('parameters, namedParameters, stateDict and gradStateDict agree on names, shapes and memory', () => {
    const m = c.make();
    expect(m).toBeInstanceOf(ModuleBase);
    expect(m.parameters().map((p) => p.name)).toEqual(c.keys);
    expect(m.namedParameters().map(([n]) => n)).toEqual(c.keys);
    m.namedParameters().forEach(([n, p]) => expect(p.name).toBe(n));
    const sd = m.stateDict();
    const gd = m.gradStateDict();
    expect(Object.keys(sd)).toEqual(c.keys);
    expect(Object.keys(gd)).toEqual(c.keys);
    m.parameters().forEach((p) => {
      expect(sd[p.name].shape).toEqual(p.shape);
      expect(sd[p.name].data.buffer).toBe(p.data.buffer); // shares memory
      expect(gd[p.name].data.buffer).toBe(p.grad.buffer);
    });
    expect(m.numParameters()).toBe(m.parameters().reduce((n, p) => n + p.data.length, 0));
    expect(m.modules()[0]).toBe(m);
  });

  it('forward/backward and their async twins give the same results; gradients accumulate and zeroGrad clears them', async () => {
    const a = c.make();
    const b = c.make();
    const ra = await c.run(a, false);
    const rb = await c.run(b, true);
    expect(Array.from(rb.out)).toEqual(Array.from(ra.out));
    expect(rb.gx === null ? null : Array.from(rb.gx)).toEqual(ra.gx === null ? null : Array.from(ra.gx));
    expect(b.parameters().map((p) => Array.from(p.grad))).toEqual(a.parameters().map((p) => Array.from(p.grad)));
    if (c.keys.length > 0) expect(a.parameters().some((p) => p.grad.some((v) => v !== 0))).toBe(true);
    a.zeroGrad();
    expect(a.parameters().every((p) => p.grad.every((v) => v === 0))).toBe(true);
  });

  it('loadStateDict: strict by default (naming the key, changing nothing); strict: false reports and loads the rest', () => {
    const src = c.make();
    for (const p of src.parameters()) p.data.fill(0.25);
    const good = copy(src.stateDict());
    const m = c.make();
    expect(m.loadStateDict(good)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(values(m)).toEqual(values(src));

    const fresh = c.make();
    const before = values(fresh);
    const extra = { ...good, 'extra.weight': { data: new Float32Array(1), shape: [1] } };
    expect(() => fresh.loadStateDict(extra)).toThrow(RangeError);
    expect(() => fresh.loadStateDict(extra)).toThrow(/unexpected keys: extra\.weight/);
    expect(values(fresh)).toEqual(before);
    const r = fresh.loadStateDict(extra, { strict: false });
    expect(r).toEqual({ missingKeys: [], unexpectedKeys: ['extra.weight'] });
    expect(values(fresh)).toEqual(values(src));

    if (c.keys.length > 0) {
      const [first, ...rest] = c.keys;
      const partial = Object.fromEntries(rest.map((k) => [k, good[k]]));
      const n = c.make();
      const nBefore = values(n);
      expect(() => n.loadStateDict(partial)).toThrow(new RegExp(`missing keys: ${first.replace('.', '\\.')}`));
      expect(values(n)).toEqual(nBefore);
      expect(n.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: [first], unexpectedKeys: [] });
      expect(Array.from(n.stateDict()[first].data)).toEqual(Array.from(nBefore[0])); // kept
      rest.forEach((k) => expect(n.stateDict()[k].data.every((v) => v === 0.25)).toBe(true));
      // A wrong shape is an error in either mode, naming the key, and nothing changes.
      const bad = { ...good, [first]: { data: new Float32Array(1), shape: [1] } };
      const w = c.make();
      const wBefore = values(w);
      expect(() => w.loadStateDict(bad, { strict: false })).toThrow(new RegExp(`stateDict\\.${first.replace('.', '\\.')}`));
      expect(values(w)).toEqual(wBefore);
    } else {
      expect(m.stateDict()).toEqual({});
      expect(m.gradStateDict()).toEqual({});
    }
    expect(() => m.loadStateDict(good, { strict: 'yes' } as never)).toThrow(/options\.strict/);
    expect(() => m.loadStateDict(good, { strct: false } as never)).toThrow(/unknown option 'strct'/);
    expect(() => m.loadStateDict(null as never)).toThrow(TypeError);
  });

  it('train(mode) and eval() set the mode (of every submodule) and return the module', () => {
    const m = c.make();
    expect(m.training).toBe(true);
    expect(m.eval()).toBe(m);
    expect(m.training).toBe(false);
    for (const s of m.modules()) expect(s.training).toBe(false);
    expect(m.train()).toBe(m);
    expect(m.modules().every((s) => s.training)).toBe(true);
    m.train(false);
    expect(m.training).toBe(false);
    expect(() => m.train('no' as never)).toThrow(TypeError);
  });

  it('save writes a file loadModel rebuilds (through the registry), typed by expect', async () => {
    const m = c.make();
    const path = join(dir, `${c.name}.safetensors`);
    await m.save(path);
    const { model } = await loadModel(path);
    expect(model.constructor).toBe(m.constructor);
    expect(model.toSpec()).toEqual(m.toSpec());
    expect(model.stateDict()).toEqual(m.stateDict());
    const ctor = m.constructor as abstract new (...args: never[]) => Module;
    const typed = await loadModel(path, { expect: ctor });
    expect(typed.model).toBeInstanceOf(ctor);
    const other: ModuleClass = c.name === 'RNN' ? Linear : RNN;
    await expect(loadModel(path, { expect: other })).rejects.toThrow(new RegExp(`holds a "${c.name}" model, not the ${other.name} of options\\.expect`));
    expect(registeredModuleTypes()).toContain(c.name);
  });

  it('prints as PyTorch does (toString, console.log) and summarises as Keras does', () => {
    const m = c.make();
    expect(m.toString()).toBe(c.repr);
    expect(String(m)).toBe(c.repr);
    expect(inspect(m)).toBe(c.repr); // what console.log prints: no raw arrays
    expect(inspect({ model: m })).not.toMatch(/Float32Array/);
    const s = m.summary();
    expect(s).toMatch(/Layer \(type\) +Output shape +Param #/);
    expect(s).toContain(c.outShape);
    expect(s).toContain(`Total params: ${m.numParameters().toLocaleString('en-US')}`);
    expect(s).toContain('Trainable params:');
    expect(s).not.toMatch(/Float32Array/);
  });
});

describe('summary', () => {
  it('a Sequential: one row per layer with symbolic or given shapes and parameter counts', () => {
    const model = new Sequential([
      new Embedding({ numEmbeddings: 65, embeddingDim: 32, seed: 1 }),
      new RNN({ inputSize: 32, hiddenSize: 256, numLayers: 2, seed: 1 }),
      new Linear({ inFeatures: 256, outFeatures: 65, seed: 1 }),
    ]);
    const lines = model.summary().split('\n');
    expect(lines[0]).toBe('Sequential (input [T, B])');
    const rows = lines.filter((l) => l.startsWith('('));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\(0\) Embedding\(65, 32\) +\[T, B, 32\] +2,080$/);
    expect(rows[1]).toMatch(/^\(1\) RNN\(32, 256, num_layers=2\) +\[T, B, 256\] +205,824$/);
    expect(rows[2]).toMatch(/^\(2\) Linear\(in_features=256, out_features=65, bias=True\) +\[T, B, 65\] +16,705$/);
    expect(lines).toContain('Total params: 224,609');
    expect(model.numParameters()).toBe(2080 + 205824 + 16705);
    const given = model.summary({ inputShape: [64, 32] });
    expect(given).toMatch(/\(2\) Linear.* \[64, 32, 65\]/);
    expect(() => model.summary({ inputShape: 'x' } as never)).toThrow(/options\.inputShape/);
  });

  it('batch-first models start from [B, T, ...]; a shape that does not fit prints ?', () => {
    const model = new Sequential([
      new RNN({ inputSize: 3, hiddenSize: 4, batchFirst: true, bidirectional: true, seed: 1 }),
      new LastStep({ directions: 2, batchFirst: true }),
      new Linear({ inFeatures: 8, outFeatures: 1, seed: 1 }),
    ]);
    expect(model.summary()).toMatch(/\(1\) LastStep\(directions=2, batch_first=True\) +\[B, 8\]/);
    expect(model.toString()).toContain('(0): RNN(3, 4, batch_first=True, bidirectional=True)');
    const bad = new Sequential([new RNN({ inputSize: 3, hiddenSize: 4, seed: 1 }), new Linear({ inFeatures: 5, outFeatures: 1, seed: 1 })]);
    expect(bad.summary()).toMatch(/\(1\) Linear.* \?/);
  });

  it('RNN reprs show what differs from the defaults, as torch', () => {
    expect(new RNN({ inputSize: 32, hiddenSize: 256, numLayers: 2, batchFirst: true }).toString()).toBe('RNN(32, 256, num_layers=2, batch_first=True)');
    expect(new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu', bias: false, dropout: 0.5, numLayers: 2 }).toString()).toBe(
      "RNN(2, 3, num_layers=2, nonlinearity='relu', bias=False, dropout=0.5)",
    );
    expect(new LastStep().toString()).toBe('LastStep()');
    expect(new MergeDirections('sum').toString()).toBe("MergeDirections(mode='sum')");
  });
});

describe('Sequential and custom modules', () => {
  it('dotted names, nested modes and strict loading across layers', () => {
    const model = cases.find((c) => c.name === 'Sequential')!.make() as Sequential;
    expect(model.children()).toEqual([...model.layers]);
    expect(model.modules()).toHaveLength(4);
    const sd = copy(model.stateDict());
    delete sd['1.bias_hh_l0'];
    expect(() => model.loadStateDict(sd)).toThrow(/missing keys: 1\.bias_hh_l0/);
    expect(model.loadStateDict(sd, { strict: false }).missingKeys).toEqual(['1.bias_hh_l0']);
  });

  it('a custom Module with forward/backward over Tensors runs inside a Sequential; saving it says what is missing', async () => {
    class Scale extends ModuleBase implements Module<Tensor, Tensor, Tensor, Tensor> {
      forward(x: Tensor): Tensor {
        return { data: x.data.map((v) => 2 * v), shape: x.shape };
      }
      backward(gy: Tensor): Tensor {
        return { data: gy.data.map((v) => 2 * v), shape: gy.shape };
      }
      async forwardAsync(x: Tensor): Promise<Tensor> {
        return this.forward(x);
      }
      async backwardAsync(gy: Tensor): Promise<Tensor> {
        return this.backward(gy);
      }
      parameters() {
        return [];
      }
      toSpec() {
        return { type: 'Scale' };
      }
      outputShape(s: readonly (number | string)[]) {
        return [...s];
      }
      extraRepr() {
        return 'factor=2';
      }
    }
    const lin = new Linear({ inFeatures: 2, outFeatures: 2, seed: 1 });
    const model = new Sequential([new Scale(), lin]);
    const x = randn([3, 2], 1);
    const y = model.forward(x);
    const direct = lin.forward({ data: x.data.map((v) => 2 * v), shape: x.shape });
    expect(Array.from(y.data)).toEqual(Array.from(direct.data));
    model.backward(randn([3, 2], 2));
    expect(model.toString()).toBe('Sequential(\n  (0): Scale(factor=2)\n  (1): Linear(in_features=2, out_features=2, bias=True)\n)');
    expect(model.summary()).toMatch(/^Sequential \(input \?\)/);
    expect(model.summary({ inputShape: ['N', 2] })).toMatch(/\(0\) Scale\(factor=2\) +\[N, 2\] +0\n\(1\) Linear.* \[N, 2\] +6/);
    const path = join(dir, 'custom.safetensors');
    await model.save(path); // the spec is written; loading needs the kind registered
    await expect(loadModel(path)).rejects.toThrow(/registered module type .* received "Scale"/);
    // Registered, the kind loads (inside a Sequential too).
    const kind = { type: 'Scale', parameterShapes: () => [], fromSpec: () => new Scale() };
    registerModule(kind);
    registerModule(kind); // the same kind again: a no-op
    const back = await loadModel(path, { expect: Sequential });
    expect(back.model.layers[0]).toBeInstanceOf(Scale);
    expect(back.model.stateDict()).toEqual(model.stateDict());
    expect(() => registerModule({ ...kind })).toThrow(/a module type not registered yet for kind\.type but received "Scale"/);
    expect(() => registerModule({ type: 'RNN', parameterShapes: () => [], fromSpec: () => new Scale() })).toThrow(RangeError);
    expect(() => registerModule({ type: '', parameterShapes: () => [], fromSpec: () => new Scale() })).toThrow(TypeError);
    expect(() => new Sequential([{} as never])).toThrow(/Expected a layer .* for layers\[0\]/);
    expect(() => new Sequential([new Sequential([lin])])).toThrow(/a Sequential inside a Sequential/);
  });
});

describe('rnnParameterShapes', () => {
  it('needs a configuration made by rnnConfig', () => {
    expect(() => rnnParameterShapes({ inputSize: 10, hiddenSize: 20 } as never)).toThrow(TypeError);
    expect(() => rnnParameterShapes({ inputSize: 10, hiddenSize: 20 } as never)).toThrow(/rnnConfig\(options\)/);
    expect(() => rnnParameterShapes(undefined as never)).toThrow(TypeError);
    expect(rnnParameterShapes(rnnConfig({ inputSize: 10, hiddenSize: 20 }))).toEqual([
      ['weight_ih_l0', [20, 10]], ['weight_hh_l0', [20, 20]], ['bias_ih_l0', [20]], ['bias_hh_l0', [20]],
    ]);
  });
});

describe('structure', () => {
  /** Runtime (not type-only) relative imports of every file under src/. */
  function importGraph(): Map<string, string[]> {
    const { readdirSync, readFileSync, statSync } = fsModule;
    const root = join(__dirname, '..', 'src');
    const graph = new Map<string, string[]>();
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8');
          const deps: string[] = [];
          for (const m of text.matchAll(/^(import|export)\s+(?!type\b)([^;]*?)from\s+'(\.[^']+)'/gms)) {
            const clause = m[2].trim();
            const named = /^\{([^}]*)\}$/.exec(clause);
            if (named && named[1].split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
            deps.push(join(dirname(p), m[3].replace(/\.js$/, '.ts')));
          }
          graph.set(p, deps);
        }
      }
    };
    walk(root);
    return graph;
  }

  it('src/ has no runtime import cycle, and io/ imports no module of nn/ (layers register themselves)', () => {
    const graph = importGraph();
    expect(graph.get(join(__dirname, '..', 'src', 'nn', 'linear.ts'))).toContain(join(__dirname, '..', 'src', 'nn', 'parametrized_layer.ts'));
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (u: string): void => {
      state.set(u, 1);
      stack.push(u);
      for (const v of graph.get(u) ?? []) {
        if (state.get(v) === 1) cycles.push([...stack.slice(stack.indexOf(v)), v].map((f) => f.slice(f.indexOf('src'))).join(' -> '));
        else if (!state.has(v)) visit(v);
      }
      stack.pop();
      state.set(u, 2);
    };
    for (const u of graph.keys()) if (!state.has(u)) visit(u);
    expect(cycles).toEqual([]);
    const ioToNn = [...graph].flatMap(([f, deps]) => (f.includes(`${join('src', 'io')}`) ? deps.filter((d) => d.includes(join('src', 'nn'))).map((d) => `${f} -> ${d}`) : []));
    expect(ioToNn).toEqual([]);
    const base = graph.get(join(__dirname, '..', 'src', 'nn', 'parametrized_layer.ts')) ?? [];
    expect(base.filter((d) => /linear|embedding|rnn/.test(d))).toEqual([]);
  });

  it('io/ is a leaf: at run time it imports only io/ and the leaf modules (errors, tensor, validate, random), which import only each other', () => {
    const graph = importGraph();
    const src = join(__dirname, '..', 'src');
    const leaves = ['errors.ts', 'tensor.ts', 'validate.ts', 'random.ts'].map((f) => join(src, f));
    const io = join(src, 'io');
    const rel = (f: string): string => f.slice(f.indexOf('src'));
    const ioFiles = [...graph.keys()].filter((f) => dirname(f) === io);
    expect(ioFiles.map(rel).sort()).toEqual(expect.arrayContaining([join('src', 'io', 'model_file.ts'), join('src', 'io', 'registry.ts'), join('src', 'io', 'safetensors.ts')]));
    const outside = ioFiles.flatMap((f) => (graph.get(f) ?? []).filter((d) => dirname(d) !== io && !leaves.includes(d)).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(outside).toEqual([]);
    const leafOutside = leaves.flatMap((f) => (graph.get(f) ?? []).filter((d) => !leaves.includes(d)).map((d) => `${rel(f)} -> ${rel(d)}`));
    expect(leafOutside).toEqual([]);
    // No lazy import() dodges the rule either.
    const lazy = ioFiles.filter((f) => /\bimport\(\s*['"`]\./.test(fsModule.readFileSync(f, 'utf8'))).map(rel);
    expect(lazy).toEqual([]);
  });

  it('onnx/ builds its errors in one place (onnx/errors.ts, or typeError/rangeError of errors.ts): no ad-hoc new Error', () => {
    const onnx = join(__dirname, '..', 'src', 'onnx');
    const adHoc = fsModule.readdirSync(onnx)
      .filter((f) => f.endsWith('.ts') && f !== 'errors.ts')
      .flatMap((f) => fsModule.readFileSync(join(onnx, f), 'utf8').split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => /\bnew (Error|TypeError|RangeError)\(/.test(line))
      .map(({ f, i }) => `src/onnx/${f}:${i + 1}`);
    expect(adHoc).toEqual([]);
  });
});

