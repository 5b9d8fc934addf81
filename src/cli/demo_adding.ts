/**
 * `rnnblas demo adding`: the adding problem of Le, Jaitly & Hinton (2015),
 * "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units".
 *
 * Each sequence has two input channels, a U[0, 1) signal and a mask with
 * exactly two ones at distinct steps; the target is the sum of the two marked
 * values, read at the last step (see `addingProblem`). Always predicting 1
 * scores MSE 1/6 ≈ 0.167: a model that does not carry information across the
 * sequence stays there.
 *
 * Three models of the same hidden size train on the same stream of fresh
 * batches (RNN/LSTM -> LastStep -> Linear(H, 1), the library's `fit` with
 * Adam and gradient-norm clipping), side by side, and are scored on one fixed
 * held-out test set drawn from a generator independent of the training stream:
 * - irnn: ReLU, W_hh = I, biases 0, W_ih ~ N(0, 0.001²);
 * - tanh: PyTorch's initialisation;
 * - lstm: PyTorch's initialisation.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { setNumThreads } from '../blas.js';
import { ADDING_BASELINE_MSE, addingProblem } from '../data/adding.js';
import type { SequenceDataset } from '../data/dataset.js';
import type { Layer } from '../nn/layer.js';
import { LastStep } from '../nn/last_step.js';
import { LSTM } from '../nn/lstm.js';
import { Linear } from '../nn/linear.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Adam } from '../optim/index.js';
import { Rng } from '../random.js';
import { NonFiniteError, evaluate, fit } from '../train/fit.js';
import { irnn } from './demo_gradients.js';
import { UsageError } from './errors.js';
import { renderSvg, type Line } from './svg.js';

/** The models the demo can train. */
export const ADDING_MODELS = ['irnn', 'tanh', 'lstm'] as const;
/** One of {@link ADDING_MODELS}. */
export type AddingModelName = (typeof ADDING_MODELS)[number];

/** Options of `rnnblas demo adding`. */
export interface AddingDemoOptions {
  /** Sequence length T. */
  length: number;
  /** Training steps (optimizer updates) per model. */
  steps: number;
  /** Hidden size of every model. */
  hidden: number;
  /** Sequences per batch. */
  batch: number;
  /** Adam's learning rate (of the IRNN and the tanh RNN; of the LSTM too without lstmLr). */
  lr: number;
  /** Adam's learning rate for the LSTM (default: lr; the command line's default is 1e-3). */
  lstmLr?: number;
  /** clipGradNorm's maxNorm (0: no clipping). */
  clip: number;
  /** Steps between test-set evaluations. */
  evalEvery: number;
  /** Sequences in the held-out test set. */
  testSize: number;
  /** Comma-separated subset of irnn,tanh,lstm (default all three). */
  models: string;
  /** Seed (training stream, test set, weights). */
  seed: number;
  /** OpenBLAS threads. */
  threads?: number;
  /** Where adding.svg goes. */
  outDir: string;
  /** JSON lines. */
  json: boolean;
}

/** One model's outcome (the `--json` result's `models` entries). */
export interface AddingModelResult {
  /** 'irnn' | 'tanh' | 'lstm'. */
  name: AddingModelName;
  /** Test MSE after the last step. */
  testMse: number;
  /** Steps trained. */
  steps: number;
  /** Its learning rate. */
  lr: number;
  /** Lowest test MSE of all evaluations. */
  bestTestMse: number;
  /** First evaluated step with test MSE < 0.01, or null. */
  solvedAt: number | null;
  /** The step at which training stopped on a non-finite loss or gradient, or null. */
  divergedAt: number | null;
  /** Test MSE at every evaluation (at the steps of the result's `evalSteps`). */
  curve: number[];
}

/** The `--json` result line. */
export interface AddingDemoResult {
  /** Sequence length. */
  length: number;
  /** 1/6: the expected MSE of always predicting 1. */
  baselineMse: number;
  /** The MSE of always predicting 1 on this test set. */
  baselineTestMse: number;
  /** Per model. */
  models: AddingModelResult[];
  /** Steps of the evaluations (0 = before training). */
  evalSteps: number[];
  /** Test-set size. */
  testSize: number;
  /** Settings. */
  hidden: number;
  /** Batch size. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** The LSTM's learning rate. */
  lstmLr: number;
  /** Clipping norm (0: none). */
  clip: number;
  /** The SVG written. */
  plot: string;
  /** Seconds. */
  seconds: number;
}

/** XOR-ed into the seed for the test set's generator: a stream apart from the training stream's. */
const TEST_SEED_XOR = 0x7e575e7d;

/**
 * The training stream of a seed: successive `addingProblem({ ..., rng })` calls on it draw
 * fresh batches.
 */
export function addingTrainStream(seed: number): Rng {
  return new Rng(seed);
}

