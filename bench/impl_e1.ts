/**
 * Benchmark child for E1 (bench/e1.ts): the CLI's default character model (Embedding(V,32) →
 * RNN 2×256 → Linear 256→V, the seeds of `rnnblas train`), Adam lr 3e-3, clip 5, windows
 * T=64 × B=32 of the E1 text, timed in one of these modes (job.options.mode):
 *
 * - `fit`: the library's `fit` (what `rnnblas train` runs), one step = the time between two
 *   `onProgress` calls. The model's forwardQueued (fit's one-job step), native.layersAsync (the
 *   job), forwardAsync/backwardAsync (the per-pass path) and the optimizer's step are wrapped
 *   with timers (measurement only; fit itself is not touched) to split the step.
 * - `sync`: the same step as a plain synchronous loop of the library's calls: the batch
 *   copied time-major into buffers made once, `model.forward`, `crossEntropy`,
 *   `model.backward`, `clipGradNorm`, `opt.step`, each part timed.
 * - `sync-async`: `sync` with forwardAsync/backwardAsync (fit's path for models it cannot
 *   queue as one job) instead.
 * - `sync-fit-data`: `sync` with fit's own per-step data work instead of the hand-made
 *   batch: `gatherBatch` (new arrays per step) and `batchLoss` (cross-entropy plus the
 *   accuracy argmax), then a `nextTick` yield as fit does for a step without a native job.
 *
 * - `paired`: fit and the sync loop in the same process on the same model, alternating in
 *   blocks of `options.block` steps (default 6; the first step of each block not counted), so
 *   that a busy machine slows both alike; reports both medians and the ratio of each pair of
 *   neighbouring blocks' medians.
 *
 * Every mode also reports garbage collection during the timed steps (PerformanceObserver
 * 'gc' entries: count, total ms, by kind) and the heap/array-buffer growth.
 */
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { Adam, Embedding, Linear, RNN, Rng, Sequential, blasInfo, charDataset, charVocab, clipGradNorm, crossEntropy, fit, setNumThreads, type Tensor } from '../src/index.js';
import { checkDataset, gatherBatch } from '../src/data/dataset.js';
import type { IntTensor } from '../src/tensor.js';
import { batchLoss } from '../src/train/loss.js';
import { native } from '../src/native/binding.js';
import { median, peakRssMB, runChild, type ChildResult } from './common.js';
import { E1 } from './workloads.js';

type Mode = 'fit' | 'sync' | 'sync-async' | 'sync-fit-data' | 'paired';

/** The CLI's model (src/cli/char_model.ts buildCharModel with the default seed 1). */
function buildModel(V: number, seed = 1): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: V, embeddingDim: E1.embed, seed }),
    new RNN({ inputSize: E1.embed, hiddenSize: E1.H, numLayers: E1.layers, seed: seed + 1 }),
    new Linear({ inFeatures: E1.H, outFeatures: V, seed: seed + 2 }),
  ]);
}

/**
 * GC entries whose start falls between start() and end(). The observer's callback runs
 * asynchronously (a synchronous loop never yields to it), so entries are kept with their
 * start time and filtered once the loop is over and the event loop has run.
 */
