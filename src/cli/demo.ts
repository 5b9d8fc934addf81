/**
 * `rnnblas demo bidirectional`: a sequence-labelling task whose answer lies in
 * the future. Each step is labelled with the NEXT input symbol (the last step
 * with an end marker). A unidirectional RNN can only guess (about 1/K); a
 * bidirectional RNN reads the answer from its reverse direction. Both models
 * train with the library's `fit` on the same batches, side by side, and are
 * scored with `evaluate`.
 */
import type { SequenceDataset } from '../data/dataset.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Adam } from '../optim/index.js';
import { Rng } from '../random.js';
import { evaluate, fit } from '../train/fit.js';

/** Options of the demo. */
export interface DemoOptions {
  /** Training steps per model. */
  steps: number;
  /** Seed. */
  seed: number;
  /** JSON lines output. */
  json: boolean;
}

const K = 6; // input symbols
const T = 16; // sequence length
const BATCH = 32;
const POOL = 1000; // batches of distinct training data

/** n random sequences of T symbols, each step labelled with the next symbol (K at the end). */
function makeData(rng: Rng, n: number): SequenceDataset {
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(K);
  for (let i = 0; i < x.length; i++) y[i] = i % T < T - 1 ? x[i + 1] : K;
  return { x: { data: x, shape: [n, T] }, y: { data: y, shape: [n, T] } };
}

function buildModel(bidirectional: boolean, seed: number): Sequential {
  const H = 32;
  return new Sequential([
    new Embedding({ numEmbeddings: K, embeddingDim: 16, seed }),
    new RNN({ inputSize: 16, hiddenSize: H, bidirectional, seed: seed + 1 }),
    new Linear({ inFeatures: bidirectional ? 2 * H : H, outFeatures: K + 1, seed: seed + 2 }),
  ]);
}

/** Trains both models side by side on the same batches and prints their accuracies on fresh data. */
export async function runDemoBidirectional(o: DemoOptions): Promise<void> {
  // Fresh sequences for every step (up to POOL batches, then the same ones again: memory stays small).
  const pool = Math.min(o.steps, POOL);
  const data = makeData(new Rng(o.seed), pool * BATCH);
  const models = { uni: buildModel(false, o.seed), bi: buildModel(true, o.seed) };
  const t0 = Date.now();
  if (!o.json) {
    console.log(`task: ${T} random symbols from ${K}; label each step with the NEXT symbol (last step: end marker)`);
    console.log(`chance is about ${((1 / K) * 100).toFixed(0)}% for a model that cannot see ahead`);
  }
  // Print a line once both models have reached a reporting step.
  const every = Math.max(1, Math.round(o.steps / 5));
  const losses = { uni: new Map<number, number>(), bi: new Map<number, number>() };
  let next = every;
  const flush = (): void => {
    while (next <= o.steps && losses.uni.has(next) && losses.bi.has(next)) {
      const step = next;
      const [uni, bi] = [losses.uni.get(step) as number, losses.bi.get(step) as number];
      if (o.json) process.stdout.write(JSON.stringify({ type: 'progress', step, uniLoss: round(uni), biLoss: round(bi) }) + '\n');
      else console.log(`step ${String(step).padStart(4)}  loss  unidirectional ${uni.toFixed(3)}   bidirectional ${bi.toFixed(3)}`);
      next = step === o.steps ? Infinity : Math.min(step + every, o.steps);
    }
  };
  const train = (k: 'uni' | 'bi'): Promise<unknown> =>
    fit(models[k], data, {
      epochs: Math.ceil(o.steps / pool),
      steps: o.steps,
      batchSize: BATCH,
      loss: 'crossEntropy',
      optimizer: new Adam(models[k].parameters(), { lr: 1e-2 }),
      shuffle: false,
      onProgress: ({ step, loss }) => {
        if (step % every === 0 || step === o.steps) {
          losses[k].set(step, loss);
          flush();
        }
      },
    });
  // The two fits interleave: each awaits its model's native work on the thread pool.
  await Promise.all([train('uni'), train('bi')]);
  const test = makeData(new Rng(o.seed + 1000), 512);
  const uniAccuracy = (await evaluate(models.uni, test, { loss: 'crossEntropy', batchSize: 512 })).accuracy as number;
  const biAccuracy = (await evaluate(models.bi, test, { loss: 'crossEntropy', batchSize: 512 })).accuracy as number;
  const seconds = (Date.now() - t0) / 1000;
  if (o.json) {
    process.stdout.write(JSON.stringify({ type: 'result', uniAccuracy: round(uniAccuracy), biAccuracy: round(biAccuracy), steps: o.steps, seconds: round(seconds) }) + '\n');
  } else {
    console.log(`accuracy on 512 fresh sequences:  unidirectional ${(uniAccuracy * 100).toFixed(1)}%   bidirectional ${(biAccuracy * 100).toFixed(1)}%   (${seconds.toFixed(1)} s)`);
  }
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
