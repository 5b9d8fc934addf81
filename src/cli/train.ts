/**
 * `rnnblas train`: a character-level language model trained with the
 * library's `fit` on the library's `charDataset`, with a progress bar or JSON
 * lines, periodic samples, SIGINT checkpointing and resume.
 *
 * A CLI step is one batch of windows; with `--tbptt` a batch is several of
 * fit's optimizer steps (one per chunk), reported together as one step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setNumThreads } from '../blas.js';
import { shuffledIndices, subset, type SequenceDataset } from '../data/dataset.js';
import { charDataset } from '../data/builders.js';
import { charVocab, type CharVocab } from '../data/vocab.js';
import type { Sequential } from '../nn/sequential.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../random.js';
import { fit, type FitOptions, type FitProgress } from '../train/fit.js';
import { progressLayout as barLayout, TrainingProgressBar } from '../train/progress_bar.js';
import { grammarCorpus } from './corpus/grammar.js';
import {
  buildCharModel,
  checkVocabText,
  EMBEDDED_CORPUS,
  loadCharCheckpoint,
  makeOptimizer,
  sampleText,
  saveCharCheckpoint,
  type CharModelConfig,
  type CharTrainPosition,
  type CharTrainSettings,
  type OptimizerName,
  textHash,
} from './char_model.js';
import type { CellName } from './constants.js';
import { UsageError, requireFile } from './errors.js';

/** Options of `rnnblas train` (after parsing). */
export interface TrainOptions {
  /** Training text file (default: embedded corpus). */
  text?: string;
  /** Hidden size. */
  hidden: number;
  /** RNN layers. */
  layers: number;
  /** Recurrent cell (default 'rnn'). */
  cell?: CellName;
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
  /** Epochs over the text (an epoch is one pass over its non-overlapping windows). */
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
  /**
   * The options given on the command line (not defaults), by attribute name;
   * with `resume`, those that differ from the checkpoint are refused.
   */
  explicit?: ReadonlySet<string>;
}

/** Default learning rate per optimizer. */
const DEFAULT_LR: Record<OptimizerName, number> = { adam: 3e-3, adamw: 3e-3, sgd: 0.05, rmsprop: 1e-3, adagrad: 0.05 };

/** Default number of steps with the default model (about a minute on 2 cores). */
export const DEFAULT_STEPS = 1000;

/** Result of runTrain. */
export interface TrainResult {
  /** Process exit code: 0 finished, 130 interrupted, 141 output closed (checkpoint saved in both). */
  exitCode: number;
}

/** A model with everything training it needs, new or from a checkpoint, and its text. */
interface Run {
  model: Sequential;
  config: CharModelConfig;
  vocab: CharVocab;
  settings: CharTrainSettings;
  optimizer: Optimizer;
  /** null for a new run. */
  position: CharTrainPosition | null;
  /** The training text. */
  text: string;
  /** Where it came from (shown to the user). */
  source: string;
}

/** Reads `--text` (or the embedded corpus) with where it came from and its absolute path (null: embedded). */
function readText(file: string | undefined): { text: string; source: string; path: string | null } {
  if (file === undefined) return { text: grammarCorpus(), source: EMBEDDED_CORPUS, path: null };
  return { text: readFileSync(requireFile('--text', file), 'utf8'), source: file, path: resolve(file) };
}

/** Options that must match a checkpoint when given with --resume, and the checkpoint's value of each. */
function checkpointValues(ck: { config: CharModelConfig; settings: CharTrainSettings }): Record<string, string | number> {
  const { config: c, settings: s } = ck;
  return { cell: c.cell, hidden: c.hidden, layers: c.layers, embed: c.embed, seq: s.seq, batch: s.batch, optimizer: s.optimizer, lr: s.lr, clip: s.clip, tbptt: s.tbptt, seed: s.seed };
}

