/**
 * Metrics of fit and evaluate: accuracy (class targets) and mean absolute error (float
 * targets), over the same counted positions as the loss: every unpadded, non-ignored step
 * for per-step targets, every sequence for per-sequence targets.
 */
import type { TargetKind } from '../data/dataset.js';
import { describe, rangeError, typeError } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import type { BatchLoss } from './loss.js';
import { perStep } from './loss.js';

/** The metrics fit and evaluate compute. */
export type MetricName = 'accuracy' | 'mae';

/** Metric values by name (only the metrics asked for). */
export type MetricValues = Partial<Record<MetricName, number>>;

const NAMES: readonly MetricName[] = ['accuracy', 'mae'];

/** Running sums of the metrics (their mean is sum / count). */
export type MetricSums = Partial<Record<MetricName, { sum: number; count: number }>>;

/** Checks a list of metric names against the targets: accuracy needs class ids, mae float targets. */
export function checkMetrics(name: string, v: unknown, target: TargetKind): MetricName[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw typeError(name, "an array of metric names ('accuracy', 'mae')", v);
  const out: MetricName[] = [];
  v.forEach((m: unknown, i) => {
    if (typeof m !== 'string' || !(NAMES as readonly string[]).includes(m)) {
      throw (typeof m === 'string' ? rangeError : typeError)(`${name}[${i}]`, "one of 'accuracy', 'mae'", typeof m === 'string' ? describe(m) : m);
    }
    const classes = target === 'classPerStep' || target === 'classPerSequence';
    if (m === 'accuracy' && !classes) throw rangeError(`${name}[${i}]`, "'mae' for float targets (accuracy needs class-id targets)", describe(m));
    if (m === 'mae' && classes) throw rangeError(`${name}[${i}]`, "'accuracy' for class-id targets (mae needs float targets)", describe(m));
    if (out.includes(m as MetricName)) throw rangeError(`${name}[${i}]`, 'each metric once', `${describe(m)} twice`);
    out.push(m as MetricName);
  });
  return out;
}

/**
 * The metric sums of one batch's output (time-major, as the loss) against its targets;
 * `r` is the batch's loss (its counted positions and correct arg-maxes).
 */
export function batchMetricSums(names: readonly MetricName[], out: Tensor, y: Tensor | IntTensor, target: TargetKind, valid: Int32Array | null, r: BatchLoss): MetricSums {
  const sums: MetricSums = {};
  for (const m of names) {
    if (m === 'accuracy') {
      sums.accuracy = { sum: r.correct, count: r.count };
      continue;
    }
    // mae over the counted elements (rows inside each sequence's valid length).
    const step = perStep(target);
    const C = out.shape[out.shape.length - 1];
    const T = step ? out.shape[0] : 1;
    const B = step ? out.shape[1] : out.shape[0];
    const d = out.data;
    const t = (y as Tensor).data;
    let sum = 0;
    for (let s = 0; s < T; s++) {
      for (let b = 0; b < B; b++) {
        if (step && valid && s >= valid[b]) continue;
        const row = (s * B + b) * C;
        for (let c = 0; c < C; c++) sum += Math.abs(d[row + c] - t[row + c]);
      }
    }
    sums.mae = { sum, count: r.count };
  }
  return sums;
}

/** Adds `b` into `a`. */
export function addSums(a: MetricSums, b: MetricSums): void {
  for (const k of Object.keys(b) as MetricName[]) {
    const x = b[k] as { sum: number; count: number };
    const acc = a[k];
    if (acc) {
      acc.sum += x.sum;
      acc.count += x.count;
    } else {
      a[k] = { sum: x.sum, count: x.count };
    }
  }
}

/** The means of running sums (NaN where nothing counted). */
export function meanOf(sums: MetricSums, names: readonly MetricName[]): MetricValues {
  const out: MetricValues = {};
  for (const m of names) {
    const s = sums[m];
    out[m] = s && s.count > 0 ? s.sum / s.count : NaN;
  }
  return out;
}
