/**
 * The path between the phone (where the capture is taken) and the servers, shared by every
 * connection of the capture, as one phone's radio link is: a concurrent download slows a call.
 *
 *  phone ──uplink queue (uplink rate)──▶ ··· RTT/2 + jitter ··· ▶ server
 *  phone ◀──bottleneck queue (downlink rate)── ··· RTT/2 + jitter ··· ◀ server
 *
 * The capture is taken on the phone at the IP layer, as tcpdump on a phone sees packets: its
 * own packets when its stack hands them to the modem (the uplink queue, where a phone's
 * bufferbloat sits, is after the capture point), the servers' when they have crossed the
 * downlink bottleneck. Each direction is FIFO: jitter delays packets but never reorders them,
 * as on a radio bearer, so TCP never sees reordering it could mistake for loss.
 */
import { NetworkConditions } from './network-conditions';
import { Prng } from '../../common/prng';

/** Where a packet is: its capture time, and its arrival at the other end (-1: lost). */
export interface PathTiming {
  readonly captureUs: number;
  readonly arrivalUs: number;
}

/**
 * Bottleneck buffers hold this much transmission time at least (cellular buffers are deep:
 * hundreds of ms), and at least twice the mean RTT, so that one TCP flow, whose window is
 * capped at twice the bandwidth-delay product, never overflows them; traffic beyond the link's
 * rate (a call's bitrate above the uplink's) does, and is dropped at the tail.
 */
const MIN_BUFFER_US = 300_000;

export class SharedLinks {
  private readonly oneWayUs: number;
  private readonly jitterSpanUs: number;
  private readonly upUsPerByte: number;
  private readonly downUsPerByte: number;
  private readonly bufferUs: number;
  private readonly lossRate: number;
  private uplinkFreeUs = 0;
  private lastUplinkArrivalUs = 0;
  private downlinkFreeUs = 0;
  /** Packets dropped by a full buffer, per direction (as opposed to random loss). */
  queueDropsUp = 0;
  queueDropsDown = 0;
  lostUp = 0;
  lostDown = 0;

  constructor(conditions: NetworkConditions) {
    this.oneWayUs = Math.floor(conditions.rttBaseUs / 2);
    this.jitterSpanUs = 2 * conditions.jitterUs;
    this.upUsPerByte = 8e6 / conditions.uplinkBitsPerSecond;
    this.downUsPerByte = 8e6 / conditions.downlinkBitsPerSecond;
    this.bufferUs = Math.max(MIN_BUFFER_US, 2 * (conditions.rttBaseUs + 2 * conditions.jitterUs));
    this.lossRate = conditions.lossRate;
  }

  /**
   * A packet the phone sends at `nowUs`: captured then, whatever happens to it next. A
   * `mayLose` packet is lost with the loss rate (it still occupies the uplink) or dropped when
   * the uplink buffer is full; others (SYNs, ACKs, FINs, retransmissions) always get through,
   * which keeps every loss recoverable.
   */
  sendUp(frameBytes: number, nowUs: number, mayLose: boolean, rng: Prng): PathTiming {
    const lost = mayLose && this.lossRate > 0 && rng.chance(this.lossRate);
    const departureUs = Math.max(nowUs, this.uplinkFreeUs);
    if (mayLose && departureUs - nowUs > this.bufferUs) {
      this.queueDropsUp++;
      return { captureUs: nowUs, arrivalUs: -1 };
    }
    this.uplinkFreeUs = departureUs + Math.max(1, Math.ceil(frameBytes * this.upUsPerByte));
    if (lost) {
      this.lostUp++;
      return { captureUs: nowUs, arrivalUs: -1 };
    }
    const arrivalUs = Math.max(this.uplinkFreeUs + this.oneWayUs + this.jitter(rng), this.lastUplinkArrivalUs);
    this.lastUplinkArrivalUs = arrivalUs;
    return { captureUs: nowUs, arrivalUs };
  }

  /**
   * A packet a server sends at `nowUs`: when it reaches the phone (its capture time), or -1
   * when it was lost on the way or dropped by the full bottleneck buffer (then the capture
   * never sees it). `mayLose` as for sendUp.
   */
  sendDown(frameBytes: number, nowUs: number, mayLose: boolean, rng: Prng): number {
    if (mayLose && this.lossRate > 0 && rng.chance(this.lossRate)) {
      this.lostDown++;
      return -1;
    }
    const readyUs = nowUs + this.oneWayUs + this.jitter(rng);
    const queuedUs = Math.max(readyUs, this.downlinkFreeUs);
    if (mayLose && queuedUs - readyUs > this.bufferUs) {
      this.queueDropsDown++;
      return -1;
    }
    const arrivalUs = queuedUs + Math.max(1, Math.ceil(frameBytes * this.downUsPerByte));
    this.downlinkFreeUs = arrivalUs;
    return arrivalUs;
  }

  private jitter(rng: Prng): number {
    return Math.floor(rng.next() * this.jitterSpanUs);
  }
}
