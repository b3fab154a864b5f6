/**
 * The network a simulated capture was taken on: path delay, its variation, loss, the bottleneck
 * bandwidth each way and the TCP MSS after the carrier's clamping. Drawn from a seed with ranges
 * of mobile (LTE/5G/Wi-Fi behind a mobile uplink) networks, or given explicitly.
 */
import { Prng } from '../../common/prng';

export interface NetworkConditions {
  /** Smallest round-trip time between the phone and the servers (propagation + processing), µs. */
  readonly rttBaseUs: number;
  /**
   * Mean extra one-way queueing delay, µs. Each packet waits uniform [0, 2 × jitterUs) on top of
   * half the base RTT, packets of one direction never overtake each other.
   */
  readonly jitterUs: number;
  /** Probability that a data-carrying packet is lost, each direction, 0 … 0.02. */
  readonly lossRate: number;
  /** Bottleneck rate server → phone, bit/s. */
  readonly downlinkBitsPerSecond: number;
  /** Bottleneck rate phone → server, bit/s. */
  readonly uplinkBitsPerSecond: number;
  /**
   * IPv4 TCP MSS the server side announces (its SYN-ACK), after MSS clamping by the carrier's
   * middleboxes (1360–1460). IPv6 connections use 20 bytes less (the larger IP header).
   */
  readonly mss: number;
}

interface Range {
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

/** Accepted ranges: drawn values fall inside them, explicit ones are checked against them. */
export const CONDITION_RANGES: Readonly<Record<keyof NetworkConditions, Range>> = {
  rttBaseUs: { min: 20_000, max: 200_000, unit: 'µs' },
  jitterUs: { min: 1_000, max: 30_000, unit: 'µs' },
  lossRate: { min: 0, max: 0.02, unit: '' },
  downlinkBitsPerSecond: { min: 2_000_000, max: 50_000_000, unit: 'bit/s' },
  uplinkBitsPerSecond: { min: 1_000_000, max: 20_000_000, unit: 'bit/s' },
  mss: { min: 1360, max: 1460, unit: 'bytes' },
};

/**
 * MSS values seen on mobile networks: 1460 where nothing clamps, 1400–1440 behind GTP/IPsec
 * tunnels, 1380/1360 on some carriers' proxies. The plain 1460 is the most common, hence listed
 * more than once.
 */
/** Log-uniform in [min, max): equal odds per octave, as network parameters spread. */
function logUniform(rng: Prng, min: number, max: number): number {
  return min * Math.exp(Math.log(max / min) * rng.next());
}

const MSS_CHOICES = [1460, 1460, 1460, 1440, 1420, 1400, 1380, 1360] as const;

/**
 * Draws conditions from `seed`. RTT, jitter and bandwidths are log-uniform (equal odds per
 * octave: as many 20–40 ms as 100–200 ms paths); a third of the networks lose nothing, the rest
 * lose uniformly up to 2 %. Values are rounded (whole µs and bit/s, loss to 0.01 %) so that
 * they print and round-trip through JSON exactly.
 */
export function drawNetworkConditions(seed: number): NetworkConditions {
  const rng = new Prng(seed ^ 0x6e657477); // 'netw': not the stream the renderer uses for the same seed
  const r = CONDITION_RANGES;
  const rttBaseUs = Math.round(logUniform(rng, r.rttBaseUs.min, r.rttBaseUs.max));
  const jitterUs = Math.round(logUniform(rng, r.jitterUs.min, r.jitterUs.max));
  const lossRate = rng.chance(1 / 3) ? 0 : Math.round(rng.uniform(0, r.lossRate.max) * 10_000) / 10_000;
  const downlinkBitsPerSecond = Math.round(logUniform(rng, r.downlinkBitsPerSecond.min, r.downlinkBitsPerSecond.max));
  const uplinkBitsPerSecond = Math.round(logUniform(rng, r.uplinkBitsPerSecond.min, r.uplinkBitsPerSecond.max));
  const mss = rng.pick(MSS_CHOICES);
  return { rttBaseUs, jitterUs, lossRate, downlinkBitsPerSecond, uplinkBitsPerSecond, mss };
}

/**
 * Checks explicit conditions (from a command line or a test); throws a RangeError naming the
 * field, the value and the accepted range.
 */
export function validateNetworkConditions(conditions: NetworkConditions): void {
  for (const key of Object.keys(CONDITION_RANGES) as (keyof NetworkConditions)[]) {
    const { min, max, unit } = CONDITION_RANGES[key];
    const value = conditions[key];
    const integral = key !== 'lossRate';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integral && !Number.isInteger(value))) {
      const kind = integral ? 'an integer' : 'a number';
      throw new RangeError(`network condition ${key} must be ${kind} in ${min}..${max}${unit ? ` ${unit}` : ''}, got ${String(value)}`);
    }
  }
}
