/**
 * A native job being put together: calls queued by several layers (and the loss) that run in
 * order as ONE call on the libuv pool (native.layersAsync), so a whole training step costs one
 * thread hand-off. Queued calls must not be read before `run` settles: their outputs are
 * written then.
 */
import { native, sgemmCall, type JobCall, type SgemmArgs } from './binding.js';

/** @internal Calls queued for one pool job, and what to do once it settled. */
export class NativeJob {
  private readonly calls: JobCall[] = [];
  private readonly settled: Array<() => void> = [];
  private started = false;

  /** Queues a call (before run). */
  push(call: JobCall): void {
    if (this.started) throw new Error('NativeJob: a call was queued after the job started');
    this.calls.push(call);
  }

  /** Queues row-major C = alpha op(A) op(B) + beta C, in BLAS order. */
  sgemm(...args: SgemmArgs): void {
    this.push({ op: 'sgemm', ...sgemmCall(args) });
  }

  /** Runs `f` when the job has settled (done, failed, or never run because it was empty). */
  onSettled(f: () => void): void {
    this.settled.push(f);
  }

  /** Drops the queued calls unrun (after a failure while queueing); what waits for the job is released. */
  abandon(): void {
    if (this.started) return;
    this.started = true;
    this.calls.length = 0;
    for (const f of this.settled) f();
  }

  /** Runs every queued call (one native job); resolves when all are done. */
  async run(): Promise<void> {
    if (this.started) throw new Error('NativeJob: run twice');
    this.started = true;
    try {
      if (this.calls.length > 0) await native.layersAsync(this.calls);
    } finally {
      for (const f of this.settled) f();
    }
  }
}
