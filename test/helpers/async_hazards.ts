/**
 * Child process for test/async_safety.test.ts: runs one hazard scenario (JS
 * doing something hostile while an async native call runs), then checks that
 * the library still computes correct results, and prints one JSON line
 * `{ ok, detail }`. A crash of the process is the failure the test looks for.
 *
 * Run: node --expose-gc --import tsx test/helpers/async_hazards.ts <scenario>
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { getNumThreads, GRU, LSTM, RNN, setNumThreads, tensor, type Tensor } from '../../src/index.js';
import { blasInfo } from '../../src/blas.js';
import { makeRng } from './random.js';

const rng = makeRng(17);
const rand = (shape: number[]): Tensor => tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal() * 0.5), shape);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Detaches an ArrayBuffer as a user could (Node 20 has no ArrayBuffer.prototype.transfer). */
function detach(buffer: ArrayBufferLike): ArrayBuffer {
  return structuredClone(buffer as ArrayBuffer, { transfer: [buffer as ArrayBuffer] });
}

/** Churns the heap so freed memory is reused (what made a dangling pointer crash). */
function churn(): void {
  gc();
  const junk: Float32Array[] = [];
  for (let i = 0; i < 64; i++) junk.push(new Float32Array(1 << 16).fill(1e30));
  gc();
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const copy = (t: Tensor): Tensor => tensor(t.data.slice(), [...t.shape]);

/** forward + backward of a fresh module, synchronously: the reference. */
function reference(options: ConstructorParameters<typeof RNN>[0], x: Tensor, gy: Tensor, call: Parameters<RNN['forward']>[1] = {}) {
  const m = new RNN(options);
  const { y, hN } = m.forward(x, call);
  const { gx, gh0 } = m.backward({ gy });
  return { y: y.data.slice(), hN: hN.data.slice(), gx: gx?.data.slice() ?? null, gh0: gh0.data.slice(), grads: m.parameters().map((p) => p.grad.slice()) };
}

type Result = { ok: boolean; detail: string };

const scenarios: Record<string, () => Promise<Result>> = {
  // The seqLengths array (and anything reachable from the tape) changed to
  // out-of-range values while a bidirectional layer with h0 runs async.
  async lengths() {
    const opts = { inputSize: 6, hiddenSize: 48, bidirectional: true, numLayers: 2, seed: 3 };
    const T = 300, B = 8;
    const x = rand([T, B, 6]);
    const h0 = rand([4, B, 48]);
    const gy = rand([T, B, 96]);
    const lengths = Int32Array.from({ length: B }, (_, b) => T - 17 * b);
    const ref = reference(opts, copy(x), copy(gy), { h0: copy(h0), seqLengths: lengths.slice() });
    const m = new RNN(opts);
    const fwd = m.forwardAsync(x, { h0, seqLengths: lengths });
    lengths.fill(1 << 30);
    const { y, hN } = await fwd;
    lengths.fill(-5);
    const tape = (m as unknown as { tape: Record<string, unknown> }).tape;
    const back = m.backwardAsync({ gy });
    // The tape is opaque: there is no lengths array on it to change.
    const reachable = tape && 'lengths' in tape;
    lengths.fill(1 << 30);
    const { gx, gh0 } = await back;
    const ok = !reachable && sameBits(y.data, ref.y) && sameBits(hN.data, ref.hN) && sameBits(gx!.data, ref.gx!) &&
      sameBits(gh0.data, ref.gh0) && m.parameters().every((p, i) => sameBits(p.grad, ref.grads[i]));
    return { ok, detail: `tape exposes lengths: ${Boolean(reachable)}` };
  },

  // An LSTM: x, h0 and c0 transferred away during a long forwardAsync, gy and
  // gcN during its backwardAsync; results equal a synchronous run's bits.
  async 'detach-lstm'() {
    const opts = { inputSize: 8, hiddenSize: 64, numLayers: 2, seed: 9 };
    const T = 600, B = 4;
    const x = rand([T, B, 8]), h0 = rand([2, B, 64]), c0 = rand([2, B, 64]), gy = rand([T, B, 64]), gcN = rand([2, B, 64]);
    const r = new LSTM(opts);
    const ry = r.forward(copy(x), { h0: copy(h0), c0: copy(c0) });
    const rg = r.backward({ gy: copy(gy), gcN: copy(gcN) });
    // Detached during forwardAsync: the forward result is right; backward, which needs them,
    // refuses with an error naming x.
    const a = new LSTM(opts);
    const xa = copy(x), h0a = copy(h0), c0a = copy(c0);
    const fwdA = a.forwardAsync(xa, { h0: h0a, c0: c0a });
    for (const t of [xa, h0a, c0a]) detach(t.data.buffer);
    churn();
    const ya = await fwdA;
    let refused = '';
    try {
      await a.backwardAsync({ gy: copy(gy) });
    } catch (e) {
      refused = String(e);
    }
    // gy and gcN detached during backwardAsync: the gradients are right.
    const m = new LSTM(opts);
    await m.forwardAsync(x, { h0, c0 });
    const back = m.backwardAsync({ gy, gcN });
    detach(gy.data.buffer);
    detach(gcN.data.buffer);
    churn();
    const { gx, gc0 } = await back;
    const ok = sameBits(ya.y.data, ry.y.data) && sameBits(ya.cN.data, ry.cN.data) && /x, which the forward pass borrows/.test(refused) &&
      sameBits(gx!.data, rg.gx!.data) && sameBits(gc0.data, rg.gc0.data) && m.parameters().every((p, i) => sameBits(p.grad, r.parameters()[i].grad));
    return { ok, detail: `backward after detaching x: ${refused || 'no error'}; gradients equal sync: ${ok}` };
  },

  // Store-less (noGrad) forwards of a 2-layer reset-before GRU and LSTM, one libuv job per pass:
  // x, h0 (and c0) transferred and the heap churned mid-call; the results equal the sync ones.
  async 'detach-nograd'() {
    const T = 400, B = 16, I = 8, H = 64;
    const x = rand([T, B, I]), h0 = rand([2, B, H]), c0 = rand([2, B, H]);
    const gru = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, resetAfter: false, seed: 3 });
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 });
    const g = gru.forward(copy(x), { h0: copy(h0), noGrad: true });
    const l = lstm.forward(copy(x), { h0: copy(h0), c0: copy(c0), noGrad: true });
    const xg = copy(x), hg = copy(h0), xl = copy(x), hl = copy(h0), cl = copy(c0);
    const pg = gru.forwardAsync(xg, { h0: hg, noGrad: true });
    const pl = lstm.forwardAsync(xl, { h0: hl, c0: cl, noGrad: true });
    for (const t of [xg, hg, xl, hl, cl]) detach(t.data.buffer);
    churn();
    const [ag, al] = await Promise.all([pg, pl]);
    const ok = sameBits(ag.y.data, g.y.data) && sameBits(ag.hN.data, g.hN.data) && sameBits(al.y.data, l.y.data) && sameBits(al.cN.data, l.cN.data);
    return { ok, detail: `noGrad async results equal sync after detaching x, h0, c0: ${ok}` };
  },

  // x's buffer transferred away (and collected) during a long forwardAsync.
  async 'detach-x'() {
    const opts = { inputSize: 16, hiddenSize: 128, seed: 5 };
    const x = rand([1500, 4, 16]);
    const ref = reference(opts, copy(x), rand([1500, 4, 128]));
    const m = new RNN(opts);
    const p = m.forwardAsync(x);
    detach(x.data.buffer);
    churn();
    const { y } = await p;
    return { ok: x.data.length === 0 && sameBits(y.data, ref.y), detail: `x length after detach ${x.data.length}` };
  },

  // gy and a parameter's grad (the module's gradient arena) transferred away
  // during a long backwardAsync.
  async 'detach-gy-grad'() {
    const opts = { inputSize: 16, hiddenSize: 128, seed: 6 };
    const x = rand([1500, 4, 16]);
    const gy = rand([1500, 4, 128]);
    const ref = reference(opts, copy(x), copy(gy));
    const m = new RNN(opts);
    await m.forwardAsync(x);
    const p = m.backwardAsync({ gy });
    detach(gy.data.buffer);
    // Native-owned memory cannot be taken away: the transfer copies it.
    const moved = new Float32Array(detach(m.parameters()[0].grad.buffer));
    churn();
    await p;
    const intact = m.parameters().every((q, i) => sameBits(q.grad, ref.grads[i]));
    // A fresh module still computes correct results.
    const again = reference(opts, copy(x), rand([1500, 4, 128]));
    const check = new RNN(opts).forward(copy(x)).y.data;
    return {
      ok: gy.data.length === 0 && intact && moved.length > 0 && sameBits(check, again.y),
      detail: `gy length after detach ${gy.data.length}; grads intact: ${intact}`,
    };
  },

  // A plain (non-native) output buffer detached during the call: the result is
  // dropped with an error, nothing is written anywhere.
  async 'detach-output'() {
    const opts = { inputSize: 16, hiddenSize: 128, seed: 8 };
    const x = rand([1500, 4, 16]);
    const m = new RNN(opts);
    await m.forwardAsync(x);
    const gy = rand([1500, 4, 128]);
    // The module's own buffers are native; a user-owned gradient buffer is not.
    const { native } = await import('../../src/native/binding.js');
    const dwIh = new Float32Array(128 * 16);
    const work = new Float32Array(native.backwardWorkspaceSize(1500, 4, 16, 128));
    const sd = m.stateDict();
    const y = (await m.forwardAsync(x)).y;
    const call = native.backwardLayerAsync([{
      dx: null, dh0: null, dwIh, dwHh: new Float32Array(128 * 128), dbIh: null, dbHh: null, work,
      y: y.data, h0: null, dy: gy.data, dhN: null, x: x.data, wIh: sd.weight_ih_l0.data, wHh: sd.weight_hh_l0.data,
      lengths: null, T: 1500, B: 4, I: 16, H: 128, ld: 128, act: 0, reverse: false,
    }]);
    detach(dwIh.buffer);
    churn();
    let message = '';
    await call.catch((e: Error) => (message = e.message));
    return { ok: /dwIh.*detached/.test(message), detail: message };
  },

  // A training step's kind of job (a layer call, then a GEMM and the loss on its output):
  // the GEMM's plain output and the loss slot detached mid-call. The promise rejects naming
  // both; the kernels wrote only the job's own copies.
  async 'detach-job-ops'() {
    const { native } = await import('../../src/native/binding.js');
    const T = 1500, B = 4, I = 16, H = 128, C = 9;
    const m = new RNN({ inputSize: I, hiddenSize: H, seed: 8 });
    const sd = m.stateDict();
    const x = rand([T, B, I]);
    const y = new Float32Array(T * B * H);
    const wOut = rand([C, H]).data;
    const logits = new Float32Array(T * B * C);
    const grad = new Float32Array(T * B * C);
    const targets = Int32Array.from({ length: T * B }, (_, i) => i % C);
    const loss = new Float64Array(1);
    // The input comes from an embedding lookup in the job, whose ids are overwritten mid-call too.
    const table = Float32Array.from(x.data.subarray(0, 50 * I));
    const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % 50);
    for (let i = 0; i < T * B; i++) x.data.set(table.subarray(ids[i] * I, (ids[i] + 1) * I), i * I);
    const looked = new Float32Array(T * B * I);
    const job = native.layersAsync([
      { op: 'embeddingForward', ids, weight: table, out: looked, V: 50, E: I },
      { backward: false, dirs: [{ x: looked, h0: null, wIh: sd.weight_ih_l0.data, wHh: sd.weight_hh_l0.data, bIh: sd.bias_ih_l0.data, bHh: sd.bias_hh_l0.data, lengths: null, y, hN: new Float32Array(B * H), T, B, I, H, ld: H, act: 0, reverse: false }] },
      { op: 'sgemm', transA: false, transB: true, M: T * B, N: C, K: H, alpha: 1, A: y, lda: H, B: wOut, ldb: H, beta: 0, C: logits, ldc: C },
      { op: 'softmaxCrossEntropy', logits, targets, mask: null, N: T * B, C, ignoreIndex: -100, scale: 1 / (T * B), grad, loss },
    ]);
    detach(logits.buffer);
    detach(loss.buffer);
    targets.fill(1 << 30);  // the job checked and copied them (and the ids) when it was queued
    ids.fill(-5);
    churn();
    let message = '';
    await job.catch((e: Error) => (message = e.message));
    // Afterwards the same job with fresh buffers gives the synchronous calls' bits.
    const y2 = new Float32Array(T * B * H), logits2 = new Float32Array(T * B * C), grad2 = new Float32Array(T * B * C), loss2 = new Float64Array(1);
    const t2 = Int32Array.from({ length: T * B }, (_, i) => i % C);
    await native.layersAsync([
      { backward: false, dirs: [{ x: x.data, h0: null, wIh: sd.weight_ih_l0.data, wHh: sd.weight_hh_l0.data, bIh: sd.bias_ih_l0.data, bHh: sd.bias_hh_l0.data, lengths: null, y: y2, hN: new Float32Array(B * H), T, B, I, H, ld: H, act: 0, reverse: false }] },
      { op: 'sgemm', transA: false, transB: true, M: T * B, N: C, K: H, alpha: 1, A: y2, lda: H, B: wOut, ldb: H, beta: 0, C: logits2, ldc: C },
      { op: 'softmaxCrossEntropy', logits: logits2, targets: t2, mask: null, N: T * B, C, ignoreIndex: -100, scale: 1 / (T * B), grad: grad2, loss: loss2 },
    ]);
    const yRef = m.forward(x).y.data;
    const lRef = new Float32Array(T * B * C);
    native.sgemm(false, true, T * B, C, H, 1, yRef, H, wOut, H, 0, lRef, C);
    const gRef = new Float32Array(T * B * C);
    const total = native.softmaxCrossEntropy(lRef, t2, null, T * B, C, -100, 1 / (T * B), gRef);
    const ok = /buffer\(s\) (C, loss|loss, C) were detached/.test(message) && sameBits(y2, yRef) && sameBits(logits2, lRef) && sameBits(grad2, gRef) && loss2[0] === total;
    return { ok, detail: message };
  },

  // The worker running an async call is terminated while it runs.
  async terminate() {
    return workerScenario('terminate');
  },

  // The worker running an async call calls process.exit() while it runs.
  async 'worker-exit'() {
    return workerScenario('exit');
  },

  // More threads than CPUs: capped, and scratch sized by the real team.
  async threads() {
    const cpus = blasInfo().availableCpus;
    const opts = { inputSize: 64, hiddenSize: 256, seed: 9 };
    const x = rand([64, 32, 64]);
    const gy = rand([64, 32, 256]);
    setNumThreads(cpus);
    const ref = reference(opts, copy(x), copy(gy));
    const got = setNumThreads(1024);
    const big = reference(opts, copy(x), copy(gy));
    const ok = got === cpus && getNumThreads() === cpus && big.grads.every((g, i) => sameBits(g, ref.grads[i]));
    return { ok, detail: `setNumThreads(1024) -> ${got}, availableCpus ${cpus}` };
  },
};

