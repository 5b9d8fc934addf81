/**
 * Scaling plots: ms per W1 train step against T, B and H (one varied at a
 * time, the others at W1's values), rnnblas vs PyTorch, as small hand-written
 * SVG line charts (log-log).
 *
 *   npx tsx bench/plot.ts [--quick] [--threads n] [--rounds r] [--out bench/out] [--from sweep.json] [--copy]
 *
 * Measures (unless --from), writes <out>/sweep.json and <out>/w1_vs_{T,B,H}.svg;
 * --copy also copies the SVGs to bench/plots/. Each point is the lowest of its
 * rounds' medians (default 2 rounds; the rounds interleave the implementations
 * and axes, so a noisy minute hits one round's points, not every round's), as
 * run.ts reports its workloads.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ChildResult, Job } from './common.js';
import { BENCH_DIR, runChildProcess, type Impl } from './spawn.js';
import { variant, workload, type Workload } from './workloads.js';

type Axis = 'T' | 'B' | 'H';

const SWEEPS: Record<Axis, number[]> = {
  T: [16, 32, 64, 128, 256],
  B: [1, 4, 16, 32, 64, 128],
  H: [64, 128, 256, 512, 1024],
};

interface Point {
  x: number;
  ms: number;
}

interface Sweep {
  date: string;
  threads: number;
  base: Workload;
  reps: number;
  /** Rounds per point (the lowest round median is kept); absent in sweeps made before rounds. */
  rounds?: number;
  /** series[axis][impl] = points. */
  series: Record<Axis, Record<string, Point[]>>;
  skipped: string[];
}

async function measure(threads: number, quick: boolean, rounds: number): Promise<Sweep> {
  const base = workload('W1');
  const reps = quick ? 3 : 20;
  const sweep: Sweep = { date: new Date().toISOString(), threads, base, reps, rounds, series: { T: {}, B: {}, H: {} }, skipped: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const axis of ['T', 'B', 'H'] as Axis[]) {
      const ws = SWEEPS[axis].map((v) => variant(base, { [axis]: v }));
      for (const impl of ['rnnblas', 'pytorch'] as Impl[]) {
        const job: Job = { workloads: ws, threads, warmup: quick ? 1 : 5, reps, minTimeMs: quick ? 0 : 1000 };
        process.stderr.write(`round ${round}/${rounds}, sweep ${axis}: ${impl}...\n`);
        const r: ChildResult = await runChildProcess(impl, job);
        if (r.skipped && round === 1) sweep.skipped.push(`${impl} (${axis} sweep): ${r.skipped}`);
        const before = sweep.series[axis][impl];
        sweep.series[axis][impl] = r.timings.map((t, i) => ({ x: SWEEPS[axis][i], ms: Math.min(t.ms, before?.[i]?.ms ?? Infinity) }));
      }
    }
  }
  return sweep;
}

// ----------------------------------------------------------------------- SVG