class GcMeter {
  count = 0;
  ms = 0;
  byKind: Record<string, { count: number; ms: number }> = {};
  private readonly entries: { start: number; duration: number; kind: string }[] = [];
  private t0 = Infinity;
  private t1 = Infinity;
  private readonly obs: PerformanceObserver;
  constructor() {
    const kinds: Record<number, string> = {
      [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor (scavenge)',
      [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major (mark-sweep)',
      [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
      [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
    };
    this.obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        this.entries.push({ start: e.startTime, duration: e.duration, kind });
      }
    });
    this.obs.observe({ entryTypes: ['gc'] });
  }
  start(): void {
    this.t0 = performance.now();
  }
  end(): void {
    this.t1 = performance.now();
  }
  /** Lets pending observer callbacks run, then sums the entries of the window. */
  async finish(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
    this.obs.disconnect();
    for (const e of this.entries) {
      if (e.start < this.t0 || e.start > this.t1) continue;
      this.count++;
      this.ms += e.duration;
      const k = (this.byKind[e.kind] ??= { count: 0, ms: 0 });
      k.count++;
      k.ms += e.duration;
    }
  }
}

/** Wraps obj[name] (a method) so the time spent in it, sync or async, adds to acc[key]. */
function timeMethod(obj: object, name: string, acc: Record<string, number>, key: string): void {
  const target = obj as Record<string, (...a: unknown[]) => unknown>;
  const orig = target[name].bind(obj);
  acc[key] = 0;
  target[name] = (...args: unknown[]) => {
    const t0 = performance.now();
    const r = orig(...args);
    if (r instanceof Promise) {
      return r.then((v) => {
        acc[key] += performance.now() - t0;
        return v;
      });
    }
    acc[key] += performance.now() - t0;
    return r;
  };
}

/** CPU ms (user + system, all threads) of this process so far. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

runChild('rnnblas-e1', async (job) => {
  const o = job.options ?? {};
  const mode = String(o.mode) as Mode;
  if (!['fit', 'sync', 'sync-async', 'sync-fit-data', 'paired'].includes(mode)) throw new Error(`unknown mode ${mode}`);
  setNumThreads(job.threads);
  const text = readFileSync(String(o.textPath), 'utf8');
  const vocab = charVocab(text);
  const V = vocab.size;
  const { T, B } = E1;
  const data = charDataset(text, vocab, { seqLen: T });
  const N = data.x.shape[0];
  const model = buildModel(V);
  const opt = new Adam(model.parameters(), { lr: 3e-3 });
  const params = opt.params;
  const warmup = job.warmup;
  const reps = job.reps;
  const total = warmup + reps;
  const gc = new GcMeter();
  const baseRssMB = peakRssMB();
  let heapBefore = 0;
  let abBefore = 0;
  const startTimed = (): void => {
    const m = process.memoryUsage();
    heapBefore = m.heapUsed;
    abBefore = m.arrayBuffers;
    gc.start();
  };
  const samples: number[] = [];
  const phaseSamples: Record<string, number[]> = {};
  const losses: number[] = [];
  /** Growth of process.memoryUsage().arrayBuffers over a step, for steps without a GC freeing buffers in between (bytes). */
  const abDeltas: number[] = [];
  let lastAb = 0;
  /** CPU ms of the process per timed step (robust to a busy machine, unlike wall time; includes spinning threads). */
  const cpuSamples: number[] = [];
  let lastCpu = 0;

  if (mode === 'paired') {
    const block = Number(o.block ?? 6);
    const rng = new Rng(1);
    let order: number[] = [];
    let pos = N;
    const xb: IntTensor = { data: new Int32Array(T * B), shape: [T, B] };
    const yb = new Int32Array(T * B);
    const xs = data.x.data as Int32Array;
    const ys = data.y.data as Int32Array;
    const syncCpu: number[] = [];
    const fitCpu: number[] = [];
    const syncBlock = (n: number): number[] => {
      const out: number[] = [];
      const cpu: number[] = [];
      for (let s = 0; s < n; s++) {
        const c0 = cpuMs();
        const t0 = performance.now();
        if (pos + B > N) {
          order = Array.from({ length: N }, (_, i) => i);
          rng.shuffle(order);
          pos = 0;
        }
        for (let bi = 0; bi < B; bi++) {
          const row = order[pos + bi] * T;
          for (let t = 0; t < T; t++) {
            xb.data[t * B + bi] = xs[row + t];
            yb[t * B + bi] = ys[row + t];
          }
        }
        pos += B;
        model.zeroGrad();
        const y = model.forward(xb);
        const r = crossEntropy({ data: y.data, shape: [T * B, V] }, yb, { reduction: 'mean' });
        model.backward({ data: r.grad.data, shape: y.shape });
        clipGradNorm(params, 5);
        opt.step();
        losses.push(r.loss);
        out.push(performance.now() - t0);
        cpu.push(cpuMs() - c0);
      }
      syncCpu.push(...cpu.slice(1));
      return out.slice(1);
    };
    let fitStep = 0;
    const fitBlock = async (n: number): Promise<number[]> => {
      const out: number[] = [];
      const cpu: number[] = [];
      let last = performance.now();
      let lastC = cpuMs();
      await fit(model, data, {
        batchSize: B, loss: 'crossEntropy', optimizer: opt, clipNorm: 5, rng, steps: n, initialStep: fitStep,
        onProgress: (p) => {
          const now = performance.now();
          out.push(now - last);
          last = now;
          const c = cpuMs();
          cpu.push(c - lastC);
          lastC = c;
          fitStep = p.step;
          losses.push(p.loss);
        },
      });
      fitCpu.push(...cpu.slice(1));
      return out.slice(1);
    };
    syncBlock(warmup);
    await fitBlock(warmup);
    startTimed();
    syncCpu.length = 0;
    fitCpu.length = 0;
    const fitS: number[] = [];
    const syncS: number[] = [];
    const ratios: number[] = [];
    const blocks = Math.max(1, Math.ceil(reps / (block - 1)));
    for (let k = 0; k < blocks; k++) {
      // Alternate which goes first.
      let f: number[];
      let sy: number[];
      if (k % 2 === 0) {
        f = await fitBlock(block);
        sy = syncBlock(block);
      } else {
        sy = syncBlock(block);
        f = await fitBlock(block);
      }
      fitS.push(...f);
      syncS.push(...sy);
      ratios.push(median(f) / median(sy));
    }
    gc.end();
    await gc.finish();
    const info = blasInfo();
    return {
      impl: 'rnnblas-paired',
      version: `${info.version} (${info.core})`,
      timings: [
        { workload: 'E1-fit', threads: job.threads, ms: median(fitS), minMs: Math.min(...fitS), reps: fitS.length },
        { workload: 'E1-sync', threads: job.threads, ms: median(syncS), minMs: Math.min(...syncS), reps: syncS.length },
      ],
      baseRssMB,
      peakRssMB: peakRssMB(),
      extra: {
        fitCpuMsPerStep: median(fitCpu), syncCpuMsPerStep: median(syncCpu),
        V, blocks, block, fitOverSync: median(fitS) / median(syncS), fitOverSyncBlockMedian: median(ratios),
        blockRatios: ratios.map((r) => r.toFixed(3)).join(' '), gcMsPerStep: gc.ms / (fitS.length + syncS.length),
        firstLoss: losses[0], lastLoss: losses[losses.length - 1],
      },
      notes: [`fit samples: ${fitS.map((v) => v.toFixed(1)).join(' ')}`, `sync samples: ${syncS.map((v) => v.toFixed(1)).join(' ')}`],
    };
  }

