// Bounded admission for expensive handlers: at most `concurrency` run at once, at most
// `queueLength` wait (first come, first served), and a call beyond that is refused at once with
// RESOURCE_EXHAUSTED instead of holding its request (and later its model) in memory without limit.
import { status } from '@grpc/grpc-js';
import { resourceExhausted, RpcError } from './errors.js';

export interface AdmissionLimits {
  /** Calls computing at once (≥ 1). */
  concurrency: number;
  /** Calls waiting for a slot (≥ 0); one more is refused. */
  queueLength: number;
}

/** What a queued call can tell us: a grpc-js server call has `cancelled`. */
export interface CancellableCall {
  readonly cancelled: boolean;
}

export class AdmissionQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private peak = { running: 0, queued: 0 };

  constructor(
    readonly limits: AdmissionLimits,
    /** What is being limited, for the refusal message, e.g. "Estimate". */
    readonly what: string,
    /** How a caller changes the limits, for the refusal message. */
    readonly hint = '',
  ) {
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) throw new Error(`concurrency must be a whole number ≥ 1, got ${limits.concurrency}`);
    if (!Number.isInteger(limits.queueLength) || limits.queueLength < 0) throw new Error(`queue length must be a whole number ≥ 0, got ${limits.queueLength}`);
  }

  /** Runs `work` when a slot is free; refuses when the queue is full; skips it if the caller left while queued. */
  async run<T>(work: () => Promise<T>, call?: CancellableCall): Promise<T> {
    if (this.running < this.limits.concurrency) this.running++;
    else {
      if (this.waiting.length >= this.limits.queueLength)
        throw resourceExhausted(
          `${this.what}: ${this.running} calls running and ${this.waiting.length} queued, the most this server takes${this.hint ? ` (${this.hint})` : ''}; retry later`,
        );
      // A finishing call hands its slot straight to the next waiter (running stays counted).
      const queued = new Promise<void>((resolve) => this.waiting.push(resolve));
      this.peak.queued = Math.max(this.peak.queued, this.waiting.length);
      await queued;
    }
    this.peak.running = Math.max(this.peak.running, this.running);
    try {
      if (call?.cancelled) throw new RpcError(status.CANCELLED, `${this.what}: the caller cancelled while queued`);
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Now and the most seen at once (for logs and tests). */
  stats(): { running: number; queued: number; peakRunning: number; peakQueued: number } {
    return { running: this.running, queued: this.waiting.length, peakRunning: this.peak.running, peakQueued: this.peak.queued };
  }
}
