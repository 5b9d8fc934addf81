/**
 * The command line's character model, as a thin layer over the library: the
 * Embedding -> RNN -> Linear stack, optimizers by CLI name, the checkpoint
 * (the library's {@link saveCheckpoint} file, with the vocabulary and the
 * training settings in its `extra`), and sampling with the CLI's conventions
 * (empty prime, `--top-k 0`). Library errors about the user's files and text
 * become one-line UsageErrors naming the flag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { vocabFromChars, type CharVocab } from '../data/vocab.js';
import { FormatError } from '../io/safetensors.js';
import { loadModel, type JsonValue } from '../io/model_file.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { GRU } from '../nn/gru.js';
import { LSTM } from '../nn/lstm.js';
import { RNNBase } from '../nn/recurrent_base.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/index.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng, type RngState } from '../random.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint_file.js';
import { sample } from '../train/sample.js';
import type { CellName, OptimizerName } from './constants.js';
import { UsageError } from './errors.js';

export { OPTIMIZERS, type OptimizerName } from './constants.js';

/** Architecture of the character model. */
export interface CharModelConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Embedding width. */
  embed: number;
  /** RNN hidden size. */
  hidden: number;
  /** Stacked RNN layers. */
  layers: number;
  /** The recurrent cell (default 'rnn': tanh Elman). */
  cell: CellName;
}

/** A recurrent layer of the named cell. */
export function buildCell(cell: CellName, options: { inputSize: number; hiddenSize: number; numLayers?: number; bidirectional?: boolean; seed: number }): RNNBase {
  if (cell === 'lstm') return new LSTM(options);
  if (cell === 'gru') return new GRU(options);
  return new RNN(options);
}

/** The CLI name of a recurrent layer's cell. */
export function cellName(r: RNNBase): CellName {
  return r.config.mode === 'LSTM' ? 'lstm' : r.config.mode === 'GRU' ? 'gru' : 'rnn';
}

/** Builds Embedding -> RNN (tanh), LSTM or GRU -> Linear, seeded. */
export function buildCharModel(c: CharModelConfig, seed: number): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: c.vocabSize, embeddingDim: c.embed, seed }),
    buildCell(c.cell, { inputSize: c.embed, hiddenSize: c.hidden, numLayers: c.layers, seed: seed + 1 }),
    new Linear({ inFeatures: c.hidden, outFeatures: c.vocabSize, seed: seed + 2 }),
  ]);
}

/**
 * The configuration of a model read from a file, checking that it is the
 * CLI's Embedding -> RNN -> Linear stack over `vocabSize` characters.
 *
 * @throws UsageError naming `flag` and `path` for any other model.
 */
export function charModelConfig(model: unknown, vocabSize: number, flag: string, path: string): CharModelConfig {
  const l = model instanceof Sequential ? model.layers : [];
  const [e, r, o] = l;
  if (l.length !== 3 || !(e instanceof Embedding) || !(r instanceof RNNBase) || !(o instanceof Linear) || e.numEmbeddings !== vocabSize || o.outFeatures !== vocabSize || r.config.bidirectional) {
    throw new UsageError(`${flag}: ${path} is not an rnnblas character model (train one with 'rnnblas train')`);
  }
  return { vocabSize, embed: e.embeddingDim, hidden: r.config.hiddenSize, layers: r.config.numLayers, cell: cellName(r) };
}

/** Creates an optimizer over the model's parameters by CLI name. */
export function makeOptimizer(name: OptimizerName, model: Sequential, lr: number): Optimizer {
  const params = model.parameters();
  switch (name) {
    case 'adam':
      return new Adam(params, { lr });
    case 'adamw':
      return new AdamW(params, { lr });
    case 'sgd':
      return new SGD(params, { lr, momentum: 0.9 });
    case 'rmsprop':
      return new RMSprop(params, { lr });
    case 'adagrad':
      return new Adagrad(params, { lr });
  }
}

