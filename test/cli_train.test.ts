/**
 * `rnnblas train` as users meet it: resume keeps its text and settings, --steps
 * counts more steps, a closed stdout and repeated Ctrl-C still save, stale
 * temporary files go away; and the small command-line promises (--version,
 * demo/bench help, arg-max sampling, progress lines that fit the terminal).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENV, jsonLines, MAIN, ROOT, runCli } from './helpers/cli.js';
import { progressLayout } from '../src/cli/train.js';

// Signals go straight to the CLI's process: tsx's wrapper process relays them with its own
// policy (a second SIGINT within 30 ms makes it SIGKILL the child), which users never meet.
const DIRECT = ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, MAIN];
const dir = mkdtempSync(join(tmpdir(), 'rnnblas-cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENV = CLI_ENV;

const run = (args: string[]) => runCli(dir, args);


const SMALL = ['--hidden', '32', '--layers', '1', '--embed', '8', '--seq', '16', '--batch', '8', '--seed', '5', '--sample-every', '0'];

/** A text whose alphabet is not the embedded corpus's (digits and x only). */
function digitsText(seed: number, n = 3000): string {
  let s = '';
  let v = seed;
  for (let i = 0; i < n; i++) {
    v = (v * 1103515245 + 12345) % 2 ** 31;
    s += i % 7 === 6 ? 'x' : String(v % 10);
  }
  return s;
}

function oneLineError(r: { code: number | null; stderr: string }, mention: string): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(mention);
}

