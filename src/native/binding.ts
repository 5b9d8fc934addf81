/**
 * The whole native surface of rnnblas as one TypeScript interface. The
 * argument order mirrors binding/addon.cpp; the addon re-checks every size.
 * Callers outside src/ never see this module: src/ validates first.
 */
import { loadAddon } from './load.js';

/** Activation code understood by the kernels. */
export const NativeActivation = { Tanh: 0, Relu: 1 } as const;
/** Activation code type. */
export type NativeActivation = (typeof NativeActivation)[keyof typeof NativeActivation];

/** Cell code understood by the kernels (binding/addon.cpp cell_kind). */
export const NativeCell = { Elman: 0, Lstm: 1, Gru: 2, GruResetBefore: 3 } as const;
/** Cell code type. */
export type NativeCell = (typeof NativeCell)[keyof typeof NativeCell];

/** Gate blocks a gated cell stores per step for BPTT (native/gated_cells.h kGatedStoreBlocks). */
export const GATED_STORE_BLOCKS = 4;

/** What the linked OpenBLAS reports about itself. */
export interface NativeBlasInfo {
  /** "OpenBLAS 0.3.21". */
  version: string;
  /** openblas_get_config(). */
  config: string;
  /** The kernel set OpenBLAS picked for this CPU ("Cooperlake", "Haswell", ...). */
  core: string;
  /** Threads rnnblas' native calls use in this environment (its own team; OpenBLAS itself runs single-threaded). */
  numThreads: number;
  /** CPUs this process may use (affinity mask and cgroup CPU quota): the cap on numThreads. */
  availableCpus: number;
  /** Cores OpenBLAS detected. */
  numProcs: number;
  /** OpenBLAS was built with threading support. */
  parallel: boolean;
}

type F32 = Float32Array;
type F32OrNull = Float32Array | null;

/** One layer-direction forward pass: its arguments by name (binding/addon.cpp FORWARD_FIELDS). */
export interface ForwardDirection {
  x: F32;
  h0: F32OrNull;
  /** LSTM only: initial cell state [B,H] or null (zeros). */
  c0?: F32OrNull;
  wIh: F32;
  wHh: F32;
  bIh: F32OrNull;
  bHh: F32OrNull;
  lengths: Int32Array | null;
  /** [T,B,ld]: this direction's H columns (a subarray for the second direction). */
  y: F32;
  hN: F32;
  /** Gated cells: [T*B, GATED_STORE_BLOCKS*H] kept for BPTT; null: inference (no store kept, no BPTT). */
  gates?: F32OrNull;
  /** LSTM: [T*B, H] cell states kept for BPTT, given exactly when gates is. */
  cells?: F32OrNull;
  /** LSTM: final cell state [B,H]. */
  cN?: F32OrNull;
  T: number;
  B: number;
  I: number;
  H: number;
  ld: number;
  /** Default Elman. */
  cell?: NativeCell;
  act: NativeActivation;
  reverse: boolean;
}

/** One layer-direction BPTT pass: its arguments by name (binding/addon.cpp BACKWARD_FIELDS). */
export interface BackwardDirection {
  /** Accumulated (written with dxAssign); the two directions of a layer share it. */
  dx: F32OrNull;
  /** dx is written, its old contents ignored (the same in both directions: the first writes, the second adds). */
  dxAssign?: boolean;
  /** Overwritten. */
  dh0: F32OrNull;
  /** LSTM: d loss / d c0, overwritten. */
  dc0?: F32OrNull;
  /** [T*B, H]: d loss / d h(t) at every step (zero past a length), or null. */
  trace?: F32OrNull;
  dwIh: F32;
  dwHh: F32;
  dbIh: F32OrNull;
  dbHh: F32OrNull;
  /** Scratch of backwardWorkspaceSize(T, B, I, H, cell) floats. */
  work: F32;
  y: F32;
  /** As the forward pass wrote them (gated cells). */
  gates?: F32OrNull;
  /** As the forward pass wrote them (LSTM). */
  cells?: F32OrNull;
  h0: F32OrNull;
  c0?: F32OrNull;
  dy: F32OrNull;
  dhN: F32OrNull;
  /** LSTM: d loss / d cN, or null (zero). */
  dcN?: F32OrNull;
  x: F32;
  wIh: F32;
  wHh: F32;
  lengths: Int32Array | null;
  T: number;
  B: number;
  I: number;
  H: number;
  ld: number;
  cell?: NativeCell;
  act: NativeActivation;
  reverse: boolean;
}

/** Row-major `C = alpha op(A) op(B) + beta C`, by name. */
export interface SgemmCall {
  transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number;
  A: F32; lda: number; B: F32; ldb: number; beta: number; C: F32; ldc: number;
}

