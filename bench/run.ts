/**
 * The rnnblas benchmark suite: W1-W5 (BENCHMARKS.md) on rnnblas and its peers,
 * each implementation and workload in its own child process.
 *
 *   npx tsx bench/run.ts [--quick] [--only W1,W3] [--threads 2,1] [--json out.json] [--rounds 2]
 *                        [--peers pytorch,onnxruntime,tfjs-wasm,tfjs-cpu,reference]
 *                        [--neighbour | --no-neighbour]
 *                        [--results bench/RESULTS.md | --no-results]
 *
 * --neighbour (on by default in a full run): W1 and F1 again, rnnblas and
 * PyTorch at every thread count, while one other CPU-bound process runs.
 *
 * Prints Markdown tables on stdout (progress goes to stderr). A full run
 * (no --quick, no --only) also writes bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { blasInfo, setNumThreads } from '../src/blas.js';
import { native } from '../src/native/binding.js';
import { median, type ChildResult, type Job, type Timing } from './common.js';
import { BENCH_DIR, IMPL_LABEL, runChildProcess, type Impl } from './spawn.js';
import { sgemmRates } from './sgemm_rates.js';
import { WORKLOADS, flopCount, flops, workload, type Workload } from './workloads.js';

// ---------------------------------------------------------------- arguments

interface Args {
  quick: boolean;
  only: Workload[] | null;
  threads: number[];
  json: string | null;
  results: string | null;
  peers: Impl[];
  rounds: number | null;
  neighbour: boolean;
}

const ALL_PEERS: Impl[] = ['pytorch', 'onnxruntime', 'tfjs-wasm', 'tfjs-cpu', 'reference'];

function parseArgs(argv: string[]): Args {
  const cores = availableParallelism();
  const a: Args = { quick: false, only: null, threads: [...new Set([cores, 1])], json: null, results: null, peers: ALL_PEERS, rounds: null, neighbour: false };
  let results: string | null | undefined;
  let neighbour: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--only') a.only = value().split(',').map((s) => workload(s.trim()));
    else if (arg === '--threads') {
      a.threads = value().split(',').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--threads: '${s}' is not a positive integer`);
        return n;
      });
    } else if (arg === '--json') a.json = value();
    else if (arg === '--rounds') {
      a.rounds = Number(value());
      if (!Number.isInteger(a.rounds) || a.rounds < 1) throw new Error('--rounds needs a positive integer');
    }
    else if (arg === '--neighbour') neighbour = true;
    else if (arg === '--no-neighbour') neighbour = false;
    else if (arg === '--results') results = value();
    else if (arg === '--no-results') results = null;
    else if (arg === '--peers') {
      const v = value();
      a.peers = v === 'none' ? [] : v.split(',').map((s) => {
        if (!ALL_PEERS.includes(s as Impl)) throw new Error(`--peers: unknown '${s}' (known: ${ALL_PEERS.join(', ')}, none)`);
        return s as Impl;
      });
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(readFileSync(new URL(import.meta.url)).toString().split('*/')[0] + '*/\n');
      process.exit(0);
    } else throw new Error(`unknown argument '${arg}' (try --help)`);
  }
  a.results = results !== undefined ? results : !a.quick && !a.only ? join(BENCH_DIR, 'RESULTS.md') : null;
  a.neighbour = neighbour ?? (!a.quick && !a.only);
  return a;
}

// ------------------------------------------------------------- measurements

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/**
 * GFLOP/s of cblas_sgemm 2048³ (row-major, no transposes) at n threads: the higher of the medians
 * with OpenBLAS's own threads and with rnnblas' team (OpenBLAS single-threaded on each share), so
 * "% of peak" is measured against the best this BLAS does on the machine.
 */
function sgemmPeak(n: number, reps: number): number {
  setNumThreads(n);
  try {
    native.setGemmThreading('openblas');
    const own = sgemmMedian(reps);
    native.setGemmThreading('team');
    return Math.max(own, sgemmMedian(reps));
  } finally {
    native.setGemmThreading('team');
  }
}

function sgemmMedian(reps: number): number {
  return median(sgemmRates(reps));
}

interface Plan {
  rounds: number;
  warmup: number;
  reps: number;
  minTimeMs: number;
  slowWarmup: number;
  slowReps: number;
  slowBudgetMs: number;
  peakReps: number;
}

