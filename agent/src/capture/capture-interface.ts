import { TimestampResolution } from './timestamps';

/** One capture interface: a pcapng IDB, or the single implicit interface of a classic pcap. */
export interface CaptureInterface {
  readonly linkType: number;
  /** 0 means no limit. */
  readonly snapLength: number;
  readonly resolution: TimestampResolution;
  /** if_tsoffset, seconds. */
  readonly offsetSeconds: number;
  readonly name?: string;
}

/** Outcome of one parser step over the byte window. */
export const enum Step {
  /** The next block is incomplete: append more bytes (or finish()). */
  NeedMore = 0,
  /** A packet was decoded into the reader's Packet. */
  Packet = 1,
  /** A block without a packet was consumed (header, interface, statistics, unknown, …). */
  Skipped = 2,
}

/** Longest block or record accepted: anything larger is corruption, not a packet. */
export const DEFAULT_MAX_BLOCK_LENGTH = 256 * 1024 * 1024;
