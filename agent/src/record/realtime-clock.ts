/**
 * Microseconds since the Unix epoch, on the clock the kernel stamps captured packets with
 * (CLOCK_REALTIME), precise enough to tell which message a packet belongs to.
 *
 * Date.now() is the realtime clock but only to the millisecond; process.hrtime is precise but
 * monotonic, with an unknown epoch. Calibration spins until Date.now() ticks: at that instant
 * the realtime clock is within about a microsecond of a whole millisecond, which anchors the
 * monotonic clock to the epoch. The anchor is taken per recording, so NTP slewing over the life
 * of a long-running process does not accumulate.
 */
export class RealtimeClock {
  private constructor(
    private readonly anchorUs: number,
    private readonly anchorNs: bigint,
  ) {}

  /** Costs at most one millisecond of spinning. */
  static calibrate(): RealtimeClock {
    const start = Date.now();
    let ms = Date.now();
    while (ms === start) ms = Date.now();
    return new RealtimeClock(ms * 1000, process.hrtime.bigint());
  }

  /** Integer µs since the epoch. */
  nowUs(): number {
    return this.anchorUs + Number((process.hrtime.bigint() - this.anchorNs) / 1000n);
  }
}