async function workerScenario(how: 'terminate' | 'exit'): Promise<Result> {
  const opts = { inputSize: 16, hiddenSize: 256, seed: 11 };
  for (let round = 0; round < 3; round++) {
    const w = new Worker(new URL('./tsx_worker.mjs', import.meta.url), { workerData: { how, script: fileURLToPath(import.meta.url) } });
    await new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.once('message', () => resolve());
    });
    // Mid-call: the worker posts right after queueing its async forward.
    await new Promise((r) => setTimeout(r, 5 + round * 7));
    if (how === 'terminate') await w.terminate();
    else await new Promise((r) => w.once('exit', r));
  }
  // The process lives, and computes correct results.
  const x = rand([200, 4, 16]);
  const gy = rand([200, 4, 256]);
  const a = reference(opts, copy(x), copy(gy));
  const m = new RNN(opts);
  const { y } = await m.forwardAsync(copy(x));
  await m.backwardAsync({ gy: copy(gy) });
  const ok = sameBits(y.data, a.y) && m.parameters().every((p, i) => sameBits(p.grad, a.grads[i]));
  return { ok, detail: `${how}: 3 workers ended mid-call` };
}

async function workerMain(how: 'terminate' | 'exit'): Promise<void> {
  const m = new RNN({ inputSize: 16, hiddenSize: 256, seed: 11 });
  const x = rand([1500, 8, 16]);
  const calls = [m.forwardAsync(x)];
  const plain = new RNN({ inputSize: 16, hiddenSize: 256, seed: 12 });
  calls.push(plain.forwardAsync(tensor(new Float32Array(1500 * 8 * 16), [1500, 8, 16])));
  parentPort!.postMessage('started');
  if (how === 'exit') setTimeout(() => process.exit(3), 10);
  await Promise.all(calls);
  parentPort!.postMessage('done');
}

if (!isMainThread) {
  await workerMain((workerData as { how: 'terminate' | 'exit' }).how);
} else {
  const name = process.argv[2];
  const run = scenarios[name];
  if (!run) {
    console.log(JSON.stringify({ ok: false, detail: `unknown scenario ${name}` }));
    process.exit(2);
  }
  const result = await run();
  console.log(JSON.stringify(result));
}

export {};