function plan(quick: boolean, rounds: number | null): Plan {
  const p = quick
    ? { rounds: 1, warmup: 1, reps: 5, minTimeMs: 200, slowWarmup: 1, slowReps: 1, slowBudgetMs: 5_000, peakReps: 3 }
    : { rounds: 2, warmup: 3, reps: 25, minTimeMs: 1000, slowWarmup: 1, slowReps: 3, slowBudgetMs: 30_000, peakReps: 10 };
  return rounds ? { ...p, rounds } : p;
}

/** Everything one run measured. */
export interface RunReport {
  meta: {
    date: string;
    cpu: string;
    cores: number;
    node: string;
    openblas: string;
    openblasCore: string;
    openblasConfig: string;
    /** OPENBLAS_CORETYPE as set for the run (rnnblas and every peer inherit it), or ''. */
    openblasCoretype: string;
    threads: number[];
    quick: boolean;
    plan: Plan;
    versions: Record<string, string>;
  };
  /** sgemm 2048³ GFLOP/s per thread count: every measurement (start of each round, end) and the peak used (the largest). */
  peaks: Record<string, { measured: number[]; peak: number }>;
  workloads: Workload[];
  /** bench/thread_pair.ts under the busy neighbour: the default thread count against 1, alternating in one process. */
  pairs?: Array<{ workload: string; threads: number; msMany: number; msOne: number; ratio: number }>;
  /** Every child's result, as printed (neighbour: measured while a busy neighbour process ran). */
  children: Array<ChildResult & { job: { threads: number; workloads: string[]; neighbour?: boolean } }>;
}

/** The workloads measured again under a busy neighbour (BENCHMARKS.md). */
const NEIGHBOUR_WORKLOADS = ['W1', 'F1'];

