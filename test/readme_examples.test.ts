/**
 * Every TypeScript/JavaScript example of the README runs as written: each block is copied
 * verbatim into a module of its own (only the package name 'rnnblas' points at this checkout's
 * src/index.ts), followed by this file's explicit expectations for it, and all run in one child
 * process (`node --import tsx`) in a temporary directory (the examples write files). A block
 * without expectations here must still run without throwing. consumer_types.test.ts
 * type-checks the same blocks against the built declarations.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks, ROOT } from './helpers/readme_blocks.js';

/** Expectations, by a string that identifies the block; they run after it in its scope (`assert` is node:assert/strict). */
const CHECKS: ReadonlyArray<readonly [string, string]> = [
  ["from CommonJS: const m = await import('rnnblas')", `
    assert.equal(typeof RNN, 'function'); assert.equal(typeof tensor, 'function'); assert.equal(typeof fit, 'function');`],
  ["nonlinearity: 'tanh'", `
    assert.deepEqual(y.shape, [5, 3, 40]); assert.deepEqual(hN.shape, [4, 3, 20]);
    assert.deepEqual(gx?.shape, [5, 3, 10]); assert.deepEqual(gh0.shape, [4, 3, 20]);
    assert.equal(rnn.parameters()[0].name, 'weight_ih_l0');
    assert.ok('bias_hh_l1_reverse' in rnn.stateDict());
    // y is zero past each sequence's length (b = 1 has length 2).
    for (let t = 2; t < 5; t++) for (let j = 0; j < 40; j++) assert.equal(y.data[(t * 3 + 1) * 40 + j], 0);`],
  ['rnnForward(cfg, weights, x, { h0', `
    assert.deepEqual(y.shape, [5, 3, 40]); assert.deepEqual(hN.shape, [2, 3, 20]);
    assert.deepEqual(gx?.shape, [5, 3, 10]); assert.deepEqual(gh0.shape, [2, 3, 20]);
    assert.ok(grads.weight_hh_l0_reverse.some((v) => v !== 0));
    assert.ok(gh0.data.some((v) => v !== 0));`],
  ["init: { weightHh: 'identity', bias: 0 }", `
    const whh = irnn.stateDict().weight_hh_l0.data;
    for (let i = 0; i < 100; i++) for (let j = 0; j < 100; j++) assert.equal(whh[i * 100 + j], i === j ? 1 : 0);
    assert.ok(irnn.stateDict().bias_ih_l0.data.every((v) => v === 0));
    const wih = irnn.stateDict().weight_ih_l0.data;
    assert.ok(Math.max(...Array.from(wih, Math.abs)) < 0.01);`],
  ['gradcheck({ loss, grad }', `
    assert.equal(report.ok, true);
    assert.deepEqual(report.tensors.map((t) => t.name).sort(), [...Object.keys(weights), 's', 'x'].sort());`],
  ['console.log(model);', `
    const readme = ${'README_REPR'};
    assert.equal(String(model), readme);
    assert.equal((await import('node:util')).inspect(model), readme);
    assert.equal(model.namedParameters()[0][0], '0.weight');
    assert.deepEqual(missingKeys, model.parameters().map((p) => p.name).filter((n) => !n.startsWith('2.')));
    assert.deepEqual(unexpectedKeys, []);
    assert.ok(model.summary().includes('[T, B, 256]'));
    assert.ok(loaded instanceof Sequential);
    assert.equal(loaded.training, false);
    assert.deepEqual(loaded.stateDict(), model.stateDict());`],
  ['charDataset(text, vocab, { seqLen: 64 })', `
    assert.ok(history.length > 0);
    assert.ok(history[history.length - 1].loss < history[0].loss, 'the loss falls');`],
];

/** The repr printed in the README under `console.log(model);` (the comment lines up to the first blank one). */
function commentedRepr(code: string): string {
  const lines = code.split('\n');
  const start = lines.findIndex((l) => l.startsWith('console.log(model);'));
  const out: string[] = [];
  for (let i = start + 1; i < lines.length && lines[i].startsWith('// '); i++) out.push(lines[i].slice(3));
  return out.join('\n');
}

const blocks = readmeBlocks();
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-readme-'));
const results = new Map<string, string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileOf = (line: number): string => join(dir, `block_${line}.ts`);

beforeAll(async () => {
  const entry = pathToFileURL(join(ROOT, 'src', 'index.ts')).href;
  for (const b of blocks) {
    const checks = CHECKS.filter(([key]) => b.code.includes(key)).map(([, c]) => c.replace('README_REPR', JSON.stringify(commentedRepr(b.code))));
    const code = b.code.replace(/(['"])rnnblas\1/g, JSON.stringify(entry));
    writeFileSync(fileOf(b.line), `import assert from 'node:assert/strict';\n${code}\n// --- expectations (readme_examples.test.ts)\n${checks.join('\n')}\nexport {};\n`);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'runner.ts'), `
    import { pathToFileURL } from 'node:url';
    for (const f of process.argv.slice(2)) {
      try {
        await import(pathToFileURL(f).href);
        process.stdout.write('RESULT ' + JSON.stringify([f, 'ok']) + '\\n');
      } catch (e) {
        process.stdout.write('RESULT ' + JSON.stringify([f, String((e as Error)?.stack ?? e)]) + '\\n');
      }
    }
  `);
  const run = promisify(execFile);
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href; // from the temporary directory
  const child = await run(process.execPath, ['--import', tsx, join(dir, 'runner.ts'), ...blocks.map((b) => fileOf(b.line))], {
    cwd: dir,
    maxBuffer: 64 << 20,
    env: { ...process.env, NODE_OPTIONS: '' },
  }).catch((e: { stdout?: string; stderr?: string }) => e);
  for (const line of (child.stdout ?? '').split('\n')) {
    if (line.startsWith('RESULT ')) {
      const [f, r] = JSON.parse(line.slice(7)) as [string, string];
      results.set(f, r);
    }
  }
  if (results.size === 0) throw new Error(`the README runner failed: ${child.stderr ?? ''}`);
}, 300_000);

describe('README examples, as written', () => {
  it('finds the examples, and every expectation here matches one', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    for (const [key] of CHECKS) expect(blocks.some((b) => b.code.includes(key)), `a README block containing ${key}`).toBe(true);
  });

  for (const b of blocks) {
    it(`README.md:${b.line} (${b.heading})`, () => {
      expect(results.get(fileOf(b.line))).toBe('ok');
    });
  }
});
