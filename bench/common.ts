/**
 * What the benchmark children share: the job they receive, the result they
 * print, the timing loop and a seeded generator for random inputs.
 *
 * A child is started with the job as JSON in argv[2] and prints exactly one
 * line `RESULT_MARK {json}` on stdout (anything else it or its libraries print
 * is ignored).
 */
import type { Workload } from './workloads.js';

/** Marker of the result line a child prints. */
export const RESULT_MARK = '@@BENCH_RESULT@@';

/** What a child is asked to do. */
export interface Job {
  /** The workloads to time, in order (one for the main table; many for the sweeps). */
  workloads: Workload[];
  /** Thread count to run with. */
  threads: number;
  /** Untimed steps first. */
  warmup: number;
  /** Timed steps (upper bound when budgetMs is set). */
  reps: number;
  /** Stop timing a workload once this much time went by (at least one timed step is always taken). */
  budgetMs?: number;
  /** Keep taking timed steps past `reps` until this much time went by (fast workloads; at most 100·reps steps). */
  minTimeMs?: number;
  /** Implementation-specific switches (e.g. the tfjs backend, overhead mode). */
  options?: Record<string, unknown>;
}

/** Timing of one workload. */
export interface Timing {
  workload: string;
  threads: number;
  /** Median ms per step. */
  ms: number;
  /** Fastest step, ms. */
  minMs: number;
  /** Timed steps taken. */
  reps: number;
  /** Anything that qualifies the number (scaled, partial, ...). */
  note?: string;
}

/** What a child prints. */
export interface ChildResult {
  impl: string;
  /** Library version string. */
  version?: string;
  timings: Timing[];
  /** Peak RSS of the whole process, MB (after all workloads). */
  peakRssMB?: number;
  /** Peak RSS before the first workload's tensors were made (imports and runtime only), MB. */
  baseRssMB?: number;
  /** Extra measurements (per-call overhead, ...). */
  extra?: Record<string, number | string>;
  notes?: string[];
  /** Set when the implementation could not run: why. */
  skipped?: string;
}

/** Reads the job from argv[2]. */
export function readJob(): Job {
  const raw = process.argv[2];
  if (!raw) throw new Error('expected the job JSON as the first argument');
  return JSON.parse(raw) as Job;
}

/** Prints the result line. */
export function emit(result: ChildResult): void {
  process.stdout.write(`\n${RESULT_MARK} ${JSON.stringify(result)}\n`);
}

/** Peak RSS of this process so far, MB (process.resourceUsage().maxRSS is in kB). */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Median of the values. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Times `step` (sync or async): `warmup` untimed calls, then `reps` timed ones
 * (more, up to 100·reps, until minTimeMs has gone by), stopping early once
 * budgetMs has gone by (at least one timed call). When the
 * first warm-up call alone exceeds the budget, it is returned as the only
 * sample (`cold` is set): a step that long is not measurably warmer the second
 * time, and repeating it would take minutes.
 */
export async function timeSteps(step: () => unknown, warmup: number, reps: number, budgetMs = Infinity, minTimeMs = 0): Promise<{ samples: number[]; cold: boolean }> {
  const start = performance.now();
  for (let i = 0; i < warmup; i++) {
    await step();
    const elapsed = performance.now() - start;
    if (i === 0 && elapsed > budgetMs) return { samples: [elapsed], cold: true };
    if (elapsed > budgetMs) break;
  }
  const samples: number[] = [];
  const timedStart = performance.now();
  for (let i = 0; i < 100 * reps; i++) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
    const elapsed = performance.now() - timedStart;
    if (elapsed > budgetMs || (i + 1 >= reps && elapsed >= minTimeMs)) break;
  }
  return { samples, cold: false };
}

/** A Timing from timeSteps' result; notes a cold single step or a budget cut short of `reps`. */
export function timing(w: Workload, threads: number, r: { samples: number[]; cold: boolean }, reps?: number): Timing {
  const { samples, cold } = r;
  const note = cold ? 'one cold step (exceeded the time budget)' : reps !== undefined && samples.length < reps ? `time budget: ${samples.length} of ${reps} reps` : undefined;
  return { workload: w.id, threads, ms: median(samples), minMs: Math.min(...samples), reps: samples.length, ...(note ? { note } : {}) };
}

/** Small fast seeded generator (mulberry32) for inputs and targets. */
export class Lcg {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** n floats uniform in [lo, hi). */
  floats(n: number, lo = -1, hi = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * this.next();
    return a;
  }
  /** n integers in [0, k). */
  ints(n: number, k: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.floor(this.next() * k);
    return a;
  }
}

/** Runs main() of a child, turning any failure into a `skipped` result rather than a crash. */
export function runChild(impl: string, main: (job: Job) => Promise<ChildResult>): void {
  let job: Job;
  try {
    job = readJob();
  } catch (e) {
    emit({ impl, timings: [], skipped: `bad job: ${(e as Error).message}` });
    return;
  }
  main(job).then(
    (r) => {
      emit(r);
      // Some runtimes (wasm threads, ORT) keep the loop alive; the result is out, so leave.
      process.exit(0);
    },
    (e: unknown) => {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      emit({ impl, timings: [], skipped: `error: ${msg}` });
      process.exit(0);
    },
  );
}
