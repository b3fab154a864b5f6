/**
 * pcapng timestamps are 64-bit counts of units of 10^-n or 2^-n seconds (if_tsresol), split
 * into two 32-bit halves. Converting them to microseconds through one 64-bit double loses
 * precision for nanosecond clocks (2^53 ns is only 104 days), so the conversions below keep
 * the arithmetic exact for every resolution a real capture uses.
 */

const TWO_POW_32 = 4294967296;

/** A resolution as read from if_tsresol: base 10 or 2 and a negative exponent. */
export interface TimestampResolution {
  readonly base: 10 | 2;
  readonly exponent: number;
}

export const MICROSECONDS: TimestampResolution = { base: 10, exponent: 6 };

/** Decodes the if_tsresol option byte: high bit set means a power of two. */
export function resolutionFromOption(value: number): TimestampResolution {
  return (value & 0x80) !== 0 ? { base: 2, exponent: value & 0x7f } : { base: 10, exponent: value };
}

/**
 * Precomputed converter for one interface, so the per-packet cost is a few multiplications.
 */
export class TimestampConverter {
  private readonly scaleUp: number;
  private readonly divisor: number;
  private readonly quotientOf2Pow32: number;
  private readonly remainderOf2Pow32: number;
  private readonly binaryExponent: number;

  constructor(
    readonly resolution: TimestampResolution,
    /** if_tsoffset: seconds added to every timestamp of the interface. */
    readonly offsetSeconds = 0,
  ) {
    this.binaryExponent = resolution.base === 2 ? resolution.exponent : -1;
    if (resolution.base === 10 && resolution.exponent <= 6) {
      this.scaleUp = 10 ** (6 - resolution.exponent);
      this.divisor = 1;
    } else if (resolution.base === 10) {
      this.scaleUp = 1;
      this.divisor = 10 ** (resolution.exponent - 6);
    } else {
      this.scaleUp = 1;
      this.divisor = 1;
    }
    this.quotientOf2Pow32 = Math.floor(TWO_POW_32 / this.divisor);
    this.remainderOf2Pow32 = TWO_POW_32 - this.quotientOf2Pow32 * this.divisor;
  }

  /**
   * Writes the timestamp given as its two 32-bit halves, in µs since the epoch (floored), into
   * `target.timestampUs`. It writes rather than returns: a double returned from a call that is
   * not inlined is boxed on the heap, and this runs once per packet.
   */
  store(high: number, low: number, target: { timestampUs: number }): void {
    let units: number;
    if (this.binaryExponent >= 0) {
      units = this.binaryToMicroseconds(high, low, this.binaryExponent);
    } else if (this.divisor === 1) {
      units = (high * TWO_POW_32 + low) * this.scaleUp;
    } else {
      // (high·2^32 + low) / d = high·⌊2^32/d⌋ + (high·(2^32 mod d) + low) / d, all exact in doubles.
      units = high * this.quotientOf2Pow32 + Math.floor((high * this.remainderOf2Pow32 + low) / this.divisor);
    }
    target.timestampUs = units + this.offsetSeconds * 1_000_000;
  }

  private binaryToMicroseconds(high: number, low: number, exponent: number): number {
    if (exponent > 32) {
      // Sub-nanosecond binary clocks: no real capture uses them; a double is close enough.
      return Math.floor(((high * TWO_POW_32 + low) / 2 ** exponent) * 1_000_000);
    }
    // Split into whole seconds and a fraction of 2^exponent units, each exact.
    const unitsPerSecond = 2 ** exponent;
    const wholeSeconds = high * 2 ** (32 - exponent) + Math.floor(low / unitsPerSecond);
    const fraction = low % unitsPerSecond;
    return wholeSeconds * 1_000_000 + Math.floor((fraction * 1_000_000) / unitsPerSecond);
  }
}