  if (mode === 'fit') {
    const acc: Record<string, number> = {};
    // fit queues a step as one native job (Sequential.forwardQueued), then runs it (the lookup,
    // the RNN, the head, the loss and the whole backward); forwardAsync/backwardAsync are its
    // path for models it cannot queue.
    timeMethod(model, 'forwardQueued', acc, 'forwardQueued (queueing the forward)');
    timeMethod(native, 'layersAsync', acc, 'the native job');
    timeMethod(model, 'forwardAsync', acc, 'forwardAsync');
    timeMethod(model, 'backwardAsync', acc, 'backwardAsync');
    timeMethod(opt, 'step', acc, 'optimizer.step');
    let last = 0;
    let lastAcc: Record<string, number> = { ...acc };
    await fit(model, data, {
      batchSize: B, loss: 'crossEntropy', optimizer: opt, clipNorm: 5, rng: new Rng(1), steps: total,
      onProgress: (p) => {
        const now = performance.now();
        const cpu = cpuMs();
        if (p.step > warmup) cpuSamples.push(cpu - lastCpu);
        lastCpu = cpu;
        const ab = process.memoryUsage().arrayBuffers;
        if (p.step > warmup && ab > lastAb) abDeltas.push(ab - lastAb);
        lastAb = ab;
        losses.push(p.loss);
        if (p.step === warmup) startTimed();
        if (p.step > warmup) {
          samples.push(now - last);
          for (const k of Object.keys(acc)) (phaseSamples[k] ??= []).push(acc[k] - lastAcc[k]);
        }
        last = now;
        lastAcc = { ...acc };
      },
    });
    phaseSamples['rest (batching, queueing the loss and the backward, clipping, zeroGrad, yields)'] = samples.map(
      (s, i) => s - Object.keys(acc).reduce((a, k) => a + phaseSamples[k][i], 0),
    );
  } else {
    const rng = new Rng(1);
    let order: number[] = [];
    let pos = N;
    const nextBatch = (): Int32Array => {
      if (pos + B > N) {
        order = Array.from({ length: N }, (_, i) => i);
        rng.shuffle(order);
        pos = 0;
      }
      const idx = Int32Array.from(order.slice(pos, pos + B));
      pos += B;
      return idx;
    };
    const info = checkDataset('data', data);
    // Buffers made once: x and y ids time-major [T, B].
    const xb: IntTensor = { data: new Int32Array(T * B), shape: [T, B] };
    const yb = new Int32Array(T * B);
    const xs = data.x.data as Int32Array;
    const ys = data.y.data as Int32Array;
    const phase = (name: string, ms: number): void => {
      (phaseSamples[name] ??= []).push(ms);
    };
    const async = mode === 'sync-async';
    const fitData = mode === 'sync-fit-data';
    for (let s = 0; s < total; s++) {
      if (s === warmup) startTimed();
      const ab0 = s >= warmup ? process.memoryUsage().arrayBuffers : 0;
      const c0 = cpuMs();
      const t0 = performance.now();
      const idx = nextBatch();
      let x: IntTensor | Tensor = xb;
      let y: IntTensor | Tensor | null = null;
      if (fitData) {
        const b = gatherBatch(data, info, idx);
        x = b.x;
        y = b.y;
      } else {
        for (let bi = 0; bi < B; bi++) {
          const row = idx[bi] * T;
          for (let t = 0; t < T; t++) {
            xb.data[t * B + bi] = xs[row + t];
            yb[t * B + bi] = ys[row + t];
          }
        }
      }
      const t1 = performance.now();
      model.zeroGrad();
      const out = async ? await model.forwardAsync(x) : model.forward(x);
      const t2 = performance.now();
      let loss: number;
      let grad: Tensor;
      if (fitData) {
        const r = batchLoss('crossEntropy', out, y as IntTensor, 'classPerStep', null);
        if (!r) throw new Error('no loss');
        loss = r.loss;
        grad = r.grad;
      } else {
        const r = crossEntropy({ data: out.data, shape: [T * B, V] }, yb, { reduction: 'mean' });
        loss = r.loss;
        grad = { data: r.grad.data, shape: out.shape };
      }
      const t3 = performance.now();
      if (async) await model.backwardAsync(grad);
      else model.backward(grad);
      const t4 = performance.now();
      clipGradNorm(params, 5);
      const t5 = performance.now();
      opt.step();
      if (fitData) await nextTick();
      const t6 = performance.now();
      losses.push(loss);
      if (s >= warmup) {
        const ab1 = process.memoryUsage().arrayBuffers;
        if (ab1 > ab0) abDeltas.push(ab1 - ab0);
        cpuSamples.push(cpuMs() - c0);
        samples.push(t6 - t0);
        phase('batch', t1 - t0);
        phase(`zeroGrad + forward${async ? 'Async' : ''}`, t2 - t1);
        phase(fitData ? 'batchLoss (CE + accuracy)' : 'crossEntropy', t3 - t2);
        phase(`backward${async ? 'Async' : ''}`, t4 - t3);
        phase('clipGradNorm', t5 - t4);
        phase(fitData ? 'Adam step + nextTick' : 'Adam step', t6 - t5);
      }
    }
  }
  gc.end();
  await gc.finish();
  const mem = process.memoryUsage();
  const info = blasInfo();
  const extra: Record<string, number | string> = {
    V, windows: N, textChars: Array.from(text).length,
    firstLoss: losses[0], lastLoss: losses[losses.length - 1],
    cpuMsPerStep: median(cpuSamples),
    arrayBufferMBPerStep: median(abDeltas) / 2 ** 20,
    gcCount: gc.count, gcMsPerStep: gc.ms / reps, gcCountPerStep: gc.count / reps,
    heapGrowthMB: (mem.heapUsed - heapBefore) / 2 ** 20, arrayBuffersGrowthMB: (mem.arrayBuffers - abBefore) / 2 ** 20,
    gcByKind: JSON.stringify(Object.fromEntries(Object.entries(gc.byKind).map(([k, v]) => [k, { count: v.count, msPerStep: v.ms / reps }]))),
  };
  for (const [k, v] of Object.entries(phaseSamples)) extra[`phase:${k}`] = median(v);
  const result: ChildResult = {
    impl: `rnnblas-${mode}`,
    version: `${info.version} (${info.core})`,
    timings: [{ workload: 'E1', threads: job.threads, ms: median(samples), minMs: Math.min(...samples), reps: samples.length }],
    baseRssMB,
    peakRssMB: peakRssMB(),
    extra,
    notes: [`samples: ${samples.map((s) => s.toFixed(1)).join(' ')}`],
  };
  return result;
});
