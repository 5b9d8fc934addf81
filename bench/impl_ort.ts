/**
 * Benchmark child: onnxruntime-node (CPU execution provider), forward only.
 * The model is a single ONNX `RNN` node (opset 14, tanh): X [T,B,I] is the
 * graph input, W [D,H,I], R [D,H,H] and B [D,2H] are initializers, Y
 * [T,D,B,H] is the only output. intraOpNumThreads = the thread count.
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { AttributeType, DataType, encodeModelProto } from '../src/onnx/proto.js';
import { Lcg, peakRssMB, runChild, timeSteps, timing, type Timing } from './common.js';
import { directions, type Workload } from './workloads.js';

const require = createRequire(import.meta.url);

/** The serialized one-node RNN model for w (weights uniform in ±1/√H, as PyTorch initialises). */
export function rnnModelBytes(w: Workload, seed = 1): Uint8Array {
  const { T, I, H } = w;
  const D = directions(w);
  const rng = new Lcg(seed);
  const k = 1 / Math.sqrt(H);
  const FLOAT = DataType.FLOAT;
  const init = (name: string, dims: number[]) => {
    const n = dims.reduce((a, b) => a * b, 1);
    return { name, dims, dataType: FLOAT, rawData: new Uint8Array(rng.floats(n, -k, k).buffer) };
  };
  const dim = (v: number | string) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v });
  const valueInfo = (name: string, dims: Array<number | string>) => ({
    name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(dim) } } },
  });
  const { INT, STRING } = AttributeType;
  return encodeModelProto({
    irVersion: 7,
    producerName: 'rnnblas-bench',
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: `rnn_${w.id}`,
      node: [{
        opType: 'RNN', name: 'rnn', input: ['X', 'W', 'R', 'B'], output: ['Y'],
        attribute: [
          { name: 'hidden_size', type: INT, i: H },
          { name: 'direction', type: STRING, s: new TextEncoder().encode(D === 2 ? 'bidirectional' : 'forward') },
        ],
      }],
      initializer: [init('W', [D, H, I]), init('R', [D, H, H]), init('B', [D, 2 * H])],
      input: [valueInfo('X', [T, 'batch', I])],
      output: [valueInfo('Y', [T, D, 'batch', H])],
    },
  });
}

runChild('onnxruntime', async (job) => {
  const version = (require('onnxruntime-node/package.json') as { version: string }).version;
  const baseRssMB = peakRssMB();
  const timings: Timing[] = [];
  const notes: string[] = [];
  for (const w of job.workloads) {
    if (w.work !== 'forward') {
      notes.push(`${w.id}: skipped: onnxruntime-node runs inference only`);
      continue;
    }
    const session = await ort.InferenceSession.create(rnnModelBytes(w), {
      intraOpNumThreads: job.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const rng = new Lcg(2);
    const X = new ort.Tensor('float32', rng.floats(w.T * w.B * w.I), [w.T, w.B, w.I]);
    const step = async () => {
      const out = await session.run({ X });
      out.Y.dispose();
    };
    timings.push(timing(w, job.threads, await timeSteps(step, job.warmup, job.reps, job.budgetMs, job.minTimeMs), job.reps));
    await session.release();
  }
  return { impl: 'onnxruntime', version: `onnxruntime-node ${version}`, timings, baseRssMB, peakRssMB: peakRssMB(), notes };
});