/** The flag of an option attribute name (`sampleEvery` -> `--sample-every`). */
function flagOf(attribute: string): string {
  return '--' + attribute.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * The text a resumed run trains on: `--text` when given, else the file (or
 * the embedded corpus) the checkpoint records; refused when its content is not
 * the one the checkpoint was trained on.
 */
function resumeText(o: TrainOptions, s: CharTrainSettings): { text: string; source: string; path: string | null } {
  if (o.text !== undefined) {
    const t = readText(o.text);
    if (s.textHash !== undefined && textHash(t.text) !== s.textHash) {
      throw new UsageError(`--text: ${o.text} is not the text ${o.out} was trained on (${s.textPath ?? s.text}): its content differs; start a new run with another --out to train on it`);
    }
    return t;
  }
  let t: { text: string; source: string; path: string | null };
  if (s.textPath === null || (s.textPath === undefined && s.text === EMBEDDED_CORPUS)) t = readText(undefined);
  else {
    const path = s.textPath ?? s.text;
    if (!existsSync(path)) throw new UsageError(`--resume: ${o.out} was trained on ${path}, which does not exist any more; pass that text with --text`);
    t = { text: readFileSync(requireFile('--resume', path), 'utf8'), source: s.text, path: resolve(path) };
  }
  if (s.textHash !== undefined && textHash(t.text) !== s.textHash) {
    const what = t.path === null ? 'the embedded corpus of this rnnblas version' : t.path;
    throw new UsageError(`--resume: ${what} has changed since ${o.out} was trained on it (its content hash differs); pass the original text with --text`);
  }
  return t;
}

async function prepare(o: TrainOptions): Promise<Run> {
  if (o.steps !== undefined && o.epochs !== undefined) throw new UsageError('--steps and --epochs cannot be used together (choose one)');
  if (o.resume) {
    const ck = await loadCharCheckpoint(o.out, '--resume');
    const saved = checkpointValues(ck);
    const given = o as unknown as Record<string, unknown>;
    const differs = Object.keys(saved)
      .filter((k) => o.explicit?.has(k) && given[k] !== saved[k])
      .map((k) => `${flagOf(k)} ${String(given[k])} (checkpoint: ${saved[k]})`);
    if (differs.length > 0) {
      throw new UsageError(`--resume: ${o.out} was trained with other settings: ${differs.join(', ')}; drop these flags to continue it, or train a new model with another --out`);
    }
    const t = resumeText(o, ck.settings);
    checkVocabText(ck.vocab, t.text, o.text !== undefined ? '--text' : '--resume');
    const settings: CharTrainSettings = { ...ck.settings, text: t.source, textPath: t.path, textHash: textHash(t.text) };
    return { ...ck, settings, text: t.text, source: t.source };
  }
  const { text, source, path } = readText(o.text);
  if (text.length === 0) throw new UsageError(`--text: ${source} is empty`);
  const vocab = charVocab(text);
  const config: CharModelConfig = { vocabSize: vocab.size, embed: o.embed, hidden: o.hidden, layers: o.layers, cell: o.cell ?? 'rnn' };
  const model = buildCharModel(config, o.seed);
  const settings: CharTrainSettings = {
    optimizer: o.optimizer, lr: o.lr ?? DEFAULT_LR[o.optimizer], seq: o.seq, batch: o.batch, clip: o.clip, tbptt: o.tbptt, seed: o.seed,
    text: source, textPath: path, textHash: textHash(text),
  };
  return { model, config, vocab, settings, optimizer: makeOptimizer(settings.optimizer, model, settings.lr), position: null, text, source };
}

/**
 * The progress bar's format for a terminal `columns` wide (the library's
 * {@link barLayout} with a chars/s rate, whose field is named `{cps}` here).
 *
 * @returns The cli-progress format string and bar width (0: no bar).
 */
export function progressLayout(columns: number, totalSteps: number): { format: string; barsize: number } {
  const l = barLayout(columns, totalSteps, 'chars/s');
  return { format: l.format.replace('{rate}', '{cps}'), barsize: l.barsize };
}

/** Runs training; resolves with the exit code. */
export async function runTrain(o: TrainOptions, signal: AbortSignal): Promise<TrainResult> {
  if (o.threads !== undefined) setNumThreads(o.threads);
  const { model, config, vocab, settings, optimizer, position, text, source } = await prepare(o);
  const { seq, batch } = settings;
  const nChars = Array.from(text).length;
  if (nChars < seq + 1) throw new UsageError(`--text: ${source} has ${nChars} characters; it needs at least --seq + 1 = ${seq + 1}`);

  // Non-overlapping windows: an epoch is one pass over the text, in a fresh order.
  const data = charDataset(text, vocab, { seqLen: seq });
  const windows = data.x.shape[0];
  const batchesPerEpoch = Math.ceil(windows / batch);
  const chunk = settings.tbptt > 0 && settings.tbptt < seq ? settings.tbptt : 0;
  const chunksPerBatch = chunk > 0 ? Math.ceil(seq / chunk) : 1;

  // fit's position (optimizer steps, completed epochs) and the batches of the current epoch.
  const rng = new Rng(settings.seed);
  let fitStep = position?.step ?? 0;
  let epoch = position?.epoch ?? 0;
  let batchesDone = position && position.windows === windows ? position.batchesDone : 0;
  if (position) rng.setState(position.epochRng);
  let epochRng = rng.getState();
  const startStep = Math.floor(fitStep / chunksPerBatch);
  // --steps and --epochs count from where the run stands: a resumed run trains that many more.
  const totalSteps = startStep + (o.steps ?? (o.epochs !== undefined ? o.epochs * batchesPerEpoch : DEFAULT_STEPS));

  // A closed stdout (`rnnblas train --json | head -1`) stops training like Ctrl-C: the
  // write fails with EPIPE, and the run saves its checkpoint and exits 141 (as SIGPIPE would).
  let outputClosed = false;
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    outputClosed = true;
  };
  process.stdout.on('error', onStdoutError);
  const print = (line: string): void => {
    if (!outputClosed) process.stdout.write(line + '\n');
  };
  const emit = (obj: Record<string, unknown>): void => print(JSON.stringify(obj));
  const nParams = model.parameters().reduce((a, p) => a + p.data.length, 0);
  const { optimizer: optimizerName, lr } = settings;
  const useBar = !o.json && process.stdout.isTTY === true;
  if (o.json) {
    emit({ type: 'start', text: source, chars: nChars, vocab: vocab.size, params: nParams, cell: config.cell, hidden: config.hidden, layers: config.layers, seq, batch, optimizer: optimizerName, lr, startStep, totalSteps, out: o.out });
  } else {
    print(
      `rnnblas train: ${source}, ${nChars} chars, vocab ${vocab.size}; model Embedding(${vocab.size},${config.embed}) -> ${config.cell.toUpperCase()}(${config.hidden} x ${config.layers}) -> Linear (${nParams} params); ${optimizerName} lr ${lr}, seq ${seq}, batch ${batch}`,
    );
    if (startStep > 0) print(`resuming from ${o.out} at step ${startStep}; ${totalSteps - startStep} more steps`);
  }

  // The library's bar (on stderr, drawn when it is a terminal), counting CLI steps (batches).
  const bar = useBar ? new TrainingProgressBar(totalSteps, { start: startStep, rateUnit: 'chars/s' }) : null;
  const log = (line: string): void => {
    if (bar?.active) bar.log(line);
    else print(line);
  };

  const t0 = Date.now();
  let step = startStep;
  let smooth = NaN;
  let ema = 0;
  let emaSteps = 0;
  let lastLoss = NaN;
  let chunkLosses = 0;
  let chunks = 0;
  const logEvery = Math.max(1, Math.round((totalSteps - startStep) / 20));
  const sampleOpts = (s: number) => ({ prime: '', length: o.sampleLength, temperature: 0.8, seed: o.seed + s });
  // SIGINT stops fit only between batches, so a checkpoint never splits a batch's TBPTT chunks.
  const stop = new AbortController();

  const onProgress = (p: FitProgress): void => {
    fitStep = p.step;
    chunkLosses += p.loss;
    if (++chunks < chunksPerBatch) return;
    step++;
    batchesDone++;
    lastLoss = chunkLosses / chunks;
    chunkLosses = 0;
    chunks = 0;
    // Bias-corrected exponential moving average (as Adam's moments).
    ema = 0.95 * ema + 0.05 * lastLoss;
    emaSteps++;
    smooth = ema / (1 - 0.95 ** emaSteps);
    const elapsedMs = Date.now() - t0;
    const charsPerSecond = ((step - startStep) * seq * batch) / (elapsedMs / 1000);
    if (o.json) {
      emit({ type: 'progress', step, totalSteps, loss: round(lastLoss), smoothLoss: round(smooth), charsPerSecond: Math.round(charsPerSecond), elapsedMs });
    } else if (bar) {
      bar.update(step, smooth, charsPerSecond);
    } else if (step % logEvery === 0 || step === totalSteps) {
      log(`step ${step}/${totalSteps}  loss ${smooth.toFixed(3)}  ${Math.round(charsPerSecond)} chars/s  ${(elapsedMs / 1000).toFixed(1)} s`);
    }
    if (o.sampleEvery > 0 && step % o.sampleEvery === 0 && step < totalSteps) {
      const s = sampleText(model, vocab, sampleOpts(step));
      if (o.json) emit({ type: 'sample', step, text: s });
      else log(`--- sample at step ${step} (loss ${smooth.toFixed(3)}) ---\n${s}\n---`);
    }
    if (signal.aborted || outputClosed) stop.abort();
  };
  const onEpochEnd = (): void => {
    epoch++;
    batchesDone = 0;
    epochRng = rng.getState();
  };
  const train = async (ds: SequenceDataset, extra: Partial<FitOptions>): Promise<void> => {
    const steps = (totalSteps - step) * chunksPerBatch;
    if (steps <= 0 || signal.aborted || outputClosed) return;
    await fit(model, ds, {
      batchSize: batch,
      loss: 'crossEntropy',
      optimizer,
      ...(settings.clip > 0 ? { clipNorm: settings.clip } : {}),
      ...(chunk > 0 ? { tbptt: chunk } : {}),
      rng,
      steps,
      initialStep: fitStep,
      initialEpoch: epoch,
      signal: stop.signal,
      onProgress,
      onEpochEnd,
      ...extra,
    });
  };

  try {
    if (batchesDone > 0) {
      // Finish the interrupted epoch in its own order (the one fit drew from epochRng), then go on.
      const rest = shuffledIndices(windows, rng).slice(batchesDone * batch);
      if (rest.length > 0) await train(subset(data, rest), { shuffle: false, epochs: epoch + 1 });
      else onEpochEnd();
    }
    await train(data, {});
  } finally {
    bar?.stop();
  }
  try {
    await saveCharCheckpoint(o.out, model, optimizer, vocab, settings, { step: fitStep, epoch, epochRng, batchesDone, windows });
    const seconds = (Date.now() - t0) / 1000;
    if (outputClosed && step < totalSteps) {
      process.stderr.write(`rnnblas train: output closed at step ${step}/${totalSteps}; checkpoint saved to ${o.out} (continue with: rnnblas train --resume --out ${o.out})\n`);
      return { exitCode: 141 };
    }
    if (signal.aborted && step < totalSteps) {
      if (o.json) emit({ type: 'interrupted', step, totalSteps, loss: round(lastLoss), checkpoint: o.out });
      process.stderr.write(`rnnblas train: interrupted at step ${step}/${totalSteps}; checkpoint saved to ${o.out} (continue with: rnnblas train --resume --out ${o.out})\n`);
      return { exitCode: 130 };
    }
    const final = sampleText(model, vocab, { ...sampleOpts(step), length: Math.max(o.sampleLength, 200) });
    if (o.json) emit({ type: 'done', step, totalSteps, loss: round(lastLoss), smoothLoss: round(smooth), seconds: round(seconds), out: o.out, sample: final });
    else {
      print(`--- final sample (step ${step}, loss ${smooth.toFixed(3)}) ---\n${final}\n---`);
      print(`trained ${step - startStep} steps in ${seconds.toFixed(1)} s; model saved to ${o.out} (try: rnnblas sample --model ${o.out})`);
    }
    return { exitCode: 0 };
  } finally {
    // Errors of writes still in flight when the pipe closed arrive later; keep them quiet.
    if (!outputClosed) process.stdout.off('error', onStdoutError);
  }
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
