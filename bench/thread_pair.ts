/**
 * The default thread count against one thread, alternating in one process: blocks of train
 * steps at 2 threads, then at 1, repeated, so that whatever the host and a busy neighbour do
 * hits both alike (separate processes minutes apart measure the host as much as the code).
 * Prints both medians, their ratio (the busy-neighbour target: at most 1.1) and the thread
 * team's counters for the run.
 *
 *   OPENBLAS_CORETYPE=SkylakeX npx tsx bench/thread_pair.ts [--workload W1|F1] [--blocks 40]
 *        [--steps 5] [--threads 2] [--neighbour] [--json]
 *
 * --neighbour starts one CPU-bound process (`node -e 'for(;;){}'`) for the run's duration; --json
 * prints one JSON line instead of the sentence (bench/run.ts's busy-neighbour table runs it).
 * The steps are run.ts's train steps, as a Sequential: W1 (T=64, B=32, I=65, H=256, Linear 256→65,
 * CE) and F1 (T=400, B=32, I=1, H=64, the last step → Linear 64→1, MSE), SGD.
 */
import { spawn } from 'node:child_process';
import { LastStep, Linear, RNN, Rng, SGD, Sequential, crossEntropy, mseLoss, setNumThreads, tensor } from '../src/index.js';
import { native } from '../src/native/binding.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const workload = arg('--workload', 'W1');
if (workload !== 'W1' && workload !== 'F1') throw new Error(`--workload: W1 or F1, not ${workload}`);
const blocks = Number(arg('--blocks', '40'));
const steps = Number(arg('--steps', '5'));
const withNeighbour = process.argv.includes('--neighbour');
const asJson = process.argv.includes('--json');
const many = Number(arg('--threads', '2'));

const rng = new Rng(1);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const [T, B, I, H, C] = workload === 'W1' ? [64, 32, 65, 256, 65] : [400, 32, 1, 64, 1];
// As run.ts builds them: a Sequential (the input gradient of the first layer is not computed).
const rnn = new RNN({ inputSize: I, hiddenSize: H, seed: 1 });
const head = new Linear({ inFeatures: H, outFeatures: C, seed: 2 });
const model = workload === 'W1' ? new Sequential([rnn, head]) : new Sequential([rnn, new LastStep(), head]);
const opt = new SGD(model.parameters(), { lr: 0.01 });
const x = tensor(rand(T * B * I), [T, B, I]);
const classes = Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * C));
const values = tensor(rand(B), [B, 1]);

function step(): void {
  opt.zeroGrad();
  const out = model.forward(x);
  const g = workload === 'W1'
    ? crossEntropy({ data: out.data, shape: [T * B, C] }, classes, { reduction: 'mean' }).grad
    : mseLoss(out, values).grad;
  model.backward({ data: g.data, shape: out.shape });
  opt.step();
}

const neighbour = withNeighbour ? spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }) : null;
try {
  const times: Record<number, number[]> = { 1: [], [many]: [] };
  const before = native.teamStats();
  for (let b = 0; b < blocks; b++) {
    for (const threads of [many, 1]) {
      setNumThreads(threads);
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        step();
        // The first two blocks warm up.
        if (b > 1) times[threads].push(performance.now() - t0);
      }
    }
  }
  const after = native.teamStats();
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
  const mMany = median(times[many]), m1 = median(times[1]);
  const team = { jobs: after.jobs - before.jobs, benched: after.soloBenched - before.soloBenched, stalls: after.stalls - before.stalls };
  if (asJson) {
    console.log(JSON.stringify({ workload, threads: many, neighbour: withNeighbour, msMany: mMany, msOne: m1, ratio: mMany / m1, steps: times[1].length, team }));
  } else {
    console.log(
      `${workload}${withNeighbour ? ' with a busy neighbour' : ''}: ${many} threads ${mMany.toFixed(2)} ms, 1 thread ${m1.toFixed(2)} ms, ` +
        `${many}/1 = ${(mMany / m1).toFixed(3)} (medians of ${times[1].length} steps each); team: ${team.jobs} jobs, ` +
        `${team.benched} benched, ${team.stalls} stalls`,
    );
  }
} finally {
  neighbour?.kill();
}
