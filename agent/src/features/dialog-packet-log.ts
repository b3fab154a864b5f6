/**
 * Per-dialog notes for feature extraction: every packet's timestamp, original frame length and
 * direction, in growable typed arrays (three parallel columns, no object per packet), plus the
 * dialog's transport. Attach one per dialog through the segmenter's notes factory:
 *
 *   const segmenter = new DialogSegmenter(gaps, () => new DialogPacketLog(), onDialog);
 *   segmenter.add(flowId, packet, up).notes.add(packet, up);
 *
 * Packets are kept in arrival order; extraction sorts by time (see feature-schema.ts).
 */
import { Packet } from '../capture/packet';
import { TransportName } from '../flows/flow-record';

const INITIAL_CAPACITY = 16;
const IP_PROTOCOL_TCP = 6;

export class DialogPacketLog {
  private times: Float64Array;
  private lengthColumn: Uint32Array;
  private directionColumn: Uint8Array;
  private count = 0;

  /**
   * @param transport the dialog's transport; add(packet) sets it from the first packet
   *   when it was not given.
   */
  constructor(
    public transport: TransportName | undefined = undefined,
    initialCapacity = INITIAL_CAPACITY,
  ) {
    const capacity = Math.max(1, Math.floor(initialCapacity));
    this.times = new Float64Array(capacity);
    this.lengthColumn = new Uint32Array(capacity);
    this.directionColumn = new Uint8Array(capacity);
  }

  /** Number of packets recorded. */
  get length(): number {
    return this.count;
  }

  /** Records a decoded packet (its timestampUs and originalLength); up = client→server. */
  add(packet: Packet, up: boolean): void {
    if (this.transport === undefined) this.transport = packet.ipProtocol === IP_PROTOCOL_TCP ? 'tcp' : 'udp';
    this.push(packet.timestampUs, packet.originalLength, up);
  }

  /** Records one packet from its fields: time in µs, original frame length in bytes. */
  push(timestampUs: number, lengthBytes: number, up: boolean): void {
    if (this.count === this.times.length) this.grow();
    this.times[this.count] = timestampUs;
    this.lengthColumn[this.count] = lengthBytes;
    this.directionColumn[this.count] = up ? 1 : 0;
    this.count++;
  }

  timestampUs(index: number): number {
    return this.times[index]!;
  }

  lengthBytes(index: number): number {
    return this.lengthColumn[index]!;
  }

  isUp(index: number): boolean {
    return this.directionColumn[index] === 1;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    times.set(this.times);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengthColumn);
    const directions = new Uint8Array(capacity);
    directions.set(this.directionColumn);
    this.times = times;
    this.lengthColumn = lengths;
    this.directionColumn = directions;
  }
}