/** The training settings a checkpoint keeps (a resumed run uses these, not its flags). */
export interface CharTrainSettings {
  /** Optimizer name. */
  optimizer: OptimizerName;
  /** Learning rate. */
  lr: number;
  /** Characters per window. */
  seq: number;
  /** Windows per batch. */
  batch: number;
  /** Gradient norm clipping (0: off). */
  clip: number;
  /** TBPTT chunk length (0: whole window). */
  tbptt: number;
  /** Seed of the model and of the data order. */
  seed: number;
  /** Where the text came from, as given on the command line (shown to the user). */
  text: string;
  /** The text file's absolute path; null for the embedded corpus (absent in older checkpoints). */
  textPath?: string | null;
  /** SHA-256 of the text's UTF-8 bytes, hex (absent in older checkpoints). */
  textHash?: string;
}

/** The checkpoint's text source name for the embedded corpus. */
export const EMBEDDED_CORPUS = '(embedded corpus)';

/** SHA-256 of a text's UTF-8 bytes, as hex: what a checkpoint records to recognise its text. */
export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Where training stands, in the terms of the library's `fit`: optimizer steps
 * and completed epochs, plus what a resume needs to finish an interrupted epoch
 * in the same order (the shuffling generator's state when the epoch began and
 * how many of its batches are done).
 */
export interface CharTrainPosition {
  /** Optimizer steps done (fit's step; TBPTT takes several per batch). */
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** The shuffling generator's state at the start of the current epoch. */
  epochRng: RngState;
  /** Batches of the current epoch already trained. */
  batchesDone: number;
  /** Windows in the dataset (the epoch order is only valid for the same count). */
  windows: number;
}

/** A checkpoint read by {@link loadCharCheckpoint}. */
export interface LoadedCharCheckpoint {
  /** The model with its weights. */
  model: Sequential;
  /** Its architecture. */
  config: CharModelConfig;
  /** The vocabulary. */
  vocab: CharVocab;
  /** Training settings. */
  settings: CharTrainSettings;
  /** An optimizer of the saved kind with the saved state. */
  optimizer: Optimizer;
  /** Where training stands. */
  position: CharTrainPosition;
}

/** Writes a checkpoint (atomically) that `rnnblas train --resume` and `rnnblas sample` read. */
export async function saveCharCheckpoint(path: string, model: Sequential, optimizer: Optimizer, vocab: CharVocab, settings: CharTrainSettings, position: CharTrainPosition): Promise<void> {
  const extra: { [key: string]: JsonValue } = {
    vocab: [...vocab.chars],
    train: { ...settings },
    resume: { batchesDone: position.batchesDone, windows: position.windows },
  };
  await saveCheckpoint(path, { model, optimizer, step: position.step, epoch: position.epoch, rng: position.epochRng, extra });
  removeStaleTemporaries(path);
}

/**
 * Removes the temporary files that saves of `path` killed midway left behind.
 * The library's atomic writer names them `.<name>.<pid>.<random>.tmp` next to
 * the target; a file whose process is gone can never be renamed into place.
 * Files of live processes (a save going on now) are kept.
 *
 * @returns The paths removed.
 */
export function removeStaleTemporaries(path: string): string[] {
  const target = resolve(path);
  const dir = dirname(target);
  const prefix = `.${basename(target).slice(0, 200)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs a library load, turning a missing, foreign or damaged file into a UsageError naming the flag. */
async function readFile<T>(path: string, flag: string, load: () => Promise<T>): Promise<T> {
  if (!existsSync(path)) throw new UsageError(`${flag}: file not found: ${path}`);
  try {
    return await load();
  } catch (err) {
    if (err instanceof FormatError || err instanceof RangeError || err instanceof TypeError) {
      throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message.split('\n')[0].replace(`${path}: `, '')}`);
    }
    throw err;
  }
}

function vocabOf(extra: { [key: string]: JsonValue }, flag: string, path: string): CharVocab {
  const chars = extra.vocab;
  if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string')) {
    throw new UsageError(`${flag}: ${path} has no character vocabulary (train a model with 'rnnblas train', or save one with extra { vocab: chars })`);
  }
  try {
    return vocabFromChars(chars as string[]);
  } catch (err) {
    throw new UsageError(`${flag}: ${path} has an invalid vocabulary: ${(err as Error).message}`);
  }
}

