/**
 * `rnnblas train`: character-level language model training with progress,
 * periodic samples, SIGINT checkpointing and resume.
 */
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { crossEntropy } from '../nn/losses.js';
import type { Sequential } from '../nn/sequential.js';
import { clipGradNorm } from '../optim/index.js';
import { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { setNumThreads } from '../blas.js';
import { grammarCorpus } from './corpus/grammar.js';
import {
  buildCharModel,
  charVocab,
  loadCharCheckpoint,
  makeOptimizer,
  sampleText,
  saveCharCheckpoint,
  type CharCheckpointMeta,
  type CharModelConfig,
  type CharVocab,
  type OptimizerName,
} from './char_model.js';
import { UsageError, requireFile } from './errors.js';

/** Options of `rnnblas train` (after parsing). */
export interface TrainOptions {
  /** Training text file (default: embedded corpus). */
  text?: string;
  /** Hidden size. */
  hidden: number;
  /** RNN layers. */
  layers: number;
  /** Embedding width. */
  embed: number;
  /** Characters per training window. */
  seq: number;
  /** Windows per batch. */
  batch: number;
  /** Learning rate. */
  lr?: number;
  /** Optimizer. */
  optimizer: OptimizerName;
  /** Gradient clipping max norm (0: off). */
  clip: number;
  /** Total steps (overrides epochs). */
  steps?: number;
  /** Epochs over the text (an epoch = text length / (seq*batch) steps). */
  epochs?: number;
  /** Truncated BPTT chunk length (0: whole window). */
  tbptt: number;
  /** Seed. */
  seed: number;
  /** BLAS threads. */
  threads?: number;
  /** Checkpoint/model path. */
  out: string;
  /** Resume from `out`. */
  resume: boolean;
  /** JSON lines output. */
  json: boolean;
  /** Steps between samples (0: none). */
  sampleEvery: number;
  /** Length of periodic samples. */
  sampleLength: number;
}

/** Default learning rate per optimizer. */
const DEFAULT_LR: Record<OptimizerName, number> = { adam: 3e-3, adamw: 3e-3, sgd: 0.05, rmsprop: 1e-3, adagrad: 0.05 };

/** Default number of steps with the default model (about a minute on 2 cores). */
export const DEFAULT_STEPS = 1000;

/** Result of runTrain. */
export interface TrainResult {
  /** Process exit code: 0 finished, 130 interrupted (checkpoint saved). */
  exitCode: number;
}

/** Runs training; resolves with the exit code. */
export async function runTrain(o: TrainOptions, signal: AbortSignal): Promise<TrainResult> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const text = o.text === undefined ? grammarCorpus() : readFileSync(requireFile('--text', o.text), 'utf8');
  const source = o.text ?? '(embedded corpus)';

  let model: Sequential;
  let vocab: CharVocab;
  let startStep = 0;
  let config: CharModelConfig;
  let optimizerName = o.optimizer;
  let lr = o.lr ?? DEFAULT_LR[o.optimizer];
  const dataRng = new Rng(o.seed);
  let restore: ((opt: ReturnType<typeof makeOptimizer>) => void) | null = null;
  let train: Record<string, unknown> = { seq: o.seq, batch: o.batch, clip: o.clip, tbptt: o.tbptt, seed: o.seed, text: source };
  if (o.resume) {
    const ck = await loadCharCheckpoint(o.out, '--resume');
    model = ck.model;
    vocab = ck.vocab;
    config = ck.meta.config;
    startStep = ck.meta.step;
    optimizerName = ck.meta.optimizer;
    lr = ck.meta.lr;
    dataRng.setState(ck.meta.rng);
    train = { ...ck.meta.train, text: source };
    restore = (opt) => ck.restoreOptimizer(opt);
    // Text must fit the saved vocabulary.
    vocab.encode(text);
  } else {
    vocab = charVocab(text);
    config = { vocabSize: vocab.size, embed: o.embed, hidden: o.hidden, layers: o.layers, nonlinearity: 'tanh' };
    model = buildCharModel(config, o.seed);
  }
  const seq = Number(train.seq);
  const batch = Number(train.batch);
  const ids = vocab.encode(text);
  if (ids.length < seq + 2) throw new UsageError(`--text: ${source} has ${ids.length} characters; it needs at least --seq + 2 = ${seq + 2}`);
  const stepsPerEpoch = Math.max(1, Math.floor(ids.length / (seq * batch)));
  const totalSteps = o.steps ?? (o.epochs !== undefined ? o.epochs * stepsPerEpoch : o.resume ? startStep + DEFAULT_STEPS : DEFAULT_STEPS);
  const optimizer = makeOptimizer(optimizerName, model, lr);
  restore?.(optimizer);

  const emit = (obj: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  const params = model.parameters();
  const nParams = params.reduce((a, p) => a + p.data.length, 0);
  const header = {
    type: 'start',
    text: source,
    chars: ids.length,
    vocab: vocab.size,
    params: nParams,
    hidden: config.hidden,
    layers: config.layers,
    seq,
    batch,
    optimizer: optimizerName,
    lr,
    startStep,
    totalSteps,
    out: o.out,
  };
  const useBar = !o.json && process.stdout.isTTY === true;
  if (o.json) emit(header);
  else {
    console.log(
      `rnnblas train: ${source}, ${ids.length} chars, vocab ${vocab.size}; model Embedding(${vocab.size},${config.embed}) -> RNN(${config.hidden} x ${config.layers}) -> Linear (${nParams} params); ${optimizerName} lr ${lr}, seq ${seq}, batch ${batch}`,
    );
    if (startStep > 0) console.log(`resuming from ${o.out} at step ${startStep}`);
  }

  const save = (step: number): Promise<void> => {
    const meta: CharCheckpointMeta = { config, chars: [...vocab.chars], optimizer: optimizerName, lr, step, totalSteps, rng: dataRng.getState(), train };
    return saveCharCheckpoint(o.out, model, optimizer, meta);
  };

  const multibar = useBar
    ? new cliProgress.MultiBar(
        {
          format: ' {bar} step {value}/{total} | loss {loss} | {cps} chars/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bar = multibar?.create(totalSteps, startStep, { loss: '-', cps: '-' }) ?? null;
  const log = (line: string): void => {
    if (multibar) multibar.log(line + '\n');
    else console.log(line);
  };

  const tbptt = Number(train.tbptt) > 0 ? Math.min(Number(train.tbptt), seq) : seq;
  const clip = Number(train.clip);
  const x = new Int32Array(seq * batch);
  const y = new Int32Array(seq * batch);
  const t0 = Date.now();
  let smooth = NaN;
  let ema = 0;
  let emaSteps = 0;
  let lastLoss = NaN;
  let step = startStep;
  const logEvery = Math.max(1, Math.round((totalSteps - startStep) / 20));
  const sampleOpts = (s: number) => ({ prime: '', length: o.sampleLength, temperature: 0.8, seed: o.seed + s });
  let interrupted = false;
  model.train();
  while (step < totalSteps) {
    if (signal.aborted) {
      interrupted = true;
      break;
    }
    // Random windows, time-major [T,B].
    for (let b = 0; b < batch; b++) {
      const start = dataRng.int(ids.length - seq - 1);
      for (let t = 0; t < seq; t++) {
        x[t * batch + b] = ids[start + t];
        y[t * batch + b] = ids[start + t + 1];
      }
    }
    let lossSum = 0;
    let chunks = 0;
    let states: Tensor[] | undefined;
    for (let c0 = 0; c0 < seq; c0 += tbptt) {
      const T = Math.min(tbptt, seq - c0);
      optimizer.zeroGrad();
      const xs = { data: x.subarray(c0 * batch, (c0 + T) * batch), shape: [T, batch] };
      const logits = await model.forwardAsync(xs, states ? { h0: states } : undefined);
      states = tbptt < seq ? model.lastStates().map((s) => ({ data: Float32Array.from(s.data), shape: s.shape })) : undefined;
      const { loss, grad } = crossEntropy({ data: logits.data, shape: [T * batch, vocab.size] }, y.subarray(c0 * batch, (c0 + T) * batch));
      await model.backwardAsync({ data: grad.data, shape: logits.shape });
      if (clip > 0) clipGradNorm(params, clip);
      optimizer.step();
      lossSum += loss;
      chunks++;
    }
    step++;
    lastLoss = lossSum / chunks;
    // Bias-corrected exponential moving average (as Adam's moments).
    ema = 0.95 * ema + 0.05 * lastLoss;
    emaSteps++;
    smooth = ema / (1 - 0.95 ** emaSteps);
    const elapsedMs = Date.now() - t0;
    const charsPerSecond = ((step - startStep) * seq * batch) / (elapsedMs / 1000);
    if (o.json) {
      emit({ type: 'progress', step, totalSteps, loss: round(lastLoss), smoothLoss: round(smooth), charsPerSecond: Math.round(charsPerSecond), elapsedMs });
    } else if (bar) {
      bar.update(step, { loss: smooth.toFixed(3), cps: Math.round(charsPerSecond).toString() });
    } else if (step % logEvery === 0 || step === totalSteps) {
      log(`step ${step}/${totalSteps}  loss ${smooth.toFixed(3)}  ${Math.round(charsPerSecond)} chars/s  ${(elapsedMs / 1000).toFixed(1)} s`);
    }
    if (o.sampleEvery > 0 && step % o.sampleEvery === 0 && step < totalSteps) {
      const s = sampleText(model, vocab, sampleOpts(step));
      if (o.json) emit({ type: 'sample', step, text: s });
      else log(`--- sample at step ${step} (loss ${smooth.toFixed(3)}) ---\n${s}\n---`);
    }
  }
  multibar?.stop();
  await save(step);
  const seconds = (Date.now() - t0) / 1000;
  if (interrupted) {
    if (o.json) emit({ type: 'interrupted', step, totalSteps, loss: round(lastLoss), checkpoint: o.out });
    else process.stderr.write(`rnnblas train: interrupted at step ${step}/${totalSteps}; checkpoint saved to ${o.out} (continue with: rnnblas train --resume --out ${o.out})\n`);
    return { exitCode: 130 };
  }
  const final = sampleText(model, vocab, { ...sampleOpts(step), length: Math.max(o.sampleLength, 200) });
  if (o.json) emit({ type: 'done', step, totalSteps, loss: round(lastLoss), smoothLoss: round(smooth), seconds: round(seconds), out: o.out, sample: final });
  else {
    console.log(`--- final sample (step ${step}, loss ${smooth.toFixed(3)}) ---\n${final}\n---`);
    console.log(`trained ${step - startStep} steps in ${seconds.toFixed(1)} s; model saved to ${o.out} (try: rnnblas sample --model ${o.out})`);
  }
  return { exitCode: 0 };
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
