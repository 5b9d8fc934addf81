/**
 * `rnnblas forecast`: sequence-to-one regression on a series (RNN -> LastStep
 * -> Linear) with the library's fit and predict, judged against honest
 * baselines.
 *
 * - Windows of `--window` steps predict the value `--horizon` steps after
 *   their last one. Input channels: the series, the `--features` columns and,
 *   with a date column, calendar features of the target's date (day of week
 *   and day of year as sin/cos, known in advance). Every channel is
 *   normalised with statistics of the training part only.
 * - Chronological split: train | validation (picks the best epoch, whose
 *   weights are restored) | test (the reported numbers, never seen before).
 * - Baselines on the test part: last value, and seasonal naive (the value one
 *   season before the target; the season from `--season` or from the
 *   training part's autocorrelation). MASE scales the MAE by the training
 *   part's in-sample seasonal-naive MAE (Hyndman and Koehler, 2006).
 * - Writes predictions (CSV), a plot (SVG), optionally the model
 *   (`--out`) and a recursive forecast past the end (`--ahead`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setNumThreads } from '../blas.js';
import type { SequenceDataset } from '../data/dataset.js';
import { saveModel } from '../io/model_file.js';
import { LastStep } from '../nn/last_step.js';
import { Linear } from '../nn/linear.js';
import { buildCell } from './char_model.js';
import type { CellName } from './constants.js';
import { Sequential } from '../nn/sequential.js';
import { Adam } from '../optim/index.js';
import { fit, predict } from '../train/fit.js';
import { dailySeries } from './corpus/daily.js';
import { UsageError, requireFile } from './errors.js';
import { renderSvg, type Line } from './svg.js';

/** Options of `rnnblas forecast`. */
export interface ForecastOptions {
  /** CSV file (default: the built-in daily series). */
  csv?: string;
  /** Column to forecast (default: the last numeric column that is not a feature or the date). */
  column?: string;
  /** Date column (default: a column named date/day/time/timestamp, or whose first cell is an ISO date). */
  dateColumn?: string;
  /** Calendar features of the target's date from the date column as inputs (default false: on the built-in series they did not help). */
  calendar: boolean;
  /** Comma-separated extra numeric columns fed as input channels. */
  features?: string;
  /** Season length of the seasonal-naive baseline (default: detected). */
  season?: number;
  /** Input window. */
  window: number;
  /** Steps ahead. */
  horizon: number;
  /** Hidden size. */
  hidden: number;
  /** Bidirectional RNN. */
  bidirectional: boolean;
  /** Recurrent cell (default 'rnn'). */
  cell?: CellName;
  /** Epochs. */
  epochs: number;
  /** Batch size. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** Fraction of windows for choosing the epoch. */
  validation: number;
  /** Fraction of windows, at the end, for the reported metrics. */
  test: number;
  /** Seed. */
  seed: number;
  /** BLAS threads. */
  threads?: number;
  /** Output directory. */
  outDir: string;
  /** Model file to write. */
  out?: string;
  /** Steps to forecast past the end of the data (recursively; horizon 1). */
  ahead: number;
  /** JSON lines. */
  json: boolean;
}