/**
 * The held-out test set of a seed: the same for every run with that seed (whatever the
 * number of steps or the batch size), from a generator seeded apart from the training stream.
 */
export function addingTestSet(length: number, count: number, seed: number): SequenceDataset {
  return addingProblem({ length, count, seed: (seed ^ TEST_SEED_XOR) >>> 0 });
}

/** The recurrent layer of a model, seeded. */
function recurrent(name: AddingModelName, H: number, seed: number): Layer {
  if (name === 'irnn') return irnn(2, H, seed);
  if (name === 'tanh') return new RNN({ inputSize: 2, hiddenSize: H, seed });
  return new LSTM({ inputSize: 2, hiddenSize: H, seed });
}

/** Parses `--models`. */
export function parseAddingModels(s: string): AddingModelName[] {
  const names = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (names.length === 0) throw new UsageError('--models needs at least one of irnn, tanh, lstm');
  for (const n of names) if (!(ADDING_MODELS as readonly string[]).includes(n)) throw new UsageError(`--models: '${n}' is not one of irnn, tanh, lstm`);
  return [...new Set(names)] as AddingModelName[];
}

const COLORS: Record<AddingModelName, string> = { irnn: '#e6550d', tanh: '#3182bd', lstm: '#31a354' };

/** The learning curves: test MSE against steps on a log axis, with the 1/6 baseline and the 0.01 mark. */
export function addingSvg(r: Pick<AddingDemoResult, 'length' | 'models' | 'evalSteps' | 'hidden' | 'batch' | 'lr' | 'lstmLr' | 'clip' | 'testSize'>): string {
  const n = r.evalSteps.length;
  const lines: Line[] = r.models.map((m) => ({ label: `${m.name} (${fmt(m.testMse)})`, values: m.curve, color: COLORS[m.name], width: 2 }));
  lines.push({ label: 'baseline 1/6 (predict 1)', values: new Array<number>(n).fill(ADDING_BASELINE_MSE), color: '#777777', dashed: true, width: 1 });
  lines.push({ label: 'MSE 0.01', values: new Array<number>(n).fill(0.01), color: '#bbbbbb', dashed: true, width: 1 });
  return renderSvg(`rnnblas demo adding: T = ${r.length}, hidden ${r.hidden}, batch ${r.batch}, Adam lr ${r.lr}${r.lstmLr !== r.lr && r.models.some((m) => m.name === 'lstm') ? ` (LSTM ${r.lstmLr})` : ''}${r.clip > 0 ? `, clipGradNorm ${r.clip}` : ''}`, [
    {
      title: `Test MSE on ${r.testSize} held-out sequences (log scale)`,
      xLabel: 'training step',
      yLabel: 'test MSE',
      yLog: true,
      height: 420,
      xTick: (i) => String(r.evalSteps[Math.min(n - 1, Math.max(0, i))]),
      lines,
    },
  ], 1000);
}

