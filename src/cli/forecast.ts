/**
 * `rnnblas forecast`: sequence-to-one regression on a univariate series
 * (RNN -> LastStep -> Linear) with the library's slidingWindows,
 * chronologicalSplit, fit and predict; inputs normalised with train-split
 * statistics; compared with the naive last-value forecast; writes predictions
 * (CSV) and a plot (SVG).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setNumThreads } from '../blas.js';
import { slidingWindows } from '../data/builders.js';
import { chronologicalSplit, type SequenceDataset } from '../data/dataset.js';
import { LastStep } from '../nn/last_step.js';
import { Linear } from '../nn/linear.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Adam } from '../optim/index.js';
import { fit, predict } from '../train/fit.js';
import { syntheticSeries } from './corpus/series.js';
import { UsageError, requireFile } from './errors.js';
import { renderSvg } from './svg.js';

/** Options of `rnnblas forecast`. */
export interface ForecastOptions {
  /** CSV file (default: embedded synthetic series). */
  csv?: string;
  /** Column name (default: last numeric column). */
  column?: string;
  /** Input window. */
  window: number;
  /** Steps ahead. */
  horizon: number;
  /** Hidden size. */
  hidden: number;
  /** Bidirectional RNN. */
  bidirectional: boolean;
  /** Epochs. */
  epochs: number;
  /** Batch size. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** Validation fraction. */
  validation: number;
  /** Seed. */
  seed: number;
  /** BLAS threads. */
  threads?: number;
  /** Output directory. */
  outDir: string;
  /** JSON lines. */
  json: boolean;
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

/** Reads one numeric column of a CSV file with a header row. */
export function readCsvColumn(path: string, column: string | undefined): { name: string; values: Float64Array } {
  const lines = readFileSync(requireFile('--csv', path), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new UsageError(`--csv: ${path} needs a header row and at least one data row`);
  const header = splitCsvLine(lines[0]);
  const rows = lines.slice(1).map(splitCsvLine);
  let col: number;
  if (column !== undefined) {
    col = header.indexOf(column);
    if (col < 0) throw new UsageError(`--column: no column '${column}' in ${path} (columns: ${header.join(', ')})`);
  } else {
    col = -1;
    for (let c = header.length - 1; c >= 0; c--) {
      if (rows.every((r) => r[c] !== undefined && r[c] !== '' && Number.isFinite(Number(r[c])))) {
        col = c;
        break;
      }
    }
    if (col < 0) throw new UsageError(`--csv: ${path} has no all-numeric column; choose one with --column`);
  }
  const values = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    const v = Number(r[col]);
    if (r[col] === undefined || r[col] === '' || !Number.isFinite(v)) {
      throw new UsageError(`--csv: ${path} line ${i + 2}: column '${header[col]}' is not a number: '${r[col] ?? ''}'`);
    }
    values[i] = v;
  });
  return { name: header[col], values };
}

/** Summary of a forecast run (the JSON summary line). */
export interface ForecastSummary {
  /** Model MAE on validation (original units). */
  mae: number;
  /** Model RMSE on validation. */
  rmse: number;
  /** Naive last-value MAE. */
  naiveMae: number;
  /** Naive last-value RMSE. */
  naiveRmse: number;
  /** SVG path. */
  plot: string;
  /** CSV path. */
  predictions: string;
  /** Window counts. */
  trainWindows: number;
  /** Validation windows. */
  validationWindows: number;
  /** Seconds. */
  seconds: number;
}

/** The dataset with only the last of its `horizon` targets per window (`y` `[N, 1]`). */
function lastTargetColumn(d: SequenceDataset, horizon: number): SequenceDataset {
  const N = d.y.shape[0];
  return { x: d.x, y: { data: Float32Array.from({ length: N }, (_, i) => d.y.data[i * horizon + horizon - 1]), shape: [N, 1] } };
}

