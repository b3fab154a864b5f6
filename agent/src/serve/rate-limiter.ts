/**
 * Per-client message rate limit: a token bucket (a sustained rate with a burst allowance).
 * A message over the limit is dropped; the client is told once per second (not once per
 * dropped message, which would let it make the agent send as fast as it sends), and a client
 * that keeps flooding is reported as abusive so the caller can close it.
 */

export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
  /** Drops within one abuse window that make the client abusive. */
  readonly maxDroppedPerWindow: number;
  readonly abuseWindowMs: number;
}

export type RateVerdict =
  /** Handle the message. */
  | 'accept'
  /** Drop it and tell the client (first drop in this second). */
  | 'drop-and-notify'
  /** Drop it silently (already told this second). */
  | 'drop'
  /** Drop it and close the client. */
  | 'abusive';

const NOTIFY_INTERVAL_MS = 1000;

export class RateLimiter {
  private tokens: number;
  private refilledAt: number;
  private lastNotifiedAt = -Infinity;
  private windowStartedAt: number;
  private droppedInWindow = 0;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = options.burst;
    this.refilledAt = now();
    this.windowStartedAt = this.refilledAt;
  }

  /** Called once per received message. */
  take(): RateVerdict {
    const now = this.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.options.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'accept';
    }
    if (now - this.windowStartedAt >= this.options.abuseWindowMs) {
      this.windowStartedAt = now;
      this.droppedInWindow = 0;
    }
    this.droppedInWindow += 1;
    if (this.droppedInWindow > this.options.maxDroppedPerWindow) return 'abusive';
    if (now - this.lastNotifiedAt >= NOTIFY_INTERVAL_MS) {
      this.lastNotifiedAt = now;
      return 'drop-and-notify';
    }
    return 'drop';
  }
}
