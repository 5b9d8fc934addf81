/**
 * The command line's character-level model: vocabulary, the Embedding -> RNN
 * -> Linear stack, its single-file checkpoint (safetensors: weights, optimizer
 * buffers, and JSON metadata for the configuration, vocabulary, step and Rng)
 * and sampling.
 */
import { existsSync } from 'node:fs';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { RNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/index.js';
import type { Optimizer, OptimizerState, ParamStateDict } from '../optim/optimizer.js';
import { Rng, type RngState } from '../random.js';
import type { Tensor } from '../tensor.js';
import { UsageError } from './errors.js';
import type { OptimizerName } from './constants.js';

/** A character vocabulary. */
export interface CharVocab {
  /** The characters, sorted; id = index. */
  readonly chars: readonly string[];
  /** Vocabulary size. */
  readonly size: number;
  /** Text -> ids (unknown characters throw UsageError). */
  encode(text: string): Int32Array;
  /** Ids -> text. */
  decode(ids: ArrayLike<number>): string;
}

/** Builds a vocabulary from a list of characters (code points). */
export function vocabFromChars(chars: readonly string[]): CharVocab {
  const index = new Map(chars.map((c, i) => [c, i]));
  return {
    chars,
    size: chars.length,
    encode(text: string): Int32Array {
      const cps = Array.from(text);
      const out = new Int32Array(cps.length);
      cps.forEach((c, i) => {
        const id = index.get(c);
        if (id === undefined) throw new UsageError(`character ${JSON.stringify(c)} is not in the model's vocabulary`);
        out[i] = id;
      });
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      let s = '';
      for (let i = 0; i < ids.length; i++) s += chars[ids[i]];
      return s;
    },
  };
}

/** The sorted distinct characters of a text as a vocabulary. */
export function charVocab(text: string): CharVocab {
  return vocabFromChars([...new Set(Array.from(text))].sort());
}

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
  /** 'tanh' or 'relu'. */
  nonlinearity: 'tanh' | 'relu';
}

/** Builds Embedding -> RNN -> Linear. */
export function buildCharModel(c: CharModelConfig, seed: number): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: c.vocabSize, embeddingDim: c.embed, seed }),
    new RNN({ inputSize: c.embed, hiddenSize: c.hidden, numLayers: c.layers, nonlinearity: c.nonlinearity, seed: seed + 1 }),
    new Linear({ inFeatures: c.hidden, outFeatures: c.vocabSize, seed: seed + 2 }),
  ]);
}

export { OPTIMIZERS, type OptimizerName } from './constants.js';

/** Creates an optimizer by CLI name. */
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

/** Everything a checkpoint holds besides the weights. */
export interface CharCheckpointMeta {
  /** Architecture. */
  config: CharModelConfig;
  /** Vocabulary characters. */
  chars: string[];
  /** Optimizer name and learning rate. */
  optimizer: OptimizerName;
  /** Learning rate. */
  lr: number;
  /** Completed training steps. */
  step: number;
  /** Target steps of the run that wrote it. */
  totalSteps: number;
  /** The data sampler's Rng state. */
  rng: RngState;
  /** Other training settings (seq, batch, clip, tbptt, seed, text source). */
  train: Record<string, unknown>;
}

const KIND = 'rnnblas-char-model';

/**
 * Writes model weights plus optimizer buffers (as `optim.<param>.<buffer>`
 * tensors) and metadata to one safetensors file, atomically.
 */
export async function saveCharCheckpoint(path: string, model: Sequential, optimizer: Optimizer | null, meta: CharCheckpointMeta): Promise<void> {
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  const opt: OptimizerState | null = optimizer ? optimizer.stateDict() : null;
  const slots: Record<string, number> = {};
  if (opt) {
    const shapes = new Map(model.parameters().map((p) => [p.name, p.shape]));
    for (const [pname, st] of Object.entries(opt.state)) {
      slots[pname] = st.step;
      for (const [bname, buf] of Object.entries(st.buffers)) {
        tensors[`optim.${pname}.${bname}`] = { data: Float32Array.from(buf), shape: shapes.get(pname) ?? [buf.length] };
      }
    }
  }
  await saveSafetensors(path, tensors, {
    format: KIND,
    meta: JSON.stringify(meta),
    optimizer: opt ? JSON.stringify({ type: opt.type, hyper: opt.hyper, steps: slots }) : '',
  });
}