/** Row-major `C = alpha op(A) op(B) + beta C`, in BLAS order. */
export type SgemmArgs = [
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: F32, lda: number, B: F32, ldb: number, beta: number, C: F32, ldc: number,
];

/** softmaxCrossEntropy's arguments by name; `loss` (one float64) receives the sum inside a job. */
export interface SoftmaxCeCall {
  logits: F32; targets: Int32Array; mask: Uint8Array | null; N: number; C: number; ignoreIndex: number; scale: number; grad: F32;
  loss?: Float64Array;
}

/** squaredError's arguments by name; `loss` (one float64) receives the sum inside a job. */
export interface SquaredErrorCall {
  pred: F32; target: F32; mask: Uint8Array | null; rows: number; inner: number; scale: number; grad: F32; loss?: Float64Array;
}

/** One call of a native job (layersAsync). */
export type JobCall =
  | { backward: false; dirs: ForwardDirection[] }
  | { backward: true; dirs: BackwardDirection[] }
  | ({ op: 'sgemm' } & SgemmCall)
  | ({ op: 'softmaxCrossEntropy' } & SoftmaxCeCall & { loss: Float64Array })
  | ({ op: 'squaredError' } & SquaredErrorCall & { loss: Float64Array })
  /** out[i, :] = weight[ids[i], :] (rows of E floats; every id in 0..V-1, at least one). */
  | { op: 'embeddingForward'; ids: Int32Array; weight: F32; out: F32; V: number; E: number }
  /** grad[ids[i], :] += gy[i, :], in index order. */
  | { op: 'embeddingBackward'; ids: Int32Array; gy: F32; grad: F32; V: number; E: number };

/** The addon's exports, as compiled: every call takes named arguments (binding/addon.cpp). */
export interface AddonExports {
  /**
   * Forward over one layer: its one or two directions in one call. The addon decides whether two
   * directions run as a pair (one core each) or one after the other on the whole team.
   */
  forwardLayer(dirs: ForwardDirection[]): void;
  /**
   * As forwardLayer, on the libuv pool. Memory from `alloc` is used in place; any other array is
   * copied in and (outputs) back when the call settles, so nothing done to the arrays meanwhile can
   * make native code touch freed memory.
   */
  forwardLayerAsync(dirs: ForwardDirection[]): Promise<void>;
  /** BPTT over one layer: dx, dw*, db* accumulate; dh0 is overwritten. */
  backwardLayer(dirs: BackwardDirection[]): void;
  /** As backwardLayer, on the libuv pool (memory held as for forwardLayerAsync). */
  backwardLayerAsync(dirs: BackwardDirection[]): Promise<void>;
  /**
   * Calls run in order as one job on the libuv pool (one thread hand-off for all): layer calls, and
   * ops with the fields of the synchronous sgemm / softmaxCrossEntropy / squaredError (a loss op
   * writes its sum to `loss`), and an embedding's lookup and gradient. Each is checked as its synchronous form checks it before any runs;
   * memory held as for forwardLayerAsync, once for all of them.
   */
  layersAsync(calls: JobCall[]): Promise<void>;
  sgemm(call: SgemmCall): void;
  sgemmAsync(call: SgemmCall): Promise<void>;
  softmaxCrossEntropy(call: SoftmaxCeCall): number;
  squaredError(call: SquaredErrorCall): number;
  /** One parameter's Adam/AdamW update in place (native/optim.h; the same bits as src/optim/adam.ts' formula). */
  adamStep(call: {
    p: F32; d: F32; m: F32; v: F32; vmax: F32OrNull; beta1: number; beta2: number; stepSize: number; bc2Sqrt: number; eps: number; shrink: number;
  }): void;
  /**
   * One parameter's SGD update in place (native/optim.h; the same bits as src/optim/sgd.ts' formulas):
   * plain when buf is null, else momentum (keep = 1 − dampening) or Nesterov.
   */
  sgdStep(call: { p: F32; d: F32; buf: F32OrNull; lr: number; momentum: number; keep: number; nesterov: boolean }): void;
  /** clipGradNorm's 2-norm pass in float64: s0 + the sum of g[j]^2 as eight partial sums (lane j % 8, combined pairwise, then the n % 8 rest in order; native/optim.h). */
  addSquares(call: { g: F32; s0: number }): number;
  /** clipGradNorm's rescale: g[j] = float32(g[j] * coef), the product in float64. */
  scaleInPlace(call: { g: F32; coef: number }): void;
  /**
   * A Float32Array of n >= 1 floats on native-owned memory (used in place by async calls):
   * zero-filled, or with `zeroed` false of unspecified contents (no fill pass).
   */
  alloc(n: number, zeroed?: boolean): Float32Array;
  blasInfo(): NativeBlasInfo;
  /** This environment's thread count, capped at the CPUs the process may use; returns the count in effect. */
  setNumThreads(n: number): number;
  getNumThreads(): number;
  /** Whether this environment's native calls flush subnormal floats to zero (default true). */
  setFlushDenormals(on: boolean): void;
  getFlushDenormals(): boolean;
  /**
   * How per-step recurrent products of a batch run: "auto" (the packed kernel for the best instruction
   * set the CPU has), or forced: "avx512", "avx2" (RangeError if the CPU lacks it) or "blas" (OpenBLAS).
   * "auto" and "avx512" also run the weight gradients of narrow layers (dW = dA^T X with 32 or 64
   * columns) on an AVX-512 kernel where it beats OpenBLAS; "blas" leaves every product to OpenBLAS.
   */
  setStepKernel(kernel: 'auto' | 'blas' | 'avx2' | 'avx512'): void;
  /**
   * For tests: below how many multiply-adds a whole layer call (T*B*H*(I+H)*G; default 2^26), or
   * one step's recurrent product (B*G*H*H; default 2^19), runs on one thread in this environment
   * (a call whose step products reach stepMacs splits from 2^23 on). Lowering them puts small
   * shapes on the thread team.
   */
  setSoloThresholds(callMacs: number, stepMacs: number): void;
  /**
   * How big GEMMs use several cores: "team" (default: OpenBLAS single-threaded, work split over
   * rnnblas' own threads) or "openblas" (OpenBLAS's own threads; for comparison and the sgemm peak).
   */
  setGemmThreading(mode: 'team' | 'openblas'): void;
  /**
   * The thread team's process-wide counters (monotonic): multi-task jobs, those the caller ran alone
   * (and why: helpers sitting out after a stall, held by another call, or the call came from inside
   * a task), tasks run by helpers, and stalls (a helper that lost its core, after which helpers sit
   * out for a while).
   */
  teamStats(): {
    jobs: number; soloJobs: number; soloBenched: number; soloBusy: number; soloNested: number;
    helperTasks: number; stalls: number;
  };
  /** The kernel per-step products of a batch use now. */
  stepKernel(): 'blas' | 'avx2' | 'avx512';
  /** Floats of scratch backward needs for this shape and cell (default Elman). */
  backwardWorkspaceSize(T: number, B: number, I: number, H: number, cell?: NativeCell): number;
}

