/**
 * `--cell lstm|gru|rnn` on the command line: `rnnblas train` builds, checkpoints, resumes and
 * samples the chosen cell; `rnnblas forecast` trains it; a resumed run refuses another cell.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, GRU, LSTM, Sequential } from '../src/index.js';
import { jsonLines, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-cli-cell-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = ['--hidden', '16', '--layers', '1', '--embed', '8', '--seq', '16', '--batch', '8', '--seed', '5', '--sample-every', '0', '--json'];

describe('rnnblas train --cell', () => {
  for (const [cell, Cls] of [['lstm', LSTM], ['gru', GRU]] as const) {
    it(`${cell}: trains, saves the cell, resumes it, samples from it`, async () => {
      const out = join(dir, `${cell}.safetensors`);
      const r = runCli(dir, ['train', '--cell', cell, '--steps', '6', '--out', out, ...SMALL], 120_000);
      expect(r.code, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines[0]).toMatchObject({ type: 'start', cell });
      const model = (await loadModel(out)).model as Sequential;
      expect(model.layers[1]).toBeInstanceOf(Cls);
      const resumed = runCli(dir, ['train', '--resume', '--steps', '2', '--out', out, '--json'], 120_000);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(jsonLines(resumed.stdout)[0]).toMatchObject({ type: 'start', cell, startStep: 6 });
      const other = runCli(dir, ['train', '--resume', '--cell', 'rnn', '--out', out], 120_000);
      expect(other.code).toBe(2);
      expect(other.stderr).toMatch(/--cell rnn \(checkpoint: (lstm|gru)\)/);
      const s = runCli(dir, ['sample', '--model', out, '--length', '20', '--seed', '1']);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout.length).toBeGreaterThanOrEqual(20);
    });
  }

  it('an unknown cell is a usage error naming --cell', () => {
    const r = runCli(dir, ['train', '--cell', 'transformer', '--steps', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cell/);
  });
});

describe('rnnblas forecast --cell', () => {
  it('trains an LSTM on the built-in series', () => {
    const r = runCli(dir, ['forecast', '--cell', 'lstm', '--epochs', '2', '--hidden', '8', '--window', '14', '--out-dir', dir, '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const last = jsonLines(r.stdout).at(-1) as Record<string, unknown>;
    expect(typeof last.mae).toBe('number');
  });
});
