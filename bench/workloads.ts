/**
 * The standard benchmark workloads W1-W5 of /work/shared/BENCHMARKS.md as data,
 * and their FLOP accounting.
 */

/** What the step does: a full train step or a forward pass only. */
export type Work = 'train' | 'forward';

/** The head (and loss) on top of the RNN output sequence. */
export type Head =
  | { kind: 'none' }
  /** Linear H_out → classes on every step, softmax cross-entropy against a class per step. */
  | { kind: 'linear-ce'; classes: number }
  /** Mean squared error of the output sequence against a random target. */
  | { kind: 'mse' }
  /** The last step's output → Linear H_out → outputs, MSE against a random target (forecasting). */
  | { kind: 'last-linear-mse'; outputs: number };

/** The recurrent cell of a workload (BENCHMARKS.md: W* and F1 are tanh Elman RNNs; L* LSTM, G* GRU). */
export type Cell = 'RNN' | 'LSTM' | 'GRU';

/** One benchmark workload (float32, time-major [T,B,I]; a tanh Elman RNN unless `cell` says otherwise). */
export interface Workload {
  id: string;
  description: string;
  /** The cell (default 'RNN', tanh). */
  cell?: Cell;
  T: number;
  B: number;
  I: number;
  H: number;
  layers: number;
  bidirectional: boolean;
  head: Head;
  work: Work;
}

/** W1-W5 and F1, exactly as BENCHMARKS.md defines them. */
export const WORKLOADS: readonly Workload[] = [
  {
    id: 'W1', description: 'char-level language model', T: 64, B: 32, I: 65, H: 256, layers: 1, bidirectional: false,
    head: { kind: 'linear-ce', classes: 65 }, work: 'train',
  },
  {
    id: 'W2', description: 'bidirectional sequence tagger', T: 100, B: 64, I: 128, H: 256, layers: 2, bidirectional: true,
    head: { kind: 'mse' }, work: 'train',
  },
  {
    id: 'W3', description: 'large model, GEMM-bound', T: 50, B: 128, I: 512, H: 1024, layers: 1, bidirectional: false,
    head: { kind: 'mse' }, work: 'train',
  },
  {
    id: 'W4', description: 'single-request latency', T: 100, B: 1, I: 64, H: 128, layers: 1, bidirectional: false,
    head: { kind: 'none' }, work: 'forward',
  },
  {
    id: 'W5', description: 'batch inference', T: 100, B: 64, I: 128, H: 256, layers: 1, bidirectional: true,
    head: { kind: 'none' }, work: 'forward',
  },
  {
    id: 'F1', description: 'forecasting, long window, small model', T: 400, B: 32, I: 1, H: 64, layers: 1, bidirectional: false,
    head: { kind: 'last-linear-mse', outputs: 1 }, work: 'train',
  },
  {
    id: 'L1', description: 'W1 with an LSTM', cell: 'LSTM', T: 64, B: 32, I: 65, H: 256, layers: 1, bidirectional: false,
    head: { kind: 'linear-ce', classes: 65 }, work: 'train',
  },
  {
    id: 'G1', description: 'W1 with a GRU', cell: 'GRU', T: 64, B: 32, I: 65, H: 256, layers: 1, bidirectional: false,
    head: { kind: 'linear-ce', classes: 65 }, work: 'train',
  },
  {
    id: 'L5', description: 'W5 with an LSTM', cell: 'LSTM', T: 100, B: 64, I: 128, H: 256, layers: 1, bidirectional: true,
    head: { kind: 'none' }, work: 'forward',
  },
  {
    id: 'G5', description: 'W5 with a GRU', cell: 'GRU', T: 100, B: 64, I: 128, H: 256, layers: 1, bidirectional: true,
    head: { kind: 'none' }, work: 'forward',
  },
];

/** The workload called id (W1..W5, F1, L1, G1, L5, G5), or throws. */
export function workload(id: string): Workload {
  const w = WORKLOADS.find((x) => x.id.toLowerCase() === id.toLowerCase());
  if (!w) throw new Error(`unknown workload '${id}': expected one of ${WORKLOADS.map((x) => x.id).join(', ')}`);
  return w;
}

