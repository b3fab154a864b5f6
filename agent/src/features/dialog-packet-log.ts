/**
 * Per-dialog notes for feature extraction: every packet's timestamp, original frame length and
 * direction, in two parallel growable columns (no object per packet), plus the dialog's
 * transport. The columns are plain number arrays rather than typed arrays: a log lives as long
 * as its dialog (tens of thousands are open at once in a large capture), and typed arrays above
 * 64 bytes each get a malloc'ed backing store that the garbage collector tracks one by one,
 * while a number array lives in the JS heap and grows in place. Lengths and directions share
 * one column: length · 2 + (1 when up). Attach one per dialog through the segmenter's notes factory:
 *
 *   const segmenter = new DialogSegmenter(gaps, () => new DialogPacketLog(), onDialog);
 *   segmenter.add(flowId, packet, up).notes.add(packet, up);
 *
 * Packets are kept in arrival order; extraction sorts by time (see feature-schema.ts).
 */
import { Packet } from '../capture/packet';
import { TransportName } from '../flows/flow-record';
import type { ContextWindow } from './host-activity';

const IP_PROTOCOL_TCP = 6;

export class DialogPacketLog {
  private readonly times: number[] = [];
  private readonly lengthsAndDirections: number[] = [];
  /** The dialog's context window (host-activity.ts), set by the path that feeds the packets. */
  context: ContextWindow | undefined = undefined;

  /**
   * @param transport the dialog's transport; add(packet) sets it from the first packet
   *   when it was not given.
   */
  constructor(public transport: TransportName | undefined = undefined) {}

  /** Number of packets recorded. */
  get length(): number {
    return this.times.length;
  }

  /** Records a decoded packet (its timestampUs and originalLength); up = client→server. */
  add(packet: Packet, up: boolean): void {
    if (this.transport === undefined) this.transport = packet.ipProtocol === IP_PROTOCOL_TCP ? 'tcp' : 'udp';
    this.push(packet.timestampUs, packet.originalLength, up);
  }

  /** Records one packet from its fields: time in µs, original frame length in bytes (kept as a uint32). */
  push(timestampUs: number, lengthBytes: number, up: boolean): void {
    this.times.push(timestampUs);
    this.lengthsAndDirections.push((lengthBytes >>> 0) * 2 + (up ? 1 : 0));
  }

  timestampUs(index: number): number {
    return this.times[index]!;
  }

  lengthBytes(index: number): number {
    return Math.floor(this.lengthsAndDirections[index]! / 2);
  }

  isUp(index: number): boolean {
    return this.lengthsAndDirections[index]! % 2 === 1;
  }
}