/** Runs the forecast command. */
export async function runForecast(o: ForecastOptions): Promise<ForecastSummary> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const t0 = Date.now();
  const { name, values: series } = o.csv === undefined ? { name: 'synthetic', values: syntheticSeries() } : readCsvColumn(o.csv, o.column);
  const W = o.window;
  const Hz = o.horizon;
  const nWin = series.length - W - Hz + 1;
  if (nWin < 4) throw new UsageError(`the series has ${series.length} points; --window ${W} + --horizon ${Hz} needs at least ${W + Hz + 3}`);
  const nVal = Math.max(1, Math.round(nWin * o.validation));
  const nTrain = nWin - nVal;
  if (nTrain < 1) throw new UsageError(`--validation ${o.validation} leaves no training windows`);
  // Train-split statistics: the points the training windows and targets cover.
  const trainPoints = series.subarray(0, nTrain + W + Hz - 1);
  const mean = trainPoints.reduce((a, b) => a + b, 0) / trainPoints.length;
  const std = Math.sqrt(trainPoints.reduce((a, b) => a + (b - mean) ** 2, 0) / trainPoints.length) || 1;
  const z = Float32Array.from(series, (v) => (v - mean) / std);
  // Windows of W points, each with the point Hz steps after it as its target.
  const windows = lastTargetColumn(slidingWindows(z, { window: W, horizon: Hz }), Hz);
  // The first nTrain windows train (chronologicalSplit keeps round(nWin * fraction) = nTrain).
  const { train, validation } = chronologicalSplit(windows, nTrain / nWin);

  const D = o.bidirectional ? 2 : 1;
  const model = new Sequential([
    new RNN({ inputSize: 1, hiddenSize: o.hidden, bidirectional: o.bidirectional, seed: o.seed }),
    new LastStep({ directions: D as 1 | 2 }),
    new Linear({ inFeatures: D * o.hidden, outFeatures: 1, seed: o.seed + 1 }),
  ]);
  const emit = (obj: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  if (!o.json) {
    console.log(`series '${name}': ${series.length} points; window ${W}, horizon ${Hz}; ${nTrain} train / ${nVal} validation windows (chronological)`);
    console.log(`model: RNN(1 -> ${o.hidden}${o.bidirectional ? ', bidirectional' : ''}) -> LastStep -> Linear(${D * o.hidden} -> 1); Adam lr ${o.lr}, batch ${o.batch}`);
  }
  const trainLoss: number[] = [];
  const valLoss: number[] = [];
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
      if (o.json) emit({ type: 'epoch', epoch, loss: round(loss), valLoss: round(vl) });
      else console.log(`epoch ${String(epoch).padStart(3)}  train mse ${loss.toFixed(4)}  validation mse ${vl.toFixed(4)}  (normalised units)`);
    },
  });

  const vp = (await predict(model, validation.x, { batchSize: 256 })).data;
  const actual = new Float64Array(nVal);
  const predicted = new Float64Array(nVal);
  const naive = new Float64Array(nVal);
  let ae = 0;
  let se = 0;
  let nae = 0;
  let nse = 0;
  for (let i = 0; i < nVal; i++) {
    const s = nTrain + i;
    actual[i] = series[s + W + Hz - 1];
    predicted[i] = vp[i] * std + mean;
    naive[i] = series[s + W - 1];
    ae += Math.abs(predicted[i] - actual[i]);
    se += (predicted[i] - actual[i]) ** 2;
    nae += Math.abs(naive[i] - actual[i]);
    nse += (naive[i] - actual[i]) ** 2;
  }
  const mae = ae / nVal;
  const rmse = Math.sqrt(se / nVal);
  const naiveMae = nae / nVal;
  const naiveRmse = Math.sqrt(nse / nVal);

  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const csvPath = join(dir, 'forecast.csv');
  const svgPath = join(dir, 'forecast.svg');
  const firstIndex = nTrain + W + Hz - 1;
  const csv = ['index,actual,predicted,naive'];
  for (let i = 0; i < nVal; i++) csv.push(`${firstIndex + i},${actual[i]},${predicted[i].toFixed(6)},${naive[i]}`);
  writeFileSync(csvPath, csv.join('\n') + '\n');
  writeFileSync(
    svgPath,
    renderSvg(`rnnblas forecast: ${name} (window ${W}, horizon ${Hz}${o.bidirectional ? ', bidirectional' : ''})`, [
      {
        title: `Validation: MAE ${fmt(mae)} (naive ${fmt(naiveMae)}), RMSE ${fmt(rmse)} (naive ${fmt(naiveRmse)})`,
        xLabel: 'time index',
        xOffset: firstIndex,
        lines: [
          { label: 'actual', values: actual, color: '#333333', width: 1.2 },
          { label: 'RNN forecast', values: predicted, color: '#e6550d', width: 1.8 },
          { label: 'naive (last value)', values: naive, color: '#3182bd', dashed: true, width: 1 },
        ],
      },
      {
        title: 'Loss per epoch (MSE, normalised units)',
        xLabel: 'epoch',
        xOffset: 1,
        lines: [
          { label: 'train', values: trainLoss, color: '#e6550d' },
          { label: 'validation', values: valLoss, color: '#31a354' },
        ],
      },
    ]),
  );
  const seconds = (Date.now() - t0) / 1000;
  const summary: ForecastSummary = {
    mae: round(mae),
    rmse: round(rmse),
    naiveMae: round(naiveMae),
    naiveRmse: round(naiveRmse),
    plot: svgPath,
    predictions: csvPath,
    trainWindows: nTrain,
    validationWindows: nVal,
    seconds: round(seconds),
  };
  if (o.json) emit({ type: 'result', ...summary });
  else {
    console.log('');
    console.log(`              MAE        RMSE`);
    console.log(`RNN       ${fmt(mae).padStart(8)}  ${fmt(rmse).padStart(10)}`);
    console.log(`naive     ${fmt(naiveMae).padStart(8)}  ${fmt(naiveRmse).padStart(10)}`);
    console.log(`predictions: ${csvPath}\nplot:        ${svgPath}\n(${seconds.toFixed(1)} s)`);
  }
  return summary;
}

function fmt(v: number): string {
  return v.toFixed(4);
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
