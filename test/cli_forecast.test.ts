/**
 * `rnnblas forecast` judged honestly: seasonal-naive baseline and MASE,
 * features and calendar inputs, best-epoch weights, --ahead, --out, the
 * plot, and strict CSV reading.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './helpers/cli.js';
import { dailySeries, dailySeriesCsv } from '../src/cli/corpus/daily.js';
import { detectSeason, seasonalScale } from '../src/cli/forecast.js';
import { Rng } from '../src/random.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnblas-forecast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => runCli(dir, args, 90_000);


function csvRows(path: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n');
  const h = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [h[i], v])));
}

describe('season detection', () => {
  it('finds the period of a noisy seasonal series, 7 on the daily series, 1 on noise', () => {
    const rng = new Rng(3);
    const y = Array.from({ length: 600 }, (_, t) => 10 * Math.sin((2 * Math.PI * t) / 12) + rng.normal());
    expect(detectSeason(y)).toBe(12);
    expect(detectSeason(dailySeries().demand.subarray(0, 1000))).toBe(7);
    // White noise has no season: the last value is the baseline.
    expect(detectSeason(Array.from({ length: 500 }, () => rng.normal()))).toBe(1);
  });

  it('prefers the same day last year when each year repeats day by day', () => {
    const rng = new Rng(5);
    const year = Array.from({ length: 364 }, () => 10 * rng.normal());
    const y = Array.from({ length: 1100 }, (_, t) => year[t % 364] + 5 * Math.sin((2 * Math.PI * t) / 7) + 0.5 * rng.normal());
    expect(detectSeason(y)).toBe(364);
  });

  it('seasonalScale is the mean absolute seasonal difference', () => {
    expect(seasonalScale([1, 2, 3, 5, 8], 2)).toBeCloseTo((2 + 3 + 5) / 3, 12);
  });
});

describe('forecast on the built-in daily series (defaults)', () => {
  const out = join(dir, 'default');
  const r = run(['forecast', '--json', '--out-dir', out, '--ahead', '30', '--out', join(dir, 'fc.safetensors')]);
  const lines = r.code === 0 ? jsonLines(r.stdout) : [];
  const last = (lines.at(-1) ?? {}) as Record<string, unknown>;

  it('beats seasonal naive within a minute, and reports it with MASE', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(last).toMatchObject({ type: 'result', season: 7, seasonSource: 'autocorrelation' });
    const mae = last.mae as number;
    expect(mae).toBeLessThan(last.seasonalNaiveMae as number);
    expect(mae).toBeLessThan(last.naiveMae as number);
    expect(last.mase as number).toBeLessThan(last.seasonalNaiveMase as number);
    expect(last.seconds as number).toBeLessThan(60);
    console.log(`built-in series: MAE ${mae}, seasonal naive ${last.seasonalNaiveMae}, MASE ${last.mase} (seasonal naive ${last.seasonalNaiveMase}), ${last.seconds} s`);
  });

  it('the baselines and MASE are what their definitions give on the data', () => {
    const rows = csvRows(join(out, 'forecast.csv')).filter((x) => x.part === 'test');
    const s = dailySeries().demand;
    for (const row of rows) {
      const t = Number(row.index);
      expect(Number(row.actual)).toBe(s[t]);
      expect(Number(row.naive)).toBe(s[t - 1]);
      expect(Number(row.seasonal_naive)).toBe(s[t - 7]);
    }
    const snMae = rows.reduce((a, x) => a + Math.abs(Number(x.actual) - Number(x.seasonal_naive)), 0) / rows.length;
    expect(last.seasonalNaiveMae as number).toBeCloseTo(snMae, 4);
    const mae = rows.reduce((a, x) => a + Math.abs(Number(x.actual) - Number(x.predicted)), 0) / rows.length;
    expect(last.mae as number).toBeCloseTo(mae, 4);
    // MASE's scale: in-sample seasonal naive over the training part (window 28, horizon 1).
    const trainEnd = (last.trainWindows as number) + 28;
    let sc = 0;
    for (let t = 7; t < trainEnd; t++) sc += Math.abs(s[t] - s[t - 7]);
    expect(last.mase as number).toBeCloseTo((last.mae as number) / (sc / (trainEnd - 7)), 4);
    expect(rows.length).toBe(last.testWindows);
  });

  it('keeps the best validation epoch', () => {
    const epochs = lines.filter((l) => l.type === 'epoch') as { epoch: number; valLoss: number }[];
    expect(epochs.length).toBe(60);
    const best = epochs.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(last.bestEpoch).toBe(best.epoch);
  });

  it('--ahead continues past the end of the data with dates, in the CSV and the plot; --out saves the model', async () => {
    const ahead = csvRows(join(out, 'forecast.csv')).filter((x) => x.part === 'ahead');
    expect(ahead.length).toBe(30);
    expect(ahead[0]).toMatchObject({ index: '1461', date: '2025-01-01', actual: '' });
    expect(ahead[29].date).toBe('2025-01-30');
    expect((last.ahead as number[]).length).toBe(30);
    for (const v of last.ahead as number[]) expect(v).toBeGreaterThan(40);
    const svg = readFileSync(last.plot as string, 'utf8');
    expect(svg).toContain('ahead (30, recursive)');
    expect(svg).toContain('seasonal naive (lag 7)');
    expect(svg).toMatch(/>20\d\d-\d\d-\d\d</); // dates on the x-axis
    expect(svg).toContain('Whole series');
    expect(svg).toMatch(/Last \d+ points/);
    const { loadModel } = await import('../src/index.js');
    const { extra } = await loadModel(join(dir, 'fc.safetensors'));
    expect(extra).toMatchObject({ forecast: { window: 28, horizon: 1, season: 7, bestEpoch: last.bestEpoch } });
  });
});

describe('forecast from a CSV file', () => {
  const csv = join(dir, 'daily.csv');
  writeFileSync(csv, dailySeriesCsv(dailySeries(700, 9)));

  it('--features and --calendar add input channels; --season is honoured', () => {
    const r = run(['forecast', '--csv', csv, '--features', 'temperature', '--calendar', '--season', '14', '--epochs', '3', '--json', '--out-dir', join(dir, 'f1')]);
    expect(r.code, r.stderr).toBe(0);
    const last = jsonLines(r.stdout).at(-1) as Record<string, unknown>;
    expect(last.inputs).toEqual(['demand', 'temperature', 'day of week (sin)', 'day of week (cos)', 'day of year (sin)', 'day of year (cos)']);
    expect(last).toMatchObject({ season: 14, seasonSource: 'option' });
  });

  it('a bad cell in the forecast column is an error naming its line, never a switch to another column', () => {
    const lines = readFileSync(csv, 'utf8').split('\n');
    // Line 50 of the file: a bad demand cell, and (another file) a bad temperature cell.
    const badDemand = [...lines];
    badDemand[49] = badDemand[49].replace(/^([^,]+),[^,]+,/, '$1,n/a,');
    const badTemperature = [...lines];
    badTemperature[49] = badTemperature[49].replace(/,[^,]+$/, ',');
    writeFileSync(join(dir, 'bad1.csv'), badDemand.join('\n'));
    writeFileSync(join(dir, 'bad2.csv'), badTemperature.join('\n'));
    for (const [file, extra, column] of [
      ['bad1.csv', ['--column', 'demand'], 'demand'],
      ['bad2.csv', [], 'temperature'], // the default column (the last numeric one)
      ['bad1.csv', ['--column', 'temperature', '--features', 'demand'], 'demand'],
    ] as [string, string[], string][]) {
      const r = run(['forecast', '--csv', join(dir, file), ...extra, '--epochs', '1']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('line 50');
      expect(r.stderr).toContain(`'${column}'`);
    }
  });

  it('usage errors: --ahead needs horizon 1 and no --features; unknown feature column', () => {
    for (const [args, mention] of [
      [['--ahead', '5', '--horizon', '2'], '--horizon 1'],
      [['--ahead', '5', '--features', 'temperature'], '--features'],
      [['--features', 'humidity'], 'humidity'],
    ] as [string[], string][]) {
      const r = run(['forecast', '--csv', csv, '--epochs', '1', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(mention);
    }
  });
});