/** The calls src/ makes in BLAS's positional order (Linear, the losses); adapted to named arguments. */
interface PositionalCalls {
  /**
   * Softmax cross-entropy of [N,C] logits: returns the summed loss over counted
   * rows and writes (softmax - onehot) * scale into grad (0 for skipped rows).
   */
  softmaxCrossEntropy(logits: F32, targets: Int32Array, mask: Uint8Array | null, N: number, C: number,
    ignoreIndex: number, scale: number, grad: F32): number;
  /** Summed squared error over unmasked rows; writes scale * (pred - target) into grad (0 for masked rows). */
  squaredError(pred: F32, target: F32, mask: Uint8Array | null, rows: number, inner: number, scale: number, grad: F32): number;
  sgemm(...args: SgemmArgs): void;
  sgemmAsync(...args: SgemmArgs): Promise<void>;
}

/** The native surface as src/ uses it: the addon's calls, with the BLAS-style ones positional. */
export type NativeBinding = Omit<AddonExports, keyof PositionalCalls> & PositionalCalls;

/** SgemmArgs by name. */
export function sgemmCall(a: SgemmArgs): SgemmCall {
  const [transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc] = a;
  return { transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc };
}

function bind(addon: AddonExports): NativeBinding {
  const positional: PositionalCalls = {
    softmaxCrossEntropy: (logits, targets, mask, N, C, ignoreIndex, scale, grad) =>
      addon.softmaxCrossEntropy({ logits, targets, mask, N, C, ignoreIndex, scale, grad }),
    squaredError: (pred, target, mask, rows, inner, scale, grad) => addon.squaredError({ pred, target, mask, rows, inner, scale, grad }),
    sgemm: (...args) => addon.sgemm(sgemmCall(args)),
    sgemmAsync: (...args) => addon.sgemmAsync(sgemmCall(args)),
  };
  // The other calls are the addon's own functions (no wrapper on the hot path).
  return { ...addon, ...positional };
}

/** The loaded addon (loaded once per process or worker). */
export const native: NativeBinding = bind(loadAddon() as AddonExports);

/**
 * A zero-filled Float32Array of n floats, on native-owned memory when n >= 1: async native calls use
 * such arrays in place (no copy) and keep the memory alive until they finish.
 */
export function nativeFloats(n: number): Float32Array {
  return n >= 1 ? native.alloc(n) : new Float32Array(0);
}
