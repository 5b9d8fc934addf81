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

/** What the linked OpenBLAS reports about itself. */
export interface NativeBlasInfo {
  /** "OpenBLAS 0.3.21". */
  version: string;
  /** openblas_get_config(). */
  config: string;
  /** The kernel set OpenBLAS picked for this CPU ("Cooperlake", "Haswell", ...). */
  core: string;
  /** Threads rnnblas' native calls use (its own team; OpenBLAS itself runs single-threaded). */
  numThreads: number;
  /** Cores OpenBLAS detected. */
  numProcs: number;
  /** OpenBLAS was built with threading support. */
  parallel: boolean;
}

type F32 = Float32Array;
type F32OrNull = Float32Array | null;

/** Arguments of one layer-direction forward pass, in addon order. */
export type ForwardArgs = [
  x: F32, h0: F32OrNull, wIh: F32, wHh: F32, bIh: F32OrNull, bHh: F32OrNull,
  lengths: Int32Array | null, y: F32, hN: F32,
  T: number, B: number, I: number, H: number, ld: number, act: NativeActivation, reverse: boolean,
];

/** Arguments of one layer-direction BPTT pass, in addon order. */
export type BackwardArgs = [
  dx: F32OrNull, dh0: F32OrNull, dwIh: F32, dwHh: F32, dbIh: F32OrNull, dbHh: F32OrNull,
  y: F32, h0: F32OrNull, dy: F32OrNull, dhN: F32OrNull, x: F32, wIh: F32, wHh: F32,
  lengths: Int32Array | null, work: F32,
  T: number, B: number, I: number, H: number, ld: number, act: NativeActivation, reverse: boolean,
];

/** Row-major `C = alpha op(A) op(B) + beta C`, in addon order. */
export type SgemmArgs = [
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: F32, lda: number, B: F32, ldb: number, beta: number, C: F32, ldc: number,
];

/** The addon's exports. */
export interface NativeBinding {
  /** y[T,B,ld] (this direction's H columns; pass a subarray for the second direction) and hN[B,H]. */
  forward(...args: ForwardArgs): void;
  /** As forward, on the libuv pool; the arrays must not be touched until it settles. */
  forwardAsync(...args: ForwardArgs): Promise<void>;
  /** dx, dw*, db* accumulate; dh0 is overwritten. */
  backward(...args: BackwardArgs): void;
  /** As backward, on the libuv pool. */
  backwardAsync(...args: BackwardArgs): Promise<void>;
  /**
   * Both directions of a bidirectional layer at once, on two threads with
   * single-threaded BLAS each (the user's BLAS thread count is restored after).
   */
  forwardPair(fwd: ForwardArgs, rev: ForwardArgs): void;
  forwardPairAsync(fwd: ForwardArgs, rev: ForwardArgs): Promise<void>;
  /** As forwardPair for BPTT; the two share one dx (accumulated after they join). */
  backwardPair(fwd: BackwardArgs, rev: BackwardArgs): void;
  backwardPairAsync(fwd: BackwardArgs, rev: BackwardArgs): Promise<void>;
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
  blasInfo(): NativeBlasInfo;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /**
   * How per-step recurrent products of a batch run: "auto" (the packed kernel for the best instruction
   * set the CPU has), or forced: "avx512", "avx2" (RangeError if the CPU lacks it) or "blas" (OpenBLAS).
   */
  setStepKernel(kernel: 'auto' | 'blas' | 'avx2' | 'avx512'): void;
  /**
   * How big GEMMs use several cores: "team" (default: OpenBLAS single-threaded, work split over
   * rnnblas' own threads) or "openblas" (OpenBLAS's own threads; for comparison and the sgemm peak).
   */
  setGemmThreading(mode: 'team' | 'openblas'): void;
  /** The kernel per-step products of a batch use now. */
  stepKernel(): 'blas' | 'avx2' | 'avx512';
  /** Floats of scratch backward needs for this shape. */
  backwardWorkspaceSize(T: number, B: number, I: number, H: number): number;
}

/** The loaded addon (loaded once per process or worker). */
export const native: NativeBinding = loadAddon() as NativeBinding;
