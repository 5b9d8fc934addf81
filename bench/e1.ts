/**
 * E1 of BENCHMARKS.md, the main job end to end: `rnnblas train`'s default model and settings
 * (Embedding(V,32) → RNN 2×256 → Linear 256→V, CE, Adam 3e-3, clip 5, T=64, B=32) trained by
 * `fit` on a real text of ≥ 1 MB (bench/e1_text.ts: Debian's fortunes by default), against the
 * same step as a plain synchronous loop of the library's calls and against the PyTorch twin
 * (bench/torch_e1.py). Each mode runs in its own child process; rounds interleave the modes so
 * that a noisy neighbour hits them alike.
 *
 *   OPENBLAS_CORETYPE=SkylakeX npx tsx bench/e1.ts [--steps 30] [--warmup 5] [--threads 2]
 *        [--rounds 3] [--modes fit,sync,sync-async,sync-fit-data,paired,pytorch] [--text file]
 *        [--json out.json] [--results bench/RESULTS.md]
 *
 * --results puts the report in that file as its "## E1" section (replacing the one there, else
 * before "## Time breakdown"); bench/run.ts keeps that section when it rewrites the file.
 *
 * Modes (bench/impl_e1.ts): fit; sync (plain synchronous loop, buffers made once); sync-async
 * (sync with forwardAsync/backwardAsync, as fit awaits); sync-fit-data (sync with fit's
 * gatherBatch, batchLoss and per-step yield); paired (fit and sync alternating in blocks in
 * one process); pytorch. Besides wall time, each child reports CPU ms per step (user + system,
 * all threads), which a busy machine inflates far less than wall time. Prints a Markdown report on stdout
 * (progress on stderr): the median ms/step of each round, the lowest round median, the
 * ratios, fit's split, the sync loop's split and GC per step.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { blasInfo, setNumThreads } from '../src/blas.js';
import { RESULT_MARK, type ChildResult, type Job } from './common.js';
import { e1Text } from './e1_text.js';
import { sgemmRates } from './sgemm_rates.js';
import { BENCH_DIR, PYTHON, ROOT } from './spawn.js';
import { E1, e1Flops } from './workloads.js';

const MODES = ['fit', 'sync', 'sync-async', 'sync-fit-data', 'paired', 'pytorch'] as const;
type Mode = (typeof MODES)[number];

interface Args {
  steps: number;
  warmup: number;
  threads: number;
  rounds: number;
  modes: Mode[];
  text: string | undefined;
  json: string | null;
  results: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { steps: 30, warmup: 5, threads: availableParallelism(), rounds: 3, modes: [...MODES], text: undefined, json: null, results: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${arg} needs an integer >= ${min}`);
      return n;
    };
    if (arg === '--steps') a.steps = int(1);
    else if (arg === '--warmup') a.warmup = int(1);
    else if (arg === '--threads') a.threads = int(1);
    else if (arg === '--rounds') a.rounds = int(1);
    else if (arg === '--text') a.text = value();
    else if (arg === '--json') a.json = value();
    else if (arg === '--results') a.results = value();
    else if (arg === '--modes') {
      a.modes = value().split(',').map((s) => {
        if (!(MODES as readonly string[]).includes(s)) throw new Error(`--modes: unknown '${s}' (known: ${MODES.join(', ')})`);
        return s as Mode;
      });
    } else throw new Error(`unknown argument '${arg}'`);
  }
  return a;
}

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

function runChild(mode: Mode, job: Job): Promise<ChildResult> {
  const n = String(job.threads);
  const [cmd, args, env] = mode === 'pytorch'
    ? [PYTHON, [join(BENCH_DIR, 'torch_e1.py'), JSON.stringify(job)], { ...process.env, GOMP_SPINCOUNT: '0', OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n }]
    : [process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'impl_e1.ts'), JSON.stringify({ ...job, options: { ...job.options, mode } })], { ...process.env }];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').reverse().find((l) => l.startsWith(RESULT_MARK));
      if (line) resolve(JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult);
      else resolve({ impl: mode, timings: [], skipped: `exited with code ${code}: ${err.trim().split('\n').slice(-1)[0] ?? ''}` });
    });
  });
}

/**
 * GFLOP/s of cblas_sgemm 2048³ at n threads: the fastest of `reps` calls after a 1 s warm-up
 * (bench/run.ts takes the median; the fastest call is less hurt by a busy machine, as the
 * lowest round median of the steps is).
 */