/** Starts one CPU-bound process (the busy neighbour); returns its stopper. */
function startNeighbour(): () => Promise<void> {
  const p = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  return () => new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

/** bench/thread_pair.ts in a child process (the neighbour already running): its JSON line. */
function threadPair(workload: string, threads: number, blocks: number): Promise<{ workload: string; threads: number; msMany: number; msOne: number; ratio: number }> {
  return new Promise((resolve, reject) => {
    const script = join(BENCH_DIR, 'thread_pair.ts');
    const p = spawn(process.execPath, ['--import', 'tsx', script, '--workload', workload, '--threads', String(threads), '--blocks', String(blocks), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`bench/thread_pair.ts ${workload} exited with ${code}`));
        return;
      }
      resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
    });
  });
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1].trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function measure(args: Args): Promise<RunReport> {
  const p = plan(args.quick, args.rounds);
  const ws = args.only ?? [...WORKLOADS];
  const info = blasInfo();
  const report: RunReport = {
    meta: {
      date: new Date().toISOString(),
      cpu: cpuModel(),
      cores: availableParallelism(),
      node: process.version,
      openblas: info.version,
      openblasCore: info.core,
      openblasConfig: info.config,
      openblasCoretype: process.env.OPENBLAS_CORETYPE ?? '',
      threads: args.threads,
      quick: args.quick,
      plan: p,
      versions: {},
    },
    peaks: {},
    workloads: ws,
    children: [],
  };
  const add = (r: ChildResult, job: Job, neighbour = false) => {
    report.children.push({ ...r, job: { threads: job.threads, workloads: job.workloads.map((w) => w.id), neighbour } });
    if (r.version) report.meta.versions[r.impl] = r.version;
    const what = job.workloads.map((w) => w.id).join(',') || 'overhead';
    if (r.skipped) log(`  ${IMPL_LABEL[r.impl as Impl] ?? r.impl} ${what} @${job.threads}: skipped: ${r.skipped}`);
    for (const t of r.timings) log(`  ${IMPL_LABEL[r.impl as Impl] ?? r.impl} ${t.workload} @${t.threads}: ${t.ms.toFixed(3)} ms (${t.reps} reps)${t.note ? ` [${t.note}]` : ''}`);
  };
  const peers = new Set(args.peers);

  const measurePeaks = () => {
    log(`sgemm 2048³ peak at ${args.threads.join(', ')} thread(s)...`);
    for (const n of args.threads) {
      const e = (report.peaks[n] ??= { measured: [], peak: 0 });
      e.measured.push(sgemmPeak(n, p.peakReps));
      e.peak = Math.max(...e.measured);
    }
  };

  // Rounds: the multi-threaded implementations run back to back per workload (rnnblas first in even
  // rounds, last in odd ones); the report keeps each one's best round median.
  for (let round = 0; round < p.rounds; round++) {
    measurePeaks();
    for (const n of args.threads) {
      log(`round ${round + 1}/${p.rounds}, threads = ${n}`);
      for (const w of ws) {
        const job: Job = { workloads: [w], threads: n, warmup: p.warmup, reps: p.reps, minTimeMs: p.minTimeMs, options: { adjacentPeak: true } };
        const order: Impl[] = ['rnnblas'];
        if (peers.has('pytorch')) order.push('pytorch');
        if (peers.has('onnxruntime') && w.work === 'forward') order.push('onnxruntime');
        if (round % 2 === 1) order.reverse();
        for (const impl of order) add(await runChildProcess(impl, job), job);
      }
      if (round === 0) {
        const oj: Job = { workloads: [], threads: n, warmup: 0, reps: 0, options: { overhead: true } };
        add(await runChildProcess('rnnblas', oj), oj);
        if (peers.has('pytorch')) add(await runChildProcess('pytorch', oj), oj);
      }
    }
  }
  // Single-threaded peers: measured once, at 1 thread (tfjs-wasm has no threads in Node; tfjs-cpu and the reference are plain JS).
  for (const impl of ['tfjs-wasm', 'tfjs-cpu', 'reference'] as const) {
    if (!peers.has(impl)) continue;
    log(`${IMPL_LABEL[impl]} (single-threaded, measured once)`);
    for (const w of ws) {
      const job: Job = { workloads: [w], threads: 1, warmup: p.slowWarmup, reps: p.slowReps, budgetMs: p.slowBudgetMs, options: { targetMs: 300 } };
      add(await runChildProcess(impl, job), job);
    }
  }

  if (args.neighbour) {
    const nws = ws.filter((w) => NEIGHBOUR_WORKLOADS.includes(w.id));
    for (let round = 0; round < p.rounds && nws.length > 0; round++) {
      log(`busy neighbour, round ${round + 1}/${p.rounds}`);
      const stop = startNeighbour();
      try {
        for (const w of nws) {
          for (const n of args.threads) {
            const job: Job = { workloads: [w], threads: n, warmup: p.warmup, reps: p.reps, minTimeMs: p.minTimeMs };
            const order: Impl[] = peers.has('pytorch') ? ['rnnblas', 'pytorch'] : ['rnnblas'];
            if (round % 2 === 1) order.reverse();
            for (const impl of order) add(await runChildProcess(impl, job), job, true);
          }
        }
        // Separate processes minutes apart also measure the host's drift: the same ratio from
        // blocks alternating in one process (bench/thread_pair.ts), once per round.
        const many = Math.max(...args.threads);
        if (args.threads.includes(1) && many > 1) {
          for (const w of nws) (report.pairs ??= []).push(await threadPair(w.id, many, args.quick ? 6 : 20));
        }
      } finally {
        await stop();
      }
    }
  }

  measurePeaks();
  return report;
}

// ------------------------------------------------------------------ report

const SINGLE_THREADED: ReadonlySet<string> = new Set(['tfjs-wasm', 'tfjs-cpu', 'reference']);

/**
 * The timing of impl on workload id at n threads: with several rounds, the one
 * with the lowest median (single-threaded peers: their one measurement).
 */
function find(r: RunReport, impl: string, id: string, n: number): Timing | undefined {
  return findChild(r, impl, id, n)?.timing;
}

function findChild(r: RunReport, impl: string, id: string, n: number, neighbour = false): { child: RunReport['children'][number]; timing: Timing } | undefined {
  let best: { child: RunReport['children'][number]; timing: Timing } | undefined;
  for (const c of r.children) {
    if (c.impl !== impl || Boolean(c.job.neighbour) !== neighbour) continue;
    for (const t of c.timings) {
      if (t.workload === id && (SINGLE_THREADED.has(impl) || t.threads === n) && (!best || t.ms < best.timing.ms)) best = { child: c, timing: t };
    }
  }
  return best;
}

/**
 * rnnblas' speed on id at n threads as a percentage of sgemm calls made between its steps (the
 * highest over rounds, as the reported time is the best round's): robust to the host's drift.
 */
function adjacentPct(r: RunReport, id: string, n: number): number | undefined {
  const v = r.children.flatMap((c) => {
    const x = c.impl === 'rnnblas' && !c.job.neighbour && c.job.threads === n ? c.extra?.[`${id}:adjacentPeakPct`] : undefined;
    return typeof x === 'number' ? [x] : [];
  });
  return v.length > 0 ? Math.max(...v) : undefined;
}

