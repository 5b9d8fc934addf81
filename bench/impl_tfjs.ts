/**
 * Benchmark child: TensorFlow.js with the pure-JS `cpu` backend or the `wasm`
 * backend (options.backend). The model is tf.layers.simpleRNN (tanh,
 * returnSequences) per layer, wrapped in tf.layers.bidirectional (concat) when
 * bidirectional; W1 adds a Dense 256→65 head with softmax cross-entropy, W2/W3
 * MSE on the output sequence. The train step is `tf.train.sgd(lr).minimize`;
 * forward is `model.predict` with the result read back. tfjs is batch-first:
 * x is [B,T,I], the same numbers of steps and FLOPs. L* / G* use tf.layers.lstm /
 * tf.layers.gru in place of simpleRNN (tfjs 4.22's GRU is Keras' reset_after=false cell:
 * the reset gate applied before the recurrent product, the same FLOPs).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Lcg, peakRssMB, runChild, timeSteps, timing, type Timing } from './common.js';
import { cellOf, directions, type Workload } from './workloads.js';

const require = createRequire(import.meta.url);

function buildModel(w: Workload): tf.Sequential {
  const model = tf.sequential();
  for (let k = 0; k < w.layers; k++) {
    const inputShape = k === 0 ? [w.T, w.I] : undefined;
    const args = {
      units: w.H, returnSequences: !(k === w.layers - 1 && w.head.kind === 'last-linear-mse'), ...(inputShape && !w.bidirectional ? { inputShape } : {}),
    };
    const kind = cellOf(w);
    const cell = kind === 'LSTM' ? tf.layers.lstm(args) : kind === 'GRU' ? tf.layers.gru(args) : tf.layers.simpleRNN({ ...args, activation: 'tanh' });
    model.add(w.bidirectional
      ? tf.layers.bidirectional({ layer: cell, mergeMode: 'concat', ...(inputShape ? { inputShape } : {}) })
      : cell);
  }
  if (w.head.kind === 'linear-ce') model.add(tf.layers.dense({ units: w.head.classes }));
  if (w.head.kind === 'last-linear-mse') model.add(tf.layers.dense({ units: w.head.outputs }));
  return model;
}

function makeStep(w: Workload): () => void {
  const { T, B, I, H } = w;
  const DH = directions(w) * H;
  const rng = new Lcg(2);
  const model = buildModel(w);
  const x = tf.tensor3d(rng.floats(B * T * I), [B, T, I]);
  if (w.work === 'forward') {
    return () => {
      tf.tidy(() => (model.predict(x, { batchSize: B }) as tf.Tensor).dataSync());
    };
  }
  const opt = tf.train.sgd(0.01);
  let loss: () => tf.Scalar;
  if (w.head.kind === 'linear-ce') {
    const C = w.head.classes;
    const labels = tf.oneHot(tf.tensor1d(rng.ints(B * T, C), 'int32'), C).reshape([B, T, C]);
    loss = () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  } else if (w.head.kind === 'last-linear-mse') {
    const target = tf.tensor2d(rng.floats(B * w.head.outputs), [B, w.head.outputs]);
    loss = () => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  } else {
    const target = tf.tensor3d(rng.floats(B * T * DH), [B, T, DH]);
    loss = () => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  }
  return () => {
    const cost = opt.minimize(loss, true);
    cost?.dataSync();
    cost?.dispose();
  };
}

runChild('tfjs', async (job) => {
  const backend = String(job.options?.backend ?? 'cpu');
  const notes: string[] = [];
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    wasm.setThreadsCount(job.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    notes.push(`wasm: SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, multithreading ${mt ? 'on' : 'unavailable in Node (single-threaded)'}, threads ${wasm.getThreadsCount()}`);
  } else {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
    notes.push('cpu: pure JavaScript, single-threaded');
  }
  await tf.ready();
  const baseRssMB = peakRssMB();
  const timings: Timing[] = [];
  for (const w of job.workloads) {
    const step = makeStep(w);
    timings.push(timing(w, job.threads, await timeSteps(step, job.warmup, job.reps, job.budgetMs), job.reps));
  }
  return { impl: `tfjs-${backend}`, version: `tfjs ${tf.version.tfjs}`, timings, baseRssMB, peakRssMB: peakRssMB(), notes };
});
