/**
 * The published declarations as a user's project sees them: builds `src/` to declarations
 * (tsconfig.build.json, stripInternal) in a temporary directory, installs them as
 * `node_modules/rnnblas` of a temporary project that has nothing else but `@types/node`, and
 * type-checks a consumer file written as a user would (the README's round trip: create, fit,
 * save, loadModel, predict, plus the module contract) with `tsc --strict --noEmit
 * --skipLibCheck false`. A third-party type leaking into the declarations fails it (the
 * package is not installed there), and so does a declaration that references a stripped
 * `@internal` one. The README's TypeScript examples are checked in the same run, as written.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from './helpers/readme_blocks.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const tmp = mkdtempSync(join(tmpdir(), 'rnnblas-consumer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONSUMER = `
import {
  Adam, charDataset, charVocab, Embedding, fit, LastStep, Linear, loadModel, MergeDirections, predict, RNN, Sequential, tensor,
  type FitResult, type IntTensor, type LoadedModel, type LoadStateDictResult, type Module, type ModuleSpec, type Parameter,
  type RnnOutput, type StateDict, type Tensor,
} from 'rnnblas';

export async function roundTrip(text: string, path: string): Promise<number> {
  const vocab = charVocab(text);
  const data = charDataset(text, vocab, { seqLen: 16 });
  const model = new Sequential([
    new Embedding({ numEmbeddings: vocab.size, embeddingDim: 8 }),
    new RNN({ inputSize: 8, hiddenSize: 32 }),
    new Linear({ inFeatures: 32, outFeatures: vocab.size }),
  ]);
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  const result: FitResult = await fit(model, data, { epochs: 1, batchSize: 8, loss: 'crossEntropy', optimizer, clipNorm: 5 });
  await model.save(path);

  // Typed by the runtime check: a Sequential, or a FormatError.
  const { model: loaded, extra } = await loadModel(path, { expect: Sequential });
  const seq: Sequential = loaded;
  const keys: string[] = Object.keys(extra);
  const y: Tensor = await predict(seq, data.x as IntTensor);

  // Without expect: any module, narrowed with instanceof.
  const any: LoadedModel = await loadModel(path);
  const m: Module = any.model;
  if (m instanceof RNN) {
    const out: RnnOutput = m.forward(tensor(new Float32Array(8), [1, 1, 8]));
    out.hN.shape.length;
  }
  const report: LoadStateDictResult = m.loadStateDict(m.stateDict(), { strict: false });
  const missing: string[] = report.missingKeys;
  const named: Array<[string, Parameter]> = m.namedParameters();
  const grads: StateDict = m.gradStateDict();
  const spec: ModuleSpec = m.toSpec();
  const text2: string = m.toString() + m.summary({ inputShape: [16, 8] });
  m.eval().train().zeroGrad();

  // Every module kind is a Module.
  const modules: Module[] = [seq, new RNN({ inputSize: 2, hiddenSize: 3 }), new LastStep(), new MergeDirections({ mode: 'sum' }), new MergeDirections('ave')];
  // @ts-expect-error Sequential's layer protocol is @internal: not in the declarations.
  new Linear({ inFeatures: 1, outFeatures: 1 }).forwardLayer;
  return result.history.length + y.data.length + keys.length + missing.length + named.length + Object.keys(grads).length + spec.type.length + text2.length + modules.length;
}
`;

/** The bare module specifiers a declaration file imports (not relative, not node:). */
function bareImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return specs.filter((s) => !s.startsWith('.') && !s.startsWith('node:'));
}

/** The declaration files reachable from index.d.ts through relative imports. */
function reachable(dist: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) visit(resolve(dirname(file), m[1].replace(/\.js$/, '.d.ts')));
  };
  visit(join(dist, 'index.d.ts'));
  return [...seen];
}

describe('the published declarations', () => {
  it('type-check a consumer project with --strict and skipLibCheck false, with no third-party type and no @internal member', async () => {
    const pkg = join(tmp, 'project', 'node_modules', 'rnnblas');
    const dist = join(pkg, 'dist');
    // 1. The declarations, as `npm run build:ts` makes them (tsconfig.build.json), into the fake install.
    const built = await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist, '--emitDeclarationOnly'], { cwd: ROOT }).catch((e: { stdout?: string; stderr?: string }) => e);
    expect((built as { stdout?: string }).stdout ?? '', 'npm run build:ts reports errors').toBe('');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, type: manifest.type, types: manifest.types, exports: manifest.exports }));

    // 2. Nothing from index.d.ts's reach imports a package (only @types/node is installed below).
    const files = reachable(dist);
    expect(files.length).toBeGreaterThan(20);
    const leaks = files.flatMap((f) => bareImports(f).map((s) => `${relative(dist, f)}: ${s}`));
    expect(leaks, 'third-party types in the public declarations').toEqual([]);
    // The modules' Sequential entries, the checked functional forms and the inspect hook are @internal.
    const internal = files.filter((f) => f.includes(`${join('dist', 'nn')}`) && !f.endsWith(join('nn', 'layer.d.ts')) && /\bforwardLayer\b|\brnnForwardChecked\b|\binspectCustom\b/.test(readFileSync(f, 'utf8')));
    expect(internal.map((f) => relative(dist, f)), '@internal members in the declarations').toEqual([]);

    // 3. A consumer project: only rnnblas and @types/node (and what @types/node needs).
    const proj = join(tmp, 'project');
    mkdirSync(join(proj, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(proj, 'node_modules', '@types', 'node'));
    for (const dep of readdirSync(join(ROOT, 'node_modules')).filter((d) => d === 'undici-types')) cpSync(join(ROOT, 'node_modules', dep), join(proj, 'node_modules', dep), { recursive: true });
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(proj, 'consumer.ts'), CONSUMER);
    // The README's examples, as written, each a module of its own.
    const readme = readmeBlocks().map((b) => {
      const name = `readme_${b.line}.ts`;
      writeFileSync(join(proj, name), `${b.code}\nexport {};\n`);
      return name;
    });
    expect(readme.length).toBeGreaterThanOrEqual(7);
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], strict: true, noEmit: true, skipLibCheck: false },
      files: ['consumer.ts', ...readme],
    }));
    const checked = await run(process.execPath, [TSC, '-p', join(proj, 'tsconfig.json'), '--strict', '--noEmit', '--skipLibCheck', 'false'], { cwd: proj }).catch((e: { stdout?: string }) => e);
    expect((checked as { stdout?: string }).stdout ?? '', 'tsc on the consumer project').toBe('');
  }, 120_000);
});
