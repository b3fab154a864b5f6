/**
 * Counts a 'retrying' status down to its retry, one second at a time, for the panel and the
 * capture editor. A status says how long the wait was when it was sent (`retryInMs`); shown as
 * it is, "retrying in 16 s" would stand still for 16 s. The countdown turns the delay into a
 * deadline when the status arrives and calls `onTick` each time the whole seconds left change,
 * until the retry is due. It holds at most one timer, which a new status or dispose() clears, so
 * a webview that is torn down or a connection that changes state leaves nothing running.
 */
import type { ConnectionStatus } from './connection';

export class RetryCountdown {
  private deadline: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  /**
   * @param onTick called whenever remainingMs() shows another whole second (and once at zero).
   * @param now a monotonic clock in ms: a wall clock set back or forth must not stretch the wait.
   */
  constructor(
    private readonly onTick: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A new status: a retrying one with a delay starts a countdown; any other stops it. */
  follow(status: ConnectionStatus): void {
    this.stop();
    if (this.disposed || status.state !== 'retrying' || status.retryInMs === undefined) return;
    this.deadline = this.now() + status.retryInMs;
    this.arm();
  }

  /** Milliseconds left until the retry (0 once it is due); undefined when nothing counts down. */
  remainingMs(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, this.deadline - this.now());
  }

  /** The status as it stands now: its retry delay is what is left of it. */
  current(status: ConnectionStatus): ConnectionStatus {
    const left = this.remainingMs();
    return left === undefined || status.state !== 'retrying' ? status : { ...status, retryInMs: left };
  }

  /** True while a timer is pending (for tests: a stopped countdown must hold none). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** Stops for good: later statuses start nothing (the view that showed them is gone). */
  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadline = undefined;
  }

  /** Sleeps until the shown number of seconds changes, rather than a fixed second that drifts. */
  private arm(): void {
    const left = this.remainingMs();
    if (left === undefined || left <= 0) return;
    const shown = Math.ceil(left / 1000);
    // The display drops to shown-1 once no more than (shown-1) s are left.
    const wait = Math.max(1, Math.ceil(left - (shown - 1) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTick();
      this.arm();
    }, wait);
  }
}
