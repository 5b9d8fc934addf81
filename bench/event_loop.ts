/**
 * Event-loop responsiveness while `fit` trains a W1-sized model (char LM,
 * T=64, B=32, I=65 one-hot... here ids through an Embedding of width 65,
 * H=256, Linear head, cross-entropy): perf_hooks' event-loop delay histogram
 * over the run, next to the same measurement with the synchronous API.
 *
 *   npx tsx bench/event_loop.ts [--steps 100]     (THREADS=n sets the BLAS threads)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Embedding, fit, Linear, RNN, Sequential, setNumThreads, SGD, type SequenceDataset } from '../src/index.js';
import { crossEntropy } from '../src/nn/losses.js';

if (process.env.THREADS) setNumThreads(Number(process.env.THREADS));
const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 100;
const T = 64, B = 32, V = 65, H = 256;

function model(): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: V, seed: 1 }),
    new RNN({ inputSize: V, hiddenSize: H, seed: 2 }),
    new Linear({ inFeatures: H, outFeatures: V, seed: 3 }),
  ]);
}

const N = steps * B;
const ids = Int32Array.from({ length: N * T }, (_, i) => (i * 7919) % V);
const targets = Int32Array.from({ length: N * T }, (_, i) => (i * 104729) % V);
const data: SequenceDataset = { x: { data: ids, shape: [N, T] }, y: { data: targets, shape: [N, T] } };

function ms(ns: number): string {
  return (ns / 1e6).toFixed(2);
}

async function measure(label: string, run: () => Promise<void>): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  h.enable();
  const t0 = performance.now();
  await run();
  const elapsed = performance.now() - t0;
  h.disable();
  clearInterval(timer);
  console.log(`| ${label} | ${steps} | ${(elapsed / steps).toFixed(1)} | ${ms(h.percentile(50))} | ${ms(h.percentile(99))} | ${ms(h.max)} | ${ticks} of ~${Math.floor(elapsed / 5)} |`);
}

console.log('| API | steps | ms/step | loop delay p50 ms | p99 ms | max ms | 5 ms timer ticks |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
await measure('fit (async, native work on the libuv pool)', async () => {
  const m = model();
  await fit(m, data, { epochs: 1, batchSize: B, loss: 'crossEntropy', optimizer: new SGD(m.parameters(), { lr: 0.01 }), shuffle: false });
});
await measure('sync forward/backward loop (for contrast)', async () => {
  const m = model();
  const opt = new SGD(m.parameters(), { lr: 0.01 });
  for (let s = 0; s < steps; s++) {
    const x = { data: new Int32Array(T * B).fill(s % V), shape: [T, B] };
    const y = m.forward(x);
    const { grad } = crossEntropy({ data: y.data, shape: [T * B, V] }, targets.subarray(0, T * B));
    m.backward({ data: grad.data, shape: [T, B, V] });
    opt.step();
    opt.zeroGrad();
  }
});