/**
 * Reads a model for sampling: a checkpoint from `rnnblas train`, or any model
 * file (saveModel) of an Embedding -> RNN -> Linear stack with `extra.vocab`.
 */
export async function loadCharModel(path: string, flag: string): Promise<{ model: Sequential; vocab: CharVocab }> {
  const { model, extra } = await readFile(path, flag, () => loadModel(path));
  const vocab = vocabOf(extra, flag, path);
  charModelConfig(model, vocab.size, flag, path);
  return { model: model as Sequential, vocab };
}

/** Reads a checkpoint written by {@link saveCharCheckpoint}, with its optimizer restored. */
export async function loadCharCheckpoint(path: string, flag: string): Promise<LoadedCharCheckpoint> {
  const ck = await readFile(path, flag, async () => {
    try {
      return await loadCheckpoint(path);
    } catch (err) {
      // A model file (saveModel, or a checkpoint's model saved on its own) reads as a model, not a checkpoint.
      const isModel = await loadModel(path).then(() => true, () => false);
      if (isModel) throw new UsageError(`${flag}: ${path} is a model file, not a training checkpoint (no optimizer state to resume from)`);
      throw err;
    }
  });
  const vocab = vocabOf(ck.extra, flag, path);
  const config = charModelConfig(ck.model, vocab.size, flag, path);
  const model = ck.model as Sequential;
  const s = ck.extra.train as Partial<CharTrainSettings> | undefined;
  const r = ck.extra.resume as Partial<{ batchesDone: number; windows: number }> | undefined;
  if (!s || typeof s !== 'object' || !s.optimizer || !ck.optimizer || !ck.rng) {
    throw new UsageError(`${flag}: ${path} is not a training checkpoint of 'rnnblas train' (no optimizer or settings to resume)`);
  }
  const settings = s as CharTrainSettings;
  const optimizer = makeOptimizer(settings.optimizer, model, settings.lr);
  try {
    optimizer.loadStateDict(ck.optimizer);
  } catch (err) {
    throw new UsageError(`${flag}: cannot restore the optimizer from ${path}: ${(err as Error).message}`);
  }
  const position: CharTrainPosition = { step: ck.step, epoch: ck.epoch, epochRng: ck.rng, batchesDone: r?.batchesDone ?? 0, windows: r?.windows ?? 0 };
  return { model, config, vocab, settings, optimizer, position };
}

/** Throws a UsageError naming the flag when `text` has a character the vocabulary lacks. */
export function checkVocabText(vocab: CharVocab, text: string, flag: string): void {
  let i = 0;
  for (const c of text) {
    if (vocab.idOf(c) < 0) throw new UsageError(`${flag}: character ${JSON.stringify(c)} (position ${i}) is not in the model's vocabulary`);
    i++;
  }
}

/** Options of {@link sampleText}. */
export interface SampleTextOptions {
  /** Text fed first; empty: a random character of the vocabulary (not part of the result). */
  prime: string;
  /** Characters to generate. */
  length: number;
  /** Softmax temperature (>= 0; 0 always takes the most likely character). */
  temperature: number;
  /** Keep only the k most likely characters (0: all). */
  topK?: number;
  /** Sampling seed (default random). */
  seed?: number;
}

/** The library's `sample` with the CLI's conventions; returns only the generated characters. */
export function sampleText(model: Sequential, vocab: CharVocab, o: SampleTextOptions): string {
  checkVocabText(vocab, o.prime, '--prime');
  const prime = o.prime !== '' ? o.prime : vocab.chars[new Rng(o.seed).int(vocab.size)];
  const topK = o.topK ? Math.min(o.topK, vocab.size) : undefined;
  return sample(model, vocab, { prime, length: o.length, temperature: o.temperature, ...(topK ? { topK } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
}
