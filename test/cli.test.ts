/**
 * The `rnnblas` command line, run as a child process (npx tsx src/cli/main.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, MAIN, ROOT, runCli, TSX } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCli(dir, args);


const SMALL = ['--hidden', '64', '--layers', '1', '--seq', '32', '--batch', '16', '--seed', '3'];

describe('rnnblas train / sample', () => {
  const model = join(dir, 'char.safetensors');

  it('train --json: progress lines with step and loss, falling loss, model file written', () => {
    const r = run(['train', ...SMALL, '--steps', '30', '--json', '--sample-every', '10', '--out', model]);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.length).toBe(30);
    for (const p of progress) {
      expect(typeof p.step).toBe('number');
      expect(typeof p.loss).toBe('number');
    }
    const first = progress.slice(0, 3).reduce((a, p) => a + (p.loss as number), 0) / 3;
    const last = progress.slice(-3).reduce((a, p) => a + (p.loss as number), 0) / 3;
    expect(last).toBeLessThan(first - 0.3);
    expect(lines.filter((l) => l.type === 'sample').length).toBe(2);
    expect(lines.at(-1)?.type).toBe('done');
    expect(existsSync(model)).toBe(true);
  });

  it('sample --model prints prime + the requested number of characters', () => {
    const r = run(['sample', '--model', model, '--prime', 'The ', '--length', '120', '--seed', '1']);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.replace(/\n$/, '');
    expect(text.startsWith('The ')).toBe(true);
    expect(Array.from(text).length).toBe(4 + 120);
  });

  it('--resume continues from the saved step count', () => {
    // --steps with --resume: that many more.
    const r = run(['train', '--steps', '10', '--json', '--sample-every', '0', '--out', model, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ type: 'start', startStep: 30, totalSteps: 40, hidden: 64 });
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.map((p) => p.step)).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
    expect(progress[0].loss as number).toBeLessThan(3);
  });

  it('SIGINT saves a checkpoint and exits 130; --resume picks it up', async () => {
    const ck = join(dir, 'interrupted.safetensors');
    const child = spawn(process.execPath, [TSX, MAIN, 'train', ...SMALL, '--steps', '100000', '--json', '--sample-every', '0', '--out', ck], { cwd: dir });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!sent && (out.match(/"type":"progress"/g) ?? []).length >= 5) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, err).toBe(130);
    const last = jsonLines(out).at(-1) as Record<string, unknown>;
    expect(last.type).toBe('interrupted');
    expect(existsSync(ck)).toBe(true);
    const r = run(['train', '--steps', '2', '--json', '--out', ck, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ startStep: last.step, totalSteps: (last.step as number) + 2 });
  });
});

describe('rnnblas train: resume, TBPTT and the shared file format', () => {
  const progressLosses = (stdout: string): [number, number][] =>
    jsonLines(stdout)
      .filter((l) => l.type === 'progress')
      .map((l) => [l.step as number, l.loss as number]);

  it.each([[[] as string[]], [['--tbptt', '8']]])('a run resumed mid-epoch continues exactly as an uninterrupted one %j', (extra) => {
    const args = ['train', ...SMALL, ...extra, '--json', '--sample-every', '0'];
    const whole = run([...args, '--steps', '30', '--out', join(dir, 'whole.safetensors')]);
    expect(whole.code, whole.stderr).toBe(0);
    const part = join(dir, `part${extra.length}.safetensors`);
    const first = run([...args, '--steps', '12', '--out', part]);
    expect(first.code, first.stderr).toBe(0);
    const second = run(['train', '--steps', '18', '--json', '--sample-every', '0', '--out', part, '--resume']);
    expect(second.code, second.stderr).toBe(0);
    const all = progressLosses(whole.stdout);
    // One progress line per batch of windows, also with TBPTT (several optimizer steps each).
    expect(all.map(([s]) => s)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect([...progressLosses(first.stdout), ...progressLosses(second.stdout)]).toEqual(all);
  });

  it('the file is a library checkpoint with the vocabulary in extra; a plain saveModel file samples too', async () => {
    const { Sequential, loadCheckpoint, saveModel } = await import('../src/index.js');
    const path = join(dir, 'lib.safetensors');
    expect(run(['train', ...SMALL, '--steps', '3', '--json', '--out', path]).code).toBe(0);
    const ck = await loadCheckpoint(path);
    expect(ck.model).toBeInstanceOf(Sequential);
    expect(ck.step).toBe(3);
    const vocab = ck.extra.vocab as string[];
    expect(vocab).toContain('T');
    const plain = join(dir, 'plain.safetensors');
    await saveModel(ck.model, plain, { vocab });
    const r = run(['sample', '--model', plain, '--prime', 'The', '--length', '20', '--seed', '2', '--top-k', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.from(r.stdout.replace(/\n$/, '')).length).toBe(23);
    const resume = run(['train', '--resume', '--out', plain, '--steps', '5']);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('plain.safetensors');
    const bad = run(['sample', '--model', path, '--prime', '\u{1F600}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--prime');
  });
});

describe('rnnblas forecast', () => {
  it('--json: summary keys, SVG plot and CSV written, near the naive baseline', () => {
    const out = join(dir, 'fc');
    const r = run(['forecast', '--json', '--epochs', '2', '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    const last = jsonLines(r.stdout).at(-1) as Record<string, number | string>;
    for (const k of ['mae', 'rmse', 'naiveMae', 'naiveRmse', 'seasonalNaiveMae', 'season', 'mase', 'plot']) expect(last).toHaveProperty(k);
    const svg = readFileSync(last.plot as string, 'utf8');
    expect(svg).toMatch(/^<\?xml[^>]*>\s*<svg /);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<polyline');
    expect(readFileSync(join(out, 'forecast.csv'), 'utf8').split('\n')[0]).toBe('index,date,part,actual,predicted,naive,seasonal_naive');
    expect(last.mae as number).toBeLessThan((last.naiveMae as number) * 1.5);
    expect(last.rmse as number).toBeGreaterThanOrEqual(last.mae as number);
  });

  it('reads a CSV column and rejects an unknown one', () => {
    const csv = join(dir, 'series.csv');
    const rows = ['t,value'];
    for (let i = 0; i < 200; i++) rows.push(`${i},${(Math.sin(i / 4) * 5 + 10).toFixed(3)}`);
    writeFileSync(csv, rows.join('\n'));
    const ok = run(['forecast', '--csv', csv, '--column', 'value', '--window', '8', '--epochs', '1', '--json', '--out-dir', join(dir, 'fc2')]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = run(['forecast', '--csv', csv, '--column', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("'nope'");
  });
});

describe('rnnblas demo bidirectional', () => {
  it('the bidirectional model beats the unidirectional one by a wide margin', () => {
    const r = run(['demo', 'bidirectional', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const last = jsonLines(r.stdout).at(-1) as Record<string, number>;
    expect(last.biAccuracy).toBeGreaterThan(last.uniAccuracy + 0.4);
  });
});

describe('rnnblas info and help', () => {
  it('info prints the OpenBLAS version', () => {
    const r = run(['info']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OpenBLAS\s+\S*\d+\.\d+\.\d+/);
    expect(r.stdout).toContain('node');
  });

  it.each([['--help'], ['train', '--help'], ['sample', '--help'], ['forecast', '--help'], ['demo', 'bidirectional', '--help'], ['info', '--help']])(
    '%j exits 0 with usage',
    (...args) => {
      const r = run(args.filter((a): a is string => typeof a === 'string'));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage:');
    },
  );
});

describe('usage errors: one line on stderr, exit 2', () => {
  it.each([
    [['train', '--bogus'], '--bogus'],
    [['train', '--text', '/no/such/file.txt'], '/no/such/file.txt'],
    [['train', '--hidden', '-3'], '--hidden'],
    [['train', '--hidden', 'abc'], '--hidden'],
    [['train', '--optimizer', 'lbfgs'], '--optimizer'],
    [['sample', '--model', '/no/such/model.safetensors'], '/no/such/model.safetensors'],
    [['sample', '--model', join(ROOT, 'package.json')], 'package.json'],
    [['sample'], '--model'],
    [['forecast', '--csv', '/no/such.csv'], '/no/such.csv'],
    [['frobnicate'], 'frobnicate'],
    [['train', '--steps', '5', '--epochs', '1'], '--epochs'],
    [['sample', '--model', 'x.safetensors', '--temperature', '-1'], '--temperature'],
  ])('%j', (args, mention) => {
    const r = run(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(mention);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
