/**
 * What holding memory costs an async call: RNN.forwardAsync + backwardAsync
 * with the input (and gy) in plain JS typed arrays (copied into native
 * blocks before the call is queued) against the same in native-owned arrays
 * (pinned, no copy), and the sync calls, on W1's and W3's shapes.
 *
 *   npx tsx bench/async_copy.ts [--threads n] [--reps 30]
 */
import { RNN, setNumThreads, tensor, type Tensor } from '../src/index.js';
import { nativeFloats } from '../src/native/binding.js';
import { median } from './common.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const threads = setNumThreads(opt('--threads', 2));
const reps = opt('--reps', 30);

const shapes = [
  { id: 'W1', T: 64, B: 32, I: 65, H: 256 },
  { id: 'W3', T: 50, B: 128, I: 512, H: 1024 },
];

function filled(n: number, native: boolean): Float32Array {
  const a = native ? nativeFloats(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i) * 0.5;
  return a;
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

console.log(`threads ${threads}, median of ${reps}`);
console.log('| shape | sync ms | async, native x/gy ms | async, plain x/gy ms (copied) | copy cost |');
console.log('|---|---:|---:|---:|---:|');
for (const s of shapes) {
  const rnn = new RNN({ inputSize: s.I, hiddenSize: s.H, seed: 1 });
  const make = (native: boolean): [Tensor, Tensor] => [
    tensor(filled(s.T * s.B * s.I, native), [s.T, s.B, s.I]),
    tensor(filled(s.T * s.B * s.H, native), [s.T, s.B, s.H]),
  ];
  const [xn, gn] = make(true);
  const [xp, gp] = make(false);
  const sync = await time(() => {
    rnn.forward(xp);
    rnn.backward({ gy: gp }, { inputGrad: false });
  });
  const pinned = await time(async () => {
    await rnn.forwardAsync(xn);
    await rnn.backwardAsync({ gy: gn }, { inputGrad: false });
  });
  const copied = await time(async () => {
    await rnn.forwardAsync(xp);
    await rnn.backwardAsync({ gy: gp }, { inputGrad: false });
  });
  console.log(`| ${s.id} | ${sync.toFixed(2)} | ${pinned.toFixed(2)} | ${copied.toFixed(2)} | ${(((copied - pinned) / pinned) * 100).toFixed(1)}% |`);
}
