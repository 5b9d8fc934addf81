/**
 * Seeded mutation fuzzers for the file readers and converters (issue 16): safetensors model
 * files, checkpoints, ONNX graphs (byte mutations of exported models and random small graphs
 * with hostile dims) and the Keras converters. Cases run in batches inside a few child
 * processes with a 512 MB heap and their RSS polled (see test/helpers/hostile_child.ts); every
 * case must end in a result or a JS Error (never a non-Error throw, a stack overflow or an
 * allocation failure) within 2 s, and the child must stay under 400 MB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLimited, type LimitedRun } from './helpers/run_limited.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'hostile_child.ts');

/** kind, seed, cases: ~14,000 cases in all, a few seconds of CPU. */
const BATCHES: Array<[string, number, number]> = [
  ['safetensors', 16001, 4000],
  ['checkpoint', 16002, 2000],
  ['onnx', 16003, 4000],
  ['keras', 16004, 4000],
];

interface Summary {
  kind: string;
  cases: number;
  ok: number;
  errors: number;
  errorNames: Record<string, number>;
  nonErrors: string[];
  nonErrorCount: number;
  maxMs: number;
  slowest: string;
  totalMs: number;
  rssMB: number;
}

let dir: string;
const results = new Map<string, { run: LimitedRun; summary: Summary | null }>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rnnblas-fuzz-'));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < BATCHES.length) {
      const [kind, seed, count] = BATCHES[next++];
      const run = await runLimited(['--import', 'tsx', CHILD, 'fuzz', kind, String(seed), String(count), dir], { heapMB: 512, killRssMB: 1024, timeoutMs: 60_000 });
      let summary: Summary | null = null;
      try {
        summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Summary;
      } catch {
        summary = null;
      }
      results.set(kind, { run, summary });
      if (summary) console.log(`fuzz ${kind}: ${summary.cases} cases, ${summary.ok} loaded, ${summary.errors} refused ${JSON.stringify(summary.errorNames)}, slowest ${summary.maxMs.toFixed(1)} ms, ${summary.totalMs.toFixed(0)} ms in all, child ${Math.max(summary.rssMB, run.peakRssMB)} MB, wall ${run.wallMs.toFixed(0)} ms`);
    }
  };
  await Promise.all([worker(), worker()]);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('seeded mutation fuzzing of files and converters', () => {
  for (const [kind, , count] of BATCHES) {
    it(`${kind}: ${count} cases each end in a result or an Error, within 2 s, under 400 MB`, () => {
      const r = results.get(kind);
      expect(r).toBeDefined();
      const { run, summary } = r as { run: LimitedRun; summary: Summary | null };
      expect(run.killed, run.stderr).toBeNull();
      expect(run.code, run.stderr).toBe(0);
      const s = summary as Summary;
      expect(s.cases).toBe(count);
      expect(s.nonErrors, `${s.nonErrorCount} cases ended badly`).toEqual([]);
      expect(s.ok + s.errors).toBe(count);
      // The mutations must reach both sides: some inputs still load, most are refused.
      expect(s.errors).toBeGreaterThan(count / 2);
      expect(s.ok).toBeGreaterThan(0);
      expect(s.maxMs, s.slowest).toBeLessThan(2000);
      expect(Math.max(s.rssMB, run.peakRssMB)).toBeLessThan(400);
    });
  }
});