describe('train --resume uses the checkpoint text and settings', () => {
  const text = join(dir, 'digits.txt');
  const ck = join(dir, 'digits.safetensors');

  it('trains on a text file, then resumes on the same file without --text', () => {
    writeFileSync(text, digitsText(1));
    const first = run(['train', ...SMALL, '--text', text, '--steps', '6', '--json', '--out', ck]);
    expect(first.code, first.stderr).toBe(0);
    // No --text: the checkpoint's file, not the embedded corpus (whose characters are not in this vocabulary).
    const r = run(['train', '--resume', '--out', ck, '--steps', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ type: 'start', text, chars: 3000, vocab: 11, startStep: 6, totalSteps: 10 });
    // --steps N with --resume trains N more (not up to N in total).
    const steps = lines.filter((l) => l.type === 'progress').map((l) => l.step);
    expect(steps).toEqual([7, 8, 9, 10]);
    expect(Number.isFinite(lines.at(-1)?.loss as number)).toBe(true);
    // And once more: the resumed checkpoint keeps recording the file.
    const again = run(['train', '--resume', '--out', ck, '--steps', '2', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout)[0]).toMatchObject({ text, startStep: 10, totalSteps: 12 });
  });

  it('the same text given again with --text is accepted', () => {
    const copy = join(dir, 'digits-copy.txt');
    writeFileSync(copy, readFileSync(text));
    const r = run(['train', '--resume', '--out', ck, '--text', copy, '--steps', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a different text (same characters) is refused with a usage error', () => {
    const other = join(dir, 'digits-other.txt');
    writeFileSync(other, digitsText(2));
    oneLineError(run(['train', '--resume', '--out', ck, '--text', other, '--steps', '1']), '--text');
  });

  it('a checkpoint whose text file has changed or gone is refused without --text', () => {
    const t2 = join(dir, 'changing.txt');
    const ck2 = join(dir, 'changing.safetensors');
    writeFileSync(t2, digitsText(3));
    expect(run(['train', ...SMALL, '--text', t2, '--steps', '2', '--json', '--out', ck2]).code).toBe(0);
    writeFileSync(t2, digitsText(4));
    oneLineError(run(['train', '--resume', '--out', ck2, '--steps', '1']), 'changed');
    rmSync(t2);
    oneLineError(run(['train', '--resume', '--out', ck2, '--steps', '1']), t2);
  });

  it('architecture and training flags that differ from the checkpoint are refused; equal ones are fine', () => {
    const r = run(['train', '--resume', '--out', ck, '--hidden', '64', '--seq', '16', '--steps', '1']);
    oneLineError(r, '--hidden 64 (checkpoint: 32)');
    expect(r.stderr).not.toContain('--seq');
    oneLineError(run(['train', '--resume', '--out', ck, '--layers', '2', '--steps', '1']), '--layers');
    oneLineError(run(['train', '--resume', '--out', ck, '--optimizer', 'sgd', '--steps', '1']), '--optimizer');
    const same = run(['train', '--resume', '--out', ck, '--hidden', '32', '--layers', '1', '--seq', '16', '--steps', '1', '--json']);
    expect(same.code, same.stderr).toBe(0);
  });

  it('--resume --epochs N trains N more epochs', () => {
    const r = run(['train', '--resume', '--out', ck, '--epochs', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const start = jsonLines(r.stdout)[0];
    // 3000 chars, windows of 16 + 1: 187 windows, batches of 8: 24 per epoch.
    expect((start.totalSteps as number) - (start.startStep as number)).toBe(24);
  });
});

describe('train stops cleanly and saves', () => {
  it('a closed stdout (train --json | head -1) stops training, saves the checkpoint, no stack trace', async () => {
    const ck = join(dir, 'pipe.safetensors');
    const child = spawn(process.execPath, [...DIRECT, 'train', ...SMALL, '--steps', '100000', '--json', '--out', ck], { cwd: dir, env: ENV });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let first = '';
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        first += d.toString();
        if (first.includes('\n')) {
          // What head does after its first line: close the reading end.
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const { code, signal } = await exit;
    expect(signal, err).toBeNull();
    expect(code, err).toBe(141);
    expect(err).not.toMatch(/EPIPE|\n\s+at /);
    expect(err).toContain('checkpoint saved');
    expect(JSON.parse(first.split('\n')[0])).toMatchObject({ type: 'start' });
    const { loadCheckpoint } = await import('../src/index.js');
    const saved = await loadCheckpoint(ck);
    expect(saved.step).toBeGreaterThan(0);
    expect(saved.step).toBeLessThan(100000);
  });

  it('Ctrl-C pressed again and again while the checkpoint is saved does not kill the save', async () => {
    const ck = join(dir, 'sigint.safetensors');
    // A model big enough that finishing its batch and saving (~13 MB with Adam's state) takes a while.
    const args = ['train', '--hidden', '512', '--layers', '2', '--seq', '16', '--batch', '4', '--steps', '100000', '--json', '--sample-every', '0', '--out', ck];
    const child = spawn(process.execPath, [...DIRECT, ...args], { cwd: dir, env: ENV });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      // Saved: stop pressing (a signal during Node's own teardown after this is not ours to catch).
      if (err.includes('checkpoint saved')) clearInterval(timer);
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && (out.match(/"type":"progress"/g) ?? []).length >= 2) {
        child.kill('SIGINT');
        timer = setInterval(() => child.kill('SIGINT'), 3);
      }
    });
    const { code, signal } = await exit;
    clearInterval(timer);
    expect(err).toContain('checkpoint saved');
    if (signal === null) expect(code, err).toBe(130);
    expect(err).toContain('please wait');
    const { loadCheckpoint } = await import('../src/index.js');
    const last = jsonLines(out).at(-1) as Record<string, unknown>;
    expect(last.type).toBe('interrupted');
    expect((await loadCheckpoint(ck)).step).toBe(last.step);
  });

  it('the next save of a path removes temporary files that killed saves left; a live save keeps its own', () => {
    const ck = join(dir, 'stale.safetensors');
    const dead = spawnSync('true').pid as number; // a process that has exited
    const staleName = `.stale.safetensors.${dead}.a1b2c3d4e5f6.tmp`;
    const liveName = `.stale.safetensors.${process.pid}.0123456789ab.tmp`;
    const unrelated = `.other.safetensors.${dead}.a1b2c3d4e5f6.tmp`;
    for (const n of [staleName, liveName, unrelated]) writeFileSync(join(dir, n), 'partial');
    const r = run(['train', ...SMALL, '--steps', '1', '--json', '--out', ck]);
    expect(r.code, r.stderr).toBe(0);
    const names = readdirSync(dir);
    expect(names).not.toContain(staleName);
    expect(names).toContain(liveName);
    expect(names).toContain(unrelated);
    expect(existsSync(ck)).toBe(true);
  });
});

describe('command-line details', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('--version prints the package version; info shows it', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    const info = run(['info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ version });
    expect(run(['info']).stdout).toMatch(new RegExp(`^rnnblas\\s+${version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('demo without a subcommand prints its help and exits 2; bench --help is help', () => {
    const r = run(['demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: rnnblas demo');
    expect(r.stderr).toContain('bidirectional');
    const b = run(['bench', '--help']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain('Usage: rnnblas bench');
  });

  it('sample --temperature 0 takes the most likely character (no randomness)', () => {
    const model = join(dir, 'argmax.safetensors');
    expect(run(['train', ...SMALL, '--steps', '20', '--json', '--out', model]).code).toBe(0);
    const sample = (seed: number, t: string): string => {
      const r = run(['sample', '--model', model, '--prime', 'The ', '--length', '60', '--temperature', t, '--seed', String(seed)]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(sample(1, '0')).toBe(sample(2, '0'));
    expect(sample(1, '1.5')).not.toBe(sample(2, '1.5'));
  });

  it.each([40, 60, 79, 80, 100, 200])('a progress line fits %d columns with every field at its widest', (columns) => {
    for (const total of [1000, 1_000_000]) {
      const { format, barsize } = progressLayout(columns, total);
      const widest = format
        .replace('{bar}', '#'.repeat(barsize))
        .replace('{value}', String(total))
        .replace('{total}', String(total))
        .replace('{loss}', '99.999')
        .replace('{cps}', '999999999')
        .replace('{eta_formatted}', '99h59m');
      expect(widest.length, widest).toBeLessThan(columns);
      expect(widest).toContain('loss 99.999');
      if (columns >= 80) {
        expect(format).toContain('chars/s');
        expect(barsize).toBeGreaterThanOrEqual(10);
      }
    }
  });
});