/** A CSV file: header and rows of trimmed cells. */
interface Table {
  path: string;
  header: string[];
  rows: string[][];
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function readTable(path: string): Table {
  const lines = readFileSync(requireFile('--csv', path), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new UsageError(`--csv: ${path} needs a header row and at least one data row`);
  return { path, header: splitCsvLine(lines[0]), rows: lines.slice(1).map(splitCsvLine) };
}

function columnIndex(t: Table, name: string, flag: string): number {
  const c = t.header.indexOf(name);
  if (c < 0) throw new UsageError(`${flag}: no column '${name}' in ${t.path} (columns: ${t.header.join(', ')})`);
  return c;
}

const isNumber = (s: string | undefined): boolean => s !== undefined && s !== '' && Number.isFinite(Number(s));
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/;

/** Every cell of a column as a number; a bad cell is an error naming its line (never a switch to another column). */
function numericColumn(t: Table, c: number, flag: string): Float64Array {
  const v = new Float64Array(t.rows.length);
  t.rows.forEach((r, i) => {
    if (!isNumber(r[c])) throw new UsageError(`${flag}: ${t.path} line ${i + 2}: column '${t.header[c]}' is not a number: '${r[c] ?? ''}'`);
    v[i] = Number(r[c]);
  });
  return v;
}

/** Milliseconds (UTC) of every cell of a date column; a bad cell is an error naming its line. */
function dateColumn(t: Table, c: number, flag: string): Float64Array {
  const v = new Float64Array(t.rows.length);
  t.rows.forEach((r, i) => {
    const s = r[c] ?? '';
    const ms = ISO_DATE.test(s) ? Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s) : NaN;
    if (!Number.isFinite(ms)) throw new UsageError(`${flag}: ${t.path} line ${i + 2}: column '${t.header[c]}' is not a date (YYYY-MM-DD): '${s}'`);
    if (i > 0 && ms <= v[i - 1]) throw new UsageError(`${flag}: ${t.path} line ${i + 2}: dates must increase ('${s}' follows '${t.rows[i - 1][c]}')`);
    v[i] = ms;
  });
  return v;
}

/** The input data of a run: the target series, feature columns, dates. */
export interface ForecastData {
  /** Name of the target. */
  name: string;
  /** Target values. */
  values: Float64Array;
  /** Extra input columns by name. */
  features: { name: string; values: Float64Array }[];
  /** Dates (ms UTC) when there is a date column. */
  dates: Float64Array | null;
}

/**
 * Reads the target, features and date column of a CSV file. Without
 * `--column`, the target is the last column whose first cell is a number and
 * that is neither a feature nor the date; every one of its cells must then be
 * a number.
 */
export function readForecastCsv(path: string, o: Pick<ForecastOptions, 'column' | 'dateColumn' | 'features'>): ForecastData {
  const t = readTable(path);
  const features = (o.features ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const featureCols = features.map((f) => columnIndex(t, f, '--features'));
  let dc = -1;
  if (o.dateColumn !== undefined) dc = columnIndex(t, o.dateColumn, '--date-column');
  else dc = t.header.findIndex((h, c) => /^(date|day|time|timestamp|ds)$/i.test(h) || ISO_DATE.test(t.rows[0][c] ?? ''));
  let col: number;
  if (o.column !== undefined) col = columnIndex(t, o.column, '--column');
  else {
    col = -1;
    for (let c = t.header.length - 1; c >= 0; c--) {
      if (c !== dc && !featureCols.includes(c) && isNumber(t.rows[0][c])) {
        col = c;
        break;
      }
    }
    if (col < 0) throw new UsageError(`--csv: ${path} has no numeric column to forecast; choose one with --column`);
  }
  if (featureCols.includes(col)) throw new UsageError(`--features: '${t.header[col]}' is the column being forecast`);
  return {
    name: t.header[col],
    values: numericColumn(t, col, '--column'),
    features: featureCols.map((c) => ({ name: t.header[c], values: numericColumn(t, c, '--features') })),
    dates: dc >= 0 ? dateColumn(t, dc, '--date-column') : null,
  };
}

const DAY_MS = 86_400_000;

/** Day of week and day of year of a date, as sin/cos pairs (4 values). */
function calendarOf(ms: number): [number, number, number, number] {
  const d = new Date(ms);
  const dow = (2 * Math.PI * d.getUTCDay()) / 7;
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const days = (Date.UTC(d.getUTCFullYear() + 1, 0, 1) - start) / DAY_MS;
  const doy = (2 * Math.PI * ((ms - start) / DAY_MS)) / days;
  return [Math.sin(dow), Math.cos(dow), Math.sin(doy), Math.cos(doy)];
}

/**
 * The season of a series from its autocorrelation: the local maxima of the
 * autocorrelation function (above 0.2, lags 2..maxLag) are the candidates,
 * with 1 (the last value), and the shortest one whose seasonal-naive
 * forecast `horizon` steps ahead is within 10% of the smallest error (on the
 * points all candidates can forecast) wins.
 */
export function detectSeason(y: ArrayLike<number>, horizon = 1, maxLag = Math.floor(y.length / 2)): number {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (y[i] - mean) ** 2;
  if (!(c0 > 0)) return 1;
  const top = Math.min(maxLag, n - 2);
  const acf = new Float64Array(top + 2);
  for (let k = 1; k <= top + 1 && k < n; k++) {
    let s = 0;
    for (let i = k; i < n; i++) s += (y[i] - mean) * (y[i - k] - mean);
    acf[k] = s / c0;
  }
  const candidates = [1];
  for (let k = 2; k <= top; k++) if (acf[k] > 0.2 && acf[k] >= acf[k - 1] && acf[k] > acf[k + 1]) candidates.push(k);
  // Compared on the same points (those every candidate can forecast): the shortest season
  // within 10% of the best error wins (multiples of a season are about as good).
  const from = Math.max(...candidates.map((m) => m * Math.ceil(horizon / m)));
  const errors = candidates.map((m) => {
    let e = 0;
    for (let t = from; t < n; t++) e += Math.abs(y[t] - y[seasonalIndex(t, m, horizon)]);
    return e;
  });
  const least = Math.min(...errors);
  const best = candidates[errors.findIndex((e) => e <= 1.1 * least)];
  return best;
}

/** The seasonal-naive forecast of index t (`horizon` after the last known point): y[t - m * ceil(h / m)]. */
function seasonalIndex(t: number, m: number, h: number): number {
  return t - m * Math.ceil(h / m);
}

/** Mean absolute error of the seasonal-naive forecast over a series (in-sample): MASE's scale. */
export function seasonalScale(y: ArrayLike<number>, m: number, h = 1): number {
  let s = 0;
  let n = 0;
  for (let t = 0; t < y.length; t++) {
    const j = seasonalIndex(t, m, h);
    if (j < 0) continue;
    s += Math.abs(y[t] - y[j]);
    n++;
  }
  return n > 0 ? s / n : NaN;
}

/** Summary of a forecast run (the JSON summary line). Errors are on the test part, in the series' units. */
export interface ForecastSummary {
  /** The RNN's MAE. */
  mae: number;
  /** The RNN's RMSE. */
  rmse: number;
  /** Last-value forecast MAE. */
  naiveMae: number;
  /** Last-value forecast RMSE. */
  naiveRmse: number;
  /** Season length of the seasonal-naive baseline. */
  season: number;
  /** Where the season came from. */
  seasonSource: 'option' | 'autocorrelation';
  /** Seasonal-naive MAE. */
  seasonalNaiveMae: number;
  /** Seasonal-naive RMSE. */
  seasonalNaiveRmse: number;
  /** MAE / the training part's in-sample seasonal-naive MAE. */
  mase: number;
  /** MASE of the seasonal-naive forecast on the same test part (the RNN beats it when mase is lower). */
  seasonalNaiveMase: number;
  /** The epoch whose weights were kept (best validation loss), 1-based. */
  bestEpoch: number;
  /** Input channels. */
  inputs: string[];
  /** SVG path. */
  plot: string;
  /** CSV path. */
  predictions: string;
  /** Model file, when written. */
  model: string | null;
  /** Forecast past the end of the data. */
  ahead: number[];
  /** Windows per part. */
  trainWindows: number;
  /** Validation windows (epoch choice). */
  validationWindows: number;
  /** Test windows (the numbers above). */
  testWindows: number;
  /** Seconds. */
  seconds: number;
}

/** Runs the forecast command. */
export async function runForecast(o: ForecastOptions): Promise<ForecastSummary> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const t0 = Date.now();
  let data: ForecastData;
  if (o.csv === undefined) {
    if (o.column !== undefined || o.dateColumn !== undefined) throw new UsageError(`${o.column !== undefined ? '--column' : '--date-column'} needs --csv`);
    const s = dailySeries();
    const known = ['temperature'];
    const features = (o.features ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
    for (const f of features) if (!known.includes(f)) throw new UsageError(`--features: the built-in series has only the feature column temperature, got '${f}'`);
    data = {
      name: 'demand (built-in daily series)',
      values: s.demand,
      features: features.map(() => ({ name: 'temperature', values: s.temperature })),
      dates: Float64Array.from(s.dates, (d) => Date.parse(`${d}T00:00:00Z`)),
    };
  } else data = readForecastCsv(o.csv, o);
  const series = data.values;
  const n = series.length;
  const W = o.window;
  const Hz = o.horizon;
  if (o.ahead > 0 && Hz !== 1) throw new UsageError('--ahead forecasts recursively, one step at a time: use it with --horizon 1');
  if (o.ahead > 0 && data.features.length > 0) throw new UsageError('--ahead needs the future values of --features, which the data does not have; drop one of them');
  const nWin = n - W - Hz + 1;
  if (nWin < 6) throw new UsageError(`the series has ${n} points; --window ${W} + --horizon ${Hz} needs at least ${W + Hz + 5}`);
  const nTest = Math.max(1, Math.round(nWin * o.test));
  const nVal = Math.max(1, Math.round(nWin * o.validation));
  const nTrain = nWin - nVal - nTest;
  if (nTrain < 1) throw new UsageError(`--validation ${o.validation} and --test ${o.test} leave no training windows`);
  const trainEnd = nTrain + W + Hz - 1; // points the training windows and their targets cover

  // Input channels and their training-part statistics.
  const calendar = o.calendar && data.dates !== null;
  const dates = data.dates;
  const step = dates !== null && n > 1 ? median(Array.from({ length: n - 1 }, (_, i) => dates[i + 1] - dates[i])) : DAY_MS;
  const dateAt = (i: number): number => (dates === null ? NaN : i < n ? dates[i] : dates[n - 1] + (i - n + 1) * step);
  const inputs = [data.name, ...data.features.map((f) => f.name), ...(calendar ? ['day of week (sin)', 'day of week (cos)', 'day of year (sin)', 'day of year (cos)'] : [])];
  const C = inputs.length;
  const stats = (v: ArrayLike<number>, count: number): [number, number] => {
    let m = 0;
    for (let i = 0; i < count; i++) m += v[i];
    m /= count;
    let s = 0;
    for (let i = 0; i < count; i++) s += (v[i] - m) ** 2;
    return [m, Math.sqrt(s / count) || 1];
  };
  const [mean, std] = stats(series, trainEnd);
  const featureStats = data.features.map((f) => stats(f.values, trainEnd));
  // Calendar channels: of the date each step's window target falls on (step + horizon).
  const calStats: [number, number][] = [];
  if (calendar) {
    const cal = Array.from({ length: trainEnd }, (_, i) => calendarOf(dateAt(i)));
    for (let k = 0; k < 4; k++) calStats.push(stats(cal.map((c) => c[k]), trainEnd));
  }
  /** Writes the C channels of time step i (series value y) into x at offset. */
  const fillStep = (x: Float32Array, off: number, i: number, y: number): void => {
    x[off] = (y - mean) / std;
    data.features.forEach((f, k) => (x[off + 1 + k] = (f.values[i] - featureStats[k][0]) / featureStats[k][1]));
    if (calendar) {
      const c = calendarOf(dateAt(i + Hz));
      for (let k = 0; k < 4; k++) x[off + 1 + data.features.length + k] = (c[k] - calStats[k][0]) / calStats[k][1];
    }
  };
  const windowsOf = (first: number, count: number): SequenceDataset => {
    const x = new Float32Array(count * W * C);
    const y = new Float32Array(count);
    for (let w = 0; w < count; w++) {
      const s = first + w;
      for (let j = 0; j < W; j++) fillStep(x, (w * W + j) * C, s + j, series[s + j]);
      y[w] = (series[s + W - 1 + Hz] - mean) / std;
    }
    return { x: { data: x, shape: [count, W, C] }, y: { data: y, shape: [count, 1] } };
  };
  const train = windowsOf(0, nTrain);
  const validation = windowsOf(nTrain, nVal);
  const test = windowsOf(nTrain + nVal, nTest);

  const trainSeries = series.subarray(0, trainEnd);
  const seasonSource: 'option' | 'autocorrelation' = o.season !== undefined ? 'option' : 'autocorrelation';
  const season = o.season ?? detectSeason(trainSeries, Hz);
  const scale = seasonalScale(trainSeries, season, Hz);

  const D = o.bidirectional ? 2 : 1;
  const model = new Sequential([
    buildCell(o.cell ?? 'rnn', { inputSize: C, hiddenSize: o.hidden, bidirectional: o.bidirectional, seed: o.seed }),
    new LastStep({ directions: D as 1 | 2 }),
    new Linear({ inFeatures: D * o.hidden, outFeatures: 1, seed: o.seed + 1 }),
  ]);
  const emit = (obj: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  if (o.json) emit({ type: 'start', series: data.name, points: n, inputs, window: W, horizon: Hz, season, trainWindows: nTrain, validationWindows: nVal, testWindows: nTest });
  else {
    console.log(`series '${data.name}': ${n} points; window ${W}, horizon ${Hz}; ${nTrain} train / ${nVal} validation / ${nTest} test windows (chronological)`);
    console.log(`inputs: ${inputs.join(', ')} (normalised with training statistics)`);
    console.log(`model: ${(o.cell ?? 'rnn').toUpperCase()}(${C} -> ${o.hidden}${o.bidirectional ? ', bidirectional' : ''}) -> LastStep -> Linear(${D * o.hidden} -> 1); Adam lr ${o.lr}, batch ${o.batch}, ${o.epochs} epochs`);
    console.log(`season of the seasonal-naive baseline: ${season} (${seasonSource === 'option' ? '--season' : 'from the training part\'s autocorrelation'})`);
  }
  const trainLoss: number[] = [];
  const valLoss: number[] = [];
  let best = { loss: Infinity, epoch: 0, state: null as Record<string, Float32Array> | null };
  await fit(model, train, {
    epochs: o.epochs,
    batchSize: o.batch,
    loss: 'mse',
    optimizer: new Adam(model.parameters(), { lr: o.lr }),
    validation,
    seed: o.seed,
    onEpochEnd: ({ epoch, loss, validation: v }) => {
      const vl = v?.loss ?? NaN;
      trainLoss.push(loss);
      valLoss.push(vl);
      const isBest = vl < best.loss;
      if (isBest) best = { loss: vl, epoch, state: Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Float32Array.from(t.data)])) };
      if (o.json) emit({ type: 'epoch', epoch, loss: round(loss), valLoss: round(vl) });
      else console.log(`epoch ${String(epoch).padStart(3)}  train mse ${loss.toFixed(4)}  validation mse ${vl.toFixed(4)}${isBest ? '  *' : ''}`);
    },
  });
  // Keep the epoch that did best on validation (not simply the last one).
  if (best.state) {
    const sd = model.stateDict();
    model.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { data: best.state![k], shape: t.shape }])));
  }
  const bestEpoch = best.epoch;

  const tp = (await predict(model, test.x, { batchSize: 256 })).data;
  const firstTarget = nTrain + nVal + W + Hz - 1;
  const actual = new Float64Array(nTest);
  const predicted = new Float64Array(nTest);
  const naive = new Float64Array(nTest);
  const seasonal = new Float64Array(nTest);
  for (let i = 0; i < nTest; i++) {
    const t = firstTarget + i;
    actual[i] = series[t];
    predicted[i] = tp[i] * std + mean;
    naive[i] = series[t - Hz];
    const j = seasonalIndex(t, season, Hz);
    seasonal[i] = j >= 0 ? series[j] : NaN;
  }
  const mae = meanAbs(predicted, actual);
  const rmse = rootMeanSquare(predicted, actual);
  const naiveMae = meanAbs(naive, actual);
  const seasonalNaiveMae = meanAbs(seasonal, actual);

  // Recursive forecast past the end: each prediction becomes the next window's last value.
  const ahead: number[] = [];
  if (o.ahead > 0) {
    const ext = Array.from(series);
    const x = new Float32Array(W * C);
    for (let a = 0; a < o.ahead; a++) {
      const s = ext.length - W;
      for (let j = 0; j < W; j++) fillStep(x, j * C, s + j, ext[s + j]);
      const p = (await predict(model, { data: x, shape: [1, W, C] }, { batchSize: 1 })).data[0] * std + mean;
      ext.push(p);
      ahead.push(p);
    }
  }

  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const csvPath = join(dir, 'forecast.csv');
  const svgPath = join(dir, 'forecast.svg');
  const isoDate = (i: number): string => (dates === null ? '' : new Date(dateAt(i)).toISOString().slice(0, dates.every((d) => d % DAY_MS === 0) ? 10 : 19));
  const csv = [`index,${dates ? 'date,' : ''}part,actual,predicted,naive,seasonal_naive`];
  for (let i = 0; i < nTest; i++) {
    const t = firstTarget + i;
    csv.push(`${t},${dates ? isoDate(t) + ',' : ''}test,${actual[i]},${predicted[i].toFixed(6)},${naive[i]},${Number.isNaN(seasonal[i]) ? '' : seasonal[i]}`);
  }
  ahead.forEach((p, a) => csv.push(`${n + a},${dates ? isoDate(n + a) + ',' : ''}ahead,,${p.toFixed(6)},,`));
  writeFileSync(csvPath, csv.join('\n') + '\n');

  let modelPath: string | null = null;
  if (o.out !== undefined) {
    modelPath = resolve(o.out);
    await saveModel(model, modelPath, {
      forecast: { series: data.name, inputs, window: W, horizon: Hz, calendar, mean, std, features: data.features.map((f, k) => ({ name: f.name, mean: featureStats[k][0], std: featureStats[k][1] })), calendarStats: calStats, season, bestEpoch },
    });
  }

  writeFileSync(svgPath, forecastSvg({ name: data.name, o, series, firstTarget, predicted, seasonal, season, ahead, dateAt: dates ? dateAt : null, trainEnd, valEnd: nTrain + nVal + W + Hz - 1, mae, seasonalNaiveMae, naiveMae, trainLoss, valLoss, bestEpoch }));
  const seconds = (Date.now() - t0) / 1000;
  const summary: ForecastSummary = {
    mae: round(mae),
    rmse: round(rmse),
    naiveMae: round(naiveMae),
    naiveRmse: round(rootMeanSquare(naive, actual)),
    season,
    seasonSource,
    seasonalNaiveMae: round(seasonalNaiveMae),
    seasonalNaiveRmse: round(rootMeanSquare(seasonal, actual)),
    mase: round(mae / scale),
    seasonalNaiveMase: round(seasonalNaiveMae / scale),
    bestEpoch,
    inputs,
    plot: svgPath,
    predictions: csvPath,
    model: modelPath,
    ahead: ahead.map(round),
    trainWindows: nTrain,
    validationWindows: nVal,
    testWindows: nTest,
    seconds: round(seconds),
  };
  if (o.json) emit({ type: 'result', ...summary });
  else {
    const row = (label: string, a: number, r: number, m: number): string => `${label.padEnd(24)}${fmt(a).padStart(10)}  ${fmt(r).padStart(10)}  ${fmt(m).padStart(7)}`;
    console.log('');
    console.log(`test part (${nTest} windows), kept epoch ${bestEpoch} of ${o.epochs}:`);
    console.log(`${''.padEnd(24)}${'MAE'.padStart(10)}  ${'RMSE'.padStart(10)}  ${'MASE'.padStart(7)}`);
    console.log(row('RNN', mae, rmse, mae / scale));
    console.log(row(`seasonal naive (lag ${season})`, seasonalNaiveMae, summary.seasonalNaiveRmse, seasonalNaiveMae / scale));
    console.log(row(`naive (last value)`, naiveMae, summary.naiveRmse, naiveMae / scale));
    console.log(`RNN vs seasonal naive: MAE ${mae < seasonalNaiveMae ? 'lower' : 'higher'} by ${fmtPct(Math.abs(1 - mae / seasonalNaiveMae))}`);
    if (ahead.length > 0) console.log(`ahead (${ahead.length} steps): ${ahead.slice(0, 8).map(fmt).join(', ')}${ahead.length > 8 ? ', ...' : ''}`);
    console.log(`predictions: ${csvPath}\nplot:        ${svgPath}${modelPath ? `\nmodel:       ${modelPath}` : ''}\n(${seconds.toFixed(1)} s)`);
  }
  return summary;
}

