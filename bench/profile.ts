/**
 * Where an rnnblas step spends its time: replays the BLAS calls the native
 * kernels make for one layer-direction (same shapes, through the addon's
 * sgemm) and compares them with the whole native forward/backward and the
 * train step's head.
 *
 *   npx tsx bench/profile.ts [--only W1,W3] [--threads 2] [--reps 15]
 *
 * The per-step GEMMs are issued from JS here, so each carries the addon's
 * call overhead (a few µs) that the C++ loop does not pay. L* / G* (LSTM, GRU):
 * the same split with the G·H-wide gate products (profileGated).
 */
import { availableParallelism } from 'node:os';
import { RNN, setNumThreads, tensor } from '../src/index.js';
import { GATED_STORE_BLOCKS, native, NativeActivation, NativeCell } from '../src/native/binding.js';
import { Lcg, median } from './common.js';
import { loadTrainKit } from './train_kit.js';
import { gatedRecurrent } from './gated.js';
import { WORKLOADS, cellOf, gateBlocks, workload, type Workload } from './workloads.js';

function ms(fn: () => void, reps: number): number {
  if (process.env.PROFILE_MIN) return msMin(fn, reps);
  if (process.env.PROFILE_CPU) return cpuMs(fn, reps);
  for (let i = 0; i < 2; i++) fn();
  const s: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    s.push(performance.now() - t0);
  }
  return median(s);
}

/**
 * LSTM / GRU: one layer-direction's native forward and backward against the GEMMs they are
 * made of (input products [T·B×I]·[I×G·H] into the gate store, T recurrent [B×H]·[H×G·H],
 * BPTT's T recurrent [B×G·H]·[G·H×H], dW_hh, dW_ih), the two directions of a bidirectional
 * layer in one native call, and the train step's parts as the benchmark times them.
 */
