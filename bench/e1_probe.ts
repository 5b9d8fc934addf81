/**
 * E1 probe: why the async path (libuv worker) is slower than the same native work on the main
 * thread. One process, one model, one batch; the variants alternate every rep so load hits all
 * alike. Per variant and phase: min and median ms, and per rep the minor page faults, context
 * switches (process.resourceUsage), the thread team's jobs, solo jobs and stalls (native.teamStats)
 * and which OS threads ran (per-thread CPU from
 * /proc/self/task/<tid>/schedstat).
 *
 *   OPENBLAS_CORETYPE=SkylakeX npx tsx bench/e1_probe.ts [reps=60] [variants=sync,async]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { Adam, Embedding, Linear, RNN, Sequential, charDataset, charVocab, clipGradNorm, crossEntropy, setNumThreads } from '../src/index.js';
import type { IntTensor } from '../src/tensor.js';
import { native } from '../src/native/binding.js';
import { E1 } from './workloads.js';
import { e1Text } from './e1_text.js';

const reps = Number(process.argv[2] ?? 60);
const variants = (process.argv[3] ?? 'sync,async').split(',');
setNumThreads(Number(process.env.THREADS ?? 2));
const text = e1Text().text;
const vocab = charVocab(text);
const V = vocab.size;
const { T, B } = E1;
const data = charDataset(text, vocab, { seqLen: T });
const model = new Sequential([
  new Embedding({ numEmbeddings: V, embeddingDim: E1.embed, seed: 1 }),
  new RNN({ inputSize: E1.embed, hiddenSize: E1.H, numLayers: E1.layers, seed: 2 }),
  new Linear({ inFeatures: E1.H, outFeatures: V, seed: 3 }),
]);
const opt = new Adam(model.parameters(), { lr: 3e-3 });
const xb: IntTensor = { data: new Int32Array(T * B), shape: [T, B] };
const yb = new Int32Array(T * B);
const xs = data.x.data as Int32Array;
const ys = data.y.data as Int32Array;
let pos = 0;
const nextBatch = (): void => {
  for (let bi = 0; bi < B; bi++) {
    const row = ((pos + bi * 977) % data.x.shape[0]) * T;
    for (let t = 0; t < T; t++) {
      xb.data[t * B + bi] = xs[row + t];
      yb[t * B + bi] = ys[row + t];
    }
  }
  pos += B;
};

const threadCpu = (): Map<string, number> => {
  const m = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      m.set(`${tid}:${comm}`, ns);
    } catch {
      /* gone */
    }
  }
  return m;
};

interface Acc { [phase: string]: number[] }
const acc: Record<string, Acc> = {};
const faults: Record<string, number[]> = {};
const vcsw: Record<string, number[]> = {};
const icsw: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
const threadsUsed: Record<string, Map<string, number>> = {};
const team: Record<string, { jobs: number; soloBenched: number; soloBusy: number; soloNested: number; stalls: number }> = {};
const push = (v: string, p: string, ms: number): void => {
  ((acc[v] ??= {})[p] ??= []).push(ms);
};

// 'async1': every layer call its own job (what the async driver did before native.layersAsync).
const batchedCalls = native.layersAsync;
const oneByOne: typeof native.layersAsync = async (calls) => {
  for (const c of calls) {
    if ('op' in c) await native.layersAsync([c]);
    else if (c.backward) await native.backwardLayerAsync(c.dirs);
    else await native.forwardLayerAsync(c.dirs);
  }
};

async function step(v: string, record: boolean): Promise<void> {
  native.layersAsync = v === 'async1' ? oneByOne : batchedCalls;
  nextBatch();
  const r0 = process.resourceUsage();
  const c0 = threadCpu();
  const s0 = native.teamStats();
  const t0 = performance.now();
  model.zeroGrad();
  const async = v.startsWith('async');
  const out = async ? await model.forwardAsync(xb) : model.forward(xb);
  const t1 = performance.now();
  const r = crossEntropy({ data: out.data, shape: [T * B, V] }, yb, { reduction: 'mean' });
  const t2 = performance.now();
  if (async) await model.backwardAsync({ data: r.grad.data, shape: out.shape });
  else model.backward({ data: r.grad.data, shape: out.shape });
  const t3 = performance.now();
  clipGradNorm(opt.params, 5);
  opt.step();
  const t4 = performance.now();
  const r1 = process.resourceUsage();
  const c1 = threadCpu();
  const s1 = native.teamStats();
  if (!record) return;
  const t = (team[v] ??= { jobs: 0, soloBenched: 0, soloBusy: 0, soloNested: 0, stalls: 0 });
  for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += s1[k] - s0[k];
  push(v, 'forward', t1 - t0);
  push(v, 'ce', t2 - t1);
  push(v, 'backward', t3 - t2);
  push(v, 'clip+adam', t4 - t3);
  push(v, 'step', t4 - t0);
  (faults[v] ??= []).push(r1.minorPageFault - r0.minorPageFault);
  (vcsw[v] ??= []).push(r1.voluntaryContextSwitches - r0.voluntaryContextSwitches);
  (icsw[v] ??= []).push(r1.involuntaryContextSwitches - r0.involuntaryContextSwitches);
  (cpu[v] ??= []).push((r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1000);
  const tu = (threadsUsed[v] ??= new Map());
  for (const [k, ns] of c1) {
    const d = ns - (c0.get(k) ?? 0);
    if (d > 100_000) tu.set(k, (tu.get(k) ?? 0) + d / 1e6);
  }
}

const med = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (let i = 0; i < 5; i++) for (const v of variants) await step(v, false);
for (let i = 0; i < reps; i++) for (const v of variants) await step(v, true);

const la = readFileSync('/proc/loadavg', 'utf8').trim();
console.log(`reps ${reps}, threads ${process.env.THREADS ?? 2}, load ${la}`);
for (const v of variants) {
  const parts = Object.entries(acc[v]).map(([p, a]) => `${p} ${med(a).toFixed(2)} (min ${Math.min(...a).toFixed(2)})`);
  console.log(`${v.padEnd(10)} ${parts.join(' | ')}`);
  console.log(`${''.padEnd(10)} cpu ${med(cpu[v]).toFixed(1)} ms/step, faults ${med(faults[v])}/step, vol cs ${med(vcsw[v])}, invol cs ${med(icsw[v])}`);
  const tv = team[v];
  const per = (n: number): string => (n / reps).toFixed(2);
  console.log(`${''.padEnd(10)} team per step: ${per(tv.jobs)} jobs; solo ${per(tv.soloBenched)} benched, ${per(tv.soloBusy)} busy, ${per(tv.soloNested)} nested; ${per(tv.stalls)} stalls`);
  const tu = [...threadsUsed[v].entries()].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${(ms / reps).toFixed(2)}`);
  console.log(`${''.padEnd(10)} threads (ms/step): ${tu.join(', ')}`);
}