/** Runs the demo. */
export async function runDemoAdding(o: AddingDemoOptions): Promise<AddingDemoResult> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const names = parseAddingModels(o.models);
  const t0 = Date.now();
  const T = o.length;
  const H = o.hidden;
  const evalEvery = Math.min(o.evalEvery, o.steps);
  const test = addingTestSet(T, o.testSize, o.seed);
  let base = 0;
  for (let i = 0; i < o.testSize; i++) base += (test.y.data[i] - 1) ** 2;
  const baselineTestMse = base / o.testSize;
  const stream = addingTrainStream(o.seed);
  const models = names.map((name) => {
    // Seeds by model name: a model trains the same whichever others run beside it.
    const s = o.seed + 100 * (ADDING_MODELS.indexOf(name) + 1);
    const model = new Sequential([recurrent(name, H, s), new LastStep(), new Linear({ inFeatures: H, outFeatures: 1, seed: s + 50 })]);
    const lr = name === 'lstm' ? (o.lstmLr ?? o.lr) : o.lr;
    return { name, model, lr, optimizer: new Adam(model.parameters(), { lr }), curve: [] as number[], divergedAt: null as number | null, steps: 0 };
  });
  const emit = (obj: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  const useBar = !o.json && process.stdout.isTTY === true;
  const multibar = useBar ? new cliProgress.MultiBar({ format: ' {bar} step {value}/{total} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic) : null;
  const bar = multibar?.create(o.steps, 0) ?? null;
  const log = (line: string): void => {
    if (multibar?.isActive) multibar.log(line + '\n');
    else console.log(line);
  };
  if (o.json) emit({ type: 'start', length: T, hidden: H, batch: o.batch, lr: o.lr, lstmLr: o.lstmLr ?? o.lr, clip: o.clip, steps: o.steps, evalEvery, testSize: o.testSize, models: names, baselineMse: round(ADDING_BASELINE_MSE), baselineTestMse: round(baselineTestMse) });
  else {
    console.log(`adding problem, T = ${T}: signal U[0,1) + mask with two ones; target = the sum of the two marked values, read at the last step`);
    console.log(`models ${names.join(', ')} (hidden ${H}) -> LastStep -> Linear(${H}, 1); Adam lr ${o.lr}${names.includes('lstm') && (o.lstmLr ?? o.lr) !== o.lr ? ` (LSTM ${o.lstmLr})` : ''}, batch ${o.batch}, ${o.clip > 0 ? `clipGradNorm ${o.clip}` : 'no clipping'}, ${o.steps} steps on fresh batches`);
    console.log(`test set: ${o.testSize} held-out sequences; predicting 1 scores ${fmt(baselineTestMse)} on it (1/6 = 0.1667 expected)`);
  }

  const evalSteps: number[] = [];
  const evaluateAll = async (step: number): Promise<void> => {
    evalSteps.push(step);
    for (const m of models) {
      // A diverged model keeps its last score.
      const mse = m.divergedAt !== null ? (m.curve.at(-1) ?? NaN) : (await evaluate(m.model, test, { loss: 'mse', batchSize: 500 })).loss;
      m.curve.push(mse);
    }
    const scores = Object.fromEntries(models.map((m) => [m.name, round(m.curve.at(-1) as number)]));
    // The bar goes before the last line: flush the lines it holds, then stop it.
    if (step === o.steps && multibar) {
      multibar.update();
      multibar.stop();
    }
    if (o.json) emit({ type: 'progress', step, testMse: scores, seconds: round((Date.now() - t0) / 1000) });
    else log(`step ${String(step).padStart(String(o.steps).length)}  test MSE  ${models.map((m) => `${m.name} ${fmt(m.curve.at(-1) as number)}`).join('   ')}`);
    if (step < o.steps) bar?.update(step);
  };

  await evaluateAll(0);
  for (let done = 0; done < o.steps; ) {
    const block = Math.min(evalEvery, o.steps - done);
    // One block of fresh batches, the same for every model.
    const data = addingProblem({ length: T, count: block * o.batch, rng: stream });
    await Promise.all(
      models.map(async (m) => {
        if (m.divergedAt !== null) return;
        try {
          await fit(m.model, data, {
            steps: block,
            epochs: 1,
            batchSize: o.batch,
            loss: 'mse',
            optimizer: m.optimizer,
            ...(o.clip > 0 ? { clipNorm: o.clip } : {}),
            shuffle: false,
            seed: o.seed,
            initialStep: done,
            onProgress: ({ step }) => {
              m.steps = step;
              // The bar follows the slowest model.
              bar?.update(Math.min(...models.map((x) => (x.divergedAt === null ? x.steps : o.steps))));
            },
          });
        } catch (err) {
          if (!(err instanceof NonFiniteError)) throw err;
          m.divergedAt = err.step;
        }
      }),
    );
    done += block;
    await evaluateAll(done);
  }
  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const plot = join(dir, 'adding.svg');
  const results: AddingModelResult[] = models.map((m) => {
    const solved = m.curve.findIndex((v) => v < 0.01);
    return {
      name: m.name,
      testMse: round(m.curve.at(-1) as number),
      steps: m.steps,
      lr: m.lr,
      bestTestMse: round(Math.min(...m.curve)),
      solvedAt: solved >= 0 ? evalSteps[solved] : null,
      divergedAt: m.divergedAt,
      curve: m.curve.map(round),
    };
  });
  const result: AddingDemoResult = {
    length: T,
    baselineMse: round(ADDING_BASELINE_MSE),
    baselineTestMse: round(baselineTestMse),
    models: results,
    evalSteps,
    testSize: o.testSize,
    hidden: H,
    batch: o.batch,
    lr: o.lr,
    lstmLr: o.lstmLr ?? o.lr,
    clip: o.clip,
    plot,
    seconds: round((Date.now() - t0) / 1000),
  };
  writeFileSync(plot, addingSvg(result));
  if (o.json) emit({ type: 'result', ...result });
  else {
    console.log('');
    for (const r of results) {
      const verdict = r.testMse < 0.01 ? 'solved' : r.testMse < 0.8 * ADDING_BASELINE_MSE ? 'learning' : 'not below the baseline';
      console.log(`${r.name.padEnd(5)} test MSE ${fmt(r.testMse)} after ${r.steps} steps (best ${fmt(r.bestTestMse)}${r.solvedAt !== null ? `, below 0.01 from step ${r.solvedAt}` : ''}${r.divergedAt !== null ? `, stopped: non-finite at step ${r.divergedAt}` : ''}): ${verdict}`);
    }
    console.log(`baseline (predict 1): ${fmt(baselineTestMse)}\nplot: ${plot}  (${result.seconds.toFixed(1)} s)`);
  }
  return result;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function fmt(v: number): string {
  return v >= 0.001 || v === 0 || !Number.isFinite(v) ? v.toFixed(4) : v.toExponential(1);
}