async function profileGated(w: Workload, reps: number): Promise<string[]> {
  const { T, B, I, H } = w;
  const G = gateBlocks(w);
  const GH = G * H;
  const lstm = cellOf(w) === 'LSTM';
  const cell = lstm ? NativeCell.Lstm : NativeCell.Gru;
  const S = GATED_STORE_BLOCKS * H;
  const rng = new Lcg(5);
  const k = 1 / Math.sqrt(H);
  const x = rng.floats(T * B * I);
  const wih = rng.floats(GH * I, -k, k);
  const whh = rng.floats(GH * H, -k, k);
  const bih = rng.floats(GH, -k, k);
  const bhh = rng.floats(GH, -k, k);
  const D = w.bidirectional ? 2 : 1;
  const y = new Float32Array(T * B * D * H);
  const hN = new Float32Array(D * B * H);
  const cN = new Float32Array(D * B * H);
  const gates = new Float32Array(D * T * B * S);
  const cells = new Float32Array(D * T * B * H);
  const gf = (flop: number, t: number) => `${(flop / (t * 1e6)).toFixed(1)}`;
  const rows: string[] = [];
  const row = (what: string, t: number, flop?: number) => rows.push(`| ${w.id} | ${what} | ${t.toFixed(3)} | ${flop ? gf(flop, t) : ''} |`);
  const dir = (d: number) => ({
    x, h0: null, c0: null, wIh: wih, wHh: whh, bIh: bih, bHh: bhh, lengths: null, y: y.subarray(d * H), hN: hN.subarray(d * B * H, (d + 1) * B * H),
    gates: gates.subarray(d * T * B * S, (d + 1) * T * B * S), cells: lstm ? cells.subarray(d * T * B * H, (d + 1) * T * B * H) : null,
    cN: lstm ? cN.subarray(d * B * H, (d + 1) * B * H) : null, T, B, I, H, ld: D * H, cell, act: NativeActivation.Tanh, reverse: d === 1,
  });
  const fwdFlop = 2 * T * B * GH * (I + H);
  const tf = ms(() => native.forwardLayer([dir(0)]), reps);
  row(`native.forwardLayer ${cellOf(w)}, one direction`, tf, fwdFlop);
  const tIn = ms(() => native.sgemm(false, true, T * B, GH, I, 1, x, I, wih, I, 0, gates, S), reps);
  row(`  input GEMM [${T * B}×${I}]·[${I}×${GH}] (into the [T·B, ${GATED_STORE_BLOCKS}H] store)`, tIn, 2 * T * B * I * GH);
  const h = rng.floats(B * H, -0.5, 0.5);
  const acc = new Float32Array(B * GH);
  const tRec = ms(() => {
    for (let t = 0; t < T; t++) native.sgemm(false, true, B, GH, H, 1, h, H, whh, H, 0, acc, GH);
  }, reps);
  row(`  ${T} recurrent GEMMs [${B}×${H}]·[${H}×${GH}] (from JS)`, tRec, 2 * T * B * H * GH);
  const tRec1 = ms(() => native.sgemm(false, true, B, GH, H, 1, h, H, whh, H, 0, acc, GH), reps * 20);
  row(`    one of them alone (${process.env.PROFILE_MIN ? "fastest" : "median"} of ${reps * 20}, as the rows above)`, tRec1, 2 * B * H * GH);
  row('  rest: bias + gate epilogue + loop', Math.max(0, tf - tIn - tRec));
  // The same forward on each step kernel, and an Elman layer with the same per-step GEMM work
  // (B·G rows of [H×H]) and store size: what the gated epilogue and layout cost beyond the GEMMs.
  for (const kern of ['avx2', 'blas'] as const) {
    native.setStepKernel(kern);
    try {
      row(`  the same with setStepKernel('${kern}')`, ms(() => native.forwardLayer([dir(0)]), reps), fwdFlop);
    } finally {
      native.setStepKernel('auto');
    }
  }
  {
    const EB = G * B;
    const ex = rng.floats(T * EB * I);
    const ewih = rng.floats(H * I, -k, k);
    const ey = new Float32Array(T * EB * H);
    const eh = new Float32Array(EB * H);
    const ef = ms(() => native.forwardLayer([{
      x: ex, h0: null, wIh: ewih, wHh: whh.subarray(0, H * H), bIh: bih.subarray(0, H), bHh: bhh.subarray(0, H), lengths: null, y: ey, hN: eh,
      T, B: EB, I, H, ld: H, act: NativeActivation.Tanh, reverse: false,
    }]), reps);
    const ea = new Float32Array(T * EB * H);
    const ein = ms(() => native.sgemm(false, true, T * EB, H, I, 1, ex, I, ewih, I, 0, ea, H), reps);
    row(`Elman B=${EB} (same per-step GEMM work): native forward`, ef, fwdFlop);
    row(`  its time loop (forward - input GEMM ${ein.toFixed(2)} ms)`, ef - ein, 2 * T * EB * H * H);
    row(`${cellOf(w)} time loop (forward - input GEMM), for comparison`, tf - tIn, 2 * T * B * H * GH);
  }
  if (D === 2) {
    const tfd = ms(() => native.forwardLayer([dir(0), dir(1)]), reps);
    row('native.forwardLayer, both directions in one call', tfd, 2 * fwdFlop);
  }
  if (w.work === 'train') {
    const work = new Float32Array(native.backwardWorkspaceSize(T, B, I, H, cell));
    const dwih = new Float32Array(GH * I);
    const dwhh = new Float32Array(GH * H);
    const dbih = new Float32Array(GH);
    const dbhh = new Float32Array(GH);
    const dy = rng.floats(T * B * H, -0.01, 0.01);
    const dh0 = new Float32Array(B * H);
    const dc0 = new Float32Array(B * H);
    native.forwardLayer([dir(0)]);
    const bwd = () => native.backwardLayer([{
      dx: null, dh0, dc0: lstm ? dc0 : null, trace: null, dwIh: dwih, dwHh: dwhh, dbIh: dbih, dbHh: dbhh, work, y, gates: gates.subarray(0, T * B * S),
      cells: lstm ? cells.subarray(0, T * B * H) : null, h0: null, c0: null, dy, dhN: null, dcN: null, x, wIh: wih, wHh: whh,
      lengths: null, T, B, I, H, ld: H, cell, act: NativeActivation.Tanh, reverse: false,
    }]);
    const tb = ms(bwd, reps);
    row(`native.backwardLayer ${cellOf(w)} (no dx)`, tb, 2 * fwdFlop - 2 * T * B * I * GH);
    const dA = rng.floats(T * B * GH, -0.01, 0.01);
    const carry = new Float32Array(B * H);
    const tRecB = ms(() => {
      for (let t = 0; t < T; t++) native.sgemm(false, false, B, H, GH, 1, dA.subarray(t * B * GH, (t + 1) * B * GH), GH, whh, H, 0, carry, H);
    }, reps);
    row(`  ${T} recurrent GEMMs [${B}×${GH}]·[${GH}×${H}] (from JS)`, tRecB, 2 * T * B * GH * H);
    const tWhh = ms(() => native.sgemm(true, false, GH, H, (T - 1) * B, 1, dA.subarray(B * GH), GH, y, H, 1, dwhh, H), reps);
    row(`  dW_hh GEMM [${GH}×${(T - 1) * B}]·[${(T - 1) * B}×${H}]`, tWhh, 2 * (T - 1) * B * GH * H);
    const tWih = ms(() => native.sgemm(true, false, GH, I, T * B, 1, dA, GH, x, I, 1, dwih, I), reps);
    row(`  dW_ih GEMM [${GH}×${T * B}]·[${T * B}×${I}]`, tWih, 2 * T * B * GH * I);
    row('  rest: gate derivatives + bias sums + loop', Math.max(0, tb - tRecB - tWhh - tWih));

    // The benchmark's train step, part by part (bench/impl_rnnblas.ts).
    const kit = await loadTrainKit();
    const rnn = gatedRecurrent(lstm ? 'LSTM' : 'GRU', { inputSize: I, hiddenSize: H, numLayers: w.layers, bidirectional: w.bidirectional, seed: 1 });
    const C = w.head.kind === 'linear-ce' ? w.head.classes : 0;
    const lin = C ? kit.linear(D * H, C) : null;
    const params = [...rnn.parameters(), ...(lin ? lin.parameters() : [])];
    const opt = kit.sgd(params, 0.01);
    const targets = rng.ints(T * B, Math.max(C, 1));
    const xt = tensor(x, [T, B, I]);
    const parts: number[][] = [];
    // The parts on the clock ms() uses (CPU time with PROFILE_CPU).
    const now = process.env.PROFILE_CPU ? () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; } : () => performance.now();
    const step = () => {
      const t0 = now();
      opt.zeroGrad();
      const { y: out } = rnn.forward(xt);
      const t1 = now();
      let gy = out;
      if (lin) {
        const logits = lin.forward({ data: out.data, shape: [T * B, D * H] });
        const g = lin.backward(kit.crossEntropy(logits, targets).grad);
        gy = { data: g.data, shape: [T, B, D * H] };
      }
      const t2 = now();
      rnn.backward({ gy }, { inputGrad: false });
      const t3 = now();
      opt.step();
      parts.push([t1 - t0, t2 - t1, t3 - t2, now() - t3]);
    };
    const tStep = ms(step, reps);
    const p = (i: number) => median(parts.slice(-reps).map((q) => q[i]));
    row('train step (as bench/impl_rnnblas.ts)', tStep);
    row('  forward (module)', p(0), fwdFlop * D);
    row('  head: Linear + CE + Linear.backward', p(1));
    row('  backward (module, no dx)', p(2), D * (2 * fwdFlop - 2 * T * B * I * GH));
    row('  SGD + zero_grad', p(3));
  }
  return rows;
}