const COLORS: Record<string, string> = { rnnblas: '#1f77b4', pytorch: '#ff7f0e' };
const LABELS: Record<string, string> = { rnnblas: 'rnnblas', pytorch: 'PyTorch' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Ticks 1-2-5 per decade covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

function fmtTick(v: number): string {
  return v >= 1 ? String(Number(v.toPrecision(3))) : v.toPrecision(1);
}

/** A log-log line chart of ms/step against the swept size, one line per implementation. */
export function svgChart(sweep: Sweep, axis: Axis): string {
  const W = 560, Hh = 360;
  const m = { l: 64, r: 24, t: 62, b: 52 };
  const pw = W - m.l - m.r, ph = Hh - m.t - m.b;
  const series = Object.entries(sweep.series[axis]).filter(([, pts]) => pts.length > 0);
  const xs = SWEEPS[axis];
  const all = series.flatMap(([, pts]) => pts.map((p) => p.ms)).filter((v) => v > 0);
  const yLo = all.length ? Math.min(...all) / 1.3 : 1;
  const yHi = all.length ? Math.max(...all) * 1.3 : 10;
  const pad = 0.05 * pw;
  const lx = (x: number) => m.l + pad + ((pw - 2 * pad) * (Math.log2(x) - Math.log2(xs[0]))) / (Math.log2(xs[xs.length - 1]) - Math.log2(xs[0]));
  const ly = (y: number) => m.t + ph - (ph * (Math.log10(y) - Math.log10(yLo))) / (Math.log10(yHi) - Math.log10(yLo));
  const b = sweep.base;
  const fixed = (['T', 'B', 'H'] as Axis[]).filter((a) => a !== axis).map((a) => `${a}=${b[a]}`).join(', ');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${Hh}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">W1 train step: ms/step vs ${axis}</text>`,
    `<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">${esc(`${fixed}, I=${b.I}, Linear→${b.head.kind === 'linear-ce' ? b.head.classes : 0} + CE; ${sweep.threads} thread(s); ${sweep.rounds ? `lowest of ${sweep.rounds} round medians` : `median of ${sweep.reps}`}`)}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  ];
  for (const v of logTicks(yLo, yHi)) {
    const y = ly(v).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(v)}</text>`);
  }
  for (const x of xs) {
    const px = lx(x).toFixed(1);
    out.push(`<line x1="${px}" x2="${px}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${px}" y="${m.t + ph + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${Hh - 12}" text-anchor="middle">${axis} (log scale)</text>`);
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">ms per step (log scale)</text>`);
  for (const [impl, pts] of series) {
    const c = COLORS[impl] ?? '#333';
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${lx(p.x).toFixed(1)},${ly(p.ms).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${lx(p.x).toFixed(1)}" cy="${ly(p.ms).toFixed(1)}" r="3" fill="${c}"><title>${esc(`${LABELS[impl] ?? impl} ${axis}=${p.x}: ${p.ms.toFixed(2)} ms`)}</title></circle>`);
  }
  // Speed-up labels (PyTorch ms / rnnblas ms) in a row just above the plot area.
  const ours = sweep.series[axis].rnnblas ?? [];
  const theirs = sweep.series[axis].pytorch ?? [];
  for (const p of ours) {
    const q = theirs.find((t) => t.x === p.x);
    if (q) out.push(`<text x="${lx(p.x).toFixed(1)}" y="${m.t - 8}" text-anchor="middle" fill="#555" font-size="11">${(q.ms / p.ms).toFixed(2)}×</text>`);
  }
  series.forEach(([impl], i) => {
    const y = m.t + ph - 28 - 16 * (series.length - 1 - i);
    const x = m.l + pw - 110;
    out.push(`<line x1="${x}" x2="${x + 20}" y1="${y}" y2="${y}" stroke="${COLORS[impl] ?? '#333'}" stroke-width="2"/>`);
    out.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle">${esc(LABELS[impl] ?? impl)}</text>`);
  });
  out.push(`<text x="${m.l + pw - 8}" y="${m.t + ph - 10}" text-anchor="end" fill="#555" font-size="10">top row: PyTorch ms / rnnblas ms</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const outDir = get('--out') ?? join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const from = get('--from');
  const sweep: Sweep = from
    ? (JSON.parse(readFileSync(from, 'utf8')) as Sweep)
    : await measure(Number(get('--threads') ?? availableParallelism()), argv.includes('--quick'), Number(get('--rounds') ?? (argv.includes('--quick') ? 1 : 2)));
  if (!from) writeFileSync(join(outDir, 'sweep.json'), JSON.stringify(sweep, null, 2));
  for (const s of sweep.skipped) process.stderr.write(`skipped: ${s}\n`);
  const plotsDir = join(BENCH_DIR, 'plots');
  for (const axis of ['T', 'B', 'H'] as Axis[]) {
    const file = join(outDir, `w1_vs_${axis}.svg`);
    writeFileSync(file, svgChart(sweep, axis));
    process.stderr.write(`wrote ${file}\n`);
    if (argv.includes('--copy')) {
      mkdirSync(plotsDir, { recursive: true });
      copyFileSync(file, join(plotsDir, `w1_vs_${axis}.svg`));
    }
  }
  // A text table of the same data, for the report.
  const lines = ['| sweep | value | rnnblas ms | PyTorch ms | × PyTorch |', '|---|---:|---:|---:|---:|'];
  for (const axis of ['T', 'B', 'H'] as Axis[]) {
    for (const p of sweep.series[axis].rnnblas ?? []) {
      const q = (sweep.series[axis].pytorch ?? []).find((t) => t.x === p.x);
      lines.push(`| ${axis} | ${p.x} | ${p.ms.toFixed(2)} | ${q ? q.ms.toFixed(2) : '–'} | ${q ? (q.ms / p.ms).toFixed(2) + '×' : '–'} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