/** A loaded checkpoint. */
export interface LoadedCharCheckpoint {
  /** The model with its weights. */
  model: Sequential;
  /** Metadata. */
  meta: CharCheckpointMeta;
  /** Vocabulary. */
  vocab: CharVocab;
  /** Restores the optimizer's state into a freshly made optimizer of the same kind. */
  restoreOptimizer(optimizer: Optimizer): void;
}

/** Reads a file written by saveCharCheckpoint; problems are UsageErrors naming the file. */
export async function loadCharCheckpoint(path: string, flag = '--model'): Promise<LoadedCharCheckpoint> {
  if (!existsSync(path)) throw new UsageError(`${flag}: file not found: ${path}`);
  let contents;
  try {
    contents = await loadSafetensors(path);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (contents.metadata.format !== KIND) throw new UsageError(`${flag}: ${path} is not an rnnblas character model (train one with 'rnnblas train')`);
  const meta = JSON.parse(contents.metadata.meta) as CharCheckpointMeta;
  const model = buildCharModel(meta.config, 0);
  const weights: Record<string, Tensor> = {};
  const names = new Set(model.parameters().map((p) => p.name));
  for (const [k, v] of Object.entries(contents.tensors)) if (names.has(k)) weights[k] = v;
  model.loadStateDict(weights);
  const optJson = contents.metadata.optimizer;
  return {
    model,
    meta,
    vocab: vocabFromChars(meta.chars),
    restoreOptimizer(optimizer: Optimizer): void {
      if (!optJson) return;
      const o = JSON.parse(optJson) as { type: string; hyper: OptimizerState['hyper']; steps: Record<string, number> };
      const state: Record<string, ParamStateDict> = {};
      for (const [pname, step] of Object.entries(o.steps)) {
        const buffers: Record<string, number[]> = {};
        const prefix = `optim.${pname}.`;
        for (const [k, v] of Object.entries(contents.tensors)) {
          if (k.startsWith(prefix)) buffers[k.slice(prefix.length)] = Array.from(v.data);
        }
        state[pname] = { step, buffers };
      }
      optimizer.loadStateDict({ type: o.type, hyper: o.hyper, state });
    },
  };
}

/** Options of sampleText. */
export interface SampleTextOptions {
  /** Text fed first (must use the vocabulary); empty: starts from a random character. */
  prime: string;
  /** Characters to generate after the prime. */
  length: number;
  /** Softmax temperature (> 0). */
  temperature: number;
  /** Keep only the k most likely characters (0: all). */
  topK?: number;
  /** Sampling seed. */
  seed?: number;
}

/** Generates `length` characters one step at a time, carrying the RNN state. Returns only the generated part. */
export function sampleText(model: Sequential, vocab: CharVocab, o: SampleTextOptions): string {
  const wasTraining = model.training;
  model.eval();
  const rng = new Rng(o.seed);
  let prime = vocab.encode(o.prime);
  if (prime.length === 0) prime = Int32Array.of(rng.int(vocab.size));
  let states: Tensor[] = [];
  const step = (ids: Int32Array): Float32Array => {
    const T = ids.length;
    const y = model.forward({ data: ids, shape: [T, 1] }, states.length ? { h0: states } : undefined);
    states = model.lastStates();
    return y.data.subarray((T - 1) * vocab.size, T * vocab.size);
  };
  let logits = step(prime);
  const out: number[] = [];
  const probs = new Float64Array(vocab.size);
  for (let i = 0; i < o.length; i++) {
    let max = -Infinity;
    for (let c = 0; c < vocab.size; c++) max = Math.max(max, logits[c] / o.temperature);
    let threshold = -Infinity;
    if (o.topK && o.topK < vocab.size) threshold = [...logits].sort((a, b) => b - a)[o.topK - 1];
    let sum = 0;
    for (let c = 0; c < vocab.size; c++) {
      probs[c] = logits[c] >= threshold ? Math.exp(logits[c] / o.temperature - max) : 0;
      sum += probs[c];
    }
    let r = rng.uniform() * sum;
    let next = vocab.size - 1;
    for (let c = 0; c < vocab.size; c++) {
      r -= probs[c];
      if (r <= 0) {
        next = c;
        break;
      }
    }
    out.push(next);
    logits = step(Int32Array.of(next));
  }
  model.train(wasTraining);
  return vocab.decode(out);
}