/** Medians of every round for impl/id/n, in run order. */
function roundMedians(r: RunReport, impl: string, id: string, n: number, neighbour = false): number[] {
  return r.children.flatMap((c) => (c.impl === impl && Boolean(c.job.neighbour) === neighbour ? c.timings.filter((t) => t.workload === id && t.threads === n).map((t) => t.ms) : []));
}

function skipReason(r: RunReport, impl: string, id: string, n: number): string | undefined {
  const c = r.children.find((x) => x.impl === impl && !x.job.neighbour && x.job.workloads.includes(id) && (SINGLE_THREADED.has(impl) || x.job.threads === n));
  if (c?.skipped) return c.skipped;
  const note = c?.notes?.find((s) => s.startsWith(`${id}: skipped`));
  return note ? note.slice(id.length + 2) : undefined;
}

const fmt = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 1000 ? x.toFixed(0) : x >= 100 ? x.toFixed(1) : x.toFixed(d));
const fmtMs = (x: number | undefined) => (x === undefined ? '–' : x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0));
const ratio = (peer: Timing | undefined, ours: Timing | undefined) => (peer && ours ? peer.ms / ours.ms : undefined);
const fmtRatio = (x: number | undefined) => (x === undefined ? '–' : `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`);

const PEER_COLUMNS: Impl[] = ['pytorch', 'onnxruntime', 'tfjs-wasm', 'tfjs-cpu', 'reference'];

