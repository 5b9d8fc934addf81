/**
 * `rnnblas demo bidirectional`: a sequence-labelling task whose answer lies in
 * the future. Each step is labelled with the NEXT input symbol (the last step
 * with an end marker). A unidirectional RNN can only guess (about 1/K); a
 * bidirectional RNN reads the answer from its reverse direction.
 */
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { crossEntropy } from '../nn/losses.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Adam } from '../optim/index.js';
import { Rng } from '../random.js';

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

function makeBatch(rng: Rng, batch: number): { x: Int32Array; y: Int32Array } {
  const x = new Int32Array(T * batch);
  const y = new Int32Array(T * batch);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(K);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < batch; b++) y[t * batch + b] = t + 1 < T ? x[(t + 1) * batch + b] : K;
  }
  return { x, y };
}

function buildModel(bidirectional: boolean, seed: number): Sequential {
  const H = 32;
  return new Sequential([
    new Embedding({ numEmbeddings: K, embeddingDim: 16, seed }),
    new RNN({ inputSize: 16, hiddenSize: H, bidirectional, seed: seed + 1 }),
    new Linear({ inFeatures: bidirectional ? 2 * H : H, outFeatures: K + 1, seed: seed + 2 }),
  ]);
}

function accuracy(model: Sequential, x: Int32Array, y: Int32Array, batch: number): number {
  model.eval();
  const logits = model.forward({ data: x, shape: [T, batch] });
  model.train();
  const C = K + 1;
  let correct = 0;
  for (let n = 0; n < y.length; n++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits.data[n * C + c] > logits.data[n * C + best]) best = c;
    if (best === y[n]) correct++;
  }
  return correct / y.length;
}

/** Trains both models side by side on the same batches and prints their accuracies on fresh data. */
export async function runDemoBidirectional(o: DemoOptions): Promise<void> {
  const rng = new Rng(o.seed);
  const models = { uni: buildModel(false, o.seed), bi: buildModel(true, o.seed) };
  const opts = { uni: new Adam(models.uni.parameters(), { lr: 1e-2 }), bi: new Adam(models.bi.parameters(), { lr: 1e-2 }) };
  const t0 = Date.now();
  if (!o.json) {
    console.log(`task: ${T} random symbols from ${K}; label each step with the NEXT symbol (last step: end marker)`);
    console.log(`chance is about ${((1 / K) * 100).toFixed(0)}% for a model that cannot see ahead`);
  }
  const losses = { uni: 0, bi: 0 };
  for (let step = 1; step <= o.steps; step++) {
    const { x, y } = makeBatch(rng, BATCH);
    for (const k of ['uni', 'bi'] as const) {
      const m = models[k];
      opts[k].zeroGrad();
      const logits = await m.forwardAsync({ data: x, shape: [T, BATCH] });
      const { loss, grad } = crossEntropy({ data: logits.data, shape: [T * BATCH, K + 1] }, y);
      await m.backwardAsync({ data: grad.data, shape: logits.shape });
      opts[k].step();
      losses[k] = loss;
    }
    if (step % Math.max(1, Math.round(o.steps / 5)) === 0 || step === o.steps) {
      if (o.json) process.stdout.write(JSON.stringify({ type: 'progress', step, uniLoss: round(losses.uni), biLoss: round(losses.bi) }) + '\n');
      else console.log(`step ${String(step).padStart(4)}  loss  unidirectional ${losses.uni.toFixed(3)}   bidirectional ${losses.bi.toFixed(3)}`);
    }
  }
  const test = makeBatch(new Rng(o.seed + 1000), 512);
  const uniAccuracy = accuracy(models.uni, test.x, test.y, 512);
  const biAccuracy = accuracy(models.bi, test.x, test.y, 512);
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
