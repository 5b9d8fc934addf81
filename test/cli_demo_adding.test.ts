/**
 * The adding problem's generator (two marks at distinct steps, target = their
 * sum, a fixed test set apart from the training stream) and `rnnblas demo
 * adding` on short runs (the result line's shape, the SVG). The default run
 * (minutes) is not part of the suite.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './helpers/cli.js';
import { expectWellFormedSvg } from './helpers/svg.js';
import { ADDING_BASELINE_MSE, addingProblem } from '../src/data/index.js';
import { addingTestSet, addingTrainStream, parseAddingModels } from '../src/cli/demo_adding.js';
import { Rng } from '../src/random.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-demo-adding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The sequences of a dataset as [signal, mask] arrays. */
function sequences(d: { x: { data: ArrayLike<number>; shape: readonly number[] } }): { signal: number[]; mask: number[] }[] {
  const [N, T] = d.x.shape;
  return Array.from({ length: N }, (_, n) => ({
    signal: Array.from({ length: T }, (_, t) => d.x.data[(n * T + t) * 2]),
    mask: Array.from({ length: T }, (_, t) => d.x.data[(n * T + t) * 2 + 1]),
  }));
}

describe('addingProblem', () => {
  it('two channels, a U[0,1) signal and exactly two ones at distinct steps; the target is the sum of the marked values', () => {
    const d = addingProblem({ length: 30, count: 500, seed: 4 });
    expect(d.x.shape).toEqual([500, 30, 2]);
    expect(d.y.shape).toEqual([500, 1]);
    sequences(d).forEach(({ signal, mask }, n) => {
      for (const s of signal) expect(s >= 0 && s < 1).toBe(true);
      for (const m of mask) expect(m === 0 || m === 1).toBe(true);
      const marks = mask.flatMap((m, t) => (m === 1 ? [t] : []));
      expect(marks).toHaveLength(2);
      expect(d.y.data[n]).toBe(Math.fround(signal[marks[0]] + signal[marks[1]]));
    });
  });

  it('marks cover every step, the signal has mean 1/2, predicting 1 scores about 1/6', () => {
    const T = 10;
    const d = addingProblem({ length: T, count: 20000, seed: 1 });
    const counts = new Array<number>(T).fill(0);
    let mean = 0;
    for (const { signal, mask } of sequences(d)) {
      mask.forEach((m, t) => (counts[t] += m));
      mean += signal.reduce((a, b) => a + b, 0) / T;
    }
    // Each step is marked with probability 2/T.
    for (const c of counts) expect(c / 20000).toBeCloseTo(2 / T, 1);
    expect(mean / 20000).toBeCloseTo(0.5, 2);
    let se = 0;
    for (const y of d.y.data) se += (y - 1) ** 2;
    expect(se / 20000).toBeCloseTo(ADDING_BASELINE_MSE, 2);
  });

  it('a seed gives the same sequences; a shared rng draws a stream of fresh ones', () => {
    expect(addingProblem({ length: 8, count: 5, seed: 2 })).toEqual(addingProblem({ length: 8, count: 5, seed: 2 }));
    const rng = new Rng(2);
    const a = addingProblem({ length: 8, count: 5, rng });
    const b = addingProblem({ length: 8, count: 5, rng });
    expect(a).toEqual(addingProblem({ length: 8, count: 5, seed: 2 }));
    expect(b.x.data).not.toEqual(a.x.data);
  });

  it('refuses bad options', () => {
    expect(() => addingProblem({ length: 1, count: 3 })).toThrow(RangeError);
    expect(() => addingProblem({ length: 5, count: 0 })).toThrow(RangeError);
    expect(() => addingProblem({ length: 5, count: 2, seed: 1, rng: new Rng(1) })).toThrow(/seed or rng/);
    expect(() => addingProblem({ length: 5, count: 2, extra: 1 } as never)).toThrow(RangeError);
  });
});