/** What the plot shows. */
interface PlotInput {
  name: string;
  o: ForecastOptions;
  series: Float64Array;
  firstTarget: number;
  predicted: Float64Array;
  seasonal: Float64Array;
  season: number;
  ahead: number[];
  dateAt: ((i: number) => number) | null;
  trainEnd: number;
  valEnd: number;
  mae: number;
  seasonalNaiveMae: number;
  naiveMae: number;
  trainLoss: number[];
  valLoss: number[];
  bestEpoch: number;
}

/** The whole series small on top, the last few hundred points large below it, then the loss curves. */
function forecastSvg(p: PlotInput): string {
  const n = p.series.length;
  const end = n + p.ahead.length;
  const zoomFrom = Math.max(0, Math.min(p.firstTarget, end - 360));
  const label = (i: number): string => {
    if (!p.dateAt) return String(i);
    return new Date(p.dateAt(i)).toISOString().slice(0, 10);
  };
  const aheadLine = (from: number): Line[] =>
    p.ahead.length > 0 ? [{ label: `ahead (${p.ahead.length}, recursive)`, values: [p.series[n - 1], ...p.ahead], start: n - 1 - from, color: '#756bb1', width: 2 }] : [];
  const range = (a: number, b: number): Float64Array => p.series.subarray(a, b);
  return renderSvg(`rnnblas forecast: ${p.name} (window ${p.o.window}, horizon ${p.o.horizon}${p.o.bidirectional ? ', bidirectional' : ''})`, [
    {
      title: 'Whole series (shaded: validation, test)',
      xLabel: p.dateAt ? 'date' : 'time index',
      xTick: (i) => label(i),
      height: 190,
      shade: [
        [p.trainEnd, p.valEnd, '#f0f0f0'],
        [p.valEnd, n, '#fde0c5'],
      ],
      lines: [{ label: 'actual', values: p.series, color: '#333333', width: 0.8 }, { label: 'RNN (test)', values: p.predicted, start: p.firstTarget, color: '#e6550d', width: 0.8 }, ...aheadLine(0)],
    },
    {
      title: `Last ${end - zoomFrom} points — test MAE: RNN ${fmt(p.mae)}, seasonal naive (lag ${p.season}) ${fmt(p.seasonalNaiveMae)}, last value ${fmt(p.naiveMae)}`,
      xLabel: p.dateAt ? 'date' : 'time index',
      xTick: (i) => label(i + zoomFrom),
      height: 380,
      lines: [
        { label: 'actual', values: range(zoomFrom, n), color: '#333333', width: 1.2 },
        { label: `seasonal naive (lag ${p.season})`, values: p.seasonal.subarray(Math.max(0, zoomFrom - p.firstTarget)), start: Math.max(0, p.firstTarget - zoomFrom), color: '#3182bd', dashed: true, width: 1 },
        { label: 'RNN forecast', values: p.predicted.subarray(Math.max(0, zoomFrom - p.firstTarget)), start: Math.max(0, p.firstTarget - zoomFrom), color: '#e6550d', width: 1.6 },
        ...aheadLine(zoomFrom),
      ],
      xCount: end - zoomFrom,
    },
    {
      title: `Loss per epoch (MSE, normalised units; weights of epoch ${p.bestEpoch} kept)`,
      xLabel: 'epoch',
      xTick: (i) => String(i + 1),
      height: 220,
      lines: [
        { label: 'train', values: p.trainLoss, color: '#e6550d' },
        { label: 'validation', values: p.valLoss, color: '#31a354' },
      ],
    },
  ]);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

function meanAbs(p: Float64Array, a: Float64Array): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(p[i])) continue;
    s += Math.abs(p[i] - a[i]);
    k++;
  }
  return s / k;
}

function rootMeanSquare(p: Float64Array, a: Float64Array): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(p[i])) continue;
    s += (p[i] - a[i]) ** 2;
    k++;
  }
  return Math.sqrt(s / k);
}

function fmt(v: number): string {
  return v.toFixed(4);
}

function fmtPct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