function sgemmPeak(n: number, reps = 7): number {
  setNumThreads(n);
  return Math.max(...sgemmRates(reps));
}

/** Puts `section` (starting with "## E1") into the Markdown file at `path`. */
function putE1Section(path: string, section: string): void {
  const md = readFileSync(path, 'utf8');
  const start = md.indexOf('\n## E1');
  if (start >= 0) {
    const next = md.indexOf('\n## ', start + 1);
    writeFileSync(path, md.slice(0, start + 1) + section + (next >= 0 ? '\n' + md.slice(next + 1) : ''));
    return;
  }
  const at = md.indexOf('\n## Time breakdown');
  writeFileSync(path, at >= 0 ? md.slice(0, at + 1) + section + '\n' + md.slice(at + 1) : md + '\n' + section);
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const t = e1Text(a.text);
  log(`E1 text: ${t.source}, ${t.bytes} bytes`);
  if (!process.env.OPENBLAS_CORETYPE) log('note: OPENBLAS_CORETYPE is not set (the rest of bench/ runs with OPENBLAS_CORETYPE=SkylakeX on this machine)');
  const job: Job = { workloads: [], threads: a.threads, warmup: a.warmup, reps: a.steps, options: { textPath: t.path } };
  const loadBefore = loadavg()[0];
  const peaks: number[] = [sgemmPeak(a.threads)];
  log(`sgemm 2048³ at ${a.threads} thread(s): ${peaks[0].toFixed(1)} GFLOP/s`);
  const results: Record<string, ChildResult[]> = {};
  for (let r = 0; r < a.rounds; r++) {
    // Rotate the order each round so no mode always runs first (or right after PyTorch).
    const order = a.modes.map((_, i) => a.modes[(i + r) % a.modes.length]);
    for (const mode of order) {
      log(`round ${r + 1}/${a.rounds}: ${mode} ...`);
      const res = await runChild(mode, job);
      (results[mode] ??= []).push(res);
      log(res.skipped ? `  skipped: ${res.skipped}` : `  ${fmt(res.timings[0].ms)} ms/step (min ${fmt(res.timings[0].minMs)})`);
    }
  }
  peaks.push(sgemmPeak(a.threads));
  const peak = Math.max(...peaks);
  const good = (m: Mode): ChildResult[] => (results[m] ?? []).filter((x) => !x.skipped && x.timings.length > 0);
  const best = (m: Mode): number => Math.min(...good(m).map((x) => x.timings[0].ms));
  const anyRnn = MODES.filter((m) => m !== 'pytorch').map(good).find((x) => x.length > 0)?.[0];
  const V = Number(anyRnn?.extra?.V ?? good('pytorch')[0]?.extra?.V ?? NaN);
  const flops = e1Flops(V);
  const info = blasInfo();
  const lines: string[] = [];
  lines.push(`## E1: the main job end to end`, '', '`bench/e1.ts` (not part of `run.ts`\'s full run; this section is kept when run.ts rewrites the file). Where fit\'s time goes and what to change: `bench/E1_PROFILE.md`.', '');
  lines.push(`- Date: ${new Date().toISOString()}; machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores (shared); Node ${process.version}; ${info.version}, core ${info.core}${process.env.OPENBLAS_CORETYPE ? `, OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE}` : ''}; ${good('pytorch')[0]?.version ?? 'PyTorch: not run'}`);
  lines.push(`- Text: ${t.source}, ${t.bytes} bytes, V = ${V} characters, ${anyRnn?.extra?.windows ?? '?'} windows of ${E1.T}`);
  lines.push(`- Model: Embedding(${V},${E1.embed}) → RNN ${E1.layers}×${E1.H} tanh → Linear ${E1.H}→${V}; CE (mean), Adam lr 3e-3, clip_grad_norm 5; T=${E1.T}, B=${E1.B}; ${(flops.total / 1e9).toFixed(2)} GFLOP/step`);
  lines.push(`- ${a.threads} thread(s); ${a.warmup} warm-up + ${a.steps} timed steps per child, ${a.rounds} round(s) interleaved; ms/step = the lowest round median; sgemm 2048³ peak in the same run ${peak.toFixed(1)} GFLOP/s (before and after: ${peaks.map((p) => p.toFixed(1)).join(', ')}); 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after (other jobs on the machine)`, '');
  lines.push('| mode | ms/step | rounds (median; fastest step) | GFLOP/s | % sgemm peak | CPU ms/step (rounds) | GC ms/step | GCs/step |', '|---|---:|---|---:|---:|---|---:|---:|');
  for (const m of a.modes.filter((x) => x !== 'paired')) {
    const g = good(m);
    if (g.length === 0) {
      lines.push(`| ${m} | – | ${(results[m] ?? [])[0]?.skipped ?? 'not run'} | | | | | |`);
      continue;
    }
    const ms = best(m);
    const gcMs = g.map((x) => Number(x.extra?.gcMsPerStep ?? NaN));
    const gcN = g.map((x) => Number(x.extra?.gcCountPerStep ?? NaN));
    const cpu = g.map((x) => fmt(Number(x.extra?.cpuMsPerStep ?? NaN))).join(', ');
    lines.push(`| ${m} | ${fmt(ms)} | ${g.map((x) => `${fmt(x.timings[0].ms)}; ${fmt(x.timings[0].minMs)}`).join(', ')} | ${(flops.total / (ms * 1e6)).toFixed(1)} | ${((100 * flops.total) / (ms * 1e6) / peak).toFixed(0)}% | ${cpu} | ${m === 'pytorch' ? '–' : gcMs.map(fmt).join(', ')} | ${m === 'pytorch' ? '–' : gcN.map((v) => v.toFixed(2)).join(', ')} |`);
  }
  lines.push('');
  if (good('fit').length && good('sync').length) lines.push(`- fit / sync loop: ${(best('fit') / best('sync')).toFixed(2)}× (target: within 1.10×)`);
  if (good('pytorch').length) {
    for (const m of ['fit', 'sync'] as const) if (good(m).length) lines.push(`- PyTorch / ${m}: ${(best('pytorch') / best(m)).toFixed(2)}× (target for fit: ≥ 2.5×)`);
  }
  const paired = good('paired');
  if (paired.length) {
    const per = paired.map((x) => `fit ${fmt(x.timings[0].ms)} / sync ${fmt(x.timings[1].ms)} ms = ${Number(x.extra?.fitOverSync).toFixed(2)}× (block pairs ${x.extra?.blockRatios}; CPU ms/step fit ${fmt(Number(x.extra?.fitCpuMsPerStep))}, sync ${fmt(Number(x.extra?.syncCpuMsPerStep))})`);
    lines.push(`- paired (fit and the sync loop alternating in blocks in one process, so load hits both alike), per round: ${per.join('; ')}`);
  }
  for (const m of a.modes.filter((x) => x !== 'pytorch' && x !== 'paired')) {
    const g = good(m);
    if (!g.length) continue;
    const keys = Object.keys(g[0].extra ?? {}).filter((k) => k.startsWith('phase:'));
    const parts = keys.map((k) => `${k.slice(6)} ${g.map((x) => fmt(Number(x.extra?.[k]))).join('/')}`);
    const ab = g.map((x) => fmt(Number(x.extra?.arrayBufferMBPerStep))).join('/');
    lines.push(`- ${m} split (median ms per round): ${parts.join('; ')}; ArrayBuffer MB allocated per step ${ab}; GC by kind (round 1): ${g[0].extra?.gcByKind}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (a.results) {
    putE1Section(a.results, lines.join('\n') + '\n');
    log(`wrote the E1 section of ${a.results}`);
  }
  if (a.json) writeFileSync(a.json, JSON.stringify({ args: a, text: { source: t.source, bytes: t.bytes }, results }, null, 1));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
