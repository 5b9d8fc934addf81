/**
 * Benchmark child: onnxruntime-node (CPU execution provider), forward only.
 * The model is a single ONNX `RNN` node (opset 14, tanh): X [T,B,I] is the
 * graph input, W [D,H,I], R [D,H,H] and B [D,2H] are initializers, Y
 * [T,D,B,H] is the only output. intraOpNumThreads = the thread count.
 * L5 / G5 (LSTM / GRU): the PyTorch twin (nn.LSTM / nn.GRU of bench/torch_bench.py)
 * exported with torch.onnx.export, opset 14 (bench/torch_onnx_export.py), x [T,B,I] in,
 * y [T,B,D*H] out.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AttributeType, DataType, encodeModelProto } from '../src/onnx/proto.js';
import { Lcg, peakRssMB, runChild, timeSteps, timing, type Timing } from './common.js';
import { BENCH_DIR, PYTHON } from './spawn.js';
import { cellOf, directions, type Workload } from './workloads.js';

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

/**
 * The gated workload's PyTorch module exported to bench/out/onnx_<id>.onnx by
 * bench/torch_onnx_export.py under $PYTHON; returns the path and the exporter's line.
 */
export function exportTorchModel(w: Workload): { path: string; what: string } {
  const dir = join(BENCH_DIR, 'out');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `onnx_${w.id}.onnx`);
  const r = spawnSync(PYTHON, [join(BENCH_DIR, 'torch_onnx_export.py'), JSON.stringify(w), path], { cwd: BENCH_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch.onnx.export of ${w.id} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0]}`);
  return { path, what: r.stdout.trim().split('\n').slice(-1)[0] };
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
    const gated = cellOf(w) !== 'RNN';
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: job.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    let session: ort.InferenceSession;
    if (gated) {
      const { path, what } = exportTorchModel(w);
      notes.push(`${w.id}: torch.onnx.export opset 14 of the PyTorch nn.${cellOf(w)}: ${what.replace(/^exported \S+ /, '')}`);
      session = await ort.InferenceSession.create(path, sessionOptions);
    } else {
      session = await ort.InferenceSession.create(rnnModelBytes(w), sessionOptions);
    }
    const rng = new Lcg(2);
    const X = new ort.Tensor('float32', rng.floats(w.T * w.B * w.I), [w.T, w.B, w.I]);
    const feeds: Record<string, ort.Tensor> = gated ? { x: X } : { X };
    const step = async () => {
      const out = await session.run(feeds);
      for (const t of Object.values(out)) t.dispose();
    };
    timings.push(timing(w, job.threads, await timeSteps(step, job.warmup, job.reps, job.budgetMs, job.minTimeMs), job.reps));
    await session.release();
  }
  return { impl: 'onnxruntime', version: `onnxruntime-node ${version}`, timings, baseRssMB, peakRssMB: peakRssMB(), notes };
});
