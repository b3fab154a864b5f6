/**
 * What the connection simulators hand captured packets to, and the counters they keep. The
 * renderer implements it by writing pcapng blocks and accumulating the truth sidecar.
 */
import { TruthTag } from '../traffic-script';

export interface CaptureSink {
  /** One buffer, reused for every frame: a frame is built into it just before `capture`. */
  readonly frame: Uint8Array;
  /**
   * Records the frame in frame[0, length) captured at `timeUs` (µs from the script start).
   * Calls come in time order. `up`: sent by the script's client (the phone).
   */
  capture(connectionIndex: number, timeUs: number, up: boolean, truth: TruthTag, length: number): void;
}

/** Counters of what the TCP senders did, for the render summary and for tests. */
export interface NetworkCounters {
  /** TCP segments sent again (all captured: retransmissions are never lost). */
  retransmissions: number;
  /** TCP retransmission timeouts (tail losses that no later delivered segment revealed). */
  timeouts: number;
}