/** The workload's cell ('RNN' when not given). */
export function cellOf(w: Workload): Cell {
  return w.cell ?? 'RNN';
}

/** Gate blocks G of the workload's cell: 1 (RNN), 4 (LSTM), 3 (GRU). */
export function gateBlocks(w: Workload): 1 | 3 | 4 {
  const c = cellOf(w);
  return c === 'LSTM' ? 4 : c === 'GRU' ? 3 : 1;
}

/** Directions: 2 when bidirectional. */
export function directions(w: Workload): 1 | 2 {
  return w.bidirectional ? 2 : 1;
}

/** Width of the RNN output sequence (D·H). */
export function outputWidth(w: Workload): number {
  return directions(w) * w.H;
}

/** FLOPs of one step, split into its parts. */
export interface FlopCount {
  forward: number;
  backward: number;
  head: number;
  total: number;
}

/**
 * FLOPs of one step of w (BENCHMARKS.md): forward per layer-direction
 * 2·T·B·H·(I+H) with I = D·H above layer 0; backward = 2× forward less
 * 2·T·B·I·H for layer 0 (no input gradient); a Linear head of C outputs costs
 * 3·2·T·B·H_in·C. Gated cells multiply the layer terms by G (4 LSTM, 3 GRU).
 * Elementwise work is not counted.
 */
export function flopCount(w: Workload): FlopCount {
  const { T, B, H } = w;
  const D = directions(w);
  const G = gateBlocks(w);
  let forward = 0;
  let backward = 0;
  for (let k = 0; k < w.layers; k++) {
    const I = k === 0 ? w.I : D * H;
    const f = 2 * T * B * G * H * (I + H);
    forward += D * f;
    backward += D * (2 * f - (k === 0 ? 2 * T * B * G * I * H : 0));
  }
  const head = w.work !== 'train' ? 0
    : w.head.kind === 'linear-ce' ? 3 * 2 * T * B * outputWidth(w) * w.head.classes
    : w.head.kind === 'last-linear-mse' ? 3 * 2 * B * outputWidth(w) * w.head.outputs
    : 0;
  if (w.work === 'forward') return { forward, backward: 0, head: 0, total: forward };
  return { forward, backward, head, total: forward + backward + head };
}

/** Total FLOPs of one step of w. */
export function flops(w: Workload): number {
  return flopCount(w).total;
}

/** A copy of w with some sizes changed (for the sweeps); the id records the change. */
export function variant(w: Workload, change: Partial<Pick<Workload, 'T' | 'B' | 'I' | 'H'>>): Workload {
  const tag = Object.entries(change).map(([k, v]) => `${k}=${v}`).join(',');
  return { ...w, ...change, id: `${w.id}[${tag}]` };
}

/**
 * E1 of BENCHMARKS.md, the main job end to end: the CLI's default character model
 * (Embedding(V, 32) → RNN 2 layers H=256 uni → Linear 256→V) trained by `fit` with
 * cross-entropy, Adam and clip 5 on windows T=64, B=32 of a real text of ≥ 1 MB (V = its
 * characters). Not in WORKLOADS: it has its own runner (bench/e1.ts), as it needs a text
 * and an Embedding in front of the RNN.
 */
export const E1 = { id: 'E1', description: 'the main job end to end (rnnblas train defaults, fit)', T: 64, B: 32, embed: 32, H: 256, layers: 2 } as const;

/**
 * FLOPs of one E1 step for a vocabulary of V characters (BENCHMARKS.md accounting): both RNN
 * layers forward 2·T·B·H·(I+H) and backward twice that, with the input gradient of layer 0
 * included (its input is the Embedding's output, a trainable layer), plus 3·2·T·B·H·V for the
 * Linear head. The Embedding lookup and its gradient are not GEMM work.
 */
export function e1Flops(V: number): FlopCount {
  const { T, B, H, embed } = E1;
  let forward = 0;
  for (let k = 0; k < E1.layers; k++) forward += 2 * T * B * H * ((k === 0 ? embed : H) + H);
  const backward = 2 * forward;
  const head = 3 * 2 * T * B * H * V;
  return { forward, backward, head, total: forward + backward + head };
}