/** Fastest of reps runs (PROFILE_MIN=1: on a busy shared machine the minimum is the least disturbed). */
function msMin(fn: () => void, reps: number): number {
  for (let i = 0; i < 2; i++) fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/**
 * Median CPU time (user + system of this process) of fn, ms (PROFILE_CPU=1): at 1 thread, what the
 * call costs however often a busy machine preempts it (wall time adds the time spent descheduled).
 */
function cpuMs(fn: () => void, reps: number): number {
  for (let i = 0; i < 2; i++) fn();
  const s: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    s.push((c.user + c.system) / 1000);
  }
  return median(s);
}

async function profile(w: Workload, reps: number): Promise<string[]> {
  if (cellOf(w) !== 'RNN') return profileGated(w, reps);
  const { T, B, I, H } = w;
  const rng = new Lcg(5);
  const x = rng.floats(T * B * I);
  const wih = rng.floats(H * I, -0.05, 0.05);
  const whh = rng.floats(H * H, -0.05, 0.05);
  const bih = rng.floats(H, -0.05, 0.05);
  const bhh = rng.floats(H, -0.05, 0.05);
  const y = new Float32Array(T * B * H);
  const hN = new Float32Array(B * H);
  const gf = (flop: number, t: number) => `${(flop / (t * 1e6)).toFixed(1)}`;
  const rows: string[] = [];
  const row = (what: string, t: number, flop?: number) => rows.push(`| ${w.id} | ${what} | ${t.toFixed(3)} | ${flop ? gf(flop, t) : ''} |`);

  // Whole native forward of layer 0 (one direction).
  const fwd = () => native.forwardLayer([{
    x, h0: null, wIh: wih, wHh: whh, bIh: bih, bHh: bhh, lengths: null, y, hN, T, B, I, H, ld: H, act: NativeActivation.Tanh, reverse: false,
  }]);
  const tf = ms(fwd, reps);
  row('native.forwardLayer, layer 0, one direction', tf, 2 * T * B * H * (I + H));
  const a = new Float32Array(T * B * H);
  const tIn = ms(() => native.sgemm(false, true, T * B, H, I, 1, x, I, wih, I, 0, a, H), reps);
  row(`  input GEMM [${T * B}×${I}]·[${I}×${H}]`, tIn, 2 * T * B * I * H);
  const h = rng.floats(B * H);
  const tRec = ms(() => {
    for (let t = 0; t < T; t++) native.sgemm(false, true, B, H, H, 1, h, H, whh, H, 1, a.subarray(t * B * H, (t + 1) * B * H), H);
  }, reps);
  row(`  ${T} recurrent GEMMs [${B}×${H}]·[${H}×${H}] (from JS)`, tRec, 2 * T * B * H * H);
  row('  rest: bias + tanh + loop', Math.max(0, tf - tIn - tRec));

  if (w.work === 'train') {
    const work = new Float32Array(native.backwardWorkspaceSize(T, B, I, H));
    const dwih = new Float32Array(H * I);
    const dwhh = new Float32Array(H * H);
    const dbih = new Float32Array(H);
    const dbhh = new Float32Array(H);
    const dy = rng.floats(T * B * H, -0.01, 0.01);
    const dh0 = new Float32Array(B * H);
    const bwd = () => native.backwardLayer([{
      dx: null, dh0, dwIh: dwih, dwHh: dwhh, dbIh: dbih, dbHh: dbhh, work, y, h0: null, dy, dhN: null, x, wIh: wih, wHh: whh,
      lengths: null, T, B, I, H, ld: H, act: NativeActivation.Tanh, reverse: false,
    }]);
    const tb = ms(bwd, reps);
    row('native.backwardLayer, layer 0 (no dx)', tb, 2 * 2 * T * B * H * (I + H) - 2 * T * B * I * H);
    const dA = rng.floats(T * B * H, -0.01, 0.01);
    const carry = new Float32Array(B * H);
    const tRecB = ms(() => {
      for (let t = 0; t < T; t++) native.sgemm(false, false, B, H, H, 1, dA.subarray(t * B * H, (t + 1) * B * H), H, whh, H, 0, carry, H);
    }, reps);
    row(`  ${T} recurrent GEMMs dA·W_hh (from JS)`, tRecB, 2 * T * B * H * H);
    const tWhh = ms(() => native.sgemm(true, false, H, H, (T - 1) * B, 1, dA.subarray(B * H), H, y, H, 1, dwhh, H), reps);
    row(`  dW_hh GEMM [${H}×${(T - 1) * B}]·[${(T - 1) * B}×${H}]`, tWhh, 2 * (T - 1) * B * H * H);
    const tWih = ms(() => native.sgemm(true, false, H, I, T * B, 1, dA, H, x, I, 1, dwih, I), reps);
    row(`  dW_ih GEMM [${H}×${T * B}]·[${T * B}×${I}]`, tWih, 2 * T * B * H * I);
    row('  rest: tanh backward + bias sums + loop', Math.max(0, tb - tRecB - tWhh - tWih));

    if (w.head.kind === 'linear-ce') {
      const kit = await loadTrainKit();
      const C = w.head.classes;
      const lin = kit.linear(H, C);
      const yt = tensor(y, [T * B, H]);
      const targets = rng.ints(T * B, C);
      let logits = lin.forward(yt);
      const tLf = ms(() => {
        logits = lin.forward(yt);
      }, reps);
      row(`head: Linear.forward (${kit.source.linear})`, tLf, 2 * T * B * H * C);
      let g = kit.crossEntropy(logits, targets).grad;
      const tCe = ms(() => {
        g = kit.crossEntropy(logits, targets).grad;
      }, reps);
      row(`head: crossEntropy (${kit.source.losses})`, tCe);
      const tLb = ms(() => {
        lin.forward(yt);
        lin.backward(g);
      }, reps) - tLf;
      row('head: Linear.backward', tLb, 2 * 2 * T * B * H * C);
      const tg1 = ms(() => native.sgemm(false, true, T * B, C, H, 1, y, H, lin.parameters()[0].data, H, 0, logits.data, C), reps);
      row(`  raw sgemm [${T * B}×${H}]·[${H}×${C}] for comparison`, tg1, 2 * T * B * H * C);
    }
    // Whole-module train step minus head, for the record.
    const rnn = new RNN({ inputSize: I, hiddenSize: H, numLayers: w.layers, bidirectional: w.bidirectional, seed: 1 });
    const xt = tensor(x, [T, B, I]);
    const D = w.bidirectional ? 2 : 1;
    const gy = tensor(rng.floats(T * B * D * H, -0.01, 0.01), [T, B, D * H]);
    const tm = ms(() => {
      rnn.forward(xt);
      rnn.backward({ gy }, { inputGrad: false });
    }, reps);
    row(`RNN module forward+backward (all ${w.layers} layer(s), ${D} direction(s))`, tm);
  }
  return rows;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ws = get('--only')?.split(',').map(workload) ?? [...WORKLOADS];
  const threads = Number(get('--threads') ?? availableParallelism());
  const reps = Number(get('--reps') ?? 15);
  setNumThreads(threads);
  const lines = [`Profile at ${threads} thread(s), ${process.env.PROFILE_MIN ? 'fastest' : process.env.PROFILE_CPU ? 'median CPU time (user+system)' : 'median'} of ${reps}:`, '', '| Workload | part | ms | GFLOP/s |', '|---|---|---:|---:|'];
  for (const w of ws) lines.push(...(await profile(w, reps)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