describe('the demo\'s data', () => {
  it('the test set is fixed by the seed and shares no sequence with the training stream', () => {
    const T = 20;
    const test = addingTestSet(T, 1000, 7);
    expect(test.x.shape).toEqual([1000, T, 2]);
    expect(addingTestSet(T, 1000, 7)).toEqual(test);
    expect(addingTestSet(T, 1000, 8).x.data).not.toEqual(test.x.data);
    const seen = new Set(sequences(test).map((s) => s.signal.join(',')));
    const stream = addingTrainStream(7);
    for (let k = 0; k < 20; k++) {
      for (const s of sequences(addingProblem({ length: T, count: 250, rng: stream }))) expect(seen.has(s.signal.join(','))).toBe(false);
    }
  });

  it('--models parses a subset', () => {
    expect(parseAddingModels('irnn, tanh')).toEqual(['irnn', 'tanh']);
    expect(() => parseAddingModels('gru')).toThrow(/not one of/);
  });
});

describe('demo adding (CLI, short runs)', () => {
  const models = 'irnn,tanh,lstm';
  const args = ['demo', 'adding', '--length', '20', '--steps', '40', '--eval-every', '20', '--test-size', '1000', '--hidden', '16', '--models', models, '--lr', '0.001', '--lstm-lr', '0.002', '--seed', '5', '--threads', '1', '--json'];
  const r = runCli(dir, [...args, '--out-dir', join(dir, 'a')], 120_000);
  const lines = r.code === 0 ? jsonLines(r.stdout) : [];
  const last = (lines.at(-1) ?? {}) as Record<string, unknown>;

  it('ends with a result line: length, baselineMse, each model\'s testMse and steps, the plot', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(lines[0]).toMatchObject({ type: 'start', length: 20, steps: 40, testSize: 1000 });
    expect(last).toMatchObject({ type: 'result', length: 20, evalSteps: [0, 20, 40], testSize: 1000, plot: join(dir, 'a', 'adding.svg') });
    expect(last.baselineMse as number).toBeCloseTo(1 / 6, 5);
    expect(Math.abs((last.baselineTestMse as number) - 1 / 6)).toBeLessThan(0.03);
    const ms = last.models as { name: string; testMse: number; steps: number; lr: number; curve: number[] }[];
    expect(ms.map((m) => m.name)).toEqual(models.split(','));
    expect(ms.map((m) => m.lr)).toEqual([0.001, 0.001, 0.002]);
    for (const m of ms) {
      expect(m.steps).toBe(40);
      expect(Number.isFinite(m.testMse) && m.testMse > 0).toBe(true);
      expect(m.curve).toHaveLength(3);
      expect(m.curve[2]).toBe(m.testMse);
    }
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.map((p) => p.step)).toEqual([0, 20, 40]);
    expect(existsSync(last.plot as string)).toBe(true);
  });

  it('the test set depends on the seed only (not on --steps or --batch); runs are deterministic', () => {
    const again = runCli(dir, [...args, '--out-dir', join(dir, 'b')], 120_000);
    expect(again.code, again.stderr).toBe(0);
    const b = jsonLines(again.stdout).at(-1) as Record<string, unknown>;
    expect(b.models).toEqual(last.models);
    const other = runCli(dir, ['demo', 'adding', '--length', '20', '--steps', '3', '--eval-every', '3', '--batch', '4', '--hidden', '8', '--models', 'tanh', '--seed', '5', '--json', '--out-dir', join(dir, 'c')]);
    expect(other.code, other.stderr).toBe(0);
    expect((jsonLines(other.stdout).at(-1) as Record<string, unknown>).baselineTestMse).toBe(last.baselineTestMse);
    // A model trains the same with or without the others beside it.
    const alone = runCli(dir, [...args.map((a) => (a === models ? 'lstm' : a)), '--out-dir', join(dir, 'd')], 120_000);
    expect(alone.code, alone.stderr).toBe(0);
    expect((jsonLines(alone.stdout).at(-1) as { models: unknown[] }).models).toEqual([(last.models as unknown[])[2]]);
  });

  it('writes a well-formed SVG with the learning curves, the 1/6 baseline and a log axis', () => {
    const svg = readFileSync(join(dir, 'a', 'adding.svg'), 'utf8');
    expectWellFormedSvg(svg);
    for (const m of models.split(',')) expect(svg).toContain(`>${m} (`);
    expect(svg).toContain('baseline 1/6');
    expect(svg).toContain('>0.1<');
  });

  it('usage errors exit 2 with one line', () => {
    for (const bad of [['--models', 'gru'], ['--length', '1'], ['--steps', '0'], ['--lr', '0']]) {
      const b = runCli(dir, ['demo', 'adding', ...bad, '--out-dir', dir]);
      expect(b.code, b.stderr).toBe(2);
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