function summaryTable(r: RunReport): string {
  const head = ['Workload', 'work', 'threads', 'rnnblas ms/step', 'GFLOP/s', '% sgemm peak', '% adjacent sgemm', ...PEER_COLUMNS.flatMap((p) => [`${IMPL_LABEL[p]} ms`, `× ${IMPL_LABEL[p]}`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`];
  for (const n of r.meta.threads) {
    for (const w of r.workloads) {
      const ours = find(r, 'rnnblas', w.id, n);
      const gf = ours ? flops(w) / (ours.ms * 1e6) : undefined;
      const peak = r.peaks[n]?.peak;
      const adjacent = adjacentPct(r, w.id, n);
      const cells = [w.id, w.work, String(n), fmtMs(ours?.ms), fmt(gf, 1), gf && peak ? `${(100 * gf / peak).toFixed(0)}%` : '–', adjacent === undefined ? '–' : `${adjacent.toFixed(0)}%`];
      for (const p of PEER_COLUMNS) {
        const t = find(r, p, w.id, n);
        cells.push(t ? `${fmtMs(t.ms)}${t.note?.startsWith('float64') ? '†' : t.note ? '*' : ''}` : '–', fmtRatio(ratio(t, ours)));
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

function detailTable(r: RunReport): string {
  const lines = ['| Workload | threads | implementation | ms/step (median) | min ms | GFLOP/s | % sgemm peak | reps | medians of each round | rnnblas speed-up | note |', '|---|---|---|---:|---:|---:|---:|---:|---|---:|---|'];
  for (const w of r.workloads) {
    for (const n of r.meta.threads) {
      const ours = find(r, 'rnnblas', w.id, n);
      for (const impl of ['rnnblas', ...PEER_COLUMNS]) {
        if (SINGLE_THREADED.has(impl) && n !== Math.min(...r.meta.threads)) continue;
        const t = find(r, impl, w.id, n);
        const label = IMPL_LABEL[impl as Impl];
        if (!t) {
          const why = skipReason(r, impl, w.id, n);
          if (why) lines.push(`| ${w.id} | ${n} | ${label} | – | – | – | – | – | – | – | skipped: ${why} |`);
          continue;
        }
        const gf = flops(w) / (t.ms * 1e6);
        const peak = r.peaks[n]?.peak;
        lines.push(`| ${w.id} | ${SINGLE_THREADED.has(impl) ? '1 (only)' : n} | ${label} | ${fmtMs(t.ms)} | ${fmtMs(t.minMs)} | ${fmt(gf, 2)} | ${peak ? `${(100 * gf / peak).toFixed(0)}%` : '–'} | ${t.reps} | ${SINGLE_THREADED.has(impl) ? '' : roundMedians(r, impl, w.id, n).map(fmtMs).join(', ')} | ${impl === 'rnnblas' ? '' : fmtRatio(ratio(t, ours))} | ${t.note ?? ''} |`);
      }
    }
  }
  return lines.join('\n');
}

function memoryTable(r: RunReport): string {
  const n = r.meta.threads[0];
  const lines = [`Peak resident memory of the benchmark process (one process per workload, ${n} thread(s)); Δ = peak minus the peak before the workload's data was made (runtime and imports only).`, '',
    '| Workload | rnnblas peak RSS MB | rnnblas Δ MB | PyTorch peak RSS MB | PyTorch Δ MB |', '|---|---:|---:|---:|---:|'];
  for (const w of r.workloads) {
    const c = (impl: string) => findChild(r, impl, w.id, n)?.child;
    const a = c('rnnblas');
    const b = c('pytorch');
    const d = (x: ChildResult | undefined) => (x?.peakRssMB !== undefined && x.baseRssMB !== undefined ? x.peakRssMB - x.baseRssMB : undefined);
    lines.push(`| ${w.id} | ${fmt(a?.peakRssMB, 0)} | ${fmt(d(a), 0)} | ${fmt(b?.peakRssMB, 0)} | ${fmt(d(b), 0)} |`);
  }
  return lines.join('\n');
}

function overheadTable(r: RunReport): string {
  const lines = ['Per-call overhead of a one-step stateful call (T=1, B=1, I=64, H=128, h0 fed back), median µs per call:', '',
    '| threads | rnnblas `RNN.forward` µs | raw `native.forward` µs | PyTorch `nn.RNN` (inference_mode) µs |', '|---|---:|---:|---:|'];
  for (const n of r.meta.threads) {
    const c = (impl: string) => r.children.find((x) => x.impl === impl && x.job.threads === n && x.job.workloads.length === 0);
    const a = c('rnnblas')?.extra;
    const b = c('pytorch')?.extra;
    lines.push(`| ${n} | ${fmt(a?.overheadModuleUs as number | undefined, 1)} | ${fmt(a?.overheadNativeUs as number | undefined, 1)} | ${fmt(b?.overheadModuleUs as number | undefined, 1)} |`);
  }
  return lines.join('\n');
}

function neighbourTable(r: RunReport): string | null {
  if (!r.children.some((c) => c.job.neighbour)) return null;
  const th = r.meta.threads;
  const dflt = Math.max(...th);
  const lines = [
    `The same train steps while one other CPU-bound process (\`node -e 'for(;;){}'\`) runs on this ${r.meta.cores}-core machine. Target: rnnblas at the default thread count (${dflt}) at most 1.1× its 1-thread time. Lowest round median; every round's median in brackets. "In one process": \`bench/thread_pair.ts\`, blocks of steps alternating the two thread counts in one process under the same neighbour (separate processes minutes apart also measure the host's drift).`,
    '',
    `| Workload | ${th.map((n) => `rnnblas ms @${n}`).join(' | ')} | rnnblas @${dflt} / @1 | @${dflt} / @1 in one process (per round) | ${th.map((n) => `PyTorch ms @${n}`).join(' | ')} | × PyTorch (each at its best) | quiet rnnblas ms @${dflt} |`,
    `|---|${th.map(() => '---:').join('|')}|---:|---:|${th.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const id of NEIGHBOUR_WORKLOADS) {
    if (!r.workloads.some((w) => w.id === id)) continue;
    const ours = th.map((n) => findChild(r, 'rnnblas', id, n, true)?.timing);
    const torch = th.map((n) => findChild(r, 'pytorch', id, n, true)?.timing);
    const cell = (t: Timing | undefined, impl: string, n: number) => t ? `${fmtMs(t.ms)} (${roundMedians(r, impl, id, n, true).map(fmtMs).join(', ')})` : '–';
    const atDefault = ours[th.indexOf(dflt)];
    const atOne = ours[th.indexOf(1)];
    const bestOurs = Math.min(...ours.filter((t): t is Timing => t !== undefined).map((t) => t.ms));
    const bestTorch = Math.min(...torch.filter((t): t is Timing => t !== undefined).map((t) => t.ms));
    const pairs = (r.pairs ?? []).filter((p) => p.workload === id).map((p) => p.ratio.toFixed(2));
    lines.push(`| ${id} | ${ours.map((t, i) => cell(t, 'rnnblas', th[i])).join(' | ')} | ${atDefault && atOne ? `${(atDefault.ms / atOne.ms).toFixed(2)}` : '–'} | ${pairs.length > 0 ? pairs.join(', ') : '–'} | ${torch.map((t, i) => cell(t, 'pytorch', th[i])).join(' | ')} | ${Number.isFinite(bestOurs) && Number.isFinite(bestTorch) ? fmtRatio(bestTorch / bestOurs) : '–'} | ${fmtMs(find(r, 'rnnblas', id, dflt)?.ms)} |`);
  }
  return lines.join('\n');
}

function breakdownTable(r: RunReport): string {
  const lines = ['Where an rnnblas train step goes (median ms of each part, measured inside the same steps; the model is a Sequential, so its forward and backward include the Linear head):', '',
    '| Workload | threads | forward (+ head) | loss | backward (BPTT + head) | SGD + zero_grad | total | backward GFLOP/s | forward GFLOP/s |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const w of r.workloads) {
    if (w.work !== 'train') continue;
    for (const n of r.meta.threads) {
      const e = findChild(r, 'rnnblas', w.id, n)?.child.extra;
      if (!e || e[`${w.id}:forwardMs`] === undefined) continue;
      const g = (k: string) => e[`${w.id}:${k}Ms`] as number;
      const fc = flopCount(w);
      // The head's GEMMs: one in the forward, two in the backward.
      const fwd = fc.forward + fc.head / 3, bwd = fc.backward + (2 * fc.head) / 3;
      lines.push(`| ${w.id} | ${n} | ${fmtMs(g('forward'))} | ${fmtMs(g('head'))} | ${fmtMs(g('backward'))} | ${fmtMs(g('update'))} | ${fmtMs(g('forward') + g('head') + g('backward') + g('update'))} | ${fmt(bwd / (g('backward') * 1e6), 1)} | ${fmt(fwd / (g('forward') * 1e6), 1)} |`);
    }
  }
  return lines.join('\n');
}

interface Target {
  id: string;
  text: string;
  /** The peer a speed-up target is against (for the roofline ceiling column). */
  peer?: string;
  check: (get: (impl: string) => number | undefined, pctPeak: number | undefined, pctAdjacent: number | undefined) => { value: string; met: boolean | undefined };
}

/** A roofline target, judged against the run's sgemm peak and against the sgemm calls made between the workload's own steps. */
const roofline = (id: string, k: number): Target[] => {
  const check = (pct: number | undefined) => ({ value: pct === undefined ? '–' : `${pct.toFixed(0)}%`, met: pct === undefined ? undefined : pct >= k });
  return [
    { id, text: `≥ ${k}% of sgemm peak`, check: (_g, pct) => check(pct) },
    { id, text: `≥ ${k}% of the adjacent sgemm`, check: (_g, _p, adjacent) => check(adjacent) },
  ];
};

const atLeast = (id: string, text: string, impl: string, k: number): Target => ({
  id,
  text,
  peer: impl,
  check: (get) => {
    const x = get(impl);
    return { value: fmtRatio(x), met: x === undefined ? undefined : x >= k };
  },
});

const TARGETS: Target[] = [
  atLeast('W1', 'train ≥ 2× PyTorch', 'pytorch', 2),
  atLeast('W2', 'train ≥ 1.5× PyTorch', 'pytorch', 1.5),
  atLeast('W3', 'train ≥ 1.1× PyTorch', 'pytorch', 1.1),
  // Roofline (issue 17: W1, W2, W5 >= 85%, W3 >= 92%).
  ...roofline('W1', 85),
  ...roofline('W2', 85),
  ...roofline('W3', 92),
  ...roofline('W5', 85),
  atLeast('W4', 'forward ≥ 3× PyTorch', 'pytorch', 3),
  atLeast('W4', 'forward ≥ onnxruntime', 'onnxruntime', 1),
  atLeast('W5', 'forward ≥ 1.5× PyTorch', 'pytorch', 1.5),
  atLeast('W5', 'forward ≥ onnxruntime', 'onnxruntime', 1),
  ...['W1', 'W2', 'W3', 'W4', 'W5'].map((id) => atLeast(id, '≥ 50× tfjs-cpu', 'tfjs-cpu', 50)),
  // LSTM / GRU (issue 12's Speed section).
  atLeast('L1', 'train ≥ 2× PyTorch', 'pytorch', 2),
  atLeast('G1', 'train ≥ 2× PyTorch', 'pytorch', 2),
  atLeast('L5', 'forward ≥ 2.3× PyTorch', 'pytorch', 2.3),
  atLeast('L5', 'forward ≥ onnxruntime', 'onnxruntime', 1),
  atLeast('G5', 'forward ≥ 2× PyTorch', 'pytorch', 2),
  atLeast('G5', 'forward ≥ onnxruntime', 'onnxruntime', 1),
  ...['L1', 'G1', 'L5', 'G5'].map((id) => atLeast(id, '≥ 50× tfjs-cpu', 'tfjs-cpu', 50)),
];

function targetsTable(r: RunReport): string {
  const ids = new Set(r.workloads.map((w) => w.id));
  const th = r.meta.threads;
  const head = ['Workload', 'target', ...th.map((n) => `${n} thread${n > 1 ? 's' : ''}`), 'met?', ...th.map((n) => `ceiling @${n}`)];
  const lines = [
    'Ceiling = the speed-up rnnblas would have if it ran the workload\'s FLOPs at 100% of the sgemm peak (peer ms / (FLOPs / peak)): a target above it cannot be met by BLAS efficiency alone.',
    '',
    `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`,
  ];
  for (const t of TARGETS) {
    if (!ids.has(t.id)) continue;
    const w = workload(t.id);
    const cells: string[] = [];
    const ceilings: string[] = [];
    const mets: Array<boolean | undefined> = [];
    for (const n of th) {
      const ours = find(r, 'rnnblas', t.id, n);
      const get = (impl: string) => ratio(find(r, impl, t.id, n), ours);
      const pct = ours && r.peaks[n] ? (100 * flops(w)) / (ours.ms * 1e6) / r.peaks[n].peak : undefined;
      const res = t.check(get, pct, adjacentPct(r, t.id, n));
      cells.push(res.value);
      mets.push(res.met);
      const peer = t.peer ? find(r, t.peer, t.id, n) : undefined;
      ceilings.push(peer && r.peaks[n] ? fmtRatio(peer.ms / (flops(w) / (r.peaks[n].peak * 1e6))) : '');
    }
    const met = mets.every((m) => m === true) ? 'yes' : mets.some((m) => m === false) ? (mets.some((m) => m === true) ? 'partly' : 'no') : 'n/a';
    lines.push(`| ${t.id} | ${t.text} | ${cells.join(' | ')} | ${met} | ${ceilings.join(' | ')} |`);
  }
  return lines.join('\n');
}

function workloadTable(ws: Workload[]): string {
  const lines = ['| id | what | T | B | I | H | layers | dir | head / loss | work | GFLOP/step |', '|---|---|---:|---:|---:|---:|---:|---|---|---|---:|'];
  for (const w of ws) {
    const head = w.head.kind === 'linear-ce' ? `Linear ${w.H * (w.bidirectional ? 2 : 1)}→${w.head.classes} + CE` : w.head.kind === 'mse' ? 'MSE'
      : w.head.kind === 'last-linear-mse' ? `last step → Linear ${w.H * (w.bidirectional ? 2 : 1)}→${w.head.outputs} + MSE` : 'none';
    lines.push(`| ${w.id} | ${w.description} | ${w.T} | ${w.B} | ${w.I} | ${w.H} | ${w.layers} | ${w.bidirectional ? 'bi' : 'uni'} | ${head} | ${w.work} | ${(flops(w) / 1e9).toFixed(3)} |`);
  }
  return lines.join('\n');
}

function notes(r: RunReport): string[] {
  const p = r.meta.plan;
  const out = [
    `rnnblas, PyTorch and onnxruntime: median of at least ${p.reps} timed steps (more for fast workloads, until ${p.minTimeMs / 1000} s of timing) after ${p.warmup} warm-up steps, one process per implementation, workload and thread count${p.rounds > 1 ? `; ${p.rounds} rounds (the implementations alternate per workload) and the lowest round median is reported, to damp the other jobs on this shared machine (every round's median is in the detail table)` : ''}.`,
    `tfjs-wasm, tfjs-cpu and the TS reference are single-threaded here (tfjs-backend-wasm has no multithreading in Node): measured once at 1 thread, median of up to ${p.slowReps} steps after ${p.slowWarmup} warm-up within a ${p.slowBudgetMs / 1000} s budget, and compared against rnnblas at every thread count. * = fewer reps (see the detail table).`,
    '† TS reference: float64, RNN forward (+ backward, which also computes the input gradient) only, no head/loss/update; measured at a small T and scaled linearly to the workload\'s T.',
    'onnxruntime runs inference only (W4, W5): one ONNX `RNN` node, X fed as an input, W/R/B as initializers, intraOpNumThreads = threads; L5/G5: the PyTorch twin (nn.LSTM / nn.GRU) exported by torch.onnx.export, opset 14 (bench/torch_onnx_export.py).',
    '"× peer" = peer ms / rnnblas ms: above 1 means rnnblas is faster.',
  ];
  const trainNote = r.children.find((c) => c.impl === 'rnnblas' && c.notes?.length)?.notes?.[0];
  if (trainNote) out.push(`rnnblas ${trainNote}.`);
  const skips = new Map<string, string>();
  for (const c of r.children) if (c.skipped) skips.set(`${IMPL_LABEL[c.impl as Impl] ?? c.impl}`, c.skipped);
  for (const [impl, why] of skips) out.push(`${impl}: skipped: ${why}`);
  return out;
}

function markdown(r: RunReport): string {
  const m = r.meta;
  const peaks = m.threads.map((n) => `${n} thread(s): ${r.peaks[n].peak.toFixed(1)} GFLOP/s (measurements: ${r.peaks[n].measured.map((x) => x.toFixed(1)).join(', ')})`).join('; ');
  return [
    '# rnnblas benchmark results',
    '',
    `- Date: ${m.date}${m.quick ? ' (--quick: few repetitions, indicative only)' : ''}`,
    `- Machine: ${m.cpu}, ${m.cores} cores (shared with other jobs: absolute times drift, ratios are the measure)`,
    `- Node ${m.node}; ${m.openblas}, core ${m.openblasCore} (${m.openblasConfig.trim()})${m.openblasCoretype ? `; OPENBLAS_CORETYPE=${m.openblasCoretype} for rnnblas and every peer (one kernel set for all; Debian's 0.3.21 left to itself takes a Sapphire Rapids Xeon for a Prescott)` : ''}`,
    `- Peers: ${Object.entries(m.versions).filter(([k]) => k !== 'rnnblas').map(([k, v]) => `${IMPL_LABEL[k as Impl] ?? k}: ${v}`).join('; ') || 'none'}`,
    `- Threads: ${m.threads.join(', ')} (BLAS threads for rnnblas via setNumThreads; torch.set_num_threads + OMP/OPENBLAS_NUM_THREADS for PyTorch; intraOpNumThreads for onnxruntime)`,
    `- sgemm 2048³ peak (cblas_sgemm via the addon, the higher of OpenBLAS's own threads and rnnblas' thread team; median of ${r.meta.plan.peakReps} calls per measurement, measured before each round and at the end, the highest kept): ${peaks}`,
    '',
    '## Workloads',
    '',
    workloadTable(r.workloads),
    '',
    '## Summary (ms per step; "× X" = how many times faster rnnblas is than X)',
    '',
    summaryTable(r),
    '',
    '## Targets',
    '',
    targetsTable(r),
    '',
    ...(neighbourTable(r) ? ['## Busy neighbour', '', neighbourTable(r) as string, ''] : []),
    '## Time breakdown',
    '',
    breakdownTable(r),
    '',
    '## Memory',
    '',
    memoryTable(r),
    '',
    '## Call overhead',
    '',
    overheadTable(r),
    '',
    '## All measurements',
    '',
    detailTable(r),
    '',
    '## Notes',
    '',
    ...notes(r).map((s) => `- ${s}`),
    '',
  ].join('\n');
}

/**
 * `md` with the "## E1" section of the file at `path` (written by bench/e1.ts, which this suite
 * does not run) put back before "## Time breakdown", so a full run does not drop it.
 */
function keepE1Section(path: string, md: string): string {
  let old: string;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    return md;
  }
  const start = old.indexOf('\n## E1');
  if (start < 0) return md;
  const next = old.indexOf('\n## ', start + 1);
  const section = old.slice(start + 1, next >= 0 ? next + 1 : undefined);
  const at = md.indexOf('\n## Time breakdown');
  return at >= 0 ? md.slice(0, at + 1) + section + md.slice(at + 1) : `${md}\n${section}`;
}

// --------------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const report = await measure(args);
  const md = markdown(report);
  process.stdout.write(md);
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
  if (args.results) {
    writeFileSync(args.results, keepE1Section(args.results, md));
    log(`wrote ${args.results}`);
  }
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
